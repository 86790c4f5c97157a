"""Runs worker.py's request handling on a list of cases in one interpreter
(one torch import for all), for worker_test.go's table of error cases.

argv[1] is the worker script; stdin a JSON list of cases, each a list of
requests for a fresh Worker; stdout a JSON list with, per case, the error
message of the request that failed ("" when none did)."""
import importlib.util
import json
import sys

spec = importlib.util.spec_from_file_location("worker", sys.argv[1])
worker = importlib.util.module_from_spec(spec)
spec.loader.exec_module(worker)

out = []
for case in json.load(sys.stdin):
    w = worker.Worker()
    err = ""
    try:
        for req in case:
            w.handle(req)
    except worker.WorkerError as e:
        err = str(e)
    out.append(err)
json.dump(out, sys.stdout)

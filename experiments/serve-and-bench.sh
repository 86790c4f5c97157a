#!/usr/bin/env bash
# serve-and-bench.sh: start an LLM server, wait until it answers, run a
# benchmark client against it, stop the server. The vLLM and SGLang recipes
# (vllm-chunked-prefill.yaml, sglang-chunked-prefill.yaml) run it once per
# cell, so every sweep point gets a server started with its own knob.
#
#   serve-and-bench.sh [--ready-timeout SECONDS] -- SERVER ARGS... -- CLIENT ARGS...
#
# Every @PORT@ in the arguments becomes a free TCP port on 127.0.0.1 chosen
# here, so cells running side by side (lab run --gpus 0,1,...) do not
# collide. The server's output goes to stderr (the cell's stderr.log), the
# client's to stdout. Exit status: the client's; 97 when the server exits
# or does not answer GET /health within the timeout (default 1200 s: a
# large model can take minutes to load).
set -euo pipefail

timeout=1200
if [[ ${1:-} == --ready-timeout ]]; then
  timeout=$2
  shift 2
fi
[[ ${1:-} == -- ]] || { echo "usage: $0 [--ready-timeout S] -- SERVER... -- CLIENT..." >&2; exit 2; }
shift
server=()
while [[ $# -gt 0 && $1 != -- ]]; do server+=("$1"); shift; done
[[ ${1:-} == -- ]] || { echo "$0: missing the -- before the client command" >&2; exit 2; }
shift
client=("$@")
[[ ${#server[@]} -gt 0 && ${#client[@]} -gt 0 ]] || { echo "$0: empty server or client command" >&2; exit 2; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=("${server[@]//@PORT@/$port}")
client=("${client[@]//@PORT@/$port}")

echo "serve-and-bench: port $port: ${server[*]}" >&2
"${server[@]}" >&2 &
pid=$!
stop() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
trap stop EXIT

deadline=$((SECONDS + timeout))
until python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=5)" 2>/dev/null; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" && rc=0 || rc=$?
    echo "serve-and-bench: the server exited (status $rc) before it answered /health" >&2
    exit 97
  fi
  if ((SECONDS >= deadline)); then
    echo "serve-and-bench: the server did not answer /health within ${timeout}s" >&2
    exit 97
  fi
  sleep 2
done
echo "serve-and-bench: server ready after ${SECONDS}s; ${client[*]}" >&2
"${client[@]}"

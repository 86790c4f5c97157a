#!/usr/bin/python3
"""Reference implementation of the old workflow's select_threshold.py.

The original script is not available; this one is rebuilt from its
documentation (the seed workflow, section "选择阈值") and schedlab's selection documentation (lab help selection),
written with the libraries the original used (pandas to read the CSVs, numpy
for the statistics). schedlab's `lab select --root` must agree with it on
every number; the Go parity tests run it on the trees in this folder and on
generated ones, and README "Benchmarks" times it against the Go code.

Behaviour (all flags optional, defaults as in the original):
  * runs are the sub-folders of --root in name order; each holds one folder
    per integer threshold (a name matching [+-]?[0-9]+; when two names give the
    same value the first by name wins), other folders are ignored;
  * a threshold folder missing one of the five CSVs is skipped for that run;
  * per (run, threshold): P95 of request_execution_time and prefill_e2e_time
    (np.percentile, linear interpolation at (n-1)*q), np.mean of the three
    normalized metrics; empty fields are skipped. The CSVs are read with
    float_precision="round_trip" so that every value is the nearest double
    (pandas' default parser can be one unit in the last place off on
    17-digit values; Go's strconv is always exact);
  * per run: ratio = metric / metric(baseline); the baseline is --baseline if
    the run has it, else that run's smallest threshold;
  * per threshold: each ratio aggregated over the runs that have it
    (mean | median | p90 | max), score = weighted sum; the smallest score
    wins, ties to the smallest threshold.

Additions for testing only (not in the original): --json prints every
number at full precision in schedlab's `lab select --json` schema (plus
"text": what the table mode prints), and
--prompt_weight_threshold T adds the mean, median and p80 of
prefill_time_execution_plus_preemption_normalized pooled over the runs at T,
and --batch reads one set of flags per line of stdin (one JSON document per
line out), so that the tests pay the interpreter's start once.
"""
import argparse
import json
import os
import re
import shlex
import sys

import numpy as np
import pandas as pd

METRICS = [
    "request_execution_time",
    "request_execution_time_normalized",
    "prefill_e2e_time",
    "prefill_time_execution_plus_preemption_normalized",
    "decode_time_execution_plus_preemption_normalized",
]
RATIOS = ["request_ratio", "request_exec_norm_ratio", "prefill_ratio", "prefill_exec_norm_ratio", "decode_ratio"]
INT_RE = re.compile(r"^[+-]?[0-9]+$")


def read_metric(path, metric):
    df = pd.read_csv(path, float_precision="round_trip")
    if metric not in df.columns:
        raise SystemExit(f"{path}: no column {metric}")
    vals = df[metric].dropna().to_numpy(dtype=np.float64)
    if vals.size == 0:
        raise SystemExit(f"{path}: no values")
    return vals


def summarize(folder):
    vals = {m: read_metric(os.path.join(folder, m + ".csv"), m) for m in METRICS}
    return {
        "request_p95": np.percentile(vals["request_execution_time"], 95),
        "request_exec_norm": np.mean(vals["request_execution_time_normalized"]),
        "prefill_p95": np.percentile(vals["prefill_e2e_time"], 95),
        "prefill_exec_norm": np.mean(vals["prefill_time_execution_plus_preemption_normalized"]),
        "decode": np.mean(vals["decode_time_execution_plus_preemption_normalized"]),
    }


def scan(root):
    """Returns [(run name, {threshold: folder})] for runs with any complete threshold."""
    runs = []
    for name in sorted(os.listdir(root)):
        run_dir = os.path.join(root, name)
        if not os.path.isdir(run_dir):
            continue
        cells = {}
        for tname in sorted(os.listdir(run_dir)):
            tdir = os.path.join(run_dir, tname)
            if not os.path.isdir(tdir) or not INT_RE.match(tname):
                continue
            t = int(tname)
            if t in cells:
                continue
            if all(os.path.isfile(os.path.join(tdir, m + ".csv")) for m in METRICS):
                cells[t] = tdir
            else:
                cells[t] = None  # seen (a later duplicate name must not replace it) but skipped
        cells = {t: d for t, d in cells.items() if d is not None}
        if cells:
            runs.append((name, cells))
    return runs


def aggregate(vals, how):
    a = np.asarray(vals, dtype=np.float64)
    if how == "mean":
        return np.mean(a)
    if how == "median":
        return np.median(a)
    if how == "p90":
        return np.percentile(a, 90)
    return np.max(a)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="example/parameter_selection/threshold_output")
    ap.add_argument("--baseline", type=int, default=0)
    ap.add_argument("--w_request", type=float, default=0.35)
    ap.add_argument("--w_prefill", type=float, default=0.35)
    ap.add_argument("--w_prefill_exec_norm", type=float, default=0.2)
    ap.add_argument("--w_request_exec_norm", type=float, default=0.05)
    ap.add_argument("--w_decode", type=float, default=0.05)
    ap.add_argument("--run_agg", choices=["mean", "median", "p90", "max"], default="mean")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--prompt_weight_threshold", type=int, default=None)
    ap.add_argument("--batch", action="store_true")
    args = ap.parse_args()
    if not args.batch:
        run(args)
        return
    # Test aid: one invocation per line of stdin (its own flags), each
    # printing its JSON document; saves the interpreter start per case.
    for line in sys.stdin:
        if line.strip():
            run(ap.parse_args(shlex.split(line)))


def run(args):
    runs = scan(args.root)
    if not runs:
        raise SystemExit(f"{args.root}: no threshold folders")
    rows = []
    for name, cells in runs:
        summ = {t: summarize(d) for t, d in sorted(cells.items())}
        base_t = args.baseline if args.baseline in summ else min(summ)
        base = summ[base_t]
        for t, s in summ.items():
            rows.append({
                "run": name,
                "threshold": t,
                "request_ratio": s["request_p95"] / base["request_p95"],
                "request_exec_norm_ratio": s["request_exec_norm"] / base["request_exec_norm"],
                "prefill_ratio": s["prefill_p95"] / base["prefill_p95"],
                "prefill_exec_norm_ratio": s["prefill_exec_norm"] / base["prefill_exec_norm"],
                "decode_ratio": s["decode"] / base["decode"],
            })
    per_run = pd.DataFrame(rows).dropna(subset=RATIOS)

    out = []
    for t in sorted(per_run["threshold"].unique()):
        g = per_run[per_run["threshold"] == t]  # rows in run order
        rec = {"threshold": int(t), "runs": int(len(g))}
        for r in RATIOS:
            rec[r] = float(aggregate(g[r].to_numpy(), args.run_agg))
        rec["score"] = (args.w_request * rec["request_ratio"]
                        + args.w_prefill * rec["prefill_ratio"]
                        + args.w_prefill_exec_norm * rec["prefill_exec_norm_ratio"]
                        + args.w_request_exec_norm * rec["request_exec_norm_ratio"]
                        + args.w_decode * rec["decode_ratio"])
        out.append(rec)
    table = pd.DataFrame(out, columns=["threshold", "runs"] + RATIOS + ["score"])
    best = table.loc[table["score"].idxmin()]  # first minimum: ties go to the smallest threshold
    text = (table.to_string(index=False, float_format=lambda v: f"{v:.6f}") + "\n"
            + f"Recommended threshold: {int(best['threshold'])} (score {best['score']:.6f}, "
            + f"run_agg={args.run_agg}, baseline={args.baseline}, runs={len(runs)})\n")

    if args.json:
        doc = {
            "recommended": int(best["threshold"]),
            "baseline": args.baseline,
            "run_agg": args.run_agg,
            "runs": len(runs),
            "weights": {
                "request": args.w_request,
                "prefill": args.w_prefill,
                "prefill_exec_norm": args.w_prefill_exec_norm,
                "request_exec_norm": args.w_request_exec_norm,
                "decode": args.w_decode,
            },
            "thresholds": out,
        }
        if args.prompt_weight_threshold is not None:
            t = args.prompt_weight_threshold
            m = "prefill_time_execution_plus_preemption_normalized"
            pooled = np.concatenate([read_metric(os.path.join(c[t], m + ".csv"), m) for _, c in runs if t in c])
            doc["prompt_weight"] = {"threshold": t, "n": int(pooled.size), "mean": float(np.mean(pooled)),
                                    "median": float(np.median(pooled)), "p80": float(np.percentile(pooled, 80))}
        doc["text"] = text  # what the table mode prints, for comparing the Go output byte for byte
        json.dump(doc, sys.stdout)
        print()
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()

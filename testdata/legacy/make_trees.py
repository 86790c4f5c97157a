#!/usr/bin/python3
"""Writes the small hand-made legacy trees under trees/ (committed; rerun only
to change them). Values are short decimals so that summaries can be checked
by hand: P95 of 1..5 is 4.8, of 0.5,1,…,3 is 2.875; every metric of a cell is
a base list times that cell's factor, so each ratio is a ratio of factors."""
import os
import random
import shutil

METRICS = [
    "request_execution_time",
    "request_execution_time_normalized",
    "prefill_e2e_time",
    "prefill_time_execution_plus_preemption_normalized",
    "decode_time_execution_plus_preemption_normalized",
]
BASE = {  # odd and even counts on purpose
    "request_execution_time": [1, 2, 3, 4, 5],
    "request_execution_time_normalized": [0.01, 0.02, 0.03, 0.04],
    "prefill_e2e_time": [0.5, 1, 1.5, 2, 2.5, 3],
    "prefill_time_execution_plus_preemption_normalized": [0.001, 0.002, 0.003],
    "decode_time_execution_plus_preemption_normalized": [0.02, 0.04],
}
HERE = os.path.dirname(os.path.abspath(__file__))


def fmt(v):
    return repr(round(v, 12))


def cell(root, run, t, factors, skip=(), style="plain"):
    d = os.path.join(root, run, str(t))
    os.makedirs(d, exist_ok=True)
    if not isinstance(factors, (list, tuple)):
        factors = [factors] * 5
    for m, f in zip(METRICS, factors):
        if m in skip:
            continue
        vals = [v * f for v in BASE[m]]
        n = len(vals)
        with open(os.path.join(d, m + ".csv"), "w", newline="") as fh:
            if style == "vidur":  # leading unnamed index column, one empty value, CRLF
                fh.write(f',Request Id,{m},cdf\r\n')
                for i, v in enumerate(vals):
                    fh.write(f"{i},0_{i},{fmt(v)},{(i + 1) / n}\r\n")
                fh.write(f"{n},0_{n},,1.0\r\n")
            else:
                fh.write(f"Request Id,{m},cdf\n")
                for i, v in enumerate(vals):
                    fh.write(f"0_{i},{fmt(v)},{(i + 1) / n}\n")


def tree(name):
    root = os.path.join(HERE, "trees", name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    return root


def main():
    # basic: every ratio of a cell equals its factor over the baseline's.
    r = tree("basic")
    for run, fs in {"run_a": [1.0, 0.8, 0.9], "run_b": [1.0, 0.9, 0.95]}.items():
        for t, f in enumerate(fs):
            cell(r, run, t, f)

    # ties: thresholds 1 and 2 are identical and best: the smaller wins.
    r = tree("ties")
    for t, f in enumerate([1.0, 0.9, 0.9, 1.2]):
        cell(r, "run_a", t, f)

    # missing_baseline: run_b has no threshold 0 and normalizes by 1.
    r = tree("missing_baseline")
    for t, f in enumerate([1.0, 0.9, 0.7]):
        cell(r, "run_a", t, f)
    for t, f in [(1, 1.0), (2, 1.1)]:
        cell(r, "run_b", t, f)

    # missing_file: run_b's threshold 2 lacks a CSV and is skipped there.
    r = tree("missing_file")
    for run, fs in {"run_a": [1.0, 0.95, 0.85], "run_b": [1.0, 0.9, 0.8]}.items():
        for t, f in enumerate(fs):
            skip = ("decode_time_execution_plus_preemption_normalized",) if (run, t) == ("run_b", 2) else ()
            cell(r, run, t, f, skip=skip)

    # unsorted_extra: numeric vs name order, folders and files to ignore,
    # "07" duplicating "7" (the first by name wins).
    r = tree("unsorted_extra")
    for run, fs in {"20250102_090000": {10: 0.97, 2: 0.9, 7: 0.92, 0: 1.0},
                    "20250101_235959": {10: 0.99, 2: 1.05, 7: 0.91, 0: 1.0}}.items():
        for t, f in fs.items():
            cell(r, run, t, [f, f * 1.01, f * 0.99, f, f * 1.02])
        for extra in ["logs", "3.5"]:  # (a file inside, so that git keeps them)
            os.makedirs(os.path.join(r, run, extra))
            with open(os.path.join(r, run, extra, "run.log"), "w") as fh:
                fh.write("ignored\n")
        with open(os.path.join(r, run, "notes.txt"), "w") as fh:
            fh.write("not a threshold\n")
    cell(r, "20250101_235959", "07", 0.5)
    with open(os.path.join(r, "README"), "w") as fh:
        fh.write("not a run\n")

    # even_odd: 4 runs (even) except threshold 3, which run_d lacks (odd);
    # per-metric factors so that the aggregations disagree.
    r = tree("even_odd")
    rng = random.Random(7)
    for run in ["run_a", "run_b", "run_c", "run_d"]:
        for t in range(4):
            if (run, t) == ("run_d", 3):
                continue
            cell(r, run, t, [round(rng.uniform(0.7, 1.3), 2) for _ in METRICS])

    # wide: negative and large thresholds (a table column wider than its
    # name; "2000000", not "2e+06"), a ratio above 10.
    r = tree("wide")
    for run, fs in {"run_a": {-5: 1.1, 0: 1.0, 3: 0.9, 2000000: 12.5},
                    "run_b": {-5: 1.05, 0: 1.0, 3: 0.95, 2000000: 11.0}}.items():
        for t, f in fs.items():
            cell(r, run, t, f)

    # formats: Vidur's extra index column, an empty value, CRLF endings.
    r = tree("formats")
    for t, f in enumerate([1.0, 0.93, 1.07]):
        cell(r, "run_a", t, [f, 1.0, f * 0.98, 1.01, f], style="vidur")


if __name__ == "__main__":
    main()

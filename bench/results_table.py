#!/usr/bin/env python3
"""Markdown tables for bench/RESULTS.md from Google Benchmark JSON files.

  results_table.py gemm FILE.json...   bench_gemm: ours vs OpenBLAS at 1 and 2 threads
  results_table.py conv FILE.json...   bench_conv: each pass at 1 and 2 threads

The files may hold any subset of the runs (one program run, or one file per benchmark).
Each cell is the median aggregate of --benchmark_repetitions runs; where several files
hold the same benchmark (repeated sweeps on a shared machine), the best of those medians.
"""
import json
import re
import sys


def medians(paths):
    """{benchmark name without the /real_time suffix: best median GFLOP/s}"""
    out = {}
    for path in paths:
        with open(path) as f:
            for run in json.load(f)["benchmarks"]:
                if run.get("aggregate_name") == "median":
                    name = run["run_name"].removesuffix("/real_time")
                    out[name] = max(out.get(name, 0.0), run["GFLOP/s"])
    return out


def cell(x):
    return f"{x:.1f}" if x is not None else "-"


def gemm_table(paths):
    runs = medians(paths)
    rows = {}
    for name, gflops in runs.items():
        m = re.fullmatch(r"gemm/ours/threads:(\d)/(.+)", name)
        if m:
            threads, shape = m.groups()
            rows.setdefault(shape, {})[threads] = (gflops, runs.get(f"gemm/openblas/threads:{threads}/{shape}"))
    print("| product | (batch x) m x n x k | ours 1T | OpenBLAS 1T | ratio | ours 2T | OpenBLAS 2T | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for shape, by_threads in rows.items():
        label, dims, trans = shape.rsplit("/", 2)
        cells = []
        for threads in ("1", "2"):
            ours, blas = by_threads.get(threads, (None, None))
            cells += [cell(ours), cell(blas), f"{ours / blas:.2f}" if ours and blas else "-"]
        print(f"| {label.replace('|', ' = ')} | {dims} {trans} | " + " | ".join(cells) + " |")


def conv_table(paths):
    rows = {}
    for name, gflops in medians(paths).items():
        op, threads = name.rsplit("/threads:", 1)
        rows.setdefault(op, {})[threads] = gflops
    print("| op / pass / layer | 1 thread | 2 threads |")
    print("|---|---:|---:|")
    for op, by_threads in rows.items():
        print(f"| {op} | {cell(by_threads.get('1'))} | {cell(by_threads.get('2'))} |")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] in ("gemm", "conv"):
        (gemm_table if sys.argv[1] == "gemm" else conv_table)(sys.argv[2:])
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""Markdown tables for bench/RESULTS-gpu.md from the CUDA benches' JSON output.

  cuda_results_table.py gemm gemm.json    ours vs cuBLAS, one row per product
  cuda_results_table.py conv conv.json    ours vs cuDNN, one row per layer and pass
  cuda_results_table.py step step.json    bandwidth of memory-bound kernels; DCGAN steps, ours vs vendor

Reads single runs (no --benchmark_repetitions); times are the mean cudaEvent time per
call, GFLOP/s the counter the benches report.
"""
import json
import sys

VENDOR = {"gemm": "cublas", "conv": "cudnn"}
VENDOR_NAME = {"gemm": "cuBLAS", "conv": "cuDNN"}


def load(path):
    """{(library, shape): run} in file order."""
    with open(path) as f:
        runs = json.load(f)["benchmarks"]
    out = {}
    for run in runs:
        if run.get("run_type") == "aggregate":
            continue
        name = run["name"].removesuffix("/manual_time")
        _, library, shape = name.split("/", 2)
        out[(library, shape)] = run
    return out


def micros(run):
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[run["time_unit"]]
    return run["real_time"] * scale


def table(kind, path):
    runs = load(path)
    vendor = VENDOR[kind]
    if kind == "gemm":
        print(f"| product | m x n x k | ours µs | {VENDOR_NAME[kind]} µs | ours GFLOP/s | "
              f"{VENDOR_NAME[kind]} GFLOP/s | ours / {VENDOR_NAME[kind]} |")
    else:
        print(f"| layers (D / G) | input -> output | pass | ours µs | {VENDOR_NAME[kind]} µs | ours GFLOP/s | "
              f"{VENDOR_NAME[kind]} GFLOP/s | ours / {VENDOR_NAME[kind]} |")
    print("|---|---|" + ("---|" if kind == "conv" else "") + "---:|---:|---:|---:|---:|")
    for (library, shape), ours in runs.items():
        if library != "ours":
            continue
        theirs = runs.get((vendor, shape))
        label, dims, last = shape.split("/")
        if kind == "gemm":
            cells = [label.replace("|", " / "), f"{dims} {last}"]
        else:
            cells = [label.replace("|", " / "), dims.replace("^2", "²"), last]
        cells += [f"{micros(ours):.1f}", f"{micros(theirs):.1f}" if theirs else "-", f"{ours['GFLOP/s']:.0f}",
                  f"{theirs['GFLOP/s']:.0f}" if theirs else "-",
                  f"{ours['GFLOP/s'] / theirs['GFLOP/s']:.2f}" if theirs else "-"]
        print("| " + " | ".join(cells) + " |")


def step_tables(path):
    with open(path) as f:
        runs = [r for r in json.load(f)["benchmarks"] if r.get("run_type") != "aggregate"]
    print("| kernel | µs | GB/s |")
    print("|---|---:|---:|")
    for run in runs:
        if run["name"].startswith("bandwidth/"):
            name = run["name"].split("/")[1]
            print(f"| {name} | {micros(run):.1f} | {run['GB/s']:.0f} |")
    print()
    steps = {}
    for run in runs:
        if run["name"].startswith("step/"):
            _, model, batch, library = run["name"].removesuffix("/real_time").split("/")
            steps.setdefault((model, batch), {})[library] = micros(run) / 1e3
    print("| model | batch | ours ms/step | vendor ms/step | vendor / ours |")
    print("|---|---|---:|---:|---:|")
    for (model, batch), t in steps.items():
        ours, vendor = t.get("ours"), t.get("vendor")
        ratio = f"{vendor / ours:.2f}" if ours and vendor else "-"
        cells = [model, batch.removeprefix("batch:"), f"{ours:.2f}" if ours else "-", f"{vendor:.2f}" if vendor else "-",
                 ratio]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in (*VENDOR, "step"):
        sys.exit(__doc__)
    if sys.argv[1] == "step":
        step_tables(sys.argv[2])
    else:
        table(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Markdown tables for bench/RESULTS-gpu.md from the CUDA benches' JSON output.

  cuda_results_table.py gemm gemm.json    ours vs cuBLAS, one row per product
  cuda_results_table.py conv conv.json    ours vs cuDNN, one row per layer and pass
  cuda_results_table.py step step.json    bandwidth of memory-bound kernels; DCGAN steps, ours vs vendor
  cuda_results_table.py report RUN_DIR    the whole bench/RESULTS-gpu.md from one scripts/gpu-check run
                                          folder (README.md, machine.txt, tests.log, the three JSON
                                          files and, when present, PyTorch's torch.jsonl)

Reads single runs (no --benchmark_repetitions); times are the mean cudaEvent time per
call, GFLOP/s the counter the benches report.
"""
import json
import os
import re
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


def library(name, precision):
    """The bench's library name: "ours" / "cublas" in FP32, "ours-tf32", "cublas-bf16", ... otherwise."""
    return name if precision == "fp32" else f"{name}-{precision}"


def table(kind, path, precision="fp32"):
    runs = load(path)
    ours_name, vendor = library("ours", precision), library(VENDOR[kind], precision)
    if kind == "gemm":
        print(f"| product | m x n x k | ours µs | {VENDOR_NAME[kind]} µs | ours GFLOP/s | "
              f"{VENDOR_NAME[kind]} GFLOP/s | ours / {VENDOR_NAME[kind]} |")
    else:
        print(f"| layers (D / G) | input -> output | pass | ours µs | {VENDOR_NAME[kind]} µs | ours GFLOP/s | "
              f"{VENDOR_NAME[kind]} GFLOP/s | ours / {VENDOR_NAME[kind]} |")
    print("|---|---|" + ("---|" if kind == "conv" else "") + "---:|---:|---:|---:|---:|")
    for (name, shape), ours in runs.items():
        if name != ours_name:
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


def step_runs(path):
    with open(path) as f:
        return [r for r in json.load(f)["benchmarks"] if r.get("run_type") != "aggregate"]


def step_times(runs):
    """{(model, batch): {"ours": ms, "vendor": ms}} from bench_cuda_step's step rows."""
    steps = {}
    for run in runs:
        if run["name"].startswith("step/"):
            _, model, batch, library = run["name"].removesuffix("/real_time").split("/")
            steps.setdefault((model, batch.removeprefix("batch:")), {})[library] = micros(run) / 1e3
    return steps


def step_tables(path, copy_gbps=None, torch_steps=None):
    runs = step_runs(path)
    print("| kernel | µs | GB/s |" + (" % of copy |" if copy_gbps else ""))
    print("|---|---:|---:|" + ("---:|" if copy_gbps else ""))
    for run in runs:
        if run["name"].startswith("bandwidth/"):
            name = run["name"].split("/")[1]
            share = f" {100 * run['GB/s'] / copy_gbps:.0f}% |" if copy_gbps else ""
            print(f"| {name} | {micros(run):.1f} | {run['GB/s']:.0f} |{share}")
    print()
    torch_steps = torch_steps or {}
    print("| model | batch | ours ms/step | vendor ms/step | vendor / ours | PyTorch FP32 ms | PyTorch / ours "
          "| PyTorch TF32 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (model, batch), t in step_times(runs).items():
        ours, vendor = t.get("ours"), t.get("vendor")
        fp32, tf32 = torch_steps.get((model, batch, False)), torch_steps.get((model, batch, True))
        cells = [model, batch, f"{ours:.2f}" if ours else "-", f"{vendor:.2f}" if vendor else "-",
                 f"{vendor / ours:.2f}" if ours and vendor else "-", f"{fp32:.2f}" if fp32 else "-",
                 f"{fp32 / ours:.2f}" if fp32 and ours else "-", f"{tf32:.2f}" if tf32 else "-"]
        print("| " + " | ".join(cells) + " |")
    tensor_cores = [(key, t) for key, t in step_times(runs).items() if any("-" in name for name in t)]
    if tensor_cores:
        print("\nThe same steps with --precision tf32 / bf16 (tensor cores; vendor: cuBLAS / cuDNN in that "
              "precision, none for bf16 convolutions):\n")
        print("| model | batch | precision | ours ms/step | vendor ms/step | vendor / ours | PyTorch TF32 ms |")
        print("|---|---|---|---:|---:|---:|---:|")
        for (model, batch), t in tensor_cores:
            for precision in ("tf32", "bf16"):
                ours, vendor = t.get(f"ours-{precision}"), t.get(f"vendor-{precision}")
                if not ours:
                    continue
                tf32 = torch_steps.get((model, batch, True)) if precision == "tf32" else None
                cells = [model, batch, precision, f"{ours:.2f}", f"{vendor:.2f}" if vendor else "-",
                         f"{vendor / ours:.2f}" if vendor else "-", f"{tf32:.2f}" if tf32 else "-"]
                print("| " + " | ".join(cells) + " |")


def read_torch(path):
    """PyTorch's step medians {(model, batch, tf32): ms}, copy GB/s and the other lines."""
    steps, copy, lines = {}, None, []
    if not os.path.exists(path):
        return steps, copy, lines
    with open(path) as f:
        for line in f:
            if not line.startswith("{"):
                continue
            row = json.loads(line)
            lines.append(row)
            if row.get("what") == "step":
                model, batch = row["model"].split("_b")
                steps[(model, batch, row["tf32"])] = row["median_ms"]
            elif row.get("what") == "d2d_copy":
                copy = row["GBps"]
    return steps, copy, lines


def ratios(kind, path, precision="fp32"):
    """{shape: ours GFLOP/s / vendor GFLOP/s} in one precision."""
    runs = load(path)
    ours_name, vendor = library("ours", precision), library(VENDOR[kind], precision)
    return {shape: ours["GFLOP/s"] / runs[(vendor, shape)]["GFLOP/s"]
            for (name, shape), ours in runs.items() if name == ours_name and (vendor, shape) in runs}


def targets(gemm_path, conv_path, step_path, copy, torch_steps):
    """Where the run stands against the FP32 targets of the GPU-speed work (> 1: ours faster)."""
    rows = []
    squares = [r for shape, r in ratios("gemm", gemm_path).items()
               if shape.startswith("square/") and int(shape.split("/")[1].split("x")[0]) >= 2048]
    rows.append(("SGEMM squares 2048-8192, ours / cuBLAS", ">= 0.95", f"{min(squares):.2f}-{max(squares):.2f}"))
    conv = ratios("conv", conv_path)
    for name in ("fwd", "dgrad", "wgrad"):
        r = [v for shape, v in conv.items() if shape.split("/")[-1].startswith(name)]
        rows.append((f"every DCGAN-64 conv {name}, ours / cuDNN", ">= 1.0", f"{min(r):.2f}-{max(r):.2f}"))
    runs = step_runs(step_path)
    if copy:
        for run in runs:
            if run["name"].startswith("bandwidth/"):
                rows.append((f"{run['name'].split('/')[1]}, share of copy bandwidth", ">= 85%",
                             f"{100 * run['GB/s'] / copy:.0f}%"))
    for precision in ("tf32", "bf16"):
        squares = [r for shape, r in ratios("gemm", gemm_path, precision).items()
                   if shape.startswith("square/") and int(shape.split("/")[1].split("x")[0]) >= 2048]
        if squares:
            rows.append((f"{precision} GEMM squares 2048-8192, ours / cuBLAS {precision}", ">= 0.8",
                         f"{min(squares):.2f}-{max(squares):.2f}"))
        conv = list(ratios("conv", conv_path, precision).values())
        if conv:
            rows.append((f"every DCGAN-64 conv pass in {precision}, ours / cuDNN {precision}", ">= 0.8",
                         f"{min(conv):.2f}-{max(conv):.2f}"))
    steps = step_times(runs)
    for (model, batch), goal in ((("dcgan64", "128"), 9.0), (("dcgan28", "64"), 1.0)):
        ours = steps.get((model, batch), {}).get("ours")
        if ours:
            rows.append((f"{model} batch {batch} step, FP32", f"<= {goal:g} ms", f"{ours:.2f} ms"))
    tf32 = torch_steps.get(("dcgan64", "128", True))
    ours_tf32 = steps.get(("dcgan64", "128"), {}).get("ours-tf32")
    if tf32:
        rows.append(("dcgan64 batch 128 step with --precision tf32", f"< PyTorch TF32 {tf32:.2f} ms",
                     f"{ours_tf32:.2f} ms" if ours_tf32 else "not measured in this run"))
    print("\n## Against the targets\n")
    print("| what | target | this run |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def report(run_dir):
    """bench/RESULTS-gpu.md for one gpu-check run folder."""
    path = lambda name: os.path.join(run_dir, name)  # noqa: E731
    torch_steps, copy, torch_lines = read_torch(path("torch.jsonl"))
    print("# CUDA kernels on the GPU: ours vs cuBLAS / cuDNN / PyTorch\n")
    print(f"Generated by `python3 bench/cuda_results_table.py report {run_dir}` from the raw outputs in that folder.")
    print("ours / vendor > 1 (and PyTorch / ours > 1) means ours is faster. Times: mean cudaEvent time per call")
    print("after one warm-up call (bench/cuda_bench.h); GFLOP/s counts 2 m n k per product (GEMM) and")
    print("2 N K P Q C R S per pass (conv); both sides in FP32 without tensor cores, except in the")
    print("tensor-core sections, where both sides run the precision named.\n")
    with open(path("README.md")) as f:
        readme = f.read().split("\n", 1)[1].strip()  # its title line is ours to replace
    print("## The run\n")
    print(readme + "\n")
    print("```\n" + open(path("machine.txt")).read().strip() + "\n```\n")
    print("## Tests on the device\n")
    with open(path("tests.log")) as f:
        summary = [line.rstrip() for line in f if re.search(r"PASSED|FAILED|tests passed|tests failed|SKIPPED", line)]
    print("```\n" + "\n".join(summary) + "\n```\n")
    print("## GEMM (our gemm.cu vs cublasSgemmStridedBatched)\n")
    print("Squares, then the whole-batch GEMMs of the DCGAN-64 conv layers at batch 128 (fwd, dgrad and wgrad")
    print("as kernels/cuda/conv.cu lowers them). This gemm has no scratch space, so it never splits K: the")
    print("wgrad rows (tiny M x N, huge K) show what conv.cu's split-K avoids.\n")
    missing = [name for name in ("gemm.json", "conv.json", "step.json") if not os.path.exists(path(name))]
    if missing:
        print(f"No tables: {', '.join(missing)} missing (the bench's .log in the run folder says why).")
        return
    table("gemm", path("gemm.json"))
    print("\n## Convolution (our conv.cu vs cuDNN), DCGAN-64 layers at batch 128, k4 s2 p1\n")
    table("conv", path("conv.json"))
    for precision in ("tf32", "bf16"):
        if any(name.startswith("ours-" + precision) for name, _ in load(path("gemm.json"))):
            print(f"\n## Tensor cores, {precision}: GEMM (mma_gemm_kernel vs cuBLAS {precision})\n")
            table("gemm", path("gemm.json"), precision)
            print(f"\n## Tensor cores, {precision}: convolution (vs cuDNN {precision}; none for bf16)\n")
            table("conv", path("conv.json"), precision)
    print("\n## Memory-bound kernels and whole DCGAN training steps\n")
    print("GB/s of the least traffic each kernel needs, on 2^26 floats (relu 8, axpy 12, batch norm forward 12")
    print("and backward 24 bytes per element; bench/bench_cuda_step.cpp)" +
          (f", and as a share of the device-to-device copy PyTorch measured in the same run ({copy:.0f} GB/s,"
           " read + write)." if copy else "."))
    print("Steps: one D and one G update with Adam; vendor = cuBLAS / cuDNN for GEMM and conv, our kernels for")
    print("the rest; PyTorch = torch.jsonl, the same steps timed by bench/cuda_step_torch.py (or as the run's")
    print("README says) on the same GPU: medians, cudnn.benchmark on; TF32 = PyTorch's tensor-core defaults.\n")
    step_tables(path("step.json"), copy, torch_steps)
    targets(path("gemm.json"), path("conv.json"), path("step.json"), copy, torch_steps)
    others = [row for row in torch_lines if row.get("what") not in ("step", "d2d_copy")]
    if others:
        print("\nPyTorch's other readings in the same run: " +
              "; ".join(", ".join(f"{k} {v}" for k, v in row.items()) for row in others) + ".")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in (*VENDOR, "step", "report"):
        sys.exit(__doc__)
    if sys.argv[1] == "step":
        step_tables(sys.argv[2])
    elif sys.argv[1] == "report":
        report(sys.argv[2])
    else:
        table(sys.argv[1], sys.argv[2])

"""What the *_step_torch.py scripts share: PyTorch's best setting on this machine, timing a
PyTorch step, running one case of a cfgan Google Benchmark program, and the side-by-side table.
Import it before torch: the environment it sets is read when torch loads its BLAS."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# PyTorch's best setting here: intra-op threads only, a single-threaded BLAS (its OpenBLAS
# threads would compete with the intra-op ones), and OpenBLAS told the core it runs on
# (under this hypervisor it does not recognise it and falls back to SSE3 kernels).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
with open("/proc/cpuinfo") as cpuinfo:
    if " avx512f " in cpuinfo.read():
        os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")


def step_ms(step, seconds=3.0, warmup=3):
    """Mean ms per call of step() over `seconds`, after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    iters, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        iters += 1
    return (time.perf_counter() - start) / iters * 1000


def ours_run(binary, benchmark_filter):
    """The JSON record of the one benchmark case of `binary` that `benchmark_filter` selects."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run([binary, f"--benchmark_filter={benchmark_filter}", f"--benchmark_out={out.name}",
                               "--benchmark_out_format=json"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"{binary} failed (exit {done.returncode}):\n{done.stderr}")
        with open(out.name) as f:
            run = json.load(f)["benchmarks"][0]
    assert run["time_unit"] == "ms", run["time_unit"]
    return run


def compare_threads(description, target, benchmark, torch_ms):
    """The command line of a step comparison at 1 and 2 threads: --ours (the path of cfgan's
    `target`) and --rounds; each setting alternates cfgan's `benchmark` case and torch_ms(threads)
    `rounds` times, so a busy spell on a shared machine hits both, and keeps the best of each."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", required=True, help=f"path of cfgan's {target}")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per setting (best kept)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds: must be >= 1, got {args.rounds}")
    if not os.access(args.ours, os.X_OK):
        sys.exit(f"--ours: {args.ours} is not an executable (cmake --build build --target {target})")
    import torch  # noqa: E402  (after the environment above)
    print(f"PyTorch {torch.__version__}, {args.rounds} alternating rounds per setting, best of each")
    print("| threads | cfgan ms/step | PyTorch ms/step | ratio |")
    print("|---:|---:|---:|---:|")
    for threads in (1, 2):
        ours = theirs = float("inf")
        for _ in range(args.rounds):
            ours = min(ours, ours_run(args.ours, f"^{benchmark}/threads:{threads}/")["real_time"])
            theirs = min(theirs, torch_ms(threads))
        print(f"| {threads} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |", flush=True)

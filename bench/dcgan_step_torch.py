#!/usr/bin/python3
"""The reference DCGAN training step in PyTorch (Debian python3-torch), timed like
bench_dcgan_step: batch 64 and 256, 1 and 2 threads; with --model dcgan32, the DCGAN-32
step on 32x32 RGB at batch 64. With --precision bf16, both sides multiply BF16 operands
(cfgan's --precision bf16; PyTorch's CPU autocast to bfloat16) and sum in FP32.

    /usr/bin/python3 bench/dcgan_step_torch.py                  # PyTorch alone, ms/step
    /usr/bin/python3 bench/dcgan_step_torch.py --ours build/bench/bench_dcgan_step [--rounds 3] [--model dcgan32]
        [--precision bf16]

With --ours, each setting runs cfgan's bench and PyTorch one after the other, `rounds`
times (alternating, so a busy spell on a shared machine hits both), keeps the best time
of each and prints the table with the ratio cfgan / PyTorch (below 1: cfgan is faster),
and cfgan's GFLOP/s as a share of the peak the same binary measures before the table
(BM_FmaPeak; in BF16, BM_Bf16PairPeak).
"""
import argparse
import os
import sys

from torch_compare import ours_run, step_ms  # first: it sets the BLAS environment torch reads

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from make_fixtures import DcganD, DcganG  # noqa: E402


class Dcgan32G(torch.nn.Module):
    """cfgan's DCGAN-32 generator (models/dcgan.cpp, image_size 32, 3 channels, width 64)."""

    def __init__(self, z=100, w=64, c=3):
        super().__init__()
        nn = torch.nn
        self.net = nn.Sequential(
            nn.Unflatten(1, (z, 1, 1)), nn.ConvTranspose2d(z, 4 * w, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * w),
            nn.ReLU(), nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, c, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Dcgan32D(torch.nn.Module):
    """cfgan's DCGAN-32 discriminator with batch norm."""

    def __init__(self, w=64, c=3):
        super().__init__()
        nn = torch.nn
        self.net = nn.Sequential(
            nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(4 * w * 16, 1))

    def forward(self, x):
        return self.net(x).reshape(-1)


# model: (G, D, image shape, cfgan's benchmark, its (batch, threads) settings)
MODELS = {
    "reference": (DcganG, DcganD, (1, 28, 28), "BM_DcganTrainStep", [(64, 1), (64, 2), (256, 1), (256, 2)]),
    "dcgan32": (Dcgan32G, Dcgan32D, (3, 32, 32), "BM_Dcgan32TrainStep", [(64, 1), (64, 2)]),
}


def step(g, d, opt_g, opt_d, real, z, bf16):
    n = real.shape[0]
    opt_d.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        fake = g(z)
        d_loss = F.binary_cross_entropy_with_logits(d(real).float(), torch.ones(n)) + \
            F.binary_cross_entropy_with_logits(d(fake.detach()).float(), torch.zeros(n))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    for p in d.parameters():  # as cfgan does: D's weight gradients are not needed here
        p.requires_grad_(False)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        g_loss = F.binary_cross_entropy_with_logits(d(fake).float(), torch.ones(n))
    g_loss.backward()
    opt_g.step()
    for p in d.parameters():
        p.requires_grad_(True)


def torch_ms(model, batch, threads, bf16, seconds=3.0):
    make_g, make_d, image, _, _ = MODELS[model]
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    g, d = make_g(), make_d()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real, z = torch.rand(batch, *image) * 2 - 1, torch.randn(batch, 100)
    return step_ms(lambda: step(g, d, opt_g, opt_d, real, z, bf16), seconds)


def ours_ms(binary, model, batch, threads, bf16):
    """ms/step, GFLOP/s and heap allocations per step from one run of bench_dcgan_step."""
    name = MODELS[model][3] + ("Bf16" if bf16 else "")
    run = ours_run(binary, f"^{name}/batch:{batch}/threads:{threads}/")
    return run["real_time"], run["GFLOP/s"] / 1e9, run["heap_allocs_per_step"]


def peak_gflops(binary, threads, bf16):
    """The FMA (or BF16 pair) peak bench_dcgan_step measures with `threads` threads, in GFLOP/s."""
    return ours_run(binary, f"^BM_{'Bf16Pair' if bf16 else 'Fma'}Peak/threads:{threads}/")["GFLOP/s"] / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", help="path of cfgan's bench_dcgan_step, to time side by side")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per setting (best kept)")
    parser.add_argument("--model", choices=sorted(MODELS), default="reference", help="which DCGAN step")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="the matrix products' operands")
    args = parser.parse_args()
    bf16 = args.precision == "bf16"
    if args.rounds < 1:
        parser.error(f"--rounds: must be >= 1, got {args.rounds}")
    if not args.ours:
        for batch, threads in MODELS[args.model][4]:
            print(f"torch {args.model} batch={batch} threads={threads}: "
                  f"{torch_ms(args.model, batch, threads, bf16):.1f} ms/step")
        return
    if not os.access(args.ours, os.X_OK):
        sys.exit(f"--ours: {args.ours} is not an executable (build it: cmake --build build --target bench_dcgan_step)")
    peak = {threads: peak_gflops(args.ours, threads, bf16) for threads in (1, 2)}
    print(f"{args.model} step in {args.precision}; PyTorch {torch.__version__}, {args.rounds} alternating rounds per "
          "setting, best of each")
    print(f"{args.precision} peak: {peak[1]:.1f} GFLOP/s at 1 thread, {peak[2]:.1f} at 2")
    print("| batch | threads | cfgan ms/step | PyTorch ms/step | ratio | cfgan GFLOP/s | % of peak | cfgan heap allocs/step |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for batch, threads in MODELS[args.model][4]:
        ours, theirs, gflop_per_step, allocs = float("inf"), float("inf"), None, None
        for _ in range(args.rounds):
            ms, gflops, allocs = ours_ms(args.ours, args.model, batch, threads, bf16)
            ours, gflop_per_step = min(ours, ms), gflops * ms / 1000
            theirs = min(theirs, torch_ms(args.model, batch, threads, bf16))
        rate = gflop_per_step / ours * 1000
        print(f"| {batch} | {threads} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} | {rate:.1f} | "
              f"{100 * rate / peak[threads]:.0f} | {allocs:g} |", flush=True)


if __name__ == "__main__":
    main()

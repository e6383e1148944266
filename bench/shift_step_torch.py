#!/usr/bin/python3
"""The train_shift step of bench_shift_step in PyTorch (Debian python3-torch): the same shift
predictor (z 100 + 6 targets -> 1024 -> 1024 -> 100 with dropout 0.2 / 0.1), frozen DCGAN-32
generator and frozen attribute classifier in eval mode, loss and Adam, batch 8, 1 and 2 threads.

    /usr/bin/python3 bench/shift_step_torch.py --ours build/bench/bench_shift_step [--rounds 3]

Each setting runs cfgan's bench and PyTorch alternately `rounds` times, keeps the best of
each and prints ms/step and the ratio cfgan / PyTorch (below 1: cfgan is faster).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

D, K, B, HIDDEN, W = 100, 6, 8, 1024, 64


def generator():
    return nn.Sequential(nn.Unflatten(1, (D, 1, 1)),
                         nn.ConvTranspose2d(D, 4 * W, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * W), nn.ReLU(),
                         nn.ConvTranspose2d(4 * W, 2 * W, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * W), nn.ReLU(),
                         nn.ConvTranspose2d(2 * W, W, 4, 2, 1, bias=False), nn.BatchNorm2d(W), nn.ReLU(),
                         nn.ConvTranspose2d(W, 3, 4, 2, 1), nn.Tanh())


def judge(w=32, features=128):
    return nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(w, 2 * w, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(2 * w * 64, features), nn.ReLU(), nn.Linear(features, K))


def shift_predictor():
    return nn.Sequential(nn.Linear(D + K, HIDDEN), nn.ReLU(), nn.Dropout(0.2), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Dropout(0.1), nn.Linear(HIDDEN, D))


def draw_targets():
    index = torch.randint(1, 3 ** K, (B,))
    digits = [(index // 3 ** j) % 3 - 1 for j in range(K)]
    return torch.stack(digits, 1).float()


def step(s, g, j, opt):
    z = torch.randn(1, D) + 0.1 * torch.randn(B, D)
    t = draw_targets()
    opt.zero_grad()
    dw = s(torch.cat([z, t], 1))
    logits = j(g(z + dw))
    asked = t != 0
    loss = F.binary_cross_entropy_with_logits(logits[asked], (t[asked] + 1) / 2) + 0.05 * dw.norm(dim=1).mean()
    loss.backward()
    opt.step()


def torch_ms(threads, seconds=3.0):
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    s, g, j = shift_predictor(), generator().eval(), judge().eval()
    for p in list(g.parameters()) + list(j.parameters()):
        p.requires_grad_(False)
    opt = torch.optim.Adam(s.parameters(), lr=1e-4, betas=(0.9, 0.999))
    for _ in range(3):
        step(s, g, j, opt)
    iters, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(s, g, j, opt)
        iters += 1
    return (time.perf_counter() - start) / iters * 1000


def ours_ms(binary, threads):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run([binary, f"--benchmark_filter=^BM_ShiftTrainStep/threads:{threads}/",
                               f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"{binary} failed (exit {done.returncode}):\n{done.stderr}")
        with open(out.name) as f:
            return json.load(f)["benchmarks"][0]["real_time"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", required=True, help="path of cfgan's bench_shift_step")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per setting (best kept)")
    args = parser.parse_args()
    if not os.access(args.ours, os.X_OK):
        sys.exit(f"--ours: {args.ours} is not an executable (cmake --build build --target bench_shift_step)")
    print(f"PyTorch {torch.__version__}, {args.rounds} alternating rounds per setting, best of each")
    print("| threads | cfgan ms/step | PyTorch ms/step | ratio |")
    print("|---:|---:|---:|---:|")
    for threads in (1, 2):
        ours = theirs = float("inf")
        for _ in range(args.rounds):
            ours = min(ours, ours_ms(args.ours, threads))
            theirs = min(theirs, torch_ms(threads))
        print(f"| {threads} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |", flush=True)


if __name__ == "__main__":
    main()

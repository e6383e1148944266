#!/usr/bin/python3
"""PyTorch's side of the GPU step comparison: the reference DCGAN at batch 64 and the
DCGAN-64 family model (64x64x3) at batch 128, the same steps bench_cuda_step times (one D
update, one G update with D's weights frozen, Adam, both losses read back every step), in
FP32 with TF32 off and then with PyTorch's TF32 defaults; plus cuBLAS SGEMM TFLOP/s and the
device-to-device copy bandwidth the memory-bound kernels are measured against. One JSON
object per line on stdout (scripts/gpu-check saves it as torch.jsonl):

    python3 bench/cuda_step_torch.py [--device cuda] [--steps 60] [--warmup 10]

Medians (and bests) of per-step times after the warm-up; cudnn.benchmark on.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from make_fixtures import DcganD, DcganG  # noqa: E402


def dcgan64_g(z_dim=100, w=64):
    layers, ch = [nn.Unflatten(1, (z_dim, 1, 1)), nn.ConvTranspose2d(z_dim, 8 * w, 4, 1, 0, bias=False)], 8 * w
    layers += [nn.BatchNorm2d(ch), nn.ReLU()]
    while ch > w:
        layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU()]
        ch //= 2
    return nn.Sequential(*layers, nn.ConvTranspose2d(w, 3, 4, 2, 1), nn.Tanh())


def dcgan64_d(w=64):
    layers, ch = [nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2)], w
    while ch < 8 * w:
        layers += [nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ch), nn.LeakyReLU(0.2)]
        ch *= 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * 16, 1), nn.Flatten(0))


def step(g, d, opt_g, opt_d, real, z, ones, zeros):
    opt_d.zero_grad()
    fake = g(z)
    d_loss = F.binary_cross_entropy_with_logits(d(real).view(-1), ones) + \
        F.binary_cross_entropy_with_logits(d(fake.detach()).view(-1), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    g_loss = F.binary_cross_entropy_with_logits(d(fake).view(-1), ones)
    g_loss.backward()
    opt_g.step()
    for p in d.parameters():
        p.requires_grad_(True)
    return d_loss.item(), g_loss.item()  # read back, as the trainers log them


def time_step(model, batch, device, steps, warmup):
    torch.manual_seed(1)
    if model == "dcgan28":
        g, d, shape = DcganG(), DcganD(), (batch, 1, 28, 28)
    else:
        g, d, shape = dcgan64_g(), dcgan64_d(), (batch, 3, 64, 64)
    g, d = g.to(device), d.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(shape, device=device) * 2 - 1
    z = torch.randn(batch, 100, device=device)
    ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        step(g, d, opt_g, opt_d, real, z, ones, zeros)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2], times[0]


def sgemm_tflops(n, device, reps=20):
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.matmul(a, b)
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b)
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e12


def copy_gbps(device, n=1 << 28, reps=20):
    src, dst = torch.empty(n // 4, device=device), torch.empty(n // 4, device=device)
    dst.copy_(src)
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        dst.copy_(src)
    sync(device)
    return 2 * n * reps / (time.perf_counter() - start) / 1e9  # read + write


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda, or cpu for a quick look without a GPU")
    parser.add_argument("--steps", type=int, default=60, help="timed steps per setting")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--sgemm", default="4096,8192", help="square SGEMM sizes")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("cuda_step_torch: PyTorch sees no CUDA GPU here; use --device cpu for a look on the CPU")
    info = {"torch": torch.__version__}
    if args.device == "cuda":
        info |= {"gpu": torch.cuda.get_device_name(0), "cudnn": torch.backends.cudnn.version()}
        torch.backends.cudnn.benchmark = True
    print(json.dumps(info), flush=True)
    for tf32 in (False, True) if args.device == "cuda" else (False,):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        for model, batch in (("dcgan28", 64), ("dcgan64", 128)):
            median, best = time_step(model, batch, args.device, args.steps, args.warmup)
            print(json.dumps({"what": "step", "model": f"{model}_b{batch}", "tf32": tf32,
                              "median_ms": round(median, 3), "best_ms": round(best, 3)}), flush=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    for n in (int(s) for s in args.sgemm.split(",")):
        print(json.dumps({"what": "sgemm_fp32_cublas" if args.device == "cuda" else "sgemm_fp32",
                          "n": n, "tflops": round(sgemm_tflops(n, args.device), 2)}), flush=True)
    print(json.dumps({"what": "d2d_copy", "GBps": round(copy_gbps(args.device), 1)}), flush=True)


if __name__ == "__main__":
    main()

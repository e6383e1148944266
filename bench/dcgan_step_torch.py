#!/usr/bin/python3
"""The reference DCGAN training step in PyTorch (Debian python3-torch), timed like
bench_dcgan_step: batch 64 and 256, 1 and 2 threads. Prints ms/step per setting.

    /usr/bin/python3 bench/dcgan_step_torch.py
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from make_fixtures import DcganD, DcganG  # noqa: E402


def step(g, d, opt_g, opt_d, real, z):
    n = real.shape[0]
    opt_d.zero_grad()
    fake = g(z)
    d_loss = F.binary_cross_entropy_with_logits(d(real), torch.ones(n)) + \
        F.binary_cross_entropy_with_logits(d(fake.detach()), torch.zeros(n))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = F.binary_cross_entropy_with_logits(d(fake), torch.ones(n))
    g_loss.backward()
    opt_g.step()


def main():
    torch.manual_seed(1)
    for batch in (64, 256):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            g, d = DcganG(), DcganD()
            opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
            opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
            real, z = torch.rand(batch, 1, 28, 28) * 2 - 1, torch.randn(batch, 100)
            for _ in range(3):
                step(g, d, opt_g, opt_d, real, z)
            iters, start = 0, time.perf_counter()
            while time.perf_counter() - start < 3.0:
                step(g, d, opt_g, opt_d, real, z)
                iters += 1
            ms = (time.perf_counter() - start) / iters * 1000
            print(f"torch DcganTrainStep batch={batch} threads={threads}: {ms:.1f} ms/step")


if __name__ == "__main__":
    main()

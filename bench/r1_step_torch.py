#!/usr/bin/python3
"""D's lazy R1 update of bench_dcgan_step (BM_DcganR1Step) in PyTorch (Debian python3-torch):
the reference DCGAN discriminator on a real batch of 64 with the batch requiring grad,
grad_x D with create_graph=True, (gamma/2) mean ||grad||^2 times the interval 16, its
backward and an Adam step (lr and betas as StyleGAN2 corrects them), at 1 and 2 threads.

    /usr/bin/python3 bench/r1_step_torch.py --ours build/bench/bench_dcgan_step [--rounds 3]

Each setting runs cfgan's bench and PyTorch alternately `rounds` times, keeps the best of
each and prints ms/step and the ratio cfgan / PyTorch (below 1: cfgan is faster).
"""
import os
import sys

from torch_compare import compare_threads, step_ms  # first: it sets the BLAS environment torch reads

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import torch  # noqa: E402
from make_fixtures import DcganD  # noqa: E402

BATCH, GAMMA, EVERY = 64, 10.0, 16


def step(d, opt, real):
    opt.zero_grad(set_to_none=True)  # as cfgan's zero_grad
    x = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
    penalty = grad.square().sum([1, 2, 3]).mean() * (GAMMA / 2)
    (penalty * EVERY).backward()
    opt.step()


def torch_ms(threads):
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    d = DcganD()
    c = EVERY / (EVERY + 1)
    opt = torch.optim.Adam(d.parameters(), lr=2e-4 * c, betas=(0.5 ** c, 0.999 ** c))
    real = torch.rand(BATCH, 1, 28, 28) * 2 - 1
    return step_ms(lambda: step(d, opt, real))


if __name__ == "__main__":
    compare_threads(__doc__, "bench_dcgan_step", "BM_DcganR1Step", torch_ms)

#!/usr/bin/python3
"""The train_shift step of bench_shift_step in PyTorch (Debian python3-torch): the same shift
predictor (z 100 + 6 targets -> 1024 -> 1024 -> 100 with dropout 0.2 / 0.1), frozen DCGAN-32
generator and frozen attribute classifier in eval mode, loss and Adam, batch 8, 1 and 2 threads.

    /usr/bin/python3 bench/shift_step_torch.py --ours build/bench/bench_shift_step [--rounds 3]

Each setting runs cfgan's bench and PyTorch alternately `rounds` times, keeps the best of
each and prints ms/step and the ratio cfgan / PyTorch (below 1: cfgan is faster).
"""
from torch_compare import compare_threads, step_ms  # first: it sets the BLAS environment torch reads
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


def torch_ms(threads):
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    s, g, j = shift_predictor(), generator().eval(), judge().eval()
    for p in list(g.parameters()) + list(j.parameters()):
        p.requires_grad_(False)
    opt = torch.optim.Adam(s.parameters(), lr=1e-4, betas=(0.9, 0.999))
    return step_ms(lambda: step(s, g, j, opt))


if __name__ == "__main__":
    compare_threads(__doc__, "bench_shift_step", "BM_ShiftTrainStep", torch_ms)

#!/usr/bin/python3
"""The CDVAE-GAN training step of bench_cdvae_step in PyTorch (Debian python3-torch): the
same networks (DCGAN-32 encoder body with Gaussian and code heads, DCGAN-32 decoder fed
[z, 2a - 1], DCGAN-32 critic with its attribute head), losses at train_cdvae's defaults (the
flip term read by E's frozen code head and by the critic's frozen attribute head) and Adam,
batch 64, 1 and 2 threads.

    /usr/bin/python3 bench/cdvae_step_torch.py --ours build/bench/bench_cdvae_step [--rounds 3]

Each setting runs cfgan's bench and PyTorch alternately `rounds` times, keeps the best of
each and prints ms/step and the ratio cfgan / PyTorch (below 1: cfgan is faster).
"""
from torch_compare import compare_threads, step_ms  # first: it sets the BLAS environment torch reads
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

W, Z, K, B = 32, 32, 6, 64


def critic_body():
    return nn.Sequential(nn.Conv2d(3, W, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(W, 2 * W, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * W), nn.LeakyReLU(0.2),
                         nn.Conv2d(2 * W, 4 * W, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * W), nn.LeakyReLU(0.2),
                         nn.Flatten())


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = critic_body(), nn.Linear(4 * W * 16, 1)

    def forward(self, x):
        """The logit, block 1's features (the reconstruction similarity) and the last ones."""
        f2 = self.body[:5](x)
        last = self.body[5:](f2)
        return self.head(last).squeeze(1), f2, last


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = critic_body()
        self.mu, self.logvar, self.codes = nn.Linear(4 * W * 16, Z), nn.Linear(4 * W * 16, Z), nn.Linear(4 * W * 16, K)
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (Z + K, 1, 1)),
            nn.ConvTranspose2d(Z + K, 4 * W, 4, 1, 0, bias=False), nn.BatchNorm2d(4 * W), nn.ReLU(),
            nn.ConvTranspose2d(4 * W, 2 * W, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * W), nn.ReLU(),
            nn.ConvTranspose2d(2 * W, W, 4, 2, 1, bias=False), nn.BatchNorm2d(W), nn.ReLU(),
            nn.ConvTranspose2d(W, 3, 4, 2, 1), nn.Tanh())

    def encode(self, x):
        f = self.body(x)
        return self.mu(f), self.logvar(f), self.codes(f)

    def decode(self, z, a):
        return self.decoder(torch.cat([z, 2 * a - 1], 1))


def step(ae, critic, attr, opts, x, y, prior, tau=1.0):
    opt_eg, opt_d, opt_attr = opts
    bce = F.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(B), torch.zeros(B)
    mu, logvar, logits = ae.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    u = torch.rand_like(logits).clamp(1e-6, 1 - 1e-6)
    codes = torch.sigmoid((logits + torch.log(u) - torch.log(1 - u)) / tau)
    x_rec = ae.decode(z, codes)
    x_prior = ae.decode(torch.randn(B, Z), (torch.rand(B, K) < prior).float())
    opt_d.zero_grad()
    opt_attr.zero_grad()
    real, _, real_last = critic(x)
    d_loss = 0.5 * (bce(real, ones) + bce(critic(x_rec.detach())[0], zeros)
                    + bce(real, ones) + bce(critic(x_prior.detach())[0], zeros))
    (d_loss + bce(attr(real_last), y)).backward()
    opt_d.step()
    opt_attr.step()
    opt_eg.zero_grad()
    for p in list(critic.parameters()) + list(attr.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        real_f = critic(x)[1]
    rec_logits, rec_f, _ = critic(x_rec)
    rec = F.mse_loss(rec_f, real_f)
    adv = 0.5 * (bce(rec_logits, ones) + bce(critic(x_prior)[0], ones))
    kl_z = -0.5 * torch.mean(torch.sum(1 + logvar - mu ** 2 - logvar.exp(), 1))
    q = torch.sigmoid(logits)
    kl_a = torch.mean(torch.sum(q * (-F.softplus(-logits) - prior.log()) + (1 - q) * (-F.softplus(logits) - (1 - prior).log()), 1))
    sup = bce(logits, y)
    l1 = F.l1_loss(x_rec, x)
    (0.01 * kl_z + 0.1 * kl_a + 10 * sup + rec + 10 * l1 + adv).backward()
    # The flip term: one attribute per image inverted, read by E's code head and the critic's
    # attribute head, both frozen with E's body.
    rows, flipped = torch.arange(B), y.clone()
    column = torch.randint(K, (B,))
    flipped[rows, column] = 1 - flipped[rows, column]
    encoder_read = list(ae.body.parameters()) + list(ae.codes.parameters())
    for p in encoder_read:
        p.requires_grad_(False)
    x_flip = ae.decode(z.detach(), flipped)
    (5 * bce(ae.encode(x_flip)[2], flipped) + 5 * bce(attr(critic(x_flip)[2]), flipped)).backward()
    opt_eg.step()
    for p in list(critic.parameters()) + list(attr.parameters()) + encoder_read:
        p.requires_grad_(True)


def torch_ms(threads):
    torch.manual_seed(1)
    torch.set_num_threads(threads)
    ae, critic, attr = Autoencoder(), Critic(), nn.Linear(4 * W * 16, K)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999)) for m in (ae, critic, attr)]
    x, y, prior = torch.rand(B, 3, 32, 32) * 2 - 1, (torch.rand(B, K) < 0.5).float(), torch.full((K,), 0.5)
    return step_ms(lambda: step(ae, critic, attr, opts, x, y, prior))


if __name__ == "__main__":
    compare_threads(__doc__, "bench_cdvae_step", "BM_CdvaeTrainStep", torch_ms)

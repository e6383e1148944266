#!/usr/bin/python3
"""Writes the golden fixtures of cfgan's Golden.* tests: inputs, outputs and gradients
computed by PyTorch. Run with Debian's python3-torch:  /usr/bin/python3 make_fixtures.py

Each case is one safetensors file in this directory. Gradients are taken of
sum(output * gout) for a fixed random gout, so every output element matters.
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, tensors, metadata=None):
    """Minimal safetensors writer (F32 only), so no extra package is needed."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for key, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(HERE, name + ".safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def conv2d():
    x, w, b = leaf(2, 3, 7, 6), leaf(4, 3, 3, 3, scale=0.3), leaf(4)
    out = F.conv2d(x, w, b, stride=2, padding=1)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    save("conv2d", dict(x=x, w=w, b=b, gout=gout, out=out, dx=x.grad, dw=w.grad, db=b.grad),
         dict(stride=2, padding=1))


def conv_transpose2d():
    x, w, b = leaf(2, 4, 5, 5), leaf(4, 3, 4, 4, scale=0.3), leaf(3)
    out = F.conv_transpose2d(x, w, b, stride=2, padding=1)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    save("conv_transpose2d", dict(x=x, w=w, b=b, gout=gout, out=out, dx=x.grad, dw=w.grad, db=b.grad),
         dict(stride=2, padding=1))


def batch_norm(name, shape, training):
    c = shape[1]
    x, gamma, beta = leaf(*shape, scale=2.0), leaf(c), leaf(c)
    x.data += 0.5
    rm, rv = torch.randn(c) * 0.1, torch.rand(c) + 0.5
    rm0, rv0 = rm.clone(), rv.clone()
    out = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=0.1, eps=1e-5)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    save(name, dict(x=x, gamma=gamma, beta=beta, running_mean=rm0, running_var=rv0, gout=gout, out=out,
                    new_running_mean=rm, new_running_var=rv, dx=x.grad, dgamma=gamma.grad, dbeta=beta.grad))


def linear():
    x, w, b = leaf(5, 7), leaf(3, 7), leaf(3)
    out = F.linear(x, w, b)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    save("linear", dict(x=x, w=w, b=b, gout=gout, out=out, dx=x.grad, dw=w.grad, db=b.grad))


def bce_with_logits():
    x = leaf(4, 5, scale=3.0)
    t = torch.rand(4, 5)
    loss = F.binary_cross_entropy_with_logits(x, t)
    loss.backward()
    save("bce_with_logits", dict(x=x, target=t, loss=loss.reshape([]), dx=x.grad))


def cross_entropy():
    x = leaf(6, 5, scale=2.0)
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    loss = F.cross_entropy(x, labels)
    loss.backward()
    save("cross_entropy", dict(x=x, labels=labels.float(), loss=loss.reshape([]), dx=x.grad))


def softmax():
    x = leaf(4, 7, scale=2.0)
    x2 = x.detach().clone().requires_grad_(True)
    out, logout = F.softmax(x, dim=1), F.log_softmax(x2, dim=1)
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    (logout * gout).sum().backward()
    save("softmax", dict(x=x, gout=gout, out=out, dx=x.grad, log_out=logout, log_dx=x2.grad))


def spectral_norm():
    conv = torch.nn.Conv2d(3, 4, 3)
    conv = torch.nn.utils.spectral_norm(conv)
    conv.train()
    u0 = F.normalize(torch.randn(4), dim=0)
    v0 = F.normalize(torch.randn(27), dim=0)
    with torch.no_grad():
        conv.weight_u.copy_(u0)
        conv.weight_v.copy_(v0)
    x = torch.randn(2, 3, 5, 5)
    out = conv(x)  # one power iteration, then weight = weight_orig / sigma
    gout = torch.randn_like(out)
    (out * gout).sum().backward()
    save("spectral_norm", dict(weight_orig=conv.weight_orig, bias=conv.bias, u0=u0, v0=v0, x=x, gout=gout,
                               out=out, weight=conv.weight, u1=conv.weight_u, v1=conv.weight_v,
                               dweight_orig=conv.weight_orig.grad, dbias=conv.bias.grad))


def adam():
    p = torch.randn(10, 3)
    p0 = p.clone()
    p.requires_grad_(True)
    opt = torch.optim.Adam([p], lr=2e-3, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.01)
    grads = [torch.randn(10, 3) for _ in range(3)]
    for g in grads:
        p.grad = g.clone()
        opt.step()
    state = opt.state[p]
    save("adam", dict(p0=p0, g1=grads[0], g2=grads[1], g3=grads[2], p3=p, exp_avg=state["exp_avg"],
                      exp_avg_sq=state["exp_avg_sq"]),
         dict(lr=2e-3, beta1=0.5, beta2=0.999, eps=1e-8, weight_decay=0.01))


class DcganG(torch.nn.Module):
    """The reference DCGAN generator, with cfgan's parameter names (blocks.i.j.*)."""

    def __init__(self, z=100, w=64, c=1):
        super().__init__()
        nn = torch.nn
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Linear(z, 2 * w * 49, bias=False), nn.BatchNorm1d(2 * w * 49), nn.ReLU(),
                          nn.Unflatten(1, (2 * w, 7, 7))),
            nn.Sequential(nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()),
            nn.Sequential(nn.ConvTranspose2d(w, c, 4, 2, 1), nn.Tanh())])

    def forward(self, z):
        for block in self.blocks:
            z = block(z)
        return z


class DcganD(torch.nn.Module):
    def __init__(self, w=64, c=1):
        super().__init__()
        nn = torch.nn
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2)),
            nn.Sequential(nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2))])
        self.head = nn.Linear(2 * w * 49, 1)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x.flatten(1)).reshape(-1)


def hashed_uniform(shape, salt, scale):
    """Values in [-scale, scale) from an integer hash of the element index, so the C++
    test rebuilds the initial weights bit for bit and the fixture need not store them."""
    i = torch.arange(int(torch.tensor(shape).prod()), dtype=torch.int64)
    h = (i * 2654435761 + salt * 40503) % 4294967296
    h = (h ^ (h >> 15)) * 2246822519 % 4294967296
    h = h ^ (h >> 13)
    u = (h >> 8).to(torch.float64) / 16777216.0
    return ((u * 2 - 1) * scale).to(torch.float32).reshape(shape)


def hashed_init(module):
    """DCGAN-like magnitudes: weights ~ +-0.035 (std 0.02), batch-norm gamma 1 +- 0.035."""
    with torch.no_grad():
        for salt, (name, p) in enumerate(module.named_parameters()):
            p.copy_(hashed_uniform(p.shape, salt, 0.02 * 3 ** 0.5))
            if p.dim() == 1 and ".1." in name and name.endswith("weight"):
                p.add_(1.0)


def state(prefix, module):
    return {prefix + k: v.clone() for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}


def dcgan_train_step():
    """One step of the reference DCGAN exactly as cfgan's gan_train_step runs it."""
    g, d = DcganG(), DcganD()
    hashed_init(g)
    hashed_init(d)
    batch = 16
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    z = torch.randn(batch, 100)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    opt_d.zero_grad()
    fake = g(z)
    real_logits, fake_logits = d(real), d(fake.detach())
    d_loss = bce(real_logits, torch.ones(batch)) + bce(fake_logits, torch.zeros(batch))
    d_loss.backward()
    # The gradients before each Adam step: Adam's first update is about lr * sign(g), so the
    # weights after it barely see a gradient's scale; these do.
    grads = {"gradD." + k: p.grad.clone() for k, p in d.named_parameters()}
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(d(fake), torch.ones(batch))
    g_loss.backward()
    grads.update({"gradG." + k: p.grad.clone() for k, p in g.named_parameters()})
    opt_g.step()
    after = {**state("G1.", g), **state("D1.", d)}
    save("dcgan_train_step",
         dict(real=real, z=z, d_loss=d_loss.reshape([]), g_loss=g_loss.reshape([]), **after, **grads))


class SnganD(torch.nn.Module):
    """cfgan's SNGAN-style discriminator at 28 px: spectral norm on every conv and the head,
    no batch norm, leaky slope 0.1."""

    def __init__(self, w=64, c=1):
        super().__init__()
        nn, sn = torch.nn, torch.nn.utils.spectral_norm
        self.blocks = nn.ModuleList([
            nn.Sequential(sn(nn.Conv2d(c, w, 4, 2, 1)), nn.LeakyReLU(0.1)),
            nn.Sequential(sn(nn.Conv2d(w, 2 * w, 4, 2, 1)), nn.LeakyReLU(0.1))])
        self.head = sn(nn.Linear(2 * w * 49, 1))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x.flatten(1)).reshape(-1)


def r1_penalty(name, d, order):
    """StyleGAN2's R1 on a real batch, (gamma / 2) * mean ||grad_x D(x)||^2, and its gradient
    w.r.t. D's parameters through torch.autograd.grad(..., create_graph=True). D is in
    training mode (batch statistics; one power iteration per spectral norm). `order` lists
    the parameters as cfgan names them, which fixes each one's hashed_uniform salt."""
    params = dict(d.named_parameters())
    buffers = {}
    with torch.no_grad():
        for salt, key in enumerate(order):
            params[key].copy_(hashed_uniform(params[key].shape, salt, 0.02 * 3 ** 0.5))
            if params[key].dim() == 1 and key.endswith("weight"):
                params[key].add_(1.0)
        for key, b in d.named_buffers():  # spectral norm's u and v: fixed unit vectors
            if key.endswith("weight_u") or key.endswith("weight_v"):
                b.copy_(F.normalize(torch.randn(b.shape), dim=0))
                buffers[key] = b.clone()
    gamma, batch = 10.0, 8
    real = (torch.rand(batch, 1, 28, 28) * 2 - 1).requires_grad_(True)
    d.train()
    logits = d(real)
    (input_grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    r1 = input_grad.square().sum([1, 2, 3]).mean() * (gamma / 2)
    r1.backward()
    # Biases just before a batch norm or the output do not move grad_x D: no gradient, i.e. zero.
    grads = {"grad." + key: params[key].grad if params[key].grad is not None else torch.zeros_like(params[key])
             for key in order}
    save(name, dict(real=real, logits=logits, input_grad=input_grad, r1=r1.reshape([]), **buffers, **grads),
         dict(gamma=gamma))


def r1_dcgan():
    torch.manual_seed(20261206)
    d = DcganD()
    r1_penalty("r1_dcgan", d, [k for k, _ in d.named_parameters()])


def r1_sngan():
    torch.manual_seed(20261207)
    d = SnganD()
    order = ["blocks.0.0.weight_orig", "blocks.0.0.bias", "blocks.1.0.weight_orig", "blocks.1.0.bias",
             "head.weight_orig", "head.bias"]
    assert sorted(order) == sorted(k for k, _ in d.named_parameters())
    r1_penalty("r1_sngan", d, order)


def dcgan_r1_step():
    """gan_train_step with R1 on the reals (width 16 G and D, gamma 10), twice: joint (every
    D step, the penalty added to D's loss) and lazy as StyleGAN2 (every 4 D steps: a D
    update of its own on 4 x the penalty, D's Adam at lr c, betas^c, c = 4/5). Gradients are
    dropped with set_to_none=True, as cfgan's zero_grad and StyleGAN2-ADA's loop do: Adam then
    leaves alone a parameter the penalty does not reach (the biases of batch norm and head)."""
    torch.manual_seed(20261208)
    batch, gamma = 8, 10.0
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    z = torch.randn(batch, 100)
    bce = F.binary_cross_entropy_with_logits
    out = dict(real=real, z=z)

    def r1_of(d, x):
        x = x.detach().requires_grad_(True)
        logits = d(x)
        (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
        return logits, grad.square().sum([1, 2, 3]).mean() * (gamma / 2)

    for mode, every in (("joint", 1), ("lazy", 4)):
        g, d = DcganG(w=16), DcganD(w=16)
        hashed_init(g)
        hashed_init(d)
        c = every / (every + 1) if every > 1 else 1.0
        opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=2e-4 * c, betas=(0.5 ** c, 0.999 ** c))
        opt_d.zero_grad(set_to_none=True)
        fake = g(z)
        if every == 1:
            real_logits, r1 = r1_of(d, real)
        else:
            real_logits = d(real)
        d_loss = bce(real_logits, torch.ones(batch)) + bce(d(fake.detach()), torch.zeros(batch))
        (d_loss + r1 if every == 1 else d_loss).backward()
        opt_d.step()
        if every > 1:
            opt_d.zero_grad(set_to_none=True)
            r1 = r1_of(d, real)[1]
            (r1 * every).backward()
            # PyTorch hands batch norm's bias a gradient of exact zeros here (leaky_relu's double
            # backward materializes a zero derivative w.r.t. its input, which reaches the bias
            # through the forward graph), so its Adam would move it on momentum alone; in cfgan
            # that gradient is undefined and Adam skips the bias, as both skip the head's.
            for p in d.parameters():
                if p.grad is not None and not p.grad.any():
                    p.grad = None
            opt_d.step()
        # D's gradients of its last update: (d_loss + R1) joint, 4 R1 lazy.
        d_grads = {mode + ".grad.D." + k: p.grad.clone() if p.grad is not None else torch.zeros_like(p)
                   for k, p in d.named_parameters()}
        opt_g.zero_grad(set_to_none=True)
        g_loss = bce(d(fake), torch.ones(batch))
        g_loss.backward()
        opt_g.step()
        out.update({mode + ".d_loss": d_loss.reshape([]), mode + ".g_loss": g_loss.reshape([]),
                    mode + ".r1": r1.reshape([]), **d_grads, **state(mode + ".D1.", d)})
        if mode == "lazy":
            out.update(state(mode + ".G1.", g))
    save("dcgan_r1_step", out, dict(gamma=gamma, width=16, lazy_every=4))


def ur_er():
    """UR and ER transcribed from the formulas of the regularizers' reference code."""
    def uniformity(x, t=2.0):
        return torch.pdist(x, p=2).pow(2).mul(-t).exp().mean().log()

    def ur(f):
        f = f.flatten(1)
        x = f / f.norm(dim=1, keepdim=True)
        half = len(x) // 2
        return 0.5 * (uniformity(x[:half]) + uniformity(x[half:]))

    def er(f):
        f = f.flatten(1)
        x = f / f.norm(dim=1, keepdim=True)
        return -(0.5 * torch.log(x.std(dim=1)) + torch.log(f.norm(dim=1))).mean()

    f = torch.randn(9, 4, 3, 3)
    f[:, 0] += 1.5  # correlated samples: uniformity well above its minimum
    f1, f2 = f.clone().requires_grad_(True), f.clone().requires_grad_(True)
    u, e = ur(f1), er(f2)
    u.backward()
    e.backward()
    # A dead ReLU row (all zeros): F.normalize leaves it the zero vector, at distance 1 from
    # every unit row (a Gram shortcut 2 - 2 x.y, true of unit rows only, would put it at 2).
    dead = torch.rand(8, 6)
    dead[1] = 0
    dead1 = dead.clone().requires_grad_(True)
    x = F.normalize(dead1, dim=1)
    u_dead = 0.5 * (uniformity(x[:4]) + uniformity(x[4:]))
    u_dead.backward()
    save("ur_er", dict(f=f, ur=u.reshape([]), er=e.reshape([]), dur=f1.grad, der=f2.grad, f_dead=dead,
                       ur_dead=u_dead.reshape([]), dur_dead=dead1.grad))


def latent():
    """The CDVAE-GAN's KL terms, against torch.distributions' own KL formulas."""
    torch.manual_seed(20261204)
    from torch.distributions import Bernoulli, Normal, kl_divergence
    mu, logvar = leaf(4, 3), leaf(4, 3)
    kl_z = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1).mean()
    kl_z.backward()
    logits = leaf(4, 3, scale=3.0)
    prior = torch.tensor([0.2, 0.5, 0.9])
    kl_a = kl_divergence(Bernoulli(logits=logits), Bernoulli(probs=prior.expand(4, 3))).sum(1).mean()
    kl_a.backward()
    save("latent", dict(mu=mu, logvar=logvar, kl_z=kl_z.reshape([]), dmu=mu.grad, dlogvar=logvar.grad,
                        logits=logits, prior=prior, kl_a=kl_a.reshape([]), dlogits=logits.grad))


class ShiftMlp(torch.nn.Module):
    """The contrastive shift predictor S(w, t), with cfgan's parameter names (net.i.*)."""

    def __init__(self, d, k, hidden, p1=0.2, p2=0.1):
        super().__init__()
        nn = torch.nn
        self.net = nn.Sequential(nn.Linear(d + k, hidden), nn.ReLU(), nn.Dropout(p1), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Dropout(p2), nn.Linear(hidden, d))

    def forward(self, w, t):
        return self.net(torch.cat([w, t], 1))


def shift_loss(mlp, target_logits, z, t, faithfulness):
    """train_shift's loss: BCE-with-logits over the entries with t != 0, plus faithfulness * mean ||dw||_2."""
    dw = mlp(z, t)
    logits = target_logits(z + dw)
    asked = t != 0
    bce = F.binary_cross_entropy_with_logits(logits[asked], (t[asked] + 1) / 2)
    norm = dw.norm(dim=1).mean()
    return bce + faithfulness * norm, bce, norm, dw


def shift_step():
    """One train_shift step with a small S (no dropout, whose masks come from another RNG) and a
    fixed smooth stand-in for the frozen generator + judge: logits = B tanh(A w) + c."""
    torch.manual_seed(20261205)
    d, k, hidden, n = 5, 3, 16, 4
    mlp = ShiftMlp(d, k, hidden, 0.0, 0.0)
    before = state("S.", mlp)
    a, b, c = torch.randn(7, d) * 0.5, torch.randn(k, 7), torch.randn(k) * 0.3
    z = torch.randn(n, d)
    t = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 1.0], [-1.0, -1.0, 0.0], [1.0, 1.0, 1.0]])
    opt = torch.optim.Adam(mlp.parameters(), lr=1e-3, betas=(0.9, 0.999))
    opt.zero_grad()
    loss, bce, norm, dw = shift_loss(mlp, lambda w: torch.tanh(w @ a.T) @ b.T + c, z, t, 0.05)
    loss.backward()
    grads = {"grad." + name: p.grad.clone() for name, p in mlp.named_parameters()}
    opt.step()
    save("shift_step", dict(**before, a=a, b=b, c=c, z=z, t=t, dw=dw, loss=loss.reshape([]), bce=bce.reshape([]),
                            shift_norm=norm.reshape([]), **grads, **state("after.", mlp)),
         dict(faithfulness=0.05, lr=1e-3))


class CdvaeCritic(torch.nn.Module):
    """The DCGAN discriminator of the 32 px family (cfgan's names): the CDVAE-GAN's critic and
    its encoder's body. forward returns the logit and block `tap`'s output."""

    def __init__(self, w, c=3):
        super().__init__()
        nn = torch.nn
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2))])
        for ch in (w, 2 * w):
            self.blocks.append(nn.Sequential(nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ch),
                                             nn.LeakyReLU(0.2)))
        self.head = nn.Linear(4 * w * 16, 1)

    def forward(self, x, tap=-1):
        taps = []
        for block in self.blocks:
            x = block(x)
            taps.append(x)
        return self.head(x.flatten(1)).reshape(-1), taps[tap]


class CdvaeAutoencoder(torch.nn.Module):
    """E (body + mu, logvar, code heads) and G (the 32 px DCGAN generator fed [z, 2a - 1])."""

    def __init__(self, w, z_dim, k):
        super().__init__()
        nn = torch.nn
        self.encoder = CdvaeCritic(w)
        self.mu, self.logvar, self.codes = (nn.Linear(4 * w * 16, n) for n in (z_dim, z_dim, k))
        blocks = [nn.Sequential(nn.Unflatten(1, (z_dim + k, 1, 1)), nn.ConvTranspose2d(z_dim + k, 4 * w, 4, 1, 0, bias=False),
                                nn.BatchNorm2d(4 * w), nn.ReLU())]
        for ch in (4 * w, 2 * w):
            blocks.append(nn.Sequential(nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2),
                                        nn.ReLU()))
        blocks.append(nn.Sequential(nn.ConvTranspose2d(w, 3, 4, 2, 1), nn.Tanh()))
        self.decoder = nn.Module()
        self.decoder.blocks = nn.ModuleList(blocks)

    def encode(self, x):
        features = self.encoder(x)[1].flatten(1)
        return self.mu(features), self.logvar(features), self.codes(features)

    def decode(self, z, codes):
        h = torch.cat([z, 2 * codes - 1], 1)
        for block in self.decoder.blocks:
            h = block(h)
        return h


def cdvae_step():
    """One CdvaeTrainer step with every loss on (the flip term, its adversarial part and the
    critic's attribute head reading the flips too), its draws given: the losses and every
    parameter's gradient, as cfgan's step_on computes them."""
    torch.manual_seed(20261205)
    w, z_dim, k, n, tau = 8, 4, 2, 4, 0.7
    weights = dict(kl_z=1.0, kl_a=1.0, sup=10.0, rec=1.0, l1=10.0, adv=1.0, flip=1.0, flip_adv=0.5, critic_attr=1.0,
                   flip_critic=0.5)
    ae, critic, attr = CdvaeAutoencoder(w, z_dim, k), CdvaeCritic(w), torch.nn.Linear(4 * w * 16, k)
    hashed_init(ae)
    hashed_init(critic)
    hashed_init(attr)
    init = {**state("init.autoencoder.", ae), **state("init.critic.", critic), **state("head_init.", attr)}
    x = torch.rand(n, 3, 32, 32) * 2 - 1
    labels = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    prior = torch.tensor([0.5, 0.25])
    eps, concrete = torch.randn(n, z_dim), torch.rand(n, k) * 0.98 + 0.01
    prior_u, prior_z, flip_u = torch.rand(n, k), torch.randn(n, z_dim), torch.rand(n)
    bce = F.binary_cross_entropy_with_logits
    lr = 2e-4
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_attr = torch.optim.Adam(attr.parameters(), lr=lr, betas=(0.5, 0.999))

    mu, logvar, logits = ae.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    codes = torch.sigmoid((logits + torch.log(concrete) - torch.log(1 - concrete)) / tau)
    x_rec = ae.decode(z, codes)
    prior_codes = (prior_u < prior).float()
    x_prior = ae.decode(prior_z, prior_codes)

    real_logits, real_last = critic(x)
    critic_attr = bce(attr(real_last.flatten(1)), labels)
    ones, zeros = torch.ones(n), torch.zeros(n)
    d_loss = 0.5 * ((bce(real_logits, ones) + bce(critic(x_rec.detach())[0], zeros)) +
                    (bce(real_logits, ones) + bce(critic(x_prior.detach())[0], zeros)))
    (d_loss + weights["critic_attr"] * critic_attr).backward()
    grads = {"grad.critic." + name: p.grad.clone() for name, p in critic.named_parameters()}
    grads.update({"grad.criticAttr." + name: p.grad.clone() for name, p in attr.named_parameters()})
    opt_d.step()
    opt_attr.step()

    for p in critic.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        real_features = critic(x, tap=1)[1]
    rec_logits, rec_features = critic(x_rec, tap=1)
    rec = F.mse_loss(rec_features, real_features)
    adv = 0.5 * (bce(rec_logits, ones) + bce(critic(x_prior)[0], ones))
    kl_z = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()
    q = torch.sigmoid(logits)
    kl_a = (q * (F.logsigmoid(logits) - prior.log()) + (1 - q) * (F.logsigmoid(-logits) - (1 - prior).log())).sum(1).mean()
    sup = bce(logits, labels)
    l1 = F.l1_loss(x_rec, x)
    total = (weights["kl_z"] * kl_z + weights["kl_a"] * kl_a + weights["sup"] * sup + weights["rec"] * rec +
             weights["l1"] * l1 + weights["adv"] * adv)
    total.backward()
    # The flip term: one attribute per image inverted; E's body and code head frozen.
    mask = torch.zeros(n, k)
    mask[torch.arange(n), (flip_u * k).long().clamp(max=k - 1)] = 1.0
    flipped = labels + mask - 2 * labels * mask
    frozen = list(ae.encoder.parameters()) + list(ae.codes.parameters()) + list(attr.parameters())
    for p in frozen:
        p.requires_grad_(False)
    x_flip = ae.decode(z.detach(), flipped)
    flip = bce(ae.encode(x_flip)[2], flipped)
    flip_logits, flip_last = critic(x_flip)  # the critic is still frozen
    flip_adv = bce(flip_logits, ones)
    flip_critic = bce(attr(flip_last.flatten(1)), flipped)
    (weights["flip"] * flip + weights["flip_adv"] * flip_adv + weights["flip_critic"] * flip_critic).backward()
    for p in frozen:
        p.requires_grad_(True)
    grads.update({"grad.autoencoder." + name: p.grad.clone() for name, p in ae.named_parameters()
                  if p.grad is not None})  # the encoder body's own real/fake head gets none
    losses = dict(d_loss=d_loss, rec=rec, adv=adv, kl_z=kl_z, kl_a=kl_a, sup=sup, l1=l1, flip=flip,
                  flip_adv=flip_adv, critic_attr=critic_attr, flip_critic=flip_critic)
    save("cdvae_step", dict(**init, x=x, labels=labels, prior=prior, eps=eps, concrete=concrete, prior_u=prior_u,
                            prior_z=prior_z, flip_u=flip_u, **{k_: v.reshape([]) for k_, v in losses.items()},
                            **grads), dict(tau=tau, width=w, z_dim=z_dim, lr=lr, **weights))


def forward_ops():
    """Ops whose forward values had no independent reference: pooling, nearest upsampling,
    leaky_relu, softplus (across its threshold of 20), MSE / L1 losses, embedding and
    index_select with repeated indices (their backward accumulates)."""
    torch.manual_seed(20261206)
    out = {}

    def case(name, fn, *inputs):
        leaves = [t.clone().requires_grad_(True) for t in inputs]
        y = fn(*leaves)
        gout = torch.randn(y.shape)
        (y * gout).sum().backward()
        out[name + "_out"], out[name + "_gout"] = y, gout
        for i, t in enumerate(leaves):
            out[name + "_d" + str(i)] = t.grad

    pool_x = torch.randn(2, 3, 7, 6)
    out["pool_x"] = pool_x
    case("maxpool", lambda x: F.max_pool2d(x, 3, 2, 1), pool_x)
    case("avgpool", lambda x: F.avg_pool2d(x, 3, 2, 1), pool_x)
    case("maxpool2", lambda x: F.max_pool2d(x, 2), pool_x)
    case("upsample", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), pool_x)
    act_x = torch.cat([torch.randn(40) * 3, torch.tensor([-30.0, -19.5, 19.5, 20.5, 30.0])])
    out["act_x"] = act_x
    case("leaky", lambda x: F.leaky_relu(x, 0.2), act_x)
    case("softplus", F.softplus, act_x)
    loss_x, loss_t = torch.randn(4, 5), torch.randn(4, 5)
    out["loss_x"], out["loss_t"] = loss_x, loss_t
    case("mse", F.mse_loss, loss_x, loss_t)
    case("l1", F.l1_loss, loss_x, loss_t)
    emb_w, emb_idx = torch.randn(6, 4), torch.tensor([3, 0, 3, 5, 1, 3])
    out["emb_w"], out["emb_idx"] = emb_w, emb_idx.float()
    case("embedding", lambda w: F.embedding(emb_idx, w), emb_w)
    sel_x, sel_idx = torch.randn(3, 5, 2), torch.tensor([4, 0, 4, 2])
    out["sel_x"], out["sel_idx"] = sel_x, sel_idx.float()
    case("select", lambda x: torch.index_select(x, 1, sel_idx), sel_x)
    save("forward_ops", out)


def main():
    import sys
    if len(sys.argv) > 1:  # only the named cases, e.g. `make_fixtures.py latent`
        for name in sys.argv[1:]:
            globals()[name]()
        return
    torch.manual_seed(20261129)
    conv2d()
    conv_transpose2d()
    batch_norm("batch_norm2d_train", (4, 3, 5, 5), True)
    batch_norm("batch_norm2d_eval", (4, 3, 5, 5), False)
    batch_norm("batch_norm1d_train", (8, 6), True)
    linear()
    bce_with_logits()
    cross_entropy()
    softmax()
    spectral_norm()
    adam()
    dcgan_train_step()
    ur_er()
    latent()
    shift_step()
    cdvae_step()
    r1_dcgan()
    r1_sngan()
    dcgan_r1_step()
    forward_ops()


if __name__ == "__main__":
    main()

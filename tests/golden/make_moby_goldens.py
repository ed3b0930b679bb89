#!/usr/bin/python3
"""Golden values of one MoBY step, from a PyTorch reference written from ../shared/MOBY.md.

Run from the repository root:

    /usr/bin/python3 tests/golden/make_moby_goldens.py

It rewrites tests/src/test/resources/golden/moby/. CI never runs this script; tests/MobyGoldenTest reads
its outputs. The model is tests/src/test/resources/moby_small.moby: MoBY around torchvision's
SwinTransformer(patch 4, embed 16, depths 2-2, heads 1-2, window 2) on 16x16x3 images, stochastic depth 0,
projector and predictor 32 hidden / 16 out, queue 16, temperature 0.2, batch 4. Computed in float64.

Two steps are run on the same online weights (no optimiser step between them, so the test isolates the
objective): step 0 with momentum m0, step 1 with m1. The target starts from weights of its own (not a copy of
the online ones) so that the EMA is visible. What it writes:

  init.safetensors    online and target weights (mobyc paths: encoder.*, encoder_k.*, projector.*, ...),
                      BatchNorm running statistics, queue1 and queue2 [16, 16]
  x1_0, x2_0, x1_1, x2_1 .npy   the views of the two steps, f32[4, 3, 16, 16]
  scalars.json        m0, m1, loss0, loss1
  grads0.safetensors  d loss0 / d every online parameter (grad:<path>)
  after.safetensors   every target tensor, BatchNorm statistic and both queues after step 1; the queues in
                      mobyc's order (oldest key first: the reference ring buffer rolled by its pointer)
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_weight_fixtures as wf  # noqa: E402  (writers and the torchvision -> official name map)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "src", "test", "resources", "golden", "moby")
wf.OUT = OUT

B, DIM, HIDDEN, K, TAU = 4, 16, 32, 16, 0.2


class MoBYMLP(nn.Module):
    """The reference's MoBYMLP with num_layers=2: Identity, Linear, BatchNorm1d, ReLU, then Linear."""

    def __init__(self, in_dim, inner_dim, out_dim):
        super().__init__()
        self.linear_hidden = nn.Sequential(nn.Identity(), nn.Linear(in_dim, inner_dim), nn.BatchNorm1d(inner_dim), nn.ReLU())
        self.linear_out = nn.Linear(inner_dim, out_dim)

    def forward(self, x):
        return self.linear_out(self.linear_hidden(x))


def backbone(seed):
    m = torchvision.models.swin_transformer.SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=[2, 2],
        stochastic_depth_prob=0.0, num_classes=1)
    m.head = nn.Identity()
    wf.randomize(m, seed)
    return m.train()


def mlp(in_dim, seed):
    torch.manual_seed(seed)
    m = MoBYMLP(in_dim, HIDDEN, DIM)
    with torch.no_grad():
        for n, p in m.named_parameters():
            p.copy_((1.0 + 0.2 * torch.randn_like(p)) if n.endswith("2.weight") else 0.3 * torch.randn_like(p))
        bn = m.linear_hidden[2]
        bn.running_mean.copy_(0.1 * torch.randn_like(bn.running_mean))
        bn.running_var.copy_(1.0 + 0.1 * torch.rand_like(bn.running_var))
    return m.train()


def mobyc_names(prefix, module, backbone_names):
    """mobyc path -> tensor (parameters and BatchNorm running statistics, no num_batches_tracked)."""
    sd = {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}
    if backbone_names:
        sd = wf.swin_official_from_torchvision(sd)
    return {prefix + k: v for k, v in sd.items()}


def contrastive(q, k, queue):
    l_pos = torch.einsum("nc,nc->n", q, k).unsqueeze(-1)
    l_neg = torch.einsum("nc,ck->nk", q, queue)
    logits = torch.cat([l_pos, l_neg], dim=1) / TAU
    return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    enc, enc_k = backbone(1), backbone(2)
    proj, proj_k, pred = mlp(16 * 2, 3), mlp(16 * 2, 4), mlp(DIM, 5)
    for m in (enc, enc_k, proj, proj_k, pred):
        m.double()
    torch.manual_seed(6)
    queue1 = F.normalize(torch.randn(DIM, K), dim=0)
    queue2 = F.normalize(torch.randn(DIM, K), dim=0)
    ptr = 0

    def names():
        d = {}
        d.update(mobyc_names("encoder.", enc, True))
        d.update(mobyc_names("encoder_k.", enc_k, True))
        d.update(mobyc_names("projector.", proj, False))
        d.update(mobyc_names("projector_k.", proj_k, False))
        d.update(mobyc_names("predictor.", pred, False))
        return d

    init = names()
    init["queue1"], init["queue2"] = queue1.clone(), queue2.clone()
    wf.write_safetensors("init.safetensors", init)

    torch.manual_seed(7)
    views = [(torch.randn(B, 3, 16, 16), torch.randn(B, 3, 16, 16)) for _ in range(2)]
    ms = [0.99, 0.995]
    losses, grads0 = [], None
    online = list(enc.parameters()) + list(proj.parameters())
    target = list(enc_k.parameters()) + list(proj_k.parameters())
    for t, ((x1, x2), m) in enumerate(zip(views, ms)):
        wf.save_npy("x1_%d.npy" % t, x1)
        wf.save_npy("x2_%d.npy" % t, x2)
        with torch.no_grad():                                   # 2. EMA first
            for p, pk in zip(online, target):
                pk.mul_(m).add_(p.detach(), alpha=1 - m)
        for p in enc.parameters():
            p.grad = None
        for mod in (proj, pred):
            for p in mod.parameters():
                p.grad = None
        q1 = F.normalize(pred(proj(enc(x1))), dim=1)            # 3.
        q2 = F.normalize(pred(proj(enc(x2))), dim=1)
        with torch.no_grad():
            k1 = F.normalize(proj_k(enc_k(x1)), dim=1)
            k2 = F.normalize(proj_k(enc_k(x2)), dim=1)
        loss = contrastive(q1, k2, queue2) + contrastive(q2, k1, queue1)   # 5.
        loss.backward()                                         # 6.
        losses.append(loss.item())
        if t == 0:
            grads0 = {}
            for prefix, mod, bb in (("encoder.", enc, True), ("projector.", proj, False), ("predictor.", pred, False)):
                g = {k: p.grad for k, p in mod.named_parameters()}
                if bb:
                    g = wf.swin_official_from_torchvision(g)
                grads0.update({"grad:" + prefix + k: v for k, v in g.items()})
        queue1[:, ptr:ptr + B] = k1.T
        queue2[:, ptr:ptr + B] = k2.T
        ptr = (ptr + B) % K

    wf.write_safetensors("grads0.safetensors", grads0)
    after = {k: v for k, v in names().items() if k.startswith(("encoder_k.", "projector_k.")) or "running" in k}
    after["queue1"] = torch.roll(queue1, -ptr, dims=1)          # oldest first, as mobyc keeps it
    after["queue2"] = torch.roll(queue2, -ptr, dims=1)
    wf.write_safetensors("after.safetensors", after)
    with open(os.path.join(OUT, "scalars.json"), "w") as f:
        json.dump({"m0": ms[0], "m1": ms[1], "loss0": losses[0], "loss1": losses[1]}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print("losses", losses, "bytes", total)
    assert total < 800_000, total


if __name__ == "__main__":
    sys.exit(main())

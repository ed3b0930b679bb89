#!/usr/bin/python3
"""The MoBY training step of `mobyc bench moby-step` in PyTorch (eager), for the ratio printed by
bench/moby-step-vs-pytorch. Same model (torchvision's SwinTransformer as the backbone), same step: EMA, both branches
on both views, the symmetric loss against two queues, backward, clipping at 5, AdamW, enqueue.

    /usr/bin/python3 bench/moby_step_torch.py --config small32 --batch 64 --steps 5 --warmup 3 --warmup-seconds 20
"""
import argparse
import ctypes
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def mlp(in_dim, inner, out):
    return nn.Sequential(nn.Linear(in_dim, inner), nn.BatchNorm1d(inner), nn.ReLU(inplace=True), nn.Linear(inner, out))


def backbone(config, drop):
    if config == "small32":
        m = torchvision.models.swin_transformer.SwinTransformer(patch_size=[2, 2], embed_dim=48, depths=[2, 2, 2],
                                                                num_heads=[3, 6, 12], window_size=[4, 4], stochastic_depth_prob=drop)
        return m, 192, 32
    m = torchvision.models.swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=96, depths=[2, 2, 6, 2],
                                                            num_heads=[3, 6, 12, 24], window_size=[7, 7], stochastic_depth_prob=drop)
    return m, 768, 224


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small32")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--warmup-seconds", type=float, default=20.0)
    ap.add_argument("--profile", action="store_true")  # mobyc's options, accepted so both take the same command line
    ap.add_argument("--profile-rows", type=int, default=25)
    ap.add_argument("--threads", type=int)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    enc, d, size = backbone(a.config, 0.2)
    enc.head = nn.Identity()
    enc_k, _, _ = backbone(a.config, 0.0)
    enc_k.head = nn.Identity()
    proj, proj_k, pred = mlp(d, 4096, 256), mlp(d, 4096, 256), mlp(256, 4096, 256)
    enc_k.load_state_dict(enc.state_dict())
    proj_k.load_state_dict(proj.state_dict())
    for p in list(enc_k.parameters()) + list(proj_k.parameters()):
        p.requires_grad = False
    online = list(enc.parameters()) + list(proj.parameters()) + list(pred.parameters())
    opt = torch.optim.AdamW(online, lr=1e-4, weight_decay=0.05)
    q1 = F.normalize(torch.randn(256, 4096), dim=0)
    q2 = F.normalize(torch.randn(256, 4096), dim=0)
    x1, x2 = torch.randn(a.batch, 3, size, size), torch.randn(a.batch, 3, size, size)
    ptr = 0
    pairs = list(zip(list(enc.parameters()) + list(proj.parameters()), list(enc_k.parameters()) + list(proj_k.parameters())))

    def ce(q, k, queue):
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue], 1) / 0.2
        return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))

    times = []
    warmup_end = time.perf_counter() + a.warmup_seconds
    s = 0
    while True:
        warm = s < a.warmup or time.perf_counter() < warmup_end
        if not warm and len(times) >= a.steps:
            break
        t = time.perf_counter()
        with torch.no_grad():
            for p, pk in pairs:
                pk.mul_(0.99).add_(p.detach(), alpha=0.01)
        qa = F.normalize(pred(proj(enc(x1))), dim=1)
        qb = F.normalize(pred(proj(enc(x2))), dim=1)
        with torch.no_grad():
            ka = F.normalize(proj_k(enc_k(x1)), dim=1)
            kb = F.normalize(proj_k(enc_k(x2)), dim=1)
        loss = ce(qa, kb, q2) + ce(qb, ka, q1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(online, 5.0)
        opt.step()
        q1[:, ptr:ptr + a.batch] = ka.T
        q2[:, ptr:ptr + a.batch] = kb.T
        ptr = (ptr + a.batch) % 4096
        if not warm:
            times.append(time.perf_counter() - t)
        s += 1
    times.sort()
    median = times[len(times) // 2]
    print("pytorch %s moby-step, batch %d, %d threads (%s): step time median %.3f s over %d steps after %d warm-up steps: %.2f img/s"
          % (a.config, a.batch, torch.get_num_threads(), blas_threads(), median, len(times), s - len(times), a.batch / median))


def blas_threads():
    """What runs torch's sgemm here: torch.get_num_threads() counts only its own (OpenMP) threads, but Debian's torch
    calls OpenBLAS (pthreads), which keeps its own pool: on the 2-vCPU VM this was written on, torch said 1 thread
    while OpenBLAS used 2 (OPENBLAS_NUM_THREADS=1 brought the small32 step from 41-62 img/s down to 25-38)."""
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_config.restype = ctypes.c_char_p
            core = lib.openblas_get_corename
            core.restype = ctypes.c_char_p
            return "sgemm: OpenBLAS %s, %d threads, %s kernels" % (
                lib.openblas_get_config().split()[1].decode(), lib.openblas_get_num_threads(), core().decode())
        except (OSError, AttributeError, IndexError):
            continue
    return "sgemm: not OpenBLAS, or not found"


if __name__ == "__main__":
    main()

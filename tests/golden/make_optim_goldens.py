#!/usr/bin/python3
"""Generate the PyTorch golden values for mobyc's optimiser tests (package mobyc.runtime.optim).

Run from the repository root (needs PyTorch 1.13 and numpy):

    /usr/bin/python3 tests/golden/make_optim_goldens.py

It deletes and rewrites tests/src/test/resources/golden/optim/ only. CI never runs this
script; it only reads the files it writes. Everything is seeded (torch.manual_seed with the
CRC-32 of a fixed name), one thread, so reruns give byte-identical files.

What it writes (every array is float32 '<f4', C order; N = 10 steps):

- params.json: {"names": [...], "shapes": [[...], ...], "decay": [true|false, ...], "steps": N,
  "cases": {case: {"optimizer", "lrs": [N doubles], hyper-parameters...}},
  "clip": {"max_norm", "total_norm"}}
- initial/<name>.npy   the parameters before the first step
- grads/<name>.npy     [N, *shape]: the gradient of step k at index k
- <case>/<name>.npy    [N, *shape]: the parameters after step k at index k, for the cases
  adamw, sgd, sgd_nesterov, lars
- clip/before/<name>.npy, clip/after/<name>.npy: one step's gradients (scaled so that clipping
  triggers) before and after torch.nn.utils.clip_grad_norm_(max_norm=5.0)
- schedule.json: learning rates of a transcription of timm's CosineLRScheduler (timm is not
  installed here), per step, for a few configurations.

The optimisers are torch's own single-tensor implementations (torch.optim.AdamW and SGD with
foreach=False, the 1.13 default) with two parameter groups, "decay" and "no decay", as the
MoBY reference builds them. LARS is MoCo v3's (facebookresearch/moco-v3, optimizer.py), copied
below, with its "p.ndim > 1" test standing for the decay group (the same parameters here).
"""

import json
import math
import os
import shutil
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "src", "test", "resources", "golden", "optim")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

STEPS = 10
PARAMS = [("fc.weight", (5, 7), True), ("fc.bias", (7,), False), ("blocks.0.mlp.weight", (3, 4, 2), True)]


def seed_for(name):
    torch.manual_seed(zlib.crc32(name.encode("utf-8")))


def save(rel, t):
    path = os.path.join(OUT, rel + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = np.array(t.detach().numpy().astype("<f4"), order="C", copy=True)
    np.save(path, a, allow_pickle=False)
    assert np.array_equal(np.load(path), a)


class Lars(torch.optim.Optimizer):
    """MoCo v3's LARS (facebookresearch/moco-v3, moco/optimizer.py), verbatim apart from layout:
    no rate scaling or weight decay for parameters <= 1-D."""

    def __init__(self, params, lr=0, weight_decay=0, momentum=0.9, trust_coefficient=0.001):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, trust_coefficient=trust_coefficient)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g['params']:
                dp = p.grad
                if dp is None:
                    continue
                if p.ndim > 1:  # if not normalization gamma/beta or bias
                    dp = dp.add(p, alpha=g['weight_decay'])
                    param_norm = torch.norm(p)
                    update_norm = torch.norm(dp)
                    one = torch.ones_like(param_norm)
                    q = torch.where(param_norm > 0.,
                                    torch.where(update_norm > 0,
                                                (g['trust_coefficient'] * param_norm / update_norm), one),
                                    one)
                    dp = dp.mul(q)
                param_state = self.state[p]
                if 'mu' not in param_state:
                    param_state['mu'] = torch.zeros_like(p)
                mu = param_state['mu']
                mu.mul_(g['momentum']).add_(dp)
                p.add_(mu, alpha=-g['lr'])


def make_optimizer(case, params):
    decay = [p for p, (_, _, d) in zip(params, PARAMS) if d]
    no_decay = [p for p, (_, _, d) in zip(params, PARAMS) if not d]
    if case["optimizer"] == "adamw":
        return torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}],
                                 lr=case["lrs"][0], betas=tuple(case["betas"]), eps=case["eps"],
                                 weight_decay=case["weight_decay"], foreach=False)
    if case["optimizer"] == "sgd":
        return torch.optim.SGD([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}],
                               lr=case["lrs"][0], momentum=case["momentum"], dampening=0.0,
                               nesterov=case["nesterov"], weight_decay=case["weight_decay"], foreach=False)
    if case["optimizer"] == "lars":
        return Lars(params, lr=case["lrs"][0], weight_decay=case["weight_decay"], momentum=case["momentum"],
                    trust_coefficient=case["trust_coefficient"])
    raise ValueError(case)


def run_case(name, case, initial, grads):
    params = [t.clone().requires_grad_(True) for t in initial]
    opt = make_optimizer(case, params)
    trace = [[] for _ in params]
    for k in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = case["lrs"][k]
        for p, g in zip(params, grads):
            p.grad = g[k].clone()
        opt.step()
        for i, p in enumerate(params):
            trace[i].append(p.detach().clone())
    for (pname, _, _), steps in zip(PARAMS, trace):
        save(f"{name}/{pname}", torch.stack(steps))


def timm_cosine_lr(t, t_initial, lr_max, lr_min, warmup_t, warmup_lr_init):
    """timm.scheduler.CosineLRScheduler._get_lr (timm 0.4.12, as Swin/MoBY use it: t_mul 1,
    decay_rate 1, cycle_limit 1, warmup_prefix False, t_in_epochs False), transcribed."""
    if t < warmup_t:
        warmup_step = (lr_max - warmup_lr_init) / warmup_t
        return warmup_lr_init + t * warmup_step
    i = t // t_initial
    t_i = t_initial
    t_curr = t - (t_initial * i)
    gamma = 1.0 ** i
    lr_min_g = lr_min * gamma
    lr_max_g = lr_max * gamma
    if i < 1:
        return lr_min_g + 0.5 * (lr_max_g - lr_min_g) * (1 + math.cos(math.pi * t_curr / t_i))
    return lr_min


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    seed_for("optim/initial")
    initial = [torch.randn(shape) for _, shape, _ in PARAMS]
    seed_for("optim/grads")
    grads = [torch.randn((STEPS,) + shape) * 0.5 for _, shape, _ in PARAMS]
    for (name, _, _), p, g in zip(PARAMS, initial, grads):
        save(f"initial/{name}", p)
        save(f"grads/{name}", g)

    def lrs(base):  # a varying learning rate, so that the per-step lr argument is exercised
        return [base * (1.0 - 0.05 * k) for k in range(STEPS)]

    cases = {
        "adamw": {"optimizer": "adamw", "lrs": lrs(1e-3), "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.05},
        "sgd": {"optimizer": "sgd", "lrs": lrs(0.1), "momentum": 0.9, "nesterov": False, "weight_decay": 1e-4},
        "sgd_nesterov": {"optimizer": "sgd", "lrs": lrs(0.1), "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4},
        "lars": {"optimizer": "lars", "lrs": lrs(0.5), "momentum": 0.9, "weight_decay": 1e-4, "trust_coefficient": 0.001},
    }
    for name, case in cases.items():
        run_case(name, case, initial, grads)

    # clip_grad_norm_ on step 3's gradients, scaled by 10 so that the total norm exceeds 5.0
    clip_grads = [g[3].clone() * 10.0 for g in grads]
    params = [t.clone().requires_grad_(True) for t in initial]
    for p, g in zip(params, clip_grads):
        p.grad = g.clone()
    for (name, _, _), g in zip(PARAMS, clip_grads):
        save(f"clip/before/{name}", g)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm=5.0)
    assert total.item() > 5.0
    for (name, _, _), p in zip(PARAMS, params):
        save(f"clip/after/{name}", p.grad)

    meta = {
        "names": [n for n, _, _ in PARAMS],
        "shapes": [list(s) for _, s, _ in PARAMS],
        "decay": [d for _, _, d in PARAMS],
        "steps": STEPS,
        "cases": cases,
        "clip": {"max_norm": 5.0, "total_norm": total.item()},
    }
    with open(os.path.join(OUT, "params.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")

    # Schedules: MoBY pre-training rules at small sizes (lr scaled by B / 512), and a linear-probe one.
    configs = [
        {"name": "moby_b128", "base_lr": 1e-3, "warmup_lr": 5e-7, "min_lr": 5e-6, "batch": 128,
         "warmup_steps": 5, "total_steps": 20},
        {"name": "moby_b1024", "base_lr": 1e-3, "warmup_lr": 5e-7, "min_lr": 5e-6, "batch": 1024,
         "warmup_steps": 7, "total_steps": 31},
        {"name": "linear_no_warmup", "base_lr": 1.0, "warmup_lr": 0.0, "min_lr": 0.0, "batch": 256,
         "warmup_steps": 0, "total_steps": 12},
    ]
    for c in configs:
        c["lr_max"] = c["base_lr"] * c["batch"] / 512.0
        c["scaled_warmup_lr"] = c["warmup_lr"] * c["batch"] / 512.0
        c["scaled_min_lr"] = c["min_lr"] * c["batch"] / 512.0
        c["lrs"] = [timm_cosine_lr(t, c["total_steps"], c["lr_max"], c["scaled_min_lr"], c["warmup_steps"],
                                   c["scaled_warmup_lr"]) for t in range(c["total_steps"] + 5)]
    with open(os.path.join(OUT, "schedule.json"), "w") as f:
        json.dump(configs, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

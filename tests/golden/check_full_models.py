#!/usr/bin/python3
"""Full-size parity: torchvision's swin_t and a ViT-S/16 (DeiT-S shapes) with random weights, saved as .pth (torchvision
names) and as safetensors in official/timm names (through `mobyc convert`), run through `mobyc forward` on a batch of
224x224 images; logits and pooled features must be within 1e-4 (max relative error) of PyTorch's.

Needs Debian's python3-torch and python3-torchvision; run from the repository root:
    /usr/bin/python3 tests/golden/check_full_models.py [--backend interp|cpu]
CI does not run it (small configurations of the same checks run in CI from committed fixtures).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torchvision.models import swin_t
from torchvision.models.vision_transformer import VisionTransformer

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def mobyc(*args):
    r = subprocess.run([os.path.join(ROOT, "mobyc"), *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("mobyc %s failed:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
    return r.stdout


def check(name, model, features, moby_file, module, convert_to, tmp, backend):
    torch.manual_seed(0)
    with torch.no_grad():  # torchvision's own initialisation, with 1-D parameters and zero-initialised heads perturbed
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
            elif bool((p == 0).all()):
                p.copy_(0.02 * torch.randn_like(p))
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        logits = model(x).numpy()
        feats = features(model, x).numpy()
    pth = os.path.join(tmp, name + ".pth")
    torch.save(model.state_dict(), pth)
    np.save(os.path.join(tmp, "x.npy"), x.numpy())
    st = os.path.join(tmp, name + "." + convert_to + ".safetensors")
    mobyc("convert", pth, st, "--to", convert_to)
    worst = 0.0
    for weights in (pth, st):
        for what, ref, extra in (("logits", logits, []), ("features", feats, ["--features"])):
            out = os.path.join(tmp, "y.npy")
            mobyc("forward", moby_file, "--module", module, "--input", os.path.join(tmp, "x.npy"), "--weights", weights,
                  "--output", out, "--backend", backend, *extra)
            e = rel(np.load(out), ref)
            worst = max(worst, e)
            print("%-10s %-28s %-8s max relative error %.2e" % (name, os.path.basename(weights), what, e))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="interp")
    args = ap.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as tmp:
        w1 = check("swin_t", swin_t(), lambda m, t: m.flatten(m.avgpool(m.permute(m.norm(m.features(t))))),
                   "models/swin.moby", "SwinTiny", "official", tmp, args.backend)
        vit = VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536)

        def vit_features(m, t):
            y = m._process_input(t)
            y = torch.cat([m.class_token.expand(y.shape[0], -1, -1), y], dim=1)
            return m.encoder(y)[:, 0]
        w2 = check("vit_s16", vit, vit_features, "models/deit.moby", "DeitSmall", "timm", tmp, args.backend)
    worst = max(w1, w2)
    print("worst max relative error %.2e (limit 1e-4): %s" % (worst, "ok" if worst <= 1e-4 else "FAILED"))
    return 0 if worst <= 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())

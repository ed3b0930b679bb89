#!/usr/bin/python3
"""Generate torchvision golden values for mobyc's augmentation tests (package mobyc.data.aug).

Run from the repository root (needs PyTorch 1.13, torchvision 0.14 and numpy):

    /usr/bin/python3 tests/golden/make_aug_goldens.py

It deletes and rewrites moby/src/test/resources/aug/ only. CI never runs this script; the
tests only read the files it writes. Inputs come from a numpy generator with a fixed seed, one
torch thread, so reruns give byte-identical files.

What it writes (every array float32 '<f4', C order, [C, H, W]):

- input3.npy  [3, 16, 20] RGB in [0, 1]: bytes / 255 as decoded images are; rows 12-15 use only
  the bytes {0, 51, 153, 255}, so that many pixels are grey or have two equal channels (the
  tie branches of the RGB <-> HSV conversion); a few pixels are set to exact greys.
- input1.npy  [1, 16, 20] grayscale bytes / 255.
- manifest.json: a list of cases {"name", "input": "input3"|"input1", "op", "params"}; each
  case's torchvision output is <name>.npy. The ops, all torchvision.transforms.functional on
  tensors with the given parameters:
    resized_crop   F.resized_crop(x, top, left, height, width, [out_h, out_w], antialias=False)
    resize         F.resize(x, [out_h, out_w], antialias=aa)
    resize_shorter F.resize(x, size, antialias=aa)  (one int: the shorter side)
    center_crop    F.center_crop(x, [height, width])
    eval           F.center_crop(F.resize(x, resize, antialias=True), [crop, crop])
    hflip          F.hflip(x)
    brightness / contrast / saturation / hue   F.adjust_*(x, factor)
    jitter         ColorJitter.forward's loop for a fixed order (fn_idx) and factors
    grayscale      F.rgb_to_grayscale(x, num_output_channels=C)
    blur           F.gaussian_blur(x, [k, k], [sigma, sigma])
    kernel         torchvision's _get_gaussian_kernel1d(k, sigma) (a 1-D array)
    solarize       F.solarize(x, threshold)
    normalize      F.normalize(x, mean, std)
    view           a whole MoBY view on fixed parameters: resized_crop, hflip (if flip), jitter,
                   rgb_to_grayscale (if gray), gaussian_blur, solarize (if solarize), normalize
"""

import json
import os
import shutil

import numpy as np
import torch
import torchvision.transforms.functional as F
from torchvision.transforms import functional_tensor as F_t

OUT = os.path.join("moby", "src", "test", "resources", "aug")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def inputs():
    rng = np.random.default_rng(20240606)
    x3 = rng.integers(0, 256, size=(3, 16, 20))
    x3[:, 12:, :] = rng.choice([0, 51, 153, 255], size=(3, 4, 20))
    x3[:, 0, 0] = 0
    x3[:, 0, 1] = 255
    x3[:, 0, 2] = 128
    x3[:, 1, 0] = [200, 200, 10]   # r == g max
    x3[:, 1, 1] = [10, 200, 200]   # g == b max
    x3[:, 1, 2] = [200, 10, 200]   # r == b max
    x1 = rng.integers(0, 256, size=(1, 16, 20))
    return {
        "input3": torch.from_numpy((x3.astype(np.float32) / np.float32(255))),
        "input1": torch.from_numpy((x1.astype(np.float32) / np.float32(255))),
    }


def jitter(x, order, b, c, s, h):
    for fn in order:
        if fn == 0 and b is not None:
            x = F.adjust_brightness(x, b)
        elif fn == 1 and c is not None:
            x = F.adjust_contrast(x, c)
        elif fn == 2 and s is not None:
            x = F.adjust_saturation(x, s)
        elif fn == 3 and h is not None:
            x = F.adjust_hue(x, h)
    return x


def run(op, x, p):
    if op == "resized_crop":
        return F.resized_crop(x, p["top"], p["left"], p["height"], p["width"], [p["out_h"], p["out_w"]], antialias=False)
    if op == "resize":
        return F.resize(x, [p["out_h"], p["out_w"]], antialias=p["antialias"])
    if op == "resize_shorter":
        return F.resize(x, p["size"], antialias=p["antialias"])
    if op == "center_crop":
        return F.center_crop(x, [p["height"], p["width"]])
    if op == "eval":
        return F.center_crop(F.resize(x, p["resize"], antialias=True), [p["crop"], p["crop"]])
    if op == "hflip":
        return F.hflip(x)
    if op == "brightness":
        return F.adjust_brightness(x, p["factor"])
    if op == "contrast":
        return F.adjust_contrast(x, p["factor"])
    if op == "saturation":
        return F.adjust_saturation(x, p["factor"])
    if op == "hue":
        return F.adjust_hue(x, p["factor"])
    if op == "jitter":
        return jitter(x, p["order"], p["brightness"], p["contrast"], p["saturation"], p["hue"])
    if op == "grayscale":
        return F.rgb_to_grayscale(x, num_output_channels=x.shape[0])
    if op == "blur":
        return F.gaussian_blur(x, [p["k"], p["k"]], [p["sigma"], p["sigma"]])
    if op == "kernel":
        return F_t._get_gaussian_kernel1d(p["k"], p["sigma"])
    if op == "solarize":
        return F.solarize(x, p["threshold"])
    if op == "normalize":
        return F.normalize(x, p["mean"], p["std"])
    if op == "view":
        c = p["crop"]
        x = F.resized_crop(x, c[0], c[1], c[2], c[3], [p["size"], p["size"]], antialias=False)
        if p["flip"]:
            x = F.hflip(x)
        j = p["jitter"]
        if j is not None:
            x = jitter(x, j["order"], j["brightness"], j["contrast"], j["saturation"], j["hue"])
        if p["gray"]:
            x = F.rgb_to_grayscale(x, num_output_channels=x.shape[0])
        if p["blur"] is not None:
            x = F.gaussian_blur(x, [p["blur"]["k"]] * 2, [p["blur"]["sigma"]] * 2)
        if p["solarize"]:
            x = F.solarize(x, 0.5)
        return F.normalize(x, p["mean"], p["std"])
    raise ValueError(op)


def jit(order, b, c, s, h):
    return {"order": order, "brightness": b, "contrast": c, "saturation": s, "hue": h}


CASES = [
    ("crop_resize_down", "input3", "resized_crop", dict(top=2, left=3, height=13, width=15, out_h=8, out_w=9)),
    ("crop_resize_up", "input3", "resized_crop", dict(top=5, left=1, height=7, width=9, out_h=16, out_w=21)),
    ("crop_resize_mixed", "input3", "resized_crop", dict(top=0, left=0, height=16, width=20, out_h=24, out_w=11)),
    ("crop_resize_gray", "input1", "resized_crop", dict(top=3, left=4, height=10, width=12, out_h=14, out_w=14)),
    ("resize_aa_down", "input3", "resize", dict(out_h=7, out_w=9, antialias=True)),
    ("resize_aa_up", "input3", "resize", dict(out_h=21, out_w=29, antialias=True)),
    ("resize_aa_mixed", "input3", "resize", dict(out_h=10, out_w=27, antialias=True)),
    ("resize_aa_width_only", "input1", "resize", dict(out_h=16, out_w=13, antialias=True)),
    ("resize_plain_down", "input3", "resize", dict(out_h=5, out_w=6, antialias=False)),
    ("resize_shorter_down", "input3", "resize_shorter", dict(size=7, antialias=True)),
    ("resize_shorter_up", "input3", "resize_shorter", dict(size=19, antialias=True)),
    ("center_crop_odd", "input3", "center_crop", dict(height=13, width=15)),
    ("center_crop_pad", "input3", "center_crop", dict(height=18, width=23)),
    ("eval_rgb", "input3", "eval", dict(resize=18, crop=15)),
    ("hflip", "input3", "hflip", {}),
    ("hflip_gray", "input1", "hflip", {}),
    ("brightness_down", "input3", "brightness", dict(factor=0.6)),
    ("brightness_up", "input3", "brightness", dict(factor=1.37)),
    ("brightness_gray", "input1", "brightness", dict(factor=1.25)),
    ("contrast_down", "input3", "contrast", dict(factor=0.65)),
    ("contrast_up", "input3", "contrast", dict(factor=1.4)),
    ("contrast_gray", "input1", "contrast", dict(factor=0.7)),
    ("saturation_down", "input3", "saturation", dict(factor=0.8)),
    ("saturation_up", "input3", "saturation", dict(factor=1.2)),
    ("saturation_zero", "input3", "saturation", dict(factor=0.0)),
    ("hue_minus", "input3", "hue", dict(factor=-0.1)),
    ("hue_plus", "input3", "hue", dict(factor=0.07)),
    ("hue_third", "input3", "hue", dict(factor=0.33)),
    ("hue_half", "input3", "hue", dict(factor=0.5)),
    ("hue_minus_half", "input3", "hue", dict(factor=-0.5)),
    ("hue_zero", "input3", "hue", dict(factor=0.0)),
    ("jitter_a", "input3", "jitter", jit([3, 1, 0, 2], 1.2, 0.7, 1.15, -0.06)),
    ("jitter_b", "input3", "jitter", jit([2, 3, 1, 0], 0.75, 1.3, 0.85, 0.09)),
    ("jitter_gray", "input1", "jitter", jit([1, 0, 3, 2], 1.3, 0.62, None, None)),
    ("grayscale", "input3", "grayscale", {}),
    ("grayscale_gray", "input1", "grayscale", {}),
    ("blur_k5", "input3", "blur", dict(k=5, sigma=0.7)),
    ("blur_k23", "input3", "blur", dict(k=23, sigma=1.9)),
    ("blur_k3_gray", "input1", "blur", dict(k=3, sigma=0.3)),
    ("kernel_k23", "input3", "kernel", dict(k=23, sigma=1.0)),
    ("kernel_k7", "input3", "kernel", dict(k=7, sigma=0.1)),
    ("solarize", "input3", "solarize", dict(threshold=0.5)),
    ("solarize_gray", "input1", "solarize", dict(threshold=0.5)),
    ("normalize", "input3", "normalize", dict(mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ("normalize_gray", "input1", "normalize", dict(mean=[0.2860], std=[0.3530])),
    ("view_rgb_1", "input3", "view", dict(crop=[1, 2, 14, 15], size=12, flip=True, jitter=jit([1, 3, 2, 0], 1.3, 0.8, 0.9, 0.05),
                                          gray=False, blur=dict(k=5, sigma=1.1), solarize=False, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ("view_rgb_2", "input3", "view", dict(crop=[3, 0, 11, 17], size=12, flip=False, jitter=jit([0, 2, 3, 1], 0.9, 1.25, 1.1, -0.08),
                                          gray=True, blur=None, solarize=True, mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    ("view_gray", "input1", "view", dict(crop=[2, 2, 12, 15], size=10, flip=True, jitter=jit([3, 0, 2, 1], 1.1, 0.75, None, None),
                                         gray=False, blur=None, solarize=True, mean=[0.2860], std=[0.3530])),
]


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    xs = inputs()
    for name, x in xs.items():
        np.save(os.path.join(OUT, name + ".npy"), x.numpy().astype("<f4"))
    manifest = []
    for name, inp, op, params in CASES:
        y = run(op, xs[inp].clone(), params)
        assert y.dtype == torch.float32, (name, y.dtype)
        np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(y.numpy().astype("<f4")))
        manifest.append({"name": name, "input": inp, "op": op, "params": params})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(manifest)} cases to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()

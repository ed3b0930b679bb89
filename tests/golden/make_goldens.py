#!/usr/bin/python3
"""Generate the PyTorch golden values used by mobyc's parity tests.

Run from the repository root:

    /usr/bin/python3 tests/golden/make_goldens.py

It deletes and rewrites tests/src/test/resources/golden/ completely. CI never runs
this script; it only reads the files it writes. Everything is seeded (one seed per
case, derived from the case name), so reruns give byte-identical files.

Inputs and weights are float32 (or int32). References are computed by PyTorch in
float64 from those exact float32 values and then rounded to float32, so the goldens
are as close to the true result as float32 allows.
"""

import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "src", "test", "resources", "golden")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------- file writers

def seed_for(name):
    torch.manual_seed(zlib.crc32(name.encode("utf-8")))


def to_numpy(t):
    """float tensors -> '<f4', integer tensors -> '<i4', C order."""
    t = t.detach().cpu()
    if t.is_floating_point():
        a = t.to(torch.float32).numpy().astype("<f4")
    else:
        a = t.to(torch.int32).numpy().astype("<i4")
    return np.array(a, order="C", copy=True)  # (np.ascontiguousarray would turn a 0-d array into shape [1])


def save_npy(path, t):
    a = to_numpy(t) if isinstance(t, torch.Tensor) else np.array(t, order="C", copy=True)
    assert a.dtype.str in ("<f4", "<i4"), a.dtype
    np.save(path, a, allow_pickle=False)


def write_safetensors(path, tensors):
    """Minimal safetensors writer: u64 LE header length, JSON header (space padded to a
    multiple of 8), then the raw little-endian data, tensors contiguous in sorted key order."""
    keys = sorted(tensors)
    header, blobs, offset = {}, [], 0
    for k in keys:
        a = to_numpy(tensors[k])
        dtype = {"<f4": "F32", "<i4": "I32"}[a.dtype.str]
        raw = a.tobytes(order="C")
        header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    # round-trip check
    back = read_safetensors(path)
    assert list(back) == keys
    for k in keys:
        assert np.array_equal(back[k], to_numpy(tensors[k])), k


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    out, end = {}, 0
    for k, v in header.items():
        b, e = v["data_offsets"]
        assert b == end, "tensors are not contiguous"
        end = e
        dt = {"F32": "<f4", "I32": "<i4"}[v["dtype"]]
        out[k] = np.frombuffer(body[b:e], dtype=dt).reshape(v["shape"])
    assert end == len(body)
    return out


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# ----------------------------------------------------------------------------- A. op cases

def randn(*shape):
    return torch.randn(tuple(shape), dtype=torch.float32)


def make_input(kind, shape):
    if kind == "randn":
        return randn(*shape)
    if kind == "pos":          # > 0.5: log, sqrt, pow bases, divisors
        return randn(*shape).abs() + 0.5
    if kind == "nonzero":      # |x| >= 0.5 with both signs
        r = randn(*shape)
        return torch.where(r >= 0, r + 0.5, r - 0.5)
    if kind == "wide":         # f32 spread over several integers (for int())
        return randn(*shape) * 4.0
    if kind == "int":          # i32 with negatives
        return torch.randint(-20, 21, tuple(shape), dtype=torch.int32)
    if kind.startswith("index"):   # i32 in [0, n)
        n = int(kind[len("index"):])
        return torch.randint(0, n, tuple(shape), dtype=torch.int32)
    raise ValueError(kind)


def f(kind, *shape):
    return ("f32", kind, list(shape))


def i(kind, *shape):
    return ("i32", kind, list(shape))


def bn_ref(x, mean, var, w, b, eps=1e-5):
    return F.batch_norm(x, mean, var, w, b, training=False, eps=eps)


# (name, expr, [input specs], reference(*inputs) on float64 / int32 torch tensors)
OPS = [
    # ---- elementwise
    ("add_broadcast", "x0 + x1", [f("randn", 3, 4), f("randn", 4)], lambda a, b: a + b),
    ("sub_broadcast", "x0 - x1", [f("randn", 2, 1, 5), f("randn", 3, 1)], lambda a, b: a - b),
    ("mul_broadcast", "x0 * x1", [f("randn", 2, 3, 5), f("randn", 1, 5)], lambda a, b: a * b),
    ("div", "x0 / x1", [f("randn", 3, 7), f("nonzero", 3, 7)], lambda a, b: a / b),
    ("neg", "-x0", [f("randn", 5, 3)], lambda a: -a),
    ("exp", "exp(x0)", [f("randn", 3, 5)], torch.exp),
    ("log", "log(x0)", [f("pos", 3, 5)], torch.log),
    ("sqrt", "sqrt(x0)", [f("pos", 13)], torch.sqrt),
    ("rsqrt", "rsqrt(x0)", [f("pos", 13)], torch.rsqrt),
    ("tanh", "tanh(x0)", [f("randn", 7, 3)], torch.tanh),
    ("erf", "erf(x0)", [f("randn", 7, 3)], torch.erf),
    ("relu", "relu(x0)", [f("randn", 5, 7)], F.relu),
    ("gelu", "gelu(x0)", [f("randn", 5, 7)], lambda a: F.gelu(a, approximate="none")),
    ("abs", "abs(x0)", [f("randn", 13)], torch.abs),
    ("sigmoid", "sigmoid(x0)", [f("randn", 3, 7)], torch.sigmoid),
    ("pow_scalar", "x0 ** 2.5", [f("pos", 3, 5)], lambda a: a ** 2.5),
    ("pow_tensor", "pow(x0, x1)", [f("pos", 3, 5), f("randn", 3, 5)], torch.pow),
    ("maximum", "maximum(x0, x1)", [f("randn", 3, 5), f("randn", 5)], torch.maximum),
    ("minimum", "minimum(x0, x1)", [f("randn", 3, 5), f("randn", 3, 1)], torch.minimum),
    ("greater", "x0 > x1", [f("randn", 3, 5), f("randn", 3, 5)], lambda a, b: (a > b).to(a.dtype)),
    ("where_select", "where(x0 > 0.0, x0, x1 * 2.0)", [f("randn", 3, 7), f("randn", 3, 7)],
     lambda a, b: torch.where(a > 0, a, b * 2)),
    ("scale_shift", "x0 * 2.0 + 1.0", [f("randn", 5, 3)], lambda a: a * 2.0 + 1.0),
    ("reciprocal", "1.0 / x0", [f("pos", 13)], lambda a: 1.0 / a),

    # ---- integer
    ("int_mul_add", "x0 * 3 + x1", [i("int", 3, 5), i("int", 5)], lambda a, b: a * 3 + b),
    ("int_floordiv", "x0 / 3", [i("int", 3, 7)], lambda a: torch.div(a, 3, rounding_mode="floor")),
    ("int_mod", "x0 % 3", [i("int", 3, 7)], lambda a: torch.remainder(a, 3)),
    ("int_to_float", "float(x0)", [i("int", 3, 5)], lambda a: a.to(torch.float64)),
    ("float_to_int", "int(x0)", [f("wide", 3, 7)], lambda a: a.to(torch.int32)),
    ("arange_int", "arange(7) * 2 + x0", [i("int", 7)], lambda a: torch.arange(7, dtype=torch.int32) * 2 + a),

    # ---- contractions
    ("matmul_2d", "x0 @ x1", [f("randn", 5, 7), f("randn", 7, 3)], torch.matmul),
    ("matmul_batch_broadcast", "x0 @ x1", [f("randn", 2, 1, 5, 7), f("randn", 3, 7, 4)], torch.matmul),
    ("linear_bias", "linear(x0, x1, x2)", [f("randn", 4, 6), f("randn", 5, 6), f("randn", 5)], F.linear),
    ("linear_nobias_3d", "linear(x0, x1)", [f("randn", 2, 3, 6), f("randn", 5, 6)], F.linear),
    ("conv2d_stride2", "conv2d(x0, x1, stride=2)", [f("randn", 2, 3, 8, 8), f("randn", 4, 3, 2, 2)],
     lambda x, w: F.conv2d(x, w, stride=2)),
    ("conv2d_pad1", "conv2d(x0, x1, padding=1)", [f("randn", 1, 2, 5, 5), f("randn", 3, 2, 3, 3)],
     lambda x, w: F.conv2d(x, w, padding=1)),

    # ---- normalisations
    ("softmax_last", "softmax(x0, axis=-1)", [f("randn", 3, 7)], lambda a: F.softmax(a, dim=-1)),
    ("softmax_axis0", "softmax(x0, axis=0)", [f("randn", 5, 3)], lambda a: F.softmax(a, dim=0)),
    ("log_softmax_last", "log_softmax(x0, axis=-1)", [f("randn", 3, 7)], lambda a: F.log_softmax(a, dim=-1)),
    ("layer_norm_eps5", "layer_norm(x0, x1, x2, eps=1e-5)", [f("randn", 2, 5, 8), f("randn", 8), f("randn", 8)],
     lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-5)),
    ("layer_norm_eps6", "layer_norm(x0, x1, x2, eps=1e-6)", [f("randn", 3, 13), f("randn", 13), f("randn", 13)],
     lambda x, w, b: F.layer_norm(x, (x.shape[-1],), w, b, eps=1e-6)),
    ("batch_norm_2d", "batch_norm(x0, x1, x2, x3, x4, eps=1e-5)",
     [f("randn", 6, 4), f("randn", 4), f("pos", 4), f("randn", 4), f("randn", 4)],
     lambda x, m, v, w, b: bn_ref(x, m, v, w, b, 1e-5)),
    ("batch_norm_4d", "batch_norm(x0, x1, x2, x3, x4, eps=1e-5)",
     [f("randn", 2, 4, 3, 3), f("randn", 4), f("pos", 4), f("randn", 4), f("randn", 4)],
     lambda x, m, v, w, b: bn_ref(x, m, v, w, b, 1e-5)),
    ("batch_norm_channel_last", "batch_norm(x0, x1, x2, x3, x4, axis=-1)",
     [f("randn", 2, 3, 4), f("randn", 4), f("pos", 4), f("randn", 4), f("randn", 4)],
     lambda x, m, v, w, b: bn_ref(x.transpose(1, 2), m, v, w, b, 1e-5).transpose(1, 2)),
    ("l2_normalize_last", "l2_normalize(x0, axis=-1)", [f("randn", 3, 5)], lambda a: F.normalize(a, dim=-1)),
    ("l2_normalize_axis0", "l2_normalize(x0, axis=0)", [f("randn", 3, 5)], lambda a: F.normalize(a, dim=0)),
    ("cross_entropy_mean", "cross_entropy(x0, x1)", [f("randn", 6, 5), i("index5", 6)],
     lambda x, y: F.cross_entropy(x, y.long())),

    # ---- reductions
    ("sum_axis1", "sum(x0, axis=1)", [f("randn", 3, 5, 2)], lambda a: a.sum(dim=1)),
    ("mean_axes_keepdim", "mean(x0, axis=[0, 2], keepdim=true)", [f("randn", 3, 5, 2)],
     lambda a: a.mean(dim=(0, 2), keepdim=True)),
    ("max_last", "max(x0, axis=-1)", [f("randn", 3, 7)], lambda a: a.max(dim=-1).values),
    ("sum_all", "sum(x0)", [f("randn", 3, 5)], lambda a: a.sum()),
    ("mean_all", "mean(x0)", [f("randn", 3, 5)], lambda a: a.mean()),
    ("var_axis0", "var(x0, axis=0)", [f("randn", 7, 3)], lambda a: torch.var(a, dim=0, unbiased=False)),

    # ---- data movement
    ("reshape_infer", "reshape(x0, [3, -1])", [f("randn", 2, 3, 4)], lambda a: a.reshape(3, -1)),
    ("permute_201", "permute(x0, [2, 0, 1])", [f("randn", 2, 3, 5)], lambda a: a.permute(2, 0, 1)),
    ("transpose_01", "transpose(x0, 0, 1)", [f("randn", 3, 5)], lambda a: a.transpose(0, 1)),
    ("unsqueeze_1", "unsqueeze(x0, 1)", [f("randn", 3, 5)], lambda a: a.unsqueeze(1)),
    ("squeeze_1", "squeeze(x0, 1)", [f("randn", 3, 1, 4)], lambda a: a.squeeze(1)),
    ("expand_3d", "expand(x0, [2, 3, 4])", [f("randn", 3, 1)], lambda a: a.expand(2, 3, 4)),
    ("slice_cols", "x0[:, 1:3]", [f("randn", 3, 5)], lambda a: a[:, 1:3]),
    ("slice_ellipsis_step", "x0[..., ::2]", [f("randn", 2, 3, 7)], lambda a: a[..., ::2]),
    ("index_row", "x0[1]", [f("randn", 3, 5)], lambda a: a[1]),
    ("slice_negative", "x0[:, -2:]", [f("randn", 3, 5)], lambda a: a[:, -2:]),
    ("concat_axis1", "concat([x0, x1], axis=1)", [f("randn", 2, 3), f("randn", 2, 4)],
     lambda a, b: torch.cat([a, b], dim=1)),
    ("stack_axis0", "stack([x0, x1], axis=0)", [f("randn", 3, 5), f("randn", 3, 5)],
     lambda a, b: torch.stack([a, b], dim=0)),
    ("roll_two_axes", "roll(x0, shifts=[-2, -2], axes=[1, 2])", [f("randn", 2, 5, 6, 3)],
     lambda a: torch.roll(a, shifts=(-2, -2), dims=(1, 2))),
    ("roll_one_axis", "roll(x0, shifts=3, axes=0)", [f("randn", 7, 2)],
     lambda a: torch.roll(a, shifts=3, dims=0)),
    ("pad_second_last", "pad(x0, [0, 0, 1, 2])", [f("randn", 2, 3, 4)], lambda a: F.pad(a, (0, 0, 1, 2))),
    ("pad_value", "pad(x0, [1, 2], value=0.5)", [f("randn", 3, 5)], lambda a: F.pad(a, (1, 2), value=0.5)),
    ("gather_rows", "gather(x0, x1)", [f("randn", 9, 3), i("index9", 4, 4)], lambda t, idx: t[idx.long()]),
    ("chunk_middle", "chunk(x0, 3, axis=-1)[1]", [f("randn", 2, 6)], lambda a: torch.chunk(a, 3, dim=-1)[1]),
    ("flatten_1", "flatten(x0, 1)", [f("randn", 2, 3, 4)], lambda a: torch.flatten(a, 1)),
    ("unbind_2", "unbind(x0, 0)[2]", [f("randn", 3, 4)], lambda a: torch.unbind(a, 0)[2]),
]


# cases with no gradient (comparisons, integers) and inputs torch does not differentiate (batch-norm statistics)
NO_GRAD = {"greater", "float_to_int"}
BN_STATS = {1, 2}


def grad_inputs(name, specs):
    if name in NO_GRAD:
        return []
    ks = [k for k, (dtype, _, _) in enumerate(specs) if dtype == "f32"]
    if name.startswith("batch_norm"):
        ks = [k for k in ks if k not in BN_STATS]
    return ks


def make_ops():
    root = os.path.join(OUT, "ops")
    os.makedirs(root)
    names = [c[0] for c in OPS]
    assert len(set(names)) == len(names), "duplicate op case names"
    manifest = []
    for name, expr, specs, ref in OPS:
        seed_for("ops/" + name)
        d = os.path.join(root, name)
        os.makedirs(d)
        inputs, ref_args, meta = [], [], []
        for k, (dtype, kind, shape) in enumerate(specs):
            t = make_input(kind, shape)
            assert (dtype == "f32") == t.is_floating_point()
            save_npy(os.path.join(d, "x%d.npy" % k), t)
            inputs.append(t)
            ref_args.append(t.to(torch.float64) if t.is_floating_point() else t)
            meta.append({"name": "x%d" % k, "dtype": dtype, "shape": list(shape)})
        with torch.no_grad():
            out = ref(*ref_args)
        out = out.contiguous()
        out_np = to_numpy(out)
        assert np.all(np.isfinite(out_np)) if out_np.dtype.kind == "f" else True, name
        save_npy(os.path.join(d, "out.npy"), out_np)
        case = {
            "name": name,
            "expr": expr,
            "inputs": meta,
            "output": {"dtype": "f32" if out_np.dtype.kind == "f" else "i32", "shape": list(out_np.shape)},
        }
        grads = grad_inputs(name, specs)
        if grads and out_np.dtype.kind == "f":
            # gradient of loss = sum(out * w) for a fixed random w, w.r.t. each differentiable input
            w = randn(*out_np.shape)
            save_npy(os.path.join(d, "w.npy"), w)
            args = [a.detach().clone().requires_grad_(k in grads) if a.is_floating_point() else a for k, a in enumerate(ref_args)]
            (ref(*args) * w.double()).sum().backward()
            for k in grads:
                save_npy(os.path.join(d, "g%d.npy" % k), args[k].grad)
            case["grads"] = ["x%d" % k for k in grads]
        manifest.append(case)
    write_json(os.path.join(root, "manifest.json"), manifest)
    return manifest


# ----------------------------------------------------------------------------- B. MLP

class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.norm = nn.LayerNorm(32, eps=1e-5)
        self.fc2 = nn.Linear(32, 8)

    def forward(self, x):
        return self.fc2(self.norm(F.gelu(self.fc1(x))))


def randomise_(module, linear_scale):
    """Overwrite every float parameter: norms 1+0.2n / 0.2n, everything else n*linear_scale."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if isinstance(dict(module.named_modules())[name.rsplit(".", 1)[0]], nn.LayerNorm):
                p.copy_((1.0 + 0.2 * randn(*p.shape)) if name.endswith("weight") else 0.2 * randn(*p.shape))
            elif name.endswith("relative_position_bias_table"):
                p.copy_(randn(*p.shape))
            else:
                p.copy_(randn(*p.shape) * linear_scale)


def make_mlp():
    d = os.path.join(OUT, "mlp")
    os.makedirs(d)
    seed_for("mlp")
    m = Mlp()
    randomise_(m, 0.3)
    m.eval()
    x = randn(4, 16)
    weights = {k: v.detach().clone() for k, v in m.state_dict().items()}
    assert sorted(weights) == sorted(["fc1.weight", "fc1.bias", "norm.weight", "norm.bias", "fc2.weight", "fc2.bias"])
    with torch.no_grad():
        y = m.double()(x.double())
    save_npy(os.path.join(d, "x.npy"), x)
    write_safetensors(os.path.join(d, "weights.safetensors"), weights)
    save_npy(os.path.join(d, "y.npy"), y)
    save_param_grads(d, m, x, y.shape, lambda k: k)


def save_param_grads(d, module, x, out_shape, rename):
    """Gradients of loss = sum(module(x) * w) (w random, saved as w.npy) w.r.t. every parameter, by key."""
    w = randn(*out_shape)
    save_npy(os.path.join(d, "w.npy"), w)
    module.zero_grad()
    (module(x.double()) * w.double()).sum().backward()
    grads = {rename(k): p.grad.detach().clone().float() for k, p in module.named_parameters()}
    write_safetensors(os.path.join(d, "grads.safetensors"), grads)


# ----------------------------------------------------------------------------- C. Swin block

SWIN_RENAME = {"mlp.0.": "mlp.fc1.", "mlp.3.": "mlp.fc2."}
SWIN_KEYS = ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
             "attn.proj.bias", "attn.relative_position_bias_table", "norm2.weight", "norm2.bias",
             "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"]


def swin_block(shift):
    from torchvision.models.swin_transformer import SwinTransformerBlock
    return SwinTransformerBlock(dim=32, num_heads=2, window_size=[4, 4], shift_size=[shift, shift],
                                mlp_ratio=4.0, dropout=0.0, attention_dropout=0.0, stochastic_depth_prob=0.0)


def swin_key(k):
    for a, b in SWIN_RENAME.items():
        if k.startswith(a):
            return b + k[len(a):]
    return k


def swin_weights(block):
    out = {}
    for k, v in block.state_dict().items():
        if k == "attn.relative_position_index":
            continue
        for a, b in SWIN_RENAME.items():
            if k.startswith(a):
                k = b + k[len(a):]
        out[k] = v.detach().clone()
    assert sorted(out) == sorted(SWIN_KEYS), sorted(out)
    return out


def make_swin():
    for case, hw, shift in [("shifted", 8, 2), ("unshifted", 8, 0), ("padded", 6, 2)]:
        d = os.path.join(OUT, "swin_block", case)
        os.makedirs(d)
        seed_for("swin_block/" + case)
        block = swin_block(shift)
        randomise_(block, 0.2)
        block.eval()
        x = randn(2, hw, hw, 32)
        weights = swin_weights(block)
        with torch.no_grad():
            y = block.double()(x.double())
        save_npy(os.path.join(d, "x.npy"), x)
        write_safetensors(os.path.join(d, "weights.safetensors"), weights)
        save_npy(os.path.join(d, "y.npy"), y)
        save_param_grads(d, block, x, y.shape, swin_key)
        write_json(os.path.join(d, "config.json"),
                   {"dim": 32, "heads": 2, "window": 4, "shift": shift, "resolution": [hw, hw]})

        # Check: the saved file alone, loaded into a fresh float32 block, reproduces y.
        loaded = read_safetensors(os.path.join(d, "weights.safetensors"))
        fresh = swin_block(shift)
        sd = fresh.state_dict()
        for k, v in loaded.items():
            tk = k.replace("mlp.fc1.", "mlp.0.").replace("mlp.fc2.", "mlp.3.")
            sd[tk] = torch.from_numpy(v.copy())
        fresh.load_state_dict(sd)
        fresh.eval()
        with torch.no_grad():
            y32 = fresh(torch.from_numpy(np.load(os.path.join(d, "x.npy"))))
        err = (y32.double() - y).abs().max().item()
        assert err < 1e-4, (case, err)


# ----------------------------------------------------------------------------- D. BatchNorm, train mode

def make_batchnorm_train():
    d = os.path.join(OUT, "batchnorm_train")
    os.makedirs(d)
    seed_for("batchnorm_train")
    x = randn(6, 4) * 2 + 1
    weights = {
        "weight": 1.0 + 0.3 * randn(4),
        "bias": 0.3 * randn(4),
        "running_mean": 0.5 * randn(4),
        "running_var": randn(4).abs() + 0.5,
    }
    bn = nn.BatchNorm1d(4, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        for k, v in weights.items():
            getattr(bn, k).copy_(v)
    bn = bn.double()
    bn.train()
    with torch.no_grad():
        y = bn(x.double())
    save_npy(os.path.join(d, "x.npy"), x)
    write_safetensors(os.path.join(d, "weights.safetensors"), weights)
    save_npy(os.path.join(d, "y.npy"), y)
    save_npy(os.path.join(d, "mean_after.npy"), bn.running_mean)
    save_npy(os.path.join(d, "var_after.npy"), bn.running_var)
    # gradients in training mode (through the batch statistics) of sum(y * w), w.r.t. x, weight and bias
    w = randn(6, 4)
    save_npy(os.path.join(d, "w.npy"), w)
    bn2 = nn.BatchNorm1d(4, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        for k, v in weights.items():
            getattr(bn2, k).copy_(v.double())
    bn2.train()
    xg = x.double().requires_grad_(True)
    (bn2(xg) * w.double()).sum().backward()
    save_npy(os.path.join(d, "gx.npy"), xg.grad)
    save_npy(os.path.join(d, "gweight.npy"), bn2.weight.grad)
    save_npy(os.path.join(d, "gbias.npy"), bn2.bias.grad)
    # Check the documented update rule (unbiased batch variance in the running update).
    xd = x.double()
    exp_var = 0.9 * weights["running_var"].double() + 0.1 * xd.var(dim=0, unbiased=True)
    assert torch.allclose(bn.running_var, exp_var)


def main():
    # only this script's folders are rewritten (golden/optim belongs to make_optim_goldens.py)
    for sub in ("ops", "mlp", "swin_block", "batchnorm_train"):
        if os.path.isdir(os.path.join(OUT, sub)):
            shutil.rmtree(os.path.join(OUT, sub))
    os.makedirs(OUT, exist_ok=True)
    manifest = make_ops()
    make_mlp()
    make_swin()
    make_batchnorm_train()
    total = sum(os.path.getsize(os.path.join(dp, fn)) for sub in ("ops", "mlp", "swin_block", "batchnorm_train")
                for dp, _, fns in os.walk(os.path.join(OUT, sub)) for fn in fns)
    print("wrote %d op cases, %d bytes under %s" % (len(manifest), total, os.path.relpath(OUT, ROOT)))
    assert total < 2_000_000


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Generate the checkpoint fixtures of mobyc's weight import/export tests (mobyc.models.weights).

Run from the repository root:

    /usr/bin/python3 tests/golden/make_weight_fixtures.py

It deletes and rewrites models/src/test/resources/weights/ completely. CI never runs this
script (nor PyTorch); the tests only read the files it writes. Everything is seeded, and
torch.save writes no time stamps, so reruns give byte-identical files.

What it writes (all small; the total is checked below):

  x.npy                      f32[2, 3, 16, 16], the input of both models
  swin_torchvision.pth       torch.save(state_dict) of torchvision's
                             SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2],
                             num_heads=[1, 2], window_size=[2, 2], num_classes=5), random weights
  swin_official.safetensors  the same weights under the official Swin names (= mobyc's), without
                             the relative_position_index buffers
  swin_moby.pth              a MoBY-style checkpoint: {"model": {"encoder.<official name>": ...,
                             "encoder_k.patch_embed.*", "projector.*", "queue1", "queue_ptr"},
                             "epoch": 100, "max_accuracy": 0.0}; the encoder keeps the official
                             release's buffers (relative_position_index [n, n] int64, attn_mask)
  swin_logits.npy            f32[2, 5], PyTorch's output (computed in float64, rounded to f32)
  swin_features.npy          f32[2, 32], the pooled features before the head
  vit_torchvision.pth        torch.save(state_dict) of torchvision's VisionTransformer(image_size=16,
                             patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32,
                             num_classes=5), random weights
  vit_timm.safetensors       the same weights under timm's names (= mobyc's)
  vit_logits.npy             f32[2, 5]
  vit_features.npy           f32[2, 16], the class token after the final LayerNorm
  dtypes.pth                 {"state_dict": {one tensor per storage type, a transposed view, a view
                             with a storage offset, a stride-0 expansion, a scalar, an empty
                             tensor}, "meta": {plain Python values}}
  dtypes.safetensors         what dtypes.pth must read as: F32 (floats) or I32 (integers, bool)
  i64_overflow.pth           {"idx": int64 tensor holding 2**40}
  legacy.pth                 a tiny state dict in torch.save's legacy (pre-1.6, non-zip) format
  foreign_global.pth         a zip whose data.pkl refers to os.system; the bytes are written by hand
                             here and never unpickled (by this script or anyone)
  swin_moby_train.pth        a MoBY/Swin-style training checkpoint: {"model": the first four tensors of
                             swin_moby.pth's state dict and its queue_ptr, "optimizer": AdamW's
                             state dict after one step (moments of those tensors), "lr_scheduler":
                             CosineAnnealingLR's state dict, "max_accuracy": a numpy float64,
                             "epoch": 100, "config": a yacs-style CfgNode tree (see STAND_IN_YACS),
                             "args": a DeiT-style argparse.Namespace (with a pathlib path and a set)}
  object_in_state_dict.pth   {"model": {"encoder.patch_embed.proj.bias": tensor, "config": the same
                             CfgNode tree}, "epoch": 1}: a state dict holding an object, to refuse
  truncated.pth              dtypes.pth cut in the middle of its last storage entry
  README.txt                 the key whose storage truncated.pth cuts

The models match mobyc's models/swin.moby SwinTransformer(img_size=16, patch=4, in_chans=3,
classes=5, embed_dim=16, depths=[2, 2], heads=[1, 2], window=2) and models/deit.moby
VisionTransformer(img_size=16, patch=8, classes=5, embed_dim=16, depth=2, heads=2, mlp_ratio=2.0).
"""

import collections
import io
import json
import os
import re
import shutil
import struct
import sys
import zipfile

import numpy as np
import torch
from torchvision.models import swin_transformer
from torchvision.models.vision_transformer import VisionTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "models", "src", "test", "resources", "weights")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------- writers

def to_numpy(t):
    t = t.detach().cpu()
    if t.is_floating_point():
        return np.array(t.to(torch.float32).numpy().astype("<f4"), order="C", copy=True)
    return np.array(t.to(torch.int32).numpy().astype("<i4"), order="C", copy=True)


def save_npy(name, t):
    np.save(os.path.join(OUT, name), to_numpy(t), allow_pickle=False)


def write_safetensors(name, tensors):
    """u64 LE header length, JSON header space-padded to a multiple of 8, raw LE data, in the
    order given (the state dict's). F32 for floats, I32 for integers and bool."""
    header, blobs, offset = {}, [], 0
    for k, t in tensors.items():
        a = to_numpy(t)
        raw = a.tobytes(order="C")
        header[k] = {"dtype": {"<f4": "F32", "<i4": "I32"}[a.dtype.str], "shape": list(a.shape),
                     "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def save_pth(name, obj, **kw):
    torch.save(obj, os.path.join(OUT, name), **kw)


def save_legacy(name, obj):
    """torch.save's legacy (non-zip) format. It names storages by memory address; each name (a
    BINUNICODE string of digits) is rewritten to "1", "2", ... so that reruns give the same bytes."""
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue()
    keys = sorted({m[2] for m in re.finditer(rb"X(.{4})(\d{6,})", data, re.S)
                   if struct.unpack("<I", m[1])[0] == len(m[2])})
    for i, k in enumerate(keys):
        new = str(i + 1).encode()
        data = data.replace(b"X" + struct.pack("<I", len(k)) + k, b"X" + struct.pack("<I", len(new)) + new)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    back = torch.load(os.path.join(OUT, name))
    assert list(back) == list(obj) and all(torch.equal(back[k], obj[k]) for k in obj)


def randomize(model, seed):
    """Every parameter random (LayerNorm scales near 1), so that a misplaced tensor shows."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if p.dim() == 1 and ("norm" in n or n.split(".")[-2].startswith("ln") or ".0.2." in n):
                p.copy_((1.0 if n.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    return model.eval()


# ----------------------------------------------------------------------------- name mappings
# An independent statement of the mappings that mobyc.models.weights.KeyMap implements; the Java
# tests compare the two (torchvision .pth mapped by Java == the safetensors written here).

def swin_official_from_torchvision(sd):
    out = collections.OrderedDict()
    for k, v in sd.items():
        if k.endswith("relative_position_index"):
            continue
        m = re.fullmatch(r"features\.0\.0\.(.*)", k)
        if m:
            out["patch_embed.proj." + m[1]] = v
            continue
        m = re.fullmatch(r"features\.0\.2\.(.*)", k)
        if m:
            out["patch_embed.norm." + m[1]] = v
            continue
        m = re.fullmatch(r"features\.(\d+)\.(\d+)\.(.*)", k)
        if m and int(m[1]) % 2 == 1:
            rest = m[3].replace("mlp.0.", "mlp.fc1.").replace("mlp.3.", "mlp.fc2.")
            out["layers.%d.blocks.%s.%s" % ((int(m[1]) - 1) // 2, m[2], rest)] = v
            continue
        m = re.fullmatch(r"features\.(\d+)\.((?:reduction|norm)\..*)", k)
        if m and int(m[1]) % 2 == 0:
            out["layers.%d.downsample.%s" % (int(m[1]) // 2 - 1, m[2])] = v
            continue
        assert not k.startswith("features."), k
        out[k] = v
    return out


def vit_timm_from_torchvision(sd):
    out = collections.OrderedDict()
    for k, v in sd.items():
        m = re.fullmatch(r"encoder\.layers\.encoder_layer_(\d+)\.(.*)", k)
        if m:
            rest = (m[2].replace("ln_1.", "norm1.").replace("ln_2.", "norm2.")
                    .replace("self_attention.in_proj_weight", "attn.qkv.weight")
                    .replace("self_attention.in_proj_bias", "attn.qkv.bias")
                    .replace("self_attention.out_proj.", "attn.proj.")
                    .replace("mlp.0.", "mlp.fc1.").replace("mlp.3.", "mlp.fc2."))
            out["blocks.%s.%s" % (m[1], rest)] = v
            continue
        name = {"class_token": "cls_token", "encoder.pos_embedding": "pos_embed"}.get(k)
        if name is None:
            name = (k.replace("conv_proj.", "patch_embed.proj.").replace("encoder.ln.", "norm.")
                    .replace("heads.head.", "head."))
        out[name] = v
    return out


def official_attn_mask(resolution, window, shift):
    """The attn_mask buffer of the official Swin release's shifted blocks: [nW, n, n], 0 or -100."""
    h, w = resolution
    img = torch.zeros((1, h, w, 1))
    cnt = 0
    for hs in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
        for ws in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            img[:, hs, ws, :] = cnt
            cnt += 1
    win = img.view(1, h // window, window, w // window, window, 1).permute(0, 1, 3, 2, 4, 5)
    win = win.reshape(-1, window * window)
    mask = win.unsqueeze(1) - win.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


# ----------------------------------------------------------------------------- training checkpoints

# A stand-in for yacs.config.CfgNode (the config object the official Swin and MoBY releases pickle into
# their checkpoints), enough to pickle like it: a dict subclass with yacs's instance attributes. It is
# importable as yacs.config only while the checkpoints are saved (a temporary folder on sys.path), so the
# pickles name yacs.config.CfgNode by reference as the real ones do, and loading them needs no code of ours.
STAND_IN_YACS = '''
class CfgNode(dict):
    IMMUTABLE = "__immutable__"

    def __init__(self, init_dict=None, new_allowed=False):
        init_dict = {} if init_dict is None else dict(init_dict)
        for k, v in init_dict.items():
            if type(v) is dict:
                init_dict[k] = CfgNode(v, new_allowed)
        super().__init__(init_dict)
        self.__dict__[CfgNode.IMMUTABLE] = False
        self.__dict__["__deprecated_keys__"] = set()
        self.__dict__["__renamed_keys__"] = {}
        self.__dict__["__new_allowed__"] = new_allowed

    def __getattr__(self, name):
        if name in self:
            return self[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        self[name] = value

    def freeze(self):
        self.__dict__[CfgNode.IMMUTABLE] = True
        for v in self.values():
            if isinstance(v, CfgNode):
                v.freeze()
'''


def save_with_stand_in_yacs(save):
    """Calls save(CfgNode) with the stand-in yacs.config importable, then removes it again."""
    import tempfile
    folder = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(folder, "yacs"))
        with open(os.path.join(folder, "yacs", "__init__.py"), "w") as f:
            f.write("")
        with open(os.path.join(folder, "yacs", "config.py"), "w") as f:
            f.write(STAND_IN_YACS)
        assert "yacs" not in sys.modules
        sys.path.insert(0, folder)
        import yacs.config
        assert yacs.config.__file__.startswith(folder)
        save(yacs.config.CfgNode)
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
        for m in ("yacs.config", "yacs"):
            sys.modules.pop(m, None)
        shutil.rmtree(folder)


def moby_config(CfgNode):
    """A small tree like the official Swin/MoBY config (yacs CfgNode, frozen)."""
    return CfgNode({
        "BASE": [""],
        "DATA": {"BATCH_SIZE": 128, "DATA_PATH": "/datasets/imagenet", "IMG_SIZE": 224, "INTERPOLATION": "bicubic"},
        "MODEL": {"TYPE": "moby", "NAME": "moby__swin_tiny__patch4_window7_224", "DROP_PATH_RATE": 0.1,
                  "SWIN": {"PATCH_SIZE": 4, "EMBED_DIM": 96, "DEPTHS": [2, 2, 6, 2], "NUM_HEADS": [3, 6, 12, 24],
                           "WINDOW_SIZE": 7, "QKV_BIAS": True, "QK_SCALE": None, "APE": False},
                  "MOBY": {"ENCODER": "swin", "ONE_LAYER_PRED": False, "PRED_NUM_LAYERS": 2,
                           "CONTRAST_MOMENTUM": 0.99, "CONTRAST_TEMPERATURE": 0.2, "CONTRAST_NUM_NEGATIVE": 4096}},
        "TRAIN": {"START_EPOCH": 0, "EPOCHS": 300, "BASE_LR": 1e-3, "WEIGHT_DECAY": 0.05,
                  "OPTIMIZER": {"NAME": "adamw", "EPS": 1e-8, "BETAS": (0.9, 0.999), "MOMENTUM": 0.9}},
        "AMP_OPT_LEVEL": "O1",
        "OUTPUT": "output/moby__swin_tiny__patch4_window7_224/default",
        "SEED": 0,
    })


def make_training_checkpoints(moby_state):
    import argparse
    import pathlib
    keys = ["encoder.patch_embed.proj.weight", "encoder.patch_embed.proj.bias", "encoder.patch_embed.norm.weight",
            "encoder.patch_embed.norm.bias", "queue_ptr"]
    model = collections.OrderedDict((k, moby_state[k].clone()) for k in keys)
    params = [torch.nn.Parameter(v.clone()) for v in model.values() if v.is_floating_point()]
    optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=300)
    sum((p * p).sum() for p in params).backward()
    optimizer.step()
    scheduler.step()
    args = argparse.Namespace(model="deit_small_patch16_224", batch_size=128, epochs=300, lr=5e-4,
                              opt="adamw", opt_eps=1e-8, opt_betas=None, drop_path=0.1, smoothing=0.1,
                              data_path="/datasets/imagenet", output_dir=pathlib.PurePosixPath("checkpoints/deit"),
                              resume="", eval=False, dist_url="env://", skip_keys={"head.weight", "head.bias"})

    def save(CfgNode):
        config = moby_config(CfgNode)
        config.freeze()
        train = {"model": model, "optimizer": optimizer.state_dict(), "lr_scheduler": scheduler.state_dict(),
                 "max_accuracy": np.float64(0.0), "epoch": 100, "config": config, "args": args}
        save_pth("swin_moby_train.pth", train)
        bad = collections.OrderedDict([("encoder.patch_embed.proj.bias", model["encoder.patch_embed.proj.bias"]),
                                       ("config", moby_config(CfgNode))])
        save_pth("object_in_state_dict.pth", {"model": bad, "epoch": 1})
        back = torch.load(os.path.join(OUT, "swin_moby_train.pth"))
        assert list(back["model"]) == keys and all(torch.equal(back["model"][k], model[k]) for k in keys)
        assert back["config"].MODEL.SWIN.DEPTHS == [2, 2, 6, 2] and back["args"].lr == 5e-4
        assert len(back["optimizer"]["state"]) == 4
    save_with_stand_in_yacs(save)


# ----------------------------------------------------------------------------- models

def make_input():
    torch.manual_seed(7)
    x = torch.randn(2, 3, 16, 16)
    save_npy("x.npy", x)
    return x


def reference(model, x, features):
    """Logits and features in float64 from the float32 weights, rounded to float32."""
    m = model.double()
    with torch.no_grad():
        logits = m(x.double())
        feats = features(m, x.double())
    model.float()
    return logits, feats


def save_grads(prefix, model, x, rename):
    """Gradients of loss = sum(logits * w) (w random, saved) w.r.t. every parameter, in float64, under mobyc's names."""
    torch.manual_seed(99)
    w = torch.randn(x.shape[0], 5)
    save_npy(prefix + "_w.npy", w)
    m = model.double()
    m.zero_grad()
    (m(x.double()) * w.double()).sum().backward()
    grads = collections.OrderedDict((k, p.grad.detach().clone().float()) for k, p in m.named_parameters())
    model.float()
    write_safetensors(prefix + "_grads.safetensors", rename(grads))


def make_swin(x):
    model = randomize(swin_transformer.SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=[2, 2], num_classes=5), 11)
    sd = model.state_dict()
    save_pth("swin_torchvision.pth", sd)
    official = swin_official_from_torchvision(sd)
    write_safetensors("swin_official.safetensors", official)

    def features(m, t):
        return m.flatten(m.avgpool(m.permute(m.norm(m.features(t)))))
    logits, feats = reference(model, x, features)
    save_npy("swin_logits.npy", logits)
    save_npy("swin_features.npy", feats)
    save_grads("swin", model, x, swin_official_from_torchvision)

    # a MoBY checkpoint: the encoder in the official release's layout, with its buffers
    enc = collections.OrderedDict()
    for k, v in official.items():
        enc[k] = v
        m = re.fullmatch(r"layers\.(\d+)\.blocks\.(\d+)\.attn\.relative_position_bias_table", k)
        if m:
            tv = "features.%d.%s.attn.relative_position_index" % (2 * int(m[1]) + 1, m[2])
            idx = sd[tv]
            n = int(round(idx.numel() ** 0.5))
            enc["layers.%s.blocks.%s.attn.relative_position_index" % (m[1], m[2])] = idx.reshape(n, n).clone()
    resolution = {0: (4, 4), 1: (2, 2)}
    for stage, depth in enumerate([2, 2]):
        for j in range(depth):
            r = resolution[stage]
            if j % 2 == 1 and min(r) > 2:     # the official code drops the shift when the window covers the map
                enc["layers.%d.blocks.%d.attn_mask" % (stage, j)] = official_attn_mask(r, 2, 1)
    torch.manual_seed(12)
    state = collections.OrderedDict(("encoder." + k, v) for k, v in enc.items())
    for k in ("patch_embed.proj.weight", "patch_embed.proj.bias", "patch_embed.norm.weight", "patch_embed.norm.bias"):
        state["encoder_k." + k] = enc[k] + 0.01
    state["projector.linear1.weight"] = torch.randn(8, 32)
    state["queue1"] = torch.randn(8, 4)
    state["queue_ptr"] = torch.zeros(1, dtype=torch.long)
    save_pth("swin_moby.pth", {"model": state, "epoch": 100, "max_accuracy": 0.0})
    return state


def make_vit(x):
    model = randomize(VisionTransformer(image_size=16, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16,
                                        mlp_dim=32, num_classes=5), 13)
    sd = model.state_dict()
    save_pth("vit_torchvision.pth", sd)
    write_safetensors("vit_timm.safetensors", vit_timm_from_torchvision(sd))

    def features(m, t):
        y = m._process_input(t)
        y = torch.cat([m.class_token.expand(y.shape[0], -1, -1), y], dim=1)
        return m.encoder(y)[:, 0]
    logits, feats = reference(model, x, features)
    save_npy("vit_logits.npy", logits)
    save_npy("vit_features.npy", feats)
    save_grads("vit", model, x, vit_timm_from_torchvision)


# ----------------------------------------------------------------------------- format cases

def make_dtypes():
    a = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5 - 3.0
    torch.manual_seed(14)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(2, 3)
    sd["f64"] = torch.randn(3, 2, dtype=torch.float64) * 1e3
    sd["f16"] = torch.tensor([0.0, -0.0, 1.5, -65504.0, 6e-8, 0.1, float("inf"), -2.0], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30, -1e-30, 0.1], dtype=torch.bfloat16)
    sd["i64"] = torch.tensor([-2 ** 31, 2 ** 31 - 1, 0, 5], dtype=torch.int64)
    sd["i32"] = torch.tensor([[-7, 8], [2 ** 31 - 1, -2 ** 31]], dtype=torch.int32)
    sd["i16"] = torch.tensor([-32768, 32767, 1], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["transposed"] = a.t()                       # stride (1, 6)
    sd["view"] = a[1:3, 2:5]                       # offset 8, stride (6, 1), shares a's storage
    sd["expanded"] = torch.tensor([1.0, 2.0, 3.0]).expand(2, 3)   # stride (0, 1)
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    assert not sd["transposed"].is_contiguous() and sd["view"].storage_offset() == 8
    meta = {"epoch": 1, "lr": 0.5, "names": ["a", "b"], "flag": True, "none": None, "big": 2 ** 70,
            "neg": -300, "pair": (1, 2.0)}
    save_pth("dtypes.pth", {"state_dict": sd, "meta": meta})
    write_safetensors("dtypes.safetensors", collections.OrderedDict((k, v.contiguous()) for k, v in sd.items()))
    save_pth("i64_overflow.pth", {"idx": torch.tensor([1, 2 ** 40], dtype=torch.int64)})
    save_legacy("legacy.pth", collections.OrderedDict(w=torch.zeros(2)))
    return sd


def stored_zip(name, entries):
    """A zip of stored (uncompressed) entries with a fixed time stamp."""
    with zipfile.ZipFile(os.path.join(OUT, name), "w", zipfile.ZIP_STORED) as z:
        for entry, data in entries:
            info = zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)


def make_foreign_global():
    # {"x": os.system("echo hi")} as protocol-2 pickle opcodes, assembled by hand, never unpickled
    def unicode(s):
        b = s.encode("utf-8")
        return b"X" + struct.pack("<I", len(b)) + b
    pkl = (b"\x80\x02" + b"}q\x00" + unicode("x") + b"cos\nsystem\n" + unicode("echo hi")
           + b"\x85" + b"R" + b"s" + b".")
    stored_zip("foreign_global.pth", [("foreign_global/data.pkl", pkl), ("foreign_global/version", b"3\n")])


def make_truncated(sd):
    """dtypes.pth cut in the middle of its last storage entry (a zip without its central directory)."""
    path = os.path.join(OUT, "dtypes.pth")
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if re.fullmatch(r"[^/]+/data/\d+", i.filename)]
    last = max(infos, key=lambda i: i.header_offset)
    # torch.save numbers storages in the order it meets them; name the first tensor that uses it
    ids = {}
    for k, v in sd.items():
        ids.setdefault(v.storage()._cdata, (str(len(ids)), k))
    key = dict(ids.values())[last.filename.rsplit("/", 1)[1]]
    with open(path, "rb") as f:
        data = f.read()
    local = last.header_offset
    name_len, extra_len = struct.unpack("<HH", data[local + 26:local + 30])
    start = local + 30 + name_len + extra_len
    cut = start + last.file_size // 2
    with open(os.path.join(OUT, "truncated.pth"), "wb") as f:
        f.write(data[:cut])
    with open(os.path.join(OUT, "README.txt"), "w") as f:
        f.write("Written by tests/golden/make_weight_fixtures.py; do not edit.\n")
        f.write("truncated.pth: dtypes.pth cut at byte %d, inside %s, the storage of '%s'\n" % (cut, last.filename, key))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    x = make_input()
    make_training_checkpoints(make_swin(x))
    make_vit(x)
    make_truncated(make_dtypes())
    make_foreign_global()
    sizes = {fn: os.path.getsize(os.path.join(OUT, fn)) for fn in sorted(os.listdir(OUT))}
    for fn, n in sizes.items():
        print("%8d  %s" % (n, fn))
    total = sum(sizes.values())
    print("%8d  total under %s" % (total, os.path.relpath(OUT, ROOT)))
    assert total < 900_000, total


if __name__ == "__main__":
    sys.exit(main())

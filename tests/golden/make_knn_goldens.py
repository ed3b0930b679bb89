#!/usr/bin/python3
"""Generate the PyTorch golden values for mobyc's weighted k-NN classifier (mobyc.eval.Knn).

Run from the repository root (needs PyTorch 1.13 and numpy):

    /usr/bin/python3 tests/golden/make_knn_goldens.py

It deletes and rewrites moby/src/test/resources/knn/ only (about 60 KB). CI never runs this
script; it only reads the files it writes. Everything is seeded (torch.manual_seed with the
CRC-32 of the case name), one thread, so reruns give byte-identical files.

The classifier follows the code path of knn_classifier in DINO's eval_knn.py
(facebookresearch/dino), re-expressed here: features L2-normalised (F.normalize, eps 1e-12),
similarity = test @ train^T (torch.mm), torch.topk(k, largest=True, sorted=True), the
neighbours' labels one-hot over num_classes, each weighted by exp(similarity / T), summed per
class; classes ranked by that score, descending; top-1 = the first class is the label,
top-5 = the label is among the first min(5, k).

Ties: DINO ranks with an unstable sort, so classes of equal score (classes with no vote at
all, in practice) may come in any order. mobyc ranks equal scores by lower class index first,
which is what a stable descending sort gives; this script ranks with stable=True and checks
that DINO's own unstable sort agrees on top-1 and top-5 for every case written (it does here).
Features are random with class structure (a mean per class plus noise) and no zero rows. A draw
is kept only when float rounding cannot change the result (the k-th and (k+1)-th similarities of
every row, and any two nonzero class scores of a row, differ by more than 1e-5), so torch.topk's
unspecified tie order never matters; neighbours may still swap places where two of a row's
similarities inside the top k are closer than that, and the Java test allows exactly that.

What it writes, per case folder <case>/ (every array '<f4' or '<i4', C order):

- train_x.npy f32 [N, D], train_y.npy i32 [N], test_x.npy f32 [M, D], test_y.npy i32 [M]:
  features as extracted (not normalised) and labels
- neighbours.npy i32 [M, k]: train indices of the k nearest, most similar first
- similarities.npy f32 [M, k]: their cosine similarities
- scores.npy f32 [M, C]: the summed vote weights per class
- predictions.npy i32 [M]: the top-1 class of each test row
- top5_hit.npy i32 [M]: 1 when the label is among the first min(5, k) classes
- case.json: {"k", "temperature", "classes", "train", "test", "dim", "top1", "top5"} with
  top1/top5 as percentages, as DINO returns them
"""

import json
import os
import shutil
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "moby", "src", "test", "resources", "knn")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

# name: (train, test, dim, classes, k, temperature, class-mean scale, noise scale)
CASES = {
    "base": (300, 50, 16, 5, 20, 0.07, 1.0, 1.2),
    "k3": (300, 50, 16, 5, 3, 0.07, 1.0, 1.2),
    "sparse_votes": (200, 40, 8, 10, 5, 0.1, 1.0, 1.0),
    "chunks": (257, 131, 5, 4, 7, 0.5, 1.0, 2.0),
}


def save(folder, name, a):
    path = os.path.join(folder, name + ".npy")
    np.save(path, np.ascontiguousarray(a), allow_pickle=False)
    back = np.load(path, allow_pickle=False)
    assert back.dtype == a.dtype and back.shape == a.shape and np.array_equal(back, a), path


def make_features(n, dim, classes, means, noise):
    labels = torch.arange(n) % classes
    labels = labels[torch.randperm(n)]
    x = means[labels] + noise * torch.randn(n, dim)
    return x.float(), labels


def classify(train_x, train_y, test_x, test_y, k, T, classes, stable):
    """The weighted vote of DINO's knn_classifier on one chunk holding every test row."""
    train_n = F.normalize(train_x, dim=1, p=2)
    test_n = F.normalize(test_x, dim=1, p=2)
    m = test_y.shape[0]
    similarity = torch.mm(test_n, train_n.t())
    sims, idx = similarity.topk(k, largest=True, sorted=True)
    neighbour_labels = torch.gather(train_y.view(1, -1).expand(m, -1), 1, idx)
    one_hot = torch.zeros(m * k, classes).scatter_(1, neighbour_labels.reshape(-1, 1), 1)
    weights = sims.clone().div_(T).exp_()
    scores = torch.sum(one_hot.view(m, k, classes) * weights.view(m, k, 1), 1)
    if stable:
        _, ranked = torch.sort(scores, dim=1, descending=True, stable=True)
    else:
        _, ranked = scores.sort(1, True)
    correct = ranked.eq(test_y.view(-1, 1))
    top1_hit = correct[:, 0]
    top5_hit = correct[:, : min(5, k)].any(dim=1)
    return idx, sims, scores, ranked[:, 0], top1_hit, top5_hit


def well_separated(train_x, test_x, k, scores):
    """True when float rounding cannot change the result: the k-th and (k+1)-th similarities of every row
    differ by more than 1e-5, and so do any two different nonzero class scores of a row (relatively)."""
    full = torch.mm(F.normalize(test_x, dim=1), F.normalize(train_x, dim=1).t())
    if k < full.shape[1]:
        best = full.topk(k + 1, sorted=True).values
        if (best[:, k - 1] - best[:, k]).min().item() <= 1e-5:
            return False
    ranked = torch.sort(scores, dim=1, descending=True).values
    for row in ranked:
        nz = row[row > 0]
        gaps = (nz[:-1] - nz[1:]) / nz[0]
        if len(gaps) and gaps.min().item() <= 1e-5:
            return False
    return True


def run_case(name, spec):
    n, m, dim, classes, k, T, mean_scale, noise = spec
    # seeded by the name; a draw whose result float rounding could change is replaced by the next one
    for attempt in range(100):
        torch.manual_seed(zlib.crc32((name + "/" + str(attempt)).encode("utf-8")))
        means = mean_scale * torch.randn(classes, dim)
        train_x, train_y = make_features(n, dim, classes, means, noise)
        test_x, test_y = make_features(m, dim, classes, means, noise)
        idx, sims, scores, pred, top1_hit, top5_hit = classify(train_x, train_y, test_x, test_y, k, T, classes, True)
        if well_separated(train_x, test_x, k, scores):
            break
    else:
        raise AssertionError(name + ": no well-separated draw")
    _, _, _, pred_u, top1_u, top5_u = classify(train_x, train_y, test_x, test_y, k, T, classes, False)
    assert torch.equal(top1_u, top1_hit) and torch.equal(top5_u, top5_hit), name + ": unstable sort disagrees"

    folder = os.path.join(OUT, name)
    os.makedirs(folder)
    save(folder, "train_x", train_x.numpy().astype("<f4"))
    save(folder, "train_y", train_y.numpy().astype("<i4"))
    save(folder, "test_x", test_x.numpy().astype("<f4"))
    save(folder, "test_y", test_y.numpy().astype("<i4"))
    save(folder, "neighbours", idx.numpy().astype("<i4"))
    save(folder, "similarities", sims.numpy().astype("<f4"))
    save(folder, "scores", scores.numpy().astype("<f4"))
    save(folder, "predictions", pred.numpy().astype("<i4"))
    save(folder, "top5_hit", top5_hit.numpy().astype("<i4"))
    top1 = top1_hit.sum().item() * 100.0 / m
    top5 = top5_hit.sum().item() * 100.0 / m
    meta = {"k": k, "temperature": T, "classes": classes, "train": n, "test": m, "dim": dim, "top1": top1, "top5": top5}
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: {n} train, {m} test, dim {dim}, {classes} classes, k={k}, T={T}: top-1 {top1:.2f}%, top-5 {top5:.2f}%")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name, spec in CASES.items():
        run_case(name, spec)


if __name__ == "__main__":
    main()

"""Small synthetic data sets, generated on the spot (nothing is downloaded).

Every generator takes ``n`` (number of examples), ``noise`` and ``seed`` (an int
or a numpy Generator): the same seed gives the same data. Classification sets
return ``X`` of shape (n, 2) and integer labels ``y`` of shape (n,);
regression sets return float targets ``y`` of shape (n,).

Helpers: ``train_test_split``, ``one_hot``, ``standardize`` (and ``Standardizer``).
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validate import as_float_array, as_generator, check_number, check_positive_int

__all__ = [
    "linear", "plane", "xor", "circles", "blobs", "moons", "spirals", "bars", "multilabel",
    "codebook", "train_test_split", "k_fold", "one_hot", "standardize", "Standardizer", "DATASETS",
]


def _start(n, noise, seed, who, min_n=1):
    n = check_positive_int(n, f"{who}: n", minimum=min_n)
    noise = check_number(noise, f"{who}: noise", low=0.0)
    return n, noise, as_generator(seed, f"{who}: seed")


def linear(n=200, n_features=1, *, weights=None, bias=0.0, noise=0.1, seed=0):
    """Regression: y = X @ weights + bias + noise * N(0, 1), with X ~ U(-1, 1).

    weights defaults to 1, 2, 3, ... (one per feature). Returns X (n, n_features), y (n,).
    """
    n, noise, rng = _start(n, noise, seed, "linear")
    n_features = check_positive_int(n_features, "linear: n_features")
    w = np.arange(1.0, n_features + 1) if weights is None else as_float_array(weights, "linear: weights", ndim=1)
    if w.shape[0] != n_features:
        raise ValueError(f"linear: weights has {w.shape[0]} entries, expected n_features={n_features}")
    X = rng.uniform(-1, 1, size=(n, n_features))
    y = X @ w + check_number(bias, "linear: bias") + noise * rng.standard_normal(n)
    return X, y


def plane(n=200, *, noise=0.1, seed=0):
    """Regression on a tilted plane: y = (x1 + x2) / 2 over [-1, 1]^2, plus noise."""
    n, noise, rng = _start(n, noise, seed, "plane")
    X = rng.uniform(-1, 1, size=(n, 2))
    y = X.sum(axis=1) / 2 + noise * rng.standard_normal(n)
    return X, y


def xor(n=200, *, noise=0.0, seed=0):
    """Four quadrants: label 1 where x1 and x2 have the same sign ("both or neither").

    Points are uniform on [-1, 1]^2 and kept a margin away from the axes;
    noise adds Gaussian jitter (std = noise) to the coordinates after labelling.
    """
    n, noise, rng = _start(n, noise, seed, "xor")
    X = rng.uniform(0.05, 1.0, size=(n, 2)) * rng.choice([-1.0, 1.0], size=(n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def circles(n=200, *, noise=0.0, factor=0.5, seed=0):
    """Two concentric rings: label 1 on the inner ring (radius factor), 0 on the outer (radius 1)."""
    n, noise, rng = _start(n, noise, seed, "circles", min_n=2)
    factor = check_number(factor, "circles: factor", low=0.0, high=1.0, low_open=True, high_open=True)
    y = np.arange(n) % 2
    rng.shuffle(y)
    radius = np.where(y == 1, factor, 1.0)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return X + noise * rng.standard_normal(X.shape), y.astype(np.int64)


def blobs(n=200, *, k=3, spread=1.0, noise=None, seed=0, centers=None):
    """k Gaussian clusters, one per class, centers on a circle of radius 3 (or given).

    spread (or noise) is the clusters' standard deviation.
    """
    std = spread if noise is None else noise
    n, std, rng = _start(n, std, seed, "blobs")
    if centers is None:
        k = check_positive_int(k, "blobs: k", minimum=2)
        angle = 2 * np.pi * np.arange(k) / k
        centers = 3.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    else:
        centers = as_float_array(centers, "blobs: centers", ndim=2)
        k = centers.shape[0]
    y = np.arange(n) % k
    rng.shuffle(y)
    X = centers[y] + std * rng.standard_normal((n, centers.shape[1]))
    return X, y.astype(np.int64)


def moons(n=200, *, noise=0.1, seed=0):
    """Two interleaving half circles."""
    n, noise, rng = _start(n, noise, seed, "moons", min_n=2)
    y = np.arange(n) % 2
    rng.shuffle(y)
    t = rng.uniform(0, np.pi, size=n)
    X = np.where(
        (y == 0)[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    return X + noise * rng.standard_normal(X.shape), y.astype(np.int64)


def spirals(n=300, *, k=2, noise=0.0, turns=1.0, seed=0):
    """k interleaved spiral arms, one class each, in the unit disc.

    noise adds Gaussian jitter to the coordinates; turns is how many times each arm winds.
    """
    n, noise, rng = _start(n, noise, seed, "spirals", min_n=2)
    k = check_positive_int(k, "spirals: k", minimum=2)
    turns = check_number(turns, "spirals: turns", low=0.0, low_open=True)
    y = np.arange(n) % k
    rng.shuffle(y)
    r = rng.uniform(0.05, 1.0, size=n)
    angle = 2 * np.pi * (turns * r + y / k)
    X = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    return X + noise * rng.standard_normal(X.shape), y.astype(np.int64)


def bars(n=200, *, size=8, length=None, noise=0.1, seed=0):
    """Small images of one bar: label 0 for a horizontal bar, 1 for a vertical one.

    Returns X of shape (n, 1, size, size) (one channel) and y of shape (n,).
    Each bar has a random position and a length from size // 2 to size (or the
    given length); noise adds Gaussian pixel noise with that std.
    """
    n, noise, rng = _start(n, noise, seed, "bars", min_n=2)
    size = check_positive_int(size, "bars: size", minimum=3)
    y = np.arange(n) % 2
    rng.shuffle(y)
    X = np.zeros((n, 1, size, size))
    lo = size // 2 if length is None else check_positive_int(length, "bars: length")
    if lo > size:
        raise ValueError(f"bars: length {lo} does not fit images of size {size}")
    lengths = rng.integers(lo, size + 1, size=n) if length is None else np.full(n, lo)
    for i in range(n):                     # a loop over images: building data, not training
        line, start = rng.integers(0, size), rng.integers(0, size - lengths[i] + 1)
        if y[i] == 0:
            X[i, 0, line, start:start + lengths[i]] = 1.0
        else:
            X[i, 0, start:start + lengths[i], line] = 1.0
    return X + noise * rng.standard_normal(X.shape), y.astype(np.int64)


def multilabel(n=300, *, k=3, radius=0.55, noise=0.0, seed=0):
    """Points in [-1, 1]^2 with k yes/no labels at once: label j is 1 inside disc j.

    The discs (centres on a circle of radius 0.35) overlap, so many points have
    two or three labels, some none. Returns X (n, 2) and Y (n, k) of 0/1.
    """
    n, noise, rng = _start(n, noise, seed, "multilabel")
    k = check_positive_int(k, "multilabel: k", minimum=2)
    radius = check_number(radius, "multilabel: radius", low=0.0, low_open=True)
    angle = 2 * np.pi * np.arange(k) / k + np.pi / 2
    centres = 0.35 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    X = rng.uniform(-1, 1, size=(n, 2))
    Y = (np.linalg.norm(X[:, None, :] - centres[None], axis=2) < radius).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), Y


def codebook(n=10000, *, n_classes=10000, dim=32, noise=0.1, seed=0, classes_seed=0, balanced=True):
    """Very many classes: class c has a fixed random unit vector (its code); an example is
    its class's code plus Gaussian noise (std noise per coordinate).

    classes_seed fixes the codes, so a training and a test set made with different
    seeds share their classes. balanced=True gives every class the same number of
    examples (n must be a multiple of n_classes); otherwise classes are drawn at random.
    """
    n, noise, rng = _start(n, noise, seed, "codebook")
    n_classes = check_positive_int(n_classes, "codebook: n_classes", minimum=2)
    dim = check_positive_int(dim, "codebook: dim")
    codes = as_generator(classes_seed, "codebook: classes_seed").standard_normal((n_classes, dim))
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    if balanced:
        if n % n_classes:
            raise ValueError(f"codebook: balanced=True needs n to be a multiple of n_classes={n_classes}, got n={n}")
        y = np.repeat(np.arange(n_classes), n // n_classes)
        rng.shuffle(y)
    else:
        y = rng.integers(0, n_classes, size=n)
    return codes[y] + noise * rng.standard_normal((n, dim)), y.astype(np.int64)


DATASETS = {
    "linear": linear, "plane": plane, "xor": xor, "circles": circles,
    "blobs": blobs, "moons": moons, "spirals": spirals,
}


def train_test_split(X, y, *, test_size=0.25, seed=0, stratify=False):
    """Shuffle and split into (X_train, X_test, y_train, y_test).

    test_size: a fraction in (0, 1) or a number of examples. stratify=True keeps
    each class's share equal in both parts (y must be labels).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"train_test_split: X has {n} examples but y has {y.shape[0]}")
    if isinstance(test_size, numbers.Real) and not isinstance(test_size, (numbers.Integral, bool)):
        check_number(test_size, "train_test_split: test_size", low=0.0, high=1.0, low_open=True, high_open=True)
        frac = test_size
        n_test = int(round(test_size * n))
    else:
        n_test = check_positive_int(test_size, "train_test_split: test_size")
        frac = n_test / n
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} leaves {n_test} of {n} examples for testing; "
                         "both parts need at least one")
    rng = as_generator(seed, "train_test_split: seed")
    if stratify:
        test_idx = []
        for label in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == label))
            test_idx.append(members[:int(round(frac * len(members)))])
        test_mask = np.zeros(n, dtype=bool)
        test_mask[np.concatenate(test_idx)] = True
        train_idx = rng.permutation(np.flatnonzero(~test_mask))
        test_idx = rng.permutation(np.flatnonzero(test_mask))
    else:
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def k_fold(n, k=5, *, seed=0):
    """Split range(n) into k folds: a list of k pairs (train_idx, val_idx).

    The indices are shuffled once; each example lands in exactly one validation
    fold, and fold sizes differ by at most one.
    """
    n = check_positive_int(n, "k_fold: n")
    k = check_positive_int(k, "k_fold: k", minimum=2)
    if k > n:
        raise ValueError(f"k_fold: k={k} folds need at least {k} examples, got n={n}")
    order = as_generator(seed, "k_fold: seed").permutation(n)
    folds = np.array_split(order, k)
    return [(np.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]


def one_hot(y, num_classes=None, dtype=np.float64):
    """Integer labels (n,) -> rows (n, num_classes) with a single 1 at the label."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot: labels must be 1-D, got shape {y.shape}")
    if y.dtype.kind == "f" and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    num_classes = check_positive_int(num_classes, "one_hot: num_classes")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        bad = y[(y < 0) | (y >= num_classes)][0]
        raise ValueError(f"one_hot: label {bad} is out of range for {num_classes} classes (expected 0..{num_classes - 1})")
    out = np.zeros((y.shape[0], num_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out


class Standardizer:
    """Shift and scale features to mean 0, std 1, using statistics of the training data only."""

    def __init__(self):
        self.mean = None
        self.std = None

    def fit(self, X):
        X = as_float_array(X, "Standardizer.fit: X", ndim=2)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)   # a constant feature is left at 0, not divided by 0
        return self

    def transform(self, X):
        if self.mean is None:
            raise RuntimeError("Standardizer: call fit(X_train) before transform")
        X = as_float_array(X, "Standardizer.transform: X", ndim=2)
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"Standardizer.transform: X has {X.shape[1]} features, fitted on {self.mean.shape[0]}")
        return (X - self.mean) / self.std

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        return np.asarray(Z) * self.std + self.mean


def standardize(X_train, *others):
    """Standardize X_train with its own mean/std and apply the same to the others.

    standardize(X) -> Z;  standardize(X_train, X_test) -> (Z_train, Z_test).
    """
    s = Standardizer().fit(X_train)
    out = [s.transform(X_train)] + [s.transform(X) for X in others]
    return out[0] if not others else tuple(out)

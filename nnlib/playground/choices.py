"""What the playground offers to choose, as in the TensorFlow Playground, and the check of a choice.

The data sets and how their points are made (``make_data``), the seven input features
(``feature_matrix``), the activations, learning and regularization rates, optimizers and
losses, the network's limits, the ``DEFAULTS``, which settings make new data or a new
network, the ``PRESETS`` for the course's lessons, and ``check_settings``, which refuses a
bad setting by name. Plain numpy: nothing here draws.
"""
from __future__ import annotations

import numpy as np

from ..layers import Identity, ReLU, Sigmoid, Tanh
from ..optim import SGD, Adam, Momentum

__all__ = ["DEFAULTS", "PRESETS", "FEATURES", "DATASETS", "make_data", "feature_matrix", "check_settings"]


# --- the choices, as in the TensorFlow Playground -----------------------------------------
DOMAIN = 6.0                  # points live in [-6, 6]^2
N_POINTS = 500
DATASETS = {"classification": ["circle", "xor", "gauss", "spiral"],
            "regression": ["plane", "multi gaussian"]}
MULTICLASS = ("gauss", "spiral")           # the data sets that can have more than two classes
FEATURES = {                                # name -> function of x1, x2
    "x1": lambda a, b: a, "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a, "x2^2": lambda a, b: b * b, "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a), "sin(x2)": lambda a, b: np.sin(b),
}
ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "linear": Identity}
LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REG_RATES = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
OPTIMIZERS = {"SGD": SGD, "momentum": Momentum, "Adam": Adam}
LOSSES = ("squared error", "cross-entropy")
MAX_LAYERS, MAX_NEURONS = 6, 8

DEFAULTS = {
    "problem": "classification", "dataset": "circle", "classes": 2, "noise": 0, "train_percent": 50,
    "batch_size": 10, "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh",
    "learning_rate": 0.03, "regularization": "none", "reg_rate": 0.0, "loss": "squared error",
    "optimizer": "SGD", "dropout": 0.0, "batch_norm": False, "seed": 0, "data_seed": 0,
    "show_test": False, "discretize": False,
}
# Changing these makes new data (and a new network); the next group only a new network;
# the rest apply at once, without a reset (as in the TensorFlow Playground).
DATA_KEYS = {"problem", "dataset", "classes", "noise", "train_percent", "data_seed"}
NETWORK_KEYS = {"features", "hidden", "activation", "loss", "optimizer", "dropout", "batch_norm", "seed"}

PRESETS = {   # name -> (settings on top of DEFAULTS, the lesson in one line); tests/test_playground.py runs each
    "XOR needs a hidden layer": (
        {"dataset": "xor", "hidden": []},
        "No hidden layer: the border is a straight line and XOR stays at chance. "
        "Add a layer with + (or tick x\u2081x\u2082) and train again."),
    "vanishing gradients": (
        {"dataset": "circle", "hidden": [8, 8, 8, 8, 8, 8], "activation": "sigmoid"},
        "Six sigmoid layers: in the gradient view the first layer's gradient is far smaller than the last's, "
        "so the first layers hardly learn. Switch to relu and train again."),
    "dead ReLU": (
        {"dataset": "circle", "hidden": [8, 8, 8], "activation": "relu", "learning_rate": 1.0,
         "loss": "cross-entropy"},
        "A learning rate of 1 throws many ReLU units below zero for every point: they output 0, get no "
        "gradient, and their weights stop moving (right-hand view; the left one says '0, no gradient' where "
        "no weight moves). With 0.03 far fewer die."),
    "overfitting and dropout": (
        {"dataset": "spiral", "noise": 30, "train_percent": 10, "hidden": [8, 8, 8], "activation": "relu",
         "learning_rate": 0.01, "optimizer": "Adam"},
        "50 noisy training points and a big network: the training loss keeps falling while the test loss "
        "climbs. Set dropout to 0.2, reset and train again: the gap shrinks."),
}


# --- data and features -----------------------------------------------------------------------
def make_data(dataset, n=N_POINTS, *, noise=0, classes=2, seed=0):
    """The points of one data set in [-6, 6]^2.

    noise: 0-50, in percent as in the TensorFlow Playground (the points' jitter
    is noise/200 of the data's radius, a quarter of that for the spiral, whose arms
    are close; for regression noise/200 on the target).
    Returns X of shape (n, 2) and y: integer labels (n,) for the classification
    sets, targets in [-1, 1] of shape (n,) for regression.
    """
    from .. import data

    rng = np.random.default_rng(seed)
    jitter = noise / 200.0
    scale = DOMAIN - 1.0
    if dataset == "circle":
        X, y = data.circles(n, noise=jitter, factor=0.5, seed=rng)
    elif dataset == "xor":
        X, y = data.xor(n, noise=jitter, seed=rng)
    elif dataset == "spiral":
        # 1.75 turns per arm and a jitter of at most noise/100 of the domain's units, as the TensorFlow
        # Playground's spiral: the hard data set, which x1 and x2 with a few neurons cannot fit.
        X, y = data.spirals(n, k=classes, noise=jitter / 4, turns=1.75, seed=rng)
    elif dataset == "gauss":
        angle = np.pi / 4 + 2 * np.pi * np.arange(classes) / classes
        centers = 0.45 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
        X, y = data.blobs(n, centers=centers, spread=0.12 + 2 * jitter, seed=rng)
    elif dataset == "plane":
        X, y = data.plane(n, noise=jitter, seed=rng)
        return X * DOMAIN, y
    elif dataset == "multi gaussian":
        X = rng.uniform(-DOMAIN, DOMAIN, size=(n, 2))
        bumps = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]
        y = sum(s * np.exp(-((X[:, 0] - cx) ** 2 + (X[:, 1] - cy) ** 2) / 2.0) for cx, cy, s in bumps)
        return X, y + jitter * rng.standard_normal(n)
    else:
        raise ValueError(f"Playground: unknown data set {dataset!r}; choose one of {sum(DATASETS.values(), [])}")
    return X * scale, y


def feature_matrix(X, features):
    """The chosen input features of points X (n, 2): an array of shape (n, len(features))."""
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([FEATURES[name](x1, x2) for name in features])


# --- the check of a whole set of settings ----------------------------------------------------
def check_settings(s):
    """Refuse a bad setting by name: TypeError for a wrong type, ValueError for a wrong value.

    s is a whole dictionary of settings (as ``DEFAULTS``); a good one is tidied in place: its
    features in the Playground's order, and regression's loss always squared error.
    """
    def bad(key, what):
        raise ValueError(f"Playground: {key} must be {what}, got {s[key]!r}")

    for key in ("classes", "noise", "train_percent", "batch_size", "learning_rate", "reg_rate", "dropout",
                "seed", "data_seed"):
        if isinstance(s[key], bool) or not isinstance(s[key], (int, float, np.integer, np.floating)):
            raise TypeError(f"Playground: {key} must be a number, got {type(s[key]).__name__} {s[key]!r}")
    for key in ("features", "hidden"):
        if not isinstance(s[key], list):
            raise TypeError(f"Playground: {key} must be a list, got {type(s[key]).__name__} {s[key]!r}")

    if s["problem"] not in DATASETS:
        bad("problem", f"one of {list(DATASETS)}")
    if s["dataset"] not in DATASETS[s["problem"]]:
        bad("dataset", f"one of {DATASETS[s['problem']]} for {s['problem']}")
    if not isinstance(s["classes"], (int, np.integer)) or not 2 <= s["classes"] <= 6:
        bad("classes", "an integer from 2 to 6")
    if not 0 <= s["noise"] <= 50:
        bad("noise", "from 0 to 50 (percent)")
    if not 10 <= s["train_percent"] <= 90:
        bad("train_percent", "from 10 to 90")
    if not isinstance(s["batch_size"], (int, np.integer)) or not 1 <= s["batch_size"] <= 30:
        bad("batch_size", "an integer from 1 to 30")
    if not s["features"] or any(f not in FEATURES for f in s["features"]) \
            or len(set(s["features"])) != len(s["features"]):
        bad("features", f"a non-empty list of distinct names from {list(FEATURES)}")
    s["features"] = [f for f in FEATURES if f in s["features"]]           # the Playground's order
    if len(s["hidden"]) > MAX_LAYERS or any(not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_NEURONS
                                            for n in s["hidden"]):
        bad("hidden", f"a list of at most {MAX_LAYERS} layer widths from 1 to {MAX_NEURONS}")
    if s["activation"] not in ACTIVATIONS:
        bad("activation", f"one of {list(ACTIVATIONS)}")
    if not s["learning_rate"] > 0:
        bad("learning_rate", "a positive number")
    if s["regularization"] not in ("none", "L1", "L2"):
        bad("regularization", "'none', 'L1' or 'L2'")
    if not s["reg_rate"] >= 0:
        bad("reg_rate", "a number >= 0")
    if s["loss"] not in LOSSES or (s["problem"] == "regression" and s["loss"] != "squared error"):
        if s["problem"] == "regression" and s["loss"] in LOSSES:
            s["loss"] = "squared error"          # regression always trains with squared error
        else:
            bad("loss", f"one of {list(LOSSES)}")
    if s["optimizer"] not in OPTIMIZERS:
        bad("optimizer", f"one of {list(OPTIMIZERS)}")
    if not 0 <= s["dropout"] < 1:
        bad("dropout", "a rate from 0 to below 1")
    for key in ("seed", "data_seed"):
        if not isinstance(s[key], (int, np.integer)) or s[key] < 0:
            bad(key, "a non-negative integer")

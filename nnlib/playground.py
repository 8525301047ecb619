"""The playground: the TensorFlow Playground rebuilt on nnlib, as an ipywidgets app.

    from nnlib.widgets import Playground
    pg = Playground()            # circle data, features x1 and x2, two tanh layers of 4 and 2
    pg                           # in Jupyter: the app (play, step, reset, every setting)
    pg.step(10)                  # or drive it from code: ten epochs
    pg.set(activation="relu", hidden=[8, 8, 8])
    state = pg.state_dict()      # everything, as a dictionary of plain lists and numbers
    print(pg.to_code())          # the trained network as nnlib code with its weights

What it does, as the TensorFlow Playground does: points in the plane ([-6, 6]^2),
seven input features computed from them (x1, x2, x1^2, x2^2, x1*x2, sin x1,
sin x2), a network of 0-6 hidden layers of 1-8 neurons, and a picture of it all
that changes while it trains. One *epoch* is one pass over the training points
in mini-batches, one optimizer step per batch; in play mode the app runs an
epoch and redraws, again and again. Beyond the Playground: more than two
classes (softmax and cross-entropy), SGD / momentum / Adam, dropout, batch
normalization, gradient norms and dead units per layer, presets for the
course's lessons, and export.

The class is a state machine you can test without a browser: every button and
slider calls one of ``set``, ``step``, ``reset``, ``regenerate``, ``play``,
``pause`` and ``load_preset``; the widgets only mirror ``settings``.
"""
from __future__ import annotations

import asyncio
import struct
import time
import zlib

import numpy as np

from .activations import sigmoid, softmax
from .diagnostics import Monitor, activation_stats, dead_units
from .layers import BatchNorm, Dense, Dropout, Identity, ReLU, Sigmoid, Tanh
from .losses import MSE, BinaryCrossEntropy, CrossEntropy
from .model import Sequential
from .optim import SGD, Adam, Momentum

__all__ = ["Playground", "DEFAULTS", "PRESETS", "FEATURES", "DATASETS", "make_data", "feature_matrix"]

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
        "gradient and stay dead (right-hand view). With 0.03 they stay alive."),
    "overfitting and dropout": (
        {"dataset": "spiral", "noise": 30, "train_percent": 10, "hidden": [8, 8, 8], "activation": "relu",
         "learning_rate": 0.01, "optimizer": "Adam"},
        "50 noisy training points and a big network: the training loss goes to 0 while the test loss stays "
        "high. Set dropout to 0.2, reset and train again: the gap shrinks."),
}


# --- data and features -----------------------------------------------------------------------
def make_data(dataset, n=N_POINTS, *, noise=0, classes=2, seed=0):
    """The points of one data set in [-6, 6]^2.

    noise: 0-50, in percent as in the TensorFlow Playground (the points' jitter
    is noise/200 of the data's radius; for regression noise/200 on the target).
    Returns X of shape (n, 2) and y: integer labels (n,) for the classification
    sets, targets in [-1, 1] of shape (n,) for regression.
    """
    from . import data

    rng = np.random.default_rng(seed)
    jitter = noise / 200.0
    scale = DOMAIN - 1.0
    if dataset == "circle":
        X, y = data.circles(n, noise=jitter, factor=0.5, seed=rng)
    elif dataset == "xor":
        X, y = data.xor(n, noise=jitter, seed=rng)
    elif dataset == "spiral":
        X, y = data.spirals(n, k=classes, noise=jitter, turns=0.75, seed=rng)
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


# --- the app ---------------------------------------------------------------------------------
class Playground:
    """The TensorFlow Playground on nnlib: ``Playground(**settings)``; see the module docstring.

    settings (all optional; ``DEFAULTS`` lists them): problem ("classification" or
    "regression"), dataset, classes (2-6, for gauss and spiral), noise (0-50),
    train_percent (10-90), batch_size (1-30), features (names from ``FEATURES``),
    hidden (list of 0-6 layer widths, 1-8 each), activation, learning_rate,
    regularization ("none", "L1", "L2"), reg_rate, loss ("squared error" as the
    Playground, or "cross-entropy"), optimizer ("SGD", "momentum", "Adam"),
    dropout (0-0.9), batch_norm, seed (weights), data_seed, show_test, discretize.
    """

    def __init__(self, *, grid=50, **settings):
        self.grid = int(grid)
        self.settings = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULTS.items()}
        self.playing = False
        self.message = ""
        self.preset_note = ""
        self.frame_times = []          # seconds per step + redraw, for the benchmark
        self._task = None
        self._ui = None
        self.set(**settings, _init=True)

    # --- settings ------------------------------------------------------------------------
    def set(self, _init=False, **changes):
        """Change settings. New data or a new network (epoch 0) where needed, as the Playground does."""
        s = dict(self.settings)
        for key, value in changes.items():
            if key not in DEFAULTS:
                raise ValueError(f"Playground: unknown setting {key!r}; the settings are {sorted(DEFAULTS)}")
            s[key] = list(value) if key in ("features", "hidden") and isinstance(value, (list, tuple)) else value
        if "problem" in changes and "dataset" not in changes and s["dataset"] not in DATASETS[s["problem"]]:
            s["dataset"] = DATASETS[s["problem"]][0]
        if "dataset" in changes and "problem" not in changes:
            for problem, names in DATASETS.items():      # choosing a data set chooses its problem type
                if s["dataset"] in names:
                    s["problem"] = problem
        self._check(s)
        changed = {k for k in s if s[k] != self.settings.get(k)}
        self.settings = s
        if _init or changed & DATA_KEYS:
            self._make_data()
        if _init or changed & (DATA_KEYS | NETWORK_KEYS):
            self.reset(redraw=False)
        else:
            self.optimizer.lr = float(s["learning_rate"])
        self.redraw()
        return self

    @staticmethod
    def _check(s):
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

    @property
    def classes(self):
        """Number of classes of the current data (1 for regression)."""
        s = self.settings
        if s["problem"] == "regression":
            return 1
        return s["classes"] if s["dataset"] in MULTICLASS else 2

    # --- data -----------------------------------------------------------------------------
    def _make_data(self):
        s = self.settings
        X, y = make_data(s["dataset"], noise=s["noise"], classes=s["classes"], seed=s["data_seed"])
        n_train = int(round(len(X) * s["train_percent"] / 100))
        order = np.random.default_rng(s["data_seed"] + 1).permutation(len(X))
        self.X_train, self.y_train = X[order[:n_train]], y[order[:n_train]]
        self.X_test, self.y_test = X[order[n_train:]], y[order[n_train:]]
        g = np.linspace(-DOMAIN, DOMAIN, self.grid)
        gx, gy = np.meshgrid(g, g)                       # row i is x2 = g[i], going up
        self.grid_points = np.column_stack([gx.ravel(), gy.ravel()])

    def regenerate(self):
        """New points from the same data set (the Playground's "Regenerate"): a new data seed."""
        return self.set(data_seed=self.settings["data_seed"] + 1)

    def _targets(self, y):
        """y as the loss wants it: +-1 for squared error (tanh output), labels for cross-entropy."""
        s, k = self.settings, self.classes
        if s["problem"] == "regression":
            return y.reshape(-1, 1)
        if s["loss"] == "cross-entropy":
            return y.reshape(-1, 1).astype(float) if k == 2 else y
        if k == 2:
            return (2.0 * y - 1.0).reshape(-1, 1)
        return 2.0 * np.eye(k)[y] - 1.0

    # --- the network ----------------------------------------------------------------------
    def reset(self, redraw=True):
        """New weights (from the seed), epoch 0, paused: the Playground's reset button."""
        s = self.settings
        self.pause()
        rng = np.random.default_rng(s["seed"])
        act = ACTIVATIONS[s["activation"]]
        widths = [len(s["features"])] + list(s["hidden"])
        layers = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(Dense(n_in, n_out, init="he" if s["activation"] == "relu" else "xavier", rng=rng))
            if s["batch_norm"]:
                layers.append(BatchNorm(n_out))
            layers.append(act())
            if s["dropout"]:
                layers.append(Dropout(s["dropout"], rng=np.random.default_rng([s["seed"], 2, i])))
        k = self.classes
        layers.append(Dense(widths[-1], 1 if k <= 2 else k, rng=rng))
        squared = s["loss"] == "squared error"
        if squared and s["problem"] == "classification":
            layers.append(Tanh())                     # the Playground's output: tanh against +-1 targets
        self.model = Sequential(layers)
        self.loss = MSE() if squared else (BinaryCrossEntropy() if k == 2 else CrossEntropy())
        self.optimizer = OPTIMIZERS[s["optimizer"]](float(s["learning_rate"]))
        self.rng = np.random.default_rng([s["seed"], 1])     # batch order
        self.F_train = feature_matrix(self.X_train, s["features"])
        self.F_test = feature_matrix(self.X_test, s["features"])
        self.F_grid = feature_matrix(self.grid_points, s["features"])
        self.T_train, self.T_test = self._targets(self.y_train), self._targets(self.y_test)
        self.epoch = 0
        self.history = {"train_loss": [], "test_loss": []}
        self.monitor = Monitor(self.F_train)         # gradient norms per layer, dead units (nnlib.diagnostics)
        self.monitor.on_train_begin(self.model)
        self.grad_norms = np.zeros(len(self.dense_layers))
        self.message = ""
        self._measure()
        if redraw:
            self.redraw()
        return self

    @property
    def dense_layers(self):
        return [layer for layer in self.model.layers if isinstance(layer, Dense)]

    def _activation_layers(self):
        """Indices in model.layers of the hidden layers' activations (one per hidden layer)."""
        act = ACTIVATIONS[self.settings["activation"]]
        idx = [i for i, layer in enumerate(self.model.layers) if type(layer) is act]
        return idx[:len(self.settings["hidden"])]

    # --- training -------------------------------------------------------------------------
    def _penalty(self):
        """Add the regularization's gradient to the weights' gradients (weights only, not biases)."""
        s = self.settings
        if s["regularization"] == "none" or not s["reg_rate"]:
            return
        rate = float(s["reg_rate"])
        for layer in self.dense_layers:
            if s["regularization"] == "L2":
                layer.grads["W"] += rate * layer.W           # d/dW of rate/2 * sum W^2
            else:
                layer.grads["W"] += rate * np.sign(layer.W)  # d/dW of rate * sum |W|

    def train_epoch(self):
        """One pass over the training points in shuffled mini-batches, one optimizer step each."""
        model, loss, bs = self.model, self.loss, int(self.settings["batch_size"])
        params, grads = model.parameters(), model.gradients()
        order = self.rng.permutation(len(self.F_train))
        for batch, start in enumerate(range(0, len(order), bs)):
            idx = order[start:start + bs]
            out = model.forward(self.F_train[idx], training=True)
            loss.forward(out, self.T_train[idx])
            model.backward(loss.backward(), need_input_grad=False)
            self.monitor.on_batch_end(model, self.epoch, batch)      # reads ||dL/dW|| before the penalty
            self._penalty()
            self.optimizer.step(params, grads)
        self.epoch += 1
        self._measure()
        self.monitor.on_epoch_end(model, self.epoch, {"loss": self.train_loss})
        self.grad_norms = self.monitor.grad_norms[-1]      # mean over the epoch's batches of ||dL/dW||

    def _measure(self):
        """Training and test loss (without the penalty), logged once per epoch."""
        out = self.model.forward(self.F_train)
        self.train_loss = self.loss.forward(out, self.T_train)
        self.test_loss = self.loss.forward(self.model.forward(self.F_test), self.T_test)
        self.history["train_loss"].append(self.train_loss)
        self.history["test_loss"].append(self.test_loss)
        if not (np.isfinite(self.train_loss) and np.isfinite(self.test_loss)):
            self.message = (f"The loss became {self.train_loss} at epoch {self.epoch}: the learning rate is too "
                            f"high for this network. Lower it and press reset.")
            self.pause()

    def step(self, epochs=1):
        """Train for some epochs (default 1, the step button), then redraw."""
        t0 = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):     # a diverging run is reported in self.message
            for _ in range(int(epochs)):
                if self.message:
                    break
                self.train_epoch()
            self.redraw()
        self.frame_times.append(time.perf_counter() - t0)
        if len(self.frame_times) > 5000:
            del self.frame_times[:2500]
        return self

    # --- what the pictures and the diagnostics show -----------------------------------------
    def predict(self, X):
        """The network's output for points X (n, 2) (logits, or tanh outputs for squared error)."""
        return self.model.forward(feature_matrix(np.asarray(X, dtype=float), self.settings["features"]))

    def output_values(self, out):
        """The output as a number in [-1, 1] per point (class 1 is +1) or, for several classes, (class, confidence)."""
        s, k = self.settings, self.classes
        if k > 2:
            p = softmax(out, axis=1) if s["loss"] == "cross-entropy" else softmax(4.0 * out, axis=1)
            return p.argmax(axis=1), p.max(axis=1)
        out = out.reshape(-1)
        if s["problem"] == "classification" and s["loss"] == "cross-entropy":
            return 2.0 * sigmoid(out) - 1.0
        return out

    def accuracy(self, test=True):
        """Fraction of points classified right (classification only)."""
        F, y = (self.F_test, self.y_test) if test else (self.F_train, self.y_train)
        values = self.output_values(self.model.forward(F))
        pred = values[0] if self.classes > 2 else (values > 0).astype(int)
        return float(np.mean(pred == y))

    def hidden_outputs(self, F):
        """Each hidden layer's output (after its activation) for inputs F: a list of (n, width) arrays."""
        keep, outs, h = set(self._activation_layers()), [], F
        for i, layer in enumerate(self.model.layers):
            h = layer.forward(h)
            if i in keep:
                outs.append(h)
        return outs, h

    def dead_fraction(self):
        """Per hidden layer, the fraction of its ReLU units that are dead on the training points.

        A dead unit's weighted sum is <= 0 for all of them: it outputs 0 and gets no
        gradient, so it never recovers (``nnlib.diagnostics.dead_units``). 0 for other activations.
        """
        if self.settings["activation"] != "relu":
            return [0.0] * len(self.settings["hidden"])
        if self.monitor.epochs and self.monitor.epochs[-1] == self.epoch:      # measured after this epoch
            return [float(v) for v in self.monitor.dead_per_layer[-1]]
        return [float(d.mean()) for d in dead_units(self.model, self.F_train)]

    def saturation(self):
        """Per hidden layer, the fraction of (point, unit) pairs where the activation's slope is below
        1% of its largest value (``nnlib.diagnostics.activation_stats``): sigmoid and tanh saturate there."""
        n = len(self.settings["hidden"])
        if self.monitor.epochs and self.monitor.epochs[-1] == self.epoch:
            return [float(v) for v in self.monitor.saturation[-1][:n]]
        return [float(v) for v in activation_stats(self.model, self.F_train)["saturation"][:n]]

    def plot_output(self, ax=None, *, title=None, show_test=None):
        """A static matplotlib figure of the output over the plane with the data (for readers without a kernel)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4, 4))
        pictures = _Pictures.__new__(_Pictures)       # only its colour rules, no figures
        pictures.pg = self
        with np.errstate(over="ignore", invalid="ignore"):
            _, out = self.hidden_outputs(self.F_grid)
        rgb = pictures._surface_rgb(out).reshape(self.grid, self.grid, 3)
        ax.imshow(rgb, origin="lower", extent=(-DOMAIN, DOMAIN, -DOMAIN, DOMAIN), interpolation="bilinear")
        test = self.settings["show_test"] if show_test is None else show_test
        sets = [(self.X_train, self.y_train, "white")] + ([(self.X_test, self.y_test, "black")] if test else [])
        for X, y, edge in sets:
            ax.scatter(X[:, 0], X[:, 1], c=pictures._point_colors(y), edgecolors=edge, s=12, linewidths=0.5)
        ax.set_xlim(-DOMAIN, DOMAIN)
        ax.set_ylim(-DOMAIN, DOMAIN)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_title(title or f"Epoch {self.epoch}: test loss {self.test_loss:.3f}")
        return ax

    # --- export and the whole state --------------------------------------------------------
    def to_code(self):
        """Python source that rebuilds the trained network with nnlib, its weights included."""
        s = self.settings
        names = {Dense: None, ReLU: "ReLU", Tanh: "Tanh", Sigmoid: "Sigmoid", Identity: "Identity"}
        imports, lines, values = {"Sequential", "Dense"}, [], []
        for layer in self.model.layers:
            kind = type(layer).__name__
            if isinstance(layer, Dense):
                lines.append(f"Dense({layer.in_features}, {layer.out_features}),")
            elif isinstance(layer, BatchNorm):
                imports.add("BatchNorm")
                lines.append(f"BatchNorm({layer.num_features}),")
            elif isinstance(layer, Dropout):
                imports.add("Dropout")
                lines.append(f"Dropout({layer.rate}),")
            else:
                imports.add(names.get(type(layer)) or kind)
                lines.append(f"{kind}(),")
            if layer.params or _buffers(layer):
                values.append(f"    {{  # {layer!r}")
                for name, array in {**layer.params, **_buffers(layer)}.items():
                    if array.ndim == 2:            # one row of W per line; repr keeps every float exact
                        values += [f"        {name!r}: ["] + [f"            {row!r}," for row in array.tolist()]
                        values.append("        ],")
                    else:
                        values.append(f"        {name!r}: {array.tolist()!r},")
                values.append("    },")
        feats = ", ".join(repr(f) for f in s["features"])
        cols = ", ".join(_FEATURE_CODE[f] for f in s["features"])
        out = ("logits" if s["loss"] == "cross-entropy" else "tanh outputs: class 1 where > 0") \
            if s["problem"] == "classification" else "predicted targets"
        return "\n".join([
            f"# Trained in nnlib's playground: {s['dataset']} data, features {feats}, hidden layers "
            f"{s['hidden']}, {s['activation']}, {s['optimizer']}, epoch {self.epoch}.",
            "import numpy as np",
            f"from nnlib import {', '.join(sorted(imports))}",
            "",
            "",
            "def features(X):",
            "    \"\"\"The network's inputs for points X of shape (n, 2).\"\"\"",
            "    x1, x2 = X[:, 0], X[:, 1]",
            f"    return np.column_stack([{cols}])",
            "",
            "",
            "model = Sequential([",
            *("    " + line for line in lines),
            "])",
            "values = [   # parameters (and batch-norm statistics) of each layer that has them, in order",
            *values,
            "]",
            "for layer, arrays in zip([l for l in model.layers if l.params], values):",
            "    for name, value in arrays.items():",
            "        target = layer.params[name] if name in layer.params else getattr(layer, name)",
            "        target[...] = np.array(value)",
            f"# model.predict(features(X)) gives the {out}.",
        ]) + "\n"

    def state_dict(self):
        """Everything needed to carry on exactly where this playground is, as plain Python data (JSON-ready)."""
        opt = self.optimizer
        opt_state = {name: [a.tolist() for a in getattr(opt, name)] for name in opt.state} if opt.t else {}
        return {
            "version": 1,
            "settings": {k: (list(v) if isinstance(v, list) else v) for k, v in self.settings.items()},
            "epoch": self.epoch,
            "history": {k: list(v) for k, v in self.history.items()},
            "layers": [{**{k: v.tolist() for k, v in layer.params.items()},
                        **{k: v.tolist() for k, v in _buffers(layer).items()}} for layer in self.model.layers],
            "optimizer": {"t": opt.t, "state": opt_state},
            "rng": self.rng.bit_generator.state,
            "layer_rngs": [_rng_of(layer).bit_generator.state if _rng_of(layer) else None
                           for layer in self.model.layers],
        }

    def load_state_dict(self, state):
        """Restore a state from ``state_dict()``: settings, weights, optimizer, history, random state."""
        if not isinstance(state, dict) or state.get("version") != 1:
            raise ValueError("Playground.load_state_dict: expected a dictionary made by state_dict() (version 1)")
        self.set(**state["settings"])
        if len(state["layers"]) != len(self.model.layers):
            raise ValueError(f"Playground.load_state_dict: the state has {len(state['layers'])} layers, "
                             f"its settings build {len(self.model.layers)}")
        self.pause()
        s, saved = self.settings, state["optimizer"]
        self.optimizer = OPTIMIZERS[s["optimizer"]](float(s["learning_rate"]))
        if saved["t"]:
            # A fresh optimizer's step with zero gradients leaves the parameters as they are and
            # makes its state arrays, which then take the saved values.
            for g in self.model.gradients():
                g[...] = 0.0
            self.optimizer.step(self.model.parameters(), self.model.gradients())
            for name, arrays in saved["state"].items():
                for target, value in zip(getattr(self.optimizer, name), arrays):
                    target[...] = np.asarray(value)
            self.optimizer.t = saved["t"]
        for layer, arrays in zip(self.model.layers, state["layers"]):
            for name, value in arrays.items():
                target = layer.params[name] if name in layer.params else getattr(layer, name)
                target[...] = np.asarray(value)
        self.rng.bit_generator.state = state["rng"]
        for layer, rng_state in zip(self.model.layers, state.get("layer_rngs", [])):
            if rng_state is not None:
                _rng_of(layer).bit_generator.state = rng_state
        self.epoch = state["epoch"]
        self.message = ""
        self.monitor = Monitor(self.F_train)
        self.monitor.on_train_begin(self.model)
        self.grad_norms = np.zeros(len(self.dense_layers))
        self._measure()
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.redraw()
        return self

    @classmethod
    def from_state(cls, state, **kwargs):
        """A new playground in the state a ``state_dict()`` describes."""
        pg = cls(**kwargs, **state["settings"])
        return pg.load_state_dict(state)

    def load_preset(self, name):
        """Settings that show one lesson of the course; returns its one-line explanation."""
        if name not in PRESETS:
            raise ValueError(f"Playground: unknown preset {name!r}; choose one of {list(PRESETS)}")
        changes, note = PRESETS[name]
        base = {k: v for k, v in DEFAULTS.items() if k not in ("show_test", "discretize")}
        self.preset_note = note
        self.set(**{**base, **changes})
        return note

    # --- play mode ------------------------------------------------------------------------
    def play(self):
        """Train and redraw epoch after epoch in the background until pause() (needs a running event loop,
        as in Jupyter)."""
        self.playing = True
        if self._task is None or self._task.done():
            try:
                self._task = asyncio.get_running_loop().create_task(self._play_loop())
            except RuntimeError:
                self.playing = False
                raise RuntimeError("Playground.play needs a running event loop (Jupyter has one); "
                                   "from a script call step(epochs) instead") from None
        self._update_play_button()

    def pause(self):
        self.playing = False
        self._update_play_button()

    def toggle(self):
        self.pause() if self.playing else self.play()

    async def _play_loop(self, max_frames=None, fps=30.0):
        """One epoch and a redraw per frame, at most fps frames a second; yields to the kernel between frames."""
        frames = 0
        try:
            while self.playing and (max_frames is None or frames < max_frames):
                t0 = time.perf_counter()
                self.step()
                frames += 1
                await asyncio.sleep(max(0.002, 1.0 / fps - (time.perf_counter() - t0)))
        except Exception as exc:                   # show it in the app instead of losing it in a task
            self.message = f"Training stopped: {type(exc).__name__}: {exc}"
            self.playing = False
            self.redraw()
        finally:
            if max_frames is not None:
                self.playing = False
            self._update_play_button()
        return frames

    # --- the user interface (built on first display) ------------------------------------------
    def redraw(self):
        if self._ui is not None:
            self._ui.redraw()

    def _update_play_button(self):
        if self._ui is not None:
            self._ui.update_play_button()

    @property
    def ui(self):
        """The ipywidgets box of the app (made on first use)."""
        if self._ui is None:
            self._ui = _PlaygroundUI(self)
            self._ui.redraw()
        return self._ui.box

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)


_FEATURE_CODE = {"x1": "x1", "x2": "x2", "x1^2": "x1 ** 2", "x2^2": "x2 ** 2", "x1*x2": "x1 * x2",
                 "sin(x1)": "np.sin(x1)", "sin(x2)": "np.sin(x2)"}


def _buffers(layer):
    """Arrays a layer keeps besides its parameters (batch norm's running statistics)."""
    return {k: v for k, v in vars(layer).items() if k.startswith("running_") and isinstance(v, np.ndarray)}


def _rng_of(layer):
    rng = getattr(layer, "rng", None)
    return rng if isinstance(rng, np.random.Generator) else None


# --- pictures -------------------------------------------------------------------------------
# Drawn with matplotlib's Agg canvas and sent to the browser as PNG bytes in ipywidgets.Image.
# The artists are made once per network shape and only updated per frame (set_data and friends),
# so a frame costs a few milliseconds of drawing.
_WHITE = np.array([255.0, 255.0, 255.0], dtype=np.float32)
_NEG = np.array([232.0, 116.0, 59.0])      # orange: negative, class 0 (plot.CLASS_COLORS[0])
_POS = np.array([31.0, 119.0, 180.0])      # blue: positive, class 1 (plot.CLASS_COLORS[1])
_DNEG, _DPOS = (_NEG - _WHITE).astype(np.float32), (_POS - _WHITE).astype(np.float32)
_LABELS = {"x1": "$x_1$", "x2": "$x_2$", "x1^2": "$x_1^2$", "x2^2": "$x_2^2$", "x1*x2": "$x_1 x_2$",
           "sin(x1)": r"$\sin x_1$", "sin(x2)": r"$\sin x_2$"}


def _diverging(v):
    """Values in [-1, 1] -> RGB uint8: orange below 0, white at 0, blue above."""
    t = np.clip(v, -1.0, 1.0, dtype=np.float32)[..., None]
    if not np.isfinite(t).all():
        t = np.nan_to_num(t)                             # a diverged network is drawn white
    rgb = np.where(t < 0, _WHITE - _DNEG * t, _WHITE + _DPOS * t)
    return rgb.astype(np.uint8)


SHADES = 32          # the output's colour steps (the TensorFlow Playground has 30): smaller, faster PNGs
_LEVELS = _diverging(np.linspace(-1.0, 1.0, SHADES))


def _class_rgb():
    from .plot import CLASS_COLORS

    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in CLASS_COLORS], dtype=float)


def _tint(color, strength):
    """White blended towards color (an RGB row, or one row per pixel) by strength in [0, 1]."""
    return (_WHITE + (color - _WHITE) * np.clip(strength, 0, 1)[..., None]).astype(np.uint8)


class _Blit:
    """A figure drawn once in full, then per frame only its animated artists over the saved background.

    This is matplotlib's blitting, on the Agg canvas: axes, ticks and labels cost most of a
    full draw and change rarely; invalidate() asks for a full draw when they do.
    """

    def __init__(self, fig):
        self.fig, self.artists, self.background, self.limits = fig, [], None, None

    def animate(self, *artists):
        for artist in artists:
            artist.set_animated(True)
            self.artists.append(artist)

    def reset(self):
        self.fig.clear()
        self.artists, self.background, self.limits = [], None, None

    def set_limits(self, key, apply):
        """Call apply() (which changes axis limits) and redraw in full only when key is new."""
        if key != self.limits:
            apply()
            self.limits, self.background = key, None

    def png(self, paint=None):
        """The figure as PNG bytes. paint(buffer) may write pixels into the (height, width, 4) buffer
        before the animated artists are drawn over it."""
        canvas = self.fig.canvas
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        buffer = np.asarray(canvas.buffer_rgba())
        if paint is not None:
            paint(buffer)
        for artist in self.artists:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return _encode_png(buffer)


def _encode_png(rgba):
    """RGBA uint8 (height, width, 4) -> PNG bytes: no row filters and zlib level 1, a few ms
    (Pillow's adaptive filters take four times as long; copying whole RGBA rows beats picking out RGB)."""
    h, w, _ = rgba.shape
    raw = np.zeros((h, 4 * w + 1), np.uint8)          # each row: filter byte 0, then the pixels
    raw[:, 1:].reshape(h, w, 4)[...] = rgba

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def _pixel_box(fig, ax, inset=1):
    """Rows and columns of the figure's pixel buffer inside ax (top row first), inset pixels inside the frame."""
    x0, y0, x1, y1 = ax.get_window_extent().extents
    height = int(round(fig.bbox.height))
    return (int(np.ceil(height - y1)) + inset, int(np.floor(height - y0)) - inset,
            int(np.ceil(x0)) + inset, int(np.floor(x1)) - inset)


def _resize_weights(n_out, n_in):
    """Indices and weights of linear interpolation from n_in to n_out samples: v[lo] * (1 - f) + v[hi] * f."""
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    return lo, np.minimum(lo + 1, n_in - 1), (pos - lo).astype(np.float32)


def _bilinear(img, rows, cols):
    """Resize an (h, w, 3) image with the weights of _resize_weights for its rows and columns.

    (Plain indexing, no matrix product: a BLAS call spends longer starting its threads on a busy machine.)
    """
    lo, hi, f = rows
    img = img[lo] * (1 - f)[:, None, None] + img[hi] * f[:, None, None]
    lo, hi, f = cols
    return img[:, lo] * (1 - f)[None, :, None] + img[:, hi] * f[None, :, None]


def _nice_ceiling(x):
    """The smallest of 1, 2, 5 times a power of ten that is >= x (for axis limits that rarely change)."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(x))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= x * (1 - 1e-12))


class _Pictures:
    """The three figures: output (loss curves and decision surface), network, diagnostics.

    The surface and the neurons' squares are numpy pixels painted straight into the figure's
    buffer; matplotlib draws the rest (axes once, points, lines and bars every frame).
    """

    SQUARE, PITCH, LEFT, TOP = 26, 33, 60, 46

    def __init__(self, pg, dpi=80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.pg = pg
        self.blits = {}
        for name, size in (("loss", (4.4, 1.9)), ("output", (4.4, 4.4)), ("network", (6.0, 4.4)),
                           ("diagnostics", (6.6, 2.5))):
            fig = Figure(figsize=size, dpi=dpi)
            FigureCanvasAgg(fig)
            self.blits[name] = _Blit(fig)
        self.shape_key = self.data_key = None

    # the output: the surface the network draws over the plane, and the loss curves
    def _surface_rgb(self, out):
        """(grid*grid, 3) colours of the output over the plane."""
        pg = self.pg
        values = pg.output_values(out)
        if pg.classes > 2:
            cls, conf = values
            k = pg.classes
            strength = np.full(conf.shape, 0.7) if pg.settings["discretize"] else 0.8 * (conf - 1 / k) / (1 - 1 / k)
            return _tint(_class_rgb()[cls], strength)
        return _diverging(np.where(values >= 0, 0.7, -0.7) if pg.settings["discretize"] else values)

    def _point_colors(self, y):
        pg = self.pg
        if pg.settings["problem"] == "regression":
            return _diverging(y) / 255.0
        return _class_rgb()[y] / 255.0 if pg.classes > 2 else np.where((y == 1)[:, None], _POS, _NEG) / 255.0

    def _setup_output(self):
        pg, blit = self.pg, self.blits["output"]
        blit.reset()
        fig = blit.fig
        ax = fig.add_axes([0.14, 0.1, 0.82, 0.82])
        kw = dict(s=14, linewidths=0.6)
        self.train_pts = ax.scatter(pg.X_train[:, 0], pg.X_train[:, 1], c=self._point_colors(pg.y_train),
                                    edgecolors="white", **kw)
        self.test_pts = ax.scatter(pg.X_test[:, 0], pg.X_test[:, 1], c=self._point_colors(pg.y_test),
                                   edgecolors="black", **kw)
        ax.set_xlim(-DOMAIN, DOMAIN)
        ax.set_ylim(-DOMAIN, DOMAIN)
        ax.set_xlabel("$x_1$", fontsize=9)
        ax.set_ylabel("$x_2$", fontsize=9)
        ax.set_title("Output over the plane, with the data", fontsize=10)
        ax.tick_params(labelsize=8)
        fig.canvas.draw()                      # fixes the axes' place, in pixels
        self.surface_box = r0, r1, c0, c1 = _pixel_box(fig, ax)
        lo, hi, f = _resize_weights(r1 - r0, pg.grid)
        self.rows = (lo[::-1], hi[::-1], f[::-1])              # top row of pixels is the largest x2
        self.cols = _resize_weights(c1 - c0, pg.grid)
        blit.animate(self.train_pts, self.test_pts)

    def _setup_loss(self):
        blit = self.blits["loss"]
        blit.reset()
        ax = blit.fig.add_axes([0.14, 0.25, 0.82, 0.62])
        self.train_line, = ax.plot([], [], color="#888888", lw=1.5, label="training")
        self.test_line, = ax.plot([], [], color="#222222", lw=1.5, label="test")
        ax.set_xlabel("epoch", fontsize=9)
        ax.set_ylabel("loss", fontsize=9)
        ax.set_title("Loss on the training and test points", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        ax.tick_params(labelsize=8)
        self.loss_ax = ax
        blit.animate(self.train_line, self.test_line)

    def draw_output(self, out_grid):
        pg, blit, n = self.pg, self.blits["output"], self.pg.grid
        r0, r1, c0, c1 = self.surface_box
        if pg.classes > 2:                    # class colours: interpolate the colours
            rgb = self._surface_rgb(out_grid).reshape(n, n, 3).astype(np.float32)
            surface = _bilinear(rgb, self.rows, self.cols)
        else:                                 # one number per point: interpolate it, then colour it
            values = pg.output_values(out_grid).reshape(n, n, 1).astype(np.float32)
            if pg.settings["discretize"]:
                values = np.where(values >= 0, 0.7, -0.7).astype(np.float32)
            level = _bilinear(np.nan_to_num(values), self.rows, self.cols)[..., 0]
            surface = _LEVELS[np.clip((level + 1.0) * (SHADES / 2), 0, SHADES - 1).astype(np.uint8)]
        self.test_pts.set_visible(bool(pg.settings["show_test"]))

        def paint(buffer):
            buffer[r0:r1, c0:c1, :3] = surface

        return blit.png(paint)

    def draw_loss(self):
        pg, blit = self.pg, self.blits["loss"]
        epochs = np.arange(len(pg.history["train_loss"]))
        train, test = np.asarray(pg.history["train_loss"]), np.asarray(pg.history["test_loss"])
        self.train_line.set_data(epochs, train)
        self.test_line.set_data(epochs, test)
        finite = np.concatenate([train, test])
        finite = finite[np.isfinite(finite)]
        right = max(10, int(2 ** np.ceil(np.log2(max(epochs[-1], 1)))))
        top = _nice_ceiling(float(finite.max()) if finite.size else 1.0)

        def limits():
            self.loss_ax.set_xlim(0, right)
            self.loss_ax.set_ylim(0, top)

        blit.set_limits((right, top), limits)
        return blit.png()

    # the network: every neuron's output over the plane, every weight a line
    def _columns(self):
        pg = self.pg
        return [len(pg.settings["features"])] + list(pg.settings["hidden"]) + [pg.dense_layers[-1].out_features]

    def _node_xy(self, i, j, n):
        """Top-left corner, in pixels of the network's axes, of neuron j of n in column i."""
        return (self.LEFT + i * self.column,
                self.top + self.TOP + int((self.rows_max - n) * self.PITCH / 2) + j * self.PITCH)

    def _setup_network(self):
        from matplotlib.collections import LineCollection

        pg, blit, cols, S = self.pg, self.blits["network"], self._columns(), self.SQUARE
        blit.reset()
        fig = blit.fig
        W, H = int(fig.bbox.width), int(fig.bbox.height)
        width, height = W - 8, H - 40                           # the axes, in whole pixels
        ax = fig.add_axes([4 / W, 4 / H, width / W, height / H])
        self.rows_max = max(cols)
        self.column = min(110, (width - self.LEFT - S - 8) // (len(cols) - 1))
        self.top = max(0, (height - self.TOP - self.rows_max * self.PITCH) // 3)    # centre short networks
        segments = []
        for layer_i, layer in enumerate(pg.dense_layers):
            n_in, n_out = layer.W.shape
            for a in range(n_in):
                xa, ya = self._node_xy(layer_i, a, n_in)
                for b in range(n_out):
                    xb, yb = self._node_xy(layer_i + 1, b, n_out)
                    segments.append([(xa + S, ya + S / 2), (xb, yb + S / 2)])
        self.lines = LineCollection(segments)
        ax.add_collection(self.lines)
        for j, name in enumerate(pg.settings["features"]):
            x, y = self._node_xy(0, j, cols[0])
            ax.text(x - 6, y + S / 2, _LABELS[name], ha="right", va="center", fontsize=9)
        heads = ["features"] + [f"layer {i + 1}\n{n} neuron{'s' * (n > 1)}" for i, n in enumerate(cols[1:-1])] \
            + ["output" if cols[-1] == 1 else f"output\n{cols[-1]} classes"]
        for i, head in enumerate(heads):
            ax.text(self.LEFT + i * self.column + S / 2, self.top + 4, head, ha="center", va="top", fontsize=8)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        fig.suptitle("The network: each square is a neuron's output over the plane,\n"
                     "each line a weight (width: its size; blue +, orange \u2212)", fontsize=9, y=0.985)
        self.net_origin = (H - 4 - height, 4)                   # buffer row and column of the axes' corner
        blit.animate(self.lines)

    def draw_network(self, hidden, out_grid):
        pg, S, n = self.pg, self.SQUARE, self.pg.grid
        idx = np.arange(S) * n // S
        cols = self._columns()

        def square(values):                  # (grid*grid,) or (grid*grid, 3) -> (S, S[, 3]), x2 upwards
            return values.reshape(n, n, *values.shape[1:])[idx][:, idx][::-1]

        F = pg.F_grid
        maps = [[_diverging(square(F[:, j]) / max(np.abs(F[:, j]).max(), 1e-12)) for j in range(F.shape[1])]]
        maps += [[_diverging(square(h[:, j])) for j in range(h.shape[1])] for h in hidden]
        if cols[-1] == 1:
            maps.append([square(self._surface_rgb(out_grid))])
        else:
            p = softmax(out_grid if pg.settings["loss"] == "cross-entropy" else 4.0 * out_grid, axis=1)
            colors = _class_rgb()
            maps.append([square(_tint(colors[c], p[:, c])) for c in range(cols[-1])])
        w = np.concatenate([layer.W.ravel() for layer in pg.dense_layers])
        self.lines.set_linewidths(0.3 + 1.2 * np.minimum(np.abs(np.nan_to_num(w)), 3.0))
        self.lines.set_colors(np.where((w >= 0)[:, None], _POS, _NEG) / 255.0)
        top, left = self.net_origin

        def paint(buffer):
            for i, column in enumerate(maps):
                for j, img in enumerate(column):
                    x, y = self._node_xy(i, j, len(column))
                    r, c = top + y, left + x
                    buffer[r - 1:r + S + 1, c - 1:c + S + 1, :3] = 190      # a thin grey frame
                    buffer[r:r + S, c:c + S, :3] = img

        return self.blits["network"].png(paint)

    # diagnostics: gradient norm per layer and dead units per hidden layer
    def _setup_diagnostics(self):
        pg, blit = self.pg, self.blits["diagnostics"]
        blit.reset()
        fig = blit.fig
        left, right = fig.subplots(1, 2, width_ratios=[1.3, 1])
        fig.subplots_adjust(left=0.11, right=0.98, top=0.86, bottom=0.2, wspace=0.32)
        n = len(pg.dense_layers)
        names = [str(i + 1) for i in range(n - 1)] + ["out"]
        self.grad_bars = left.bar(names, np.ones(n), color="#1f77b4")
        left.set_yscale("log")
        left.set_xlabel("layer (the weights into it)", fontsize=8)
        left.set_ylabel("||dL/dW||, epoch mean", fontsize=8)
        left.set_title("Gradient norm per layer", fontsize=9)
        hidden = len(pg.settings["hidden"])
        self.dead_bars = right.bar([str(i + 1) for i in range(hidden)] or ["none"], np.zeros(max(hidden, 1)),
                                   color="#e8743b")
        right.set_ylim(0, 1)
        right.set_xlabel("hidden layer", fontsize=8)
        if pg.settings["activation"] in ("sigmoid", "tanh"):
            right.set_ylabel("fraction of outputs\nwith slope < 1% of max", fontsize=7)
            right.set_title(f"Saturated {pg.settings['activation']} outputs", fontsize=9)
        else:
            right.set_ylabel("fraction of units\noutputting 0 everywhere", fontsize=7)
            right.set_title("Dead ReLU units per hidden layer", fontsize=9)
        for ax in (left, right):
            ax.tick_params(labelsize=7)
        self.grad_ax = left
        blit.animate(*self.grad_bars, *self.dead_bars)

    def draw_diagnostics(self):
        pg, blit = self.pg, self.blits["diagnostics"]
        norms = np.maximum(np.nan_to_num(pg.grad_norms, nan=1e-12, posinf=1e12), 1e-12)
        for bar, value in zip(self.grad_bars, norms):
            bar.set_height(value)
        low = min(1e-6, 10 ** np.floor(np.log10(norms.min())))
        high = max(10.0, 10 ** np.ceil(np.log10(norms.max())))
        blit.set_limits((low, high), lambda: self.grad_ax.set_ylim(low, high))
        for bar, value in zip(self.dead_bars, self.dead):
            bar.set_height(value)
        return blit.png()

    def render(self):
        """PNG bytes of the three figures for the current state."""
        pg = self.pg
        shape_key = (tuple(pg.settings["features"]), tuple(pg.settings["hidden"]), pg.classes, id(pg.model))
        data_key = (id(pg.X_train), pg.classes)
        if data_key != self.data_key:
            self._setup_output()
            self._setup_loss()
            self.data_key = data_key
        if shape_key != self.shape_key:
            self._setup_network()
            self._setup_diagnostics()
            self.shape_key = shape_key
        hidden, out_grid = pg.hidden_outputs(pg.F_grid)
        self.dead = pg.saturation() if pg.settings["activation"] in ("sigmoid", "tanh") else pg.dead_fraction()
        return {"loss": self.draw_loss(), "output": self.draw_output(out_grid),
                "network": self.draw_network(hidden, out_grid),
                "diagnostics": self.draw_diagnostics()}


# --- the widgets ----------------------------------------------------------------------------
class _PlaygroundUI:
    """The app's widgets. Each control calls one Playground method; redraw() mirrors the state back.

    Every control carries a CSS class ``nnlib-pg-<name>`` (the browser test finds them by it).
    """

    def __init__(self, pg):
        import ipywidgets as W

        self.pg, self.pictures, self._syncing, self._synced, self.saved = pg, _Pictures(pg), False, None, None
        style = {"description_width": "initial"}

        def sized(widget, width, name):
            widget.layout.width = width
            widget.add_class(f"nnlib-pg-{name}")
            return widget

        def button(description, icon, name, tooltip, width="96px", **kw):
            b = sized(W.Button(description=description, icon=icon, tooltip=tooltip, **kw), width, name)
            return b

        self.play_btn = button("play", "play", "play", "Train epoch after epoch until pause", button_style="primary")
        self.step_btn = button("step", "step-forward", "step", "Train one epoch")
        self.reset_btn = button("reset", "undo", "reset", "New weights from the seed, epoch 0")
        self.epoch = sized(W.HTML(), "170px", "epoch")
        c = self.controls = {
            "learning_rate": W.Dropdown(options=LEARNING_RATES, description="learning rate"),
            "activation": W.Dropdown(options=list(ACTIVATIONS), description="activation"),
            "regularization": W.Dropdown(options=["none", "L1", "L2"], description="regularization"),
            "reg_rate": W.Dropdown(options=REG_RATES, description="regularization rate"),
            "problem": W.Dropdown(options=list(DATASETS), description="problem type"),
            "dataset": W.ToggleButtons(options=DATASETS["classification"], style={"button_width": "100px"}),
            "classes": W.IntSlider(min=2, max=6, description="classes (gauss, spiral)", continuous_update=False),
            "train_percent": W.IntSlider(min=10, max=90, step=10, description="training data %",
                                         continuous_update=False),
            "noise": W.IntSlider(min=0, max=50, step=5, description="noise", continuous_update=False),
            "batch_size": W.IntSlider(min=1, max=30, description="batch size", continuous_update=False),
            "show_test": W.Checkbox(description="show test data", indent=False),
            "discretize": W.Checkbox(description="discretize output", indent=False),
            "optimizer": W.Dropdown(options=list(OPTIMIZERS), description="optimizer"),
            "loss": W.Dropdown(options=list(LOSSES), description="loss"),
            "dropout": W.FloatSlider(min=0.0, max=0.9, step=0.05, description="dropout", continuous_update=False),
            "batch_norm": W.Checkbox(description="batch norm", indent=False),
            "seed": W.BoundedIntText(min=0, max=10 ** 6, description="seed"),
        }
        widths = {"dataset": "226px", "show_test": "150px", "discretize": "160px", "batch_norm": "110px",
                  "seed": "130px", "regularization": "190px", "reg_rate": "210px", "learning_rate": "190px",
                  "dropout": "250px"}
        for key, widget in c.items():
            if hasattr(widget.style, "description_width"):
                widget.style.description_width = "initial"
            sized(widget, widths.get(key, "226px"), key.replace("_", "-"))
            widget.observe(lambda change, key=key: self._changed(key, change["new"]), names="value")
        self.features = {}
        for name, label in _FEATURE_LABELS.items():
            box = sized(W.Checkbox(description=label, indent=False), "80px", f"feature-{_css(name)}")
            box.observe(lambda change: self._features_changed(), names="value")
            self.features[name] = box
        self.regen_btn = button("regenerate", "refresh", "regenerate", "New points from the same data set", "120px")
        self.add_layer = button("", "plus", "add-layer", "Add a hidden layer", "36px")
        self.remove_layer = button("", "minus", "remove-layer", "Remove the last hidden layer", "36px")
        self.layers_label = W.HTML()
        self.neuron_buttons = W.HBox()
        self.loss_img = sized(W.Image(format="png"), "352px", "loss")
        self.output_img = sized(W.Image(format="png"), "352px", "output")
        self.network_img = sized(W.Image(format="png"), "480px", "network")
        self.diagnostics_img = sized(W.Image(format="png"), "528px", "diagnostics")
        self.losses = sized(W.HTML(), "352px", "losses")
        self.message = sized(W.HTML(), "100%", "message")
        self.preset = sized(W.Dropdown(options=["choose a lesson"] + list(PRESETS), description="preset",
                                       style=style), "300px", "preset")
        self.preset.observe(lambda change: self._preset(change["new"]), names="value")
        self.preset_note = sized(W.HTML(), "560px", "preset-note")
        self.export_btn = button("export code", "code", "export", "The trained network as nnlib code", "130px")
        self.save_btn = button("save state", "save", "save", "Keep the whole state (pg.saved_state)", "120px")
        self.restore_btn = button("restore", "history", "restore", "Go back to the saved state", "110px")
        self.code = sized(W.Textarea(rows=14), "100%", "code")
        self.code.layout.display = "none"
        for btn, action in ((self.play_btn, pg.toggle), (self.step_btn, pg.step), (self.reset_btn, pg.reset),
                            (self.regen_btn, pg.regenerate), (self.add_layer, lambda: self._layers(+1)),
                            (self.remove_layer, lambda: self._layers(-1)), (self.export_btn, self._export),
                            (self.save_btn, self._save), (self.restore_btn, self._restore)):
            btn.on_click(lambda _, action=action: self._call(action))

        head = lambda text: W.HTML(f"<b>{text}</b>")  # noqa: E731
        def row(*kids, align_items="center"):
            return W.HBox(list(kids), layout=W.Layout(flex_flow="row wrap", align_items=align_items))

        top = row(self.play_btn, self.step_btn, self.reset_btn, self.epoch, c["learning_rate"], c["activation"],
                  c["regularization"], c["reg_rate"], c["problem"])
        def column(kids, width):               # fixed widths: the figures keep their size, the row wraps instead
            return W.VBox(kids, layout=W.Layout(width=width, flex="0 0 auto", margin="0 8px 0 0"))

        data = column([head("Data"), c["dataset"], c["classes"], c["train_percent"], c["noise"], c["batch_size"],
                       self.regen_btn], "232px")
        features = column([head("Features"), *self.features.values()], "80px")
        network = column([row(head("Hidden layers"), self.add_layer, self.remove_layer, self.layers_label),
                          self.neuron_buttons, self.network_img], "488px")
        output = column([head("Output"), self.losses, self.loss_img, self.output_img,
                         row(c["show_test"], c["discretize"])], "360px")
        beyond = W.VBox([
            head("Beyond the TensorFlow Playground"),
            row(c["optimizer"], c["loss"], c["dropout"], c["batch_norm"], c["seed"]),
            row(self.preset, self.preset_note),
            self.diagnostics_img,
            row(self.export_btn, self.save_btn, self.restore_btn), self.code])
        self.box = W.VBox([top, self.message, row(data, features, network, output, align_items="flex-start"),
                           beyond])
        self.box.add_class("nnlib-playground")

    # --- from the widgets to the playground ---------------------------------------------------
    def _call(self, action, *args, **kwargs):
        """Run an action; a bad setting is shown in the app instead of raising in a callback."""
        try:
            action(*args, **kwargs)
        except (ValueError, RuntimeError) as exc:
            self.pg.message = str(exc)
            self.redraw()

    def _changed(self, key, value):
        if not self._syncing:
            self._call(self.pg.set, **{key: value})

    def _features_changed(self):
        if self._syncing:
            return
        chosen = [name for name, box in self.features.items() if box.value]
        if not chosen:
            self.pg.message = "The network needs at least one input feature."
            self._synced = None
            self.redraw()
            return
        self._call(self.pg.set, features=chosen)

    def _layers(self, change):
        hidden = list(self.pg.settings["hidden"])
        if change > 0 and len(hidden) < MAX_LAYERS:
            hidden.append(2)                   # a new layer starts with two neurons, as in the Playground
        elif change < 0 and hidden:
            hidden.pop()
        self.pg.set(hidden=hidden)

    def _neurons(self, layer, change):
        hidden = list(self.pg.settings["hidden"])
        hidden[layer] = min(MAX_NEURONS, max(1, hidden[layer] + change))
        self.pg.set(hidden=hidden)

    def _preset(self, name):
        if not self._syncing and name in PRESETS:
            self._call(self.pg.load_preset, name)

    def _export(self):
        self.code.value = self.pg.to_code()
        self.code.layout.display = None

    def _save(self):
        self.saved = self.pg.saved_state = self.pg.state_dict()
        self.pg.message = f"Saved the state at epoch {self.pg.epoch} (also in pg.saved_state)."
        self.redraw()

    def _restore(self):
        if self.saved is None:
            raise ValueError("Nothing saved yet: press save state first.")
        self.pg.load_state_dict(self.saved)

    # --- from the playground to the widgets ---------------------------------------------------
    def update_play_button(self):
        playing = self.pg.playing
        self.play_btn.description = "pause" if playing else "play"
        self.play_btn.icon = "pause" if playing else "play"

    def _sync(self):
        """Set every control to the playground's settings (without calling back)."""
        import ipywidgets as W

        pg, s = self.pg, self.pg.settings
        if s == self._synced:
            return
        self._syncing = True
        try:
            c = self.controls
            if list(c["dataset"].options) != DATASETS[s["problem"]]:
                c["dataset"].options = DATASETS[s["problem"]]
            for key, widget in c.items():
                if isinstance(widget, W.Dropdown) and s[key] not in widget.options:
                    widget.options = sorted({*widget.options, s[key]})   # a rate set from code
                if widget.value != s[key]:
                    widget.value = s[key]
            for name, box in self.features.items():
                box.value = name in s["features"]
            c["classes"].disabled = s["problem"] == "regression" or s["dataset"] not in MULTICLASS
            c["loss"].disabled = s["problem"] == "regression"
            c["reg_rate"].disabled = s["regularization"] == "none"
            hidden = s["hidden"]
            self.layers_label.value = f"{len(hidden)} hidden layer{'s' * (len(hidden) != 1)}"
            self.add_layer.disabled = len(hidden) >= MAX_LAYERS
            self.remove_layer.disabled = not hidden
            if self._synced is None or self._synced["hidden"] != hidden:
                self._neuron_controls(hidden)
            self.preset_note.value = f"<i>{pg.preset_note}</i>" if pg.preset_note else ""
            self._synced = {k: (list(v) if isinstance(v, list) else v) for k, v in s.items()}
        finally:
            self._syncing = False

    def _neuron_controls(self, hidden):
        """A + and a \u2212 button for each hidden layer."""
        import ipywidgets as W

        groups = []
        for i, n in enumerate(hidden):
            plus = W.Button(icon="plus", tooltip=f"Add a neuron to layer {i + 1}", disabled=n >= MAX_NEURONS,
                            layout=W.Layout(width="32px"))
            minus = W.Button(icon="minus", tooltip=f"Remove a neuron from layer {i + 1}", disabled=n <= 1,
                             layout=W.Layout(width="32px"))
            plus.add_class(f"nnlib-pg-neuron-plus-{i + 1}")
            minus.add_class(f"nnlib-pg-neuron-minus-{i + 1}")
            plus.on_click(lambda _, i=i: self._call(self._neurons, i, +1))
            minus.on_click(lambda _, i=i: self._call(self._neurons, i, -1))
            groups.append(W.HBox([W.HTML(f"{i + 1}:"), plus, minus], layout=W.Layout(margin="0 6px 0 0")))
        for old in self.neuron_buttons.children:
            old.close()
        self.neuron_buttons.children = groups

    def redraw(self):
        pg = self.pg
        self._sync()
        images = self.pictures.render()
        self.loss_img.value = images["loss"]
        self.output_img.value = images["output"]
        self.network_img.value = images["network"]
        self.diagnostics_img.value = images["diagnostics"]
        self.epoch.value = f"<span style='font-size: 1.3em'>Epoch <b>{pg.epoch:07,d}</b></span>"
        text = f"Test loss <b>{pg.test_loss:.3f}</b> &middot; training loss <b>{pg.train_loss:.3f}</b>"
        if pg.settings["problem"] == "classification":
            text += f" &middot; test accuracy <b>{pg.accuracy():.0%}</b>"
        self.losses.value = text
        self.message.value = f"<span style='color: #b22222'>{pg.message}</span>" if pg.message else ""
        self.update_play_button()


_FEATURE_LABELS = {"x1": "x\u2081", "x2": "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
                   "x1*x2": "x\u2081x\u2082", "sin(x1)": "sin x\u2081", "sin(x2)": "sin x\u2082"}


def _css(name):
    return {"x1^2": "x1sq", "x2^2": "x2sq", "x1*x2": "x1x2", "sin(x1)": "sinx1", "sin(x2)": "sinx2"}.get(name, name)

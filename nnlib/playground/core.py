"""The playground's state: ``Playground``, a state machine that runs without ipywidgets or matplotlib.

The class is a state machine you can test without a browser: every button and
slider calls one of ``set``, ``step``, ``reset``, ``regenerate``, ``play``,
``pause`` and ``load_preset``; the widgets only mirror ``settings``. Here: the
settings, the data, building the network, the training step (``Sequential.train_step``, with nnlib.regularization's L1 or L2), what
the pictures show, presets and play mode. The choices themselves are in
``choices.py``, export and the whole state in ``export.py``, the figures in
``pictures.py``, the widgets in ``app.py`` (loaded on first display).
"""
from __future__ import annotations

import asyncio
import time

import numpy as np

from ..activations import sigmoid, softmax
from ..diagnostics import Monitor, activation_stats, dead_units
from ..layers import BatchNorm, Dense, Dropout, Tanh
from ..losses import MSE, BinaryCrossEntropy, CrossEntropy
from ..model import Sequential
from ..regularization import get_regularizer
from . import export, share
from .choices import (ACTIVATIONS, DATA_KEYS, DATASETS, DEFAULTS, DOMAIN, MULTICLASS, NETWORK_KEYS, OPTIMIZERS,
                      PRESETS, check_settings, feature_matrix, make_data)

__all__ = ["Playground"]


class _Monitored:
    """The step's regularizer, with the monitor reading ||dL/dW|| first (the loss's gradient, before the penalty)."""

    def __init__(self, regularizer, monitor, epoch, batch):
        self.regularizer, self.monitor, self.epoch, self.batch = regularizer, monitor, epoch, batch

    def add_gradient(self, model):
        self.monitor.on_batch_end(model, self.epoch, self.batch)
        if self.regularizer is not None:
            self.regularizer.add_gradient(model)

    def after_step(self, model, optimizer):
        if self.regularizer is not None:
            self.regularizer.after_step(model, optimizer)


class Playground:
    """The TensorFlow Playground on nnlib: ``Playground(**settings)``; see ``nnlib.playground``.

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
        check_settings(s)
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
        # Regression with ReLU: He init keeps each hidden layer's signal at the inputs' scale (|x| up to 6,
        # x1^2 up to 36), so a random linear output would start at several times the targets' range
        # (|y| <= 1) and its first steps blow up (loss 1e38 at epoch 1, every unit dead). Its weights
        # start at 0 instead: the first prediction is 0, the middle of the targets. Bounded activations
        # (tanh, sigmoid) and classification's tanh output start in range and keep the usual init.
        zero_out = s["problem"] == "regression" and s["activation"] == "relu"
        layers.append(Dense(widths[-1], 1 if k <= 2 else k, init=0.0 if zero_out else "xavier", rng=rng))
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
        """The weight penalty of each step: nnlib.regularization's L1(rate) or L2(rate), or None.

        L2 adds rate * W to dL/dW (the gradient of rate/2 * sum W^2), L1 adds rate * sign(W)
        and sets a weight its own step carries across zero to exactly 0; biases are not penalised.
        """
        s = self.settings
        return get_regularizer(s["regularization"], float(s["reg_rate"]))

    def train_epoch(self):
        """One pass over the training points in shuffled mini-batches: ``model.train_step`` on each,
        with the L1 or L2 penalty of ``nnlib.regularization`` (L1 sets a weight its own step carries
        across zero to exactly 0, as the TensorFlow Playground does)."""
        model, bs, regularizer = self.model, int(self.settings["batch_size"]), self._penalty()
        order = self.rng.permutation(len(self.F_train))
        for batch, start in enumerate(range(0, len(order), bs)):
            idx = order[start:start + bs]
            model.train_step(self.F_train[idx], self.T_train[idx], self.loss, self.optimizer,
                             _Monitored(regularizer, self.monitor, self.epoch, batch))
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
        from .pictures import plot_output

        return plot_output(self, ax, title=title, show_test=show_test)

    # --- export and the whole state --------------------------------------------------------
    def to_code(self):
        """Python source that rebuilds the trained network with nnlib, its weights included."""
        return export.to_code(self)

    def state_dict(self):
        """Everything needed to carry on exactly where this playground is, as plain Python data (JSON-ready)."""
        return export.state_dict(self)

    def load_state_dict(self, state):
        """Restore a state from ``state_dict()``: settings, weights, optimizer, history, random state."""
        return export.load_state_dict(self, state)

    @classmethod
    def from_state(cls, state, **kwargs):
        """A new playground in the state a ``state_dict()`` describes."""
        pg = cls(**kwargs, **state["settings"])
        return pg.load_state_dict(state)

    def share(self, epoch=True):
        """These settings as one line to copy and paste (as the TensorFlow Playground's URL); with
        ``epoch=True`` it also says how many epochs were trained, so ``load_share`` rebuilds these weights."""
        return share.to_share(self.settings, self.epoch if epoch else None)

    def load_share(self, text):
        """Take the settings of a ``share()`` line (the rest back to DEFAULTS) and train to its epoch."""
        changes, epoch = share.parse_share(text)
        base = {k: v for k, v in DEFAULTS.items() if k not in ("show_test", "discretize")}
        self.pause()
        self.set(**{**base, **changes})
        self.reset(redraw=False)
        if epoch:
            self.step(epoch)
        else:
            self.redraw()
        return self

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
    def set_weight(self, layer, unit, source, value):
        """Edit one parameter, as clicking a weight's line in the TensorFlow Playground does.

        ``layer``: the dense layer, 1 for the first hidden layer up to ``len(hidden) + 1`` for the output;
        ``unit``: its neuron (from 0); ``source``: the neuron of the layer before (from 0; a feature for
        layer 1) whose weight is set, or ``"bias"``. Training carries on from the edited network."""
        layers = self.dense_layers
        if not (isinstance(layer, (int, np.integer)) and 1 <= layer <= len(layers)):
            raise ValueError(f"set_weight: layer must be 1 to {len(layers)} (the output), got {layer!r}")
        dense = layers[layer - 1]
        n_in, n_out = dense.W.shape
        if not (isinstance(unit, (int, np.integer)) and 0 <= unit < n_out):
            raise ValueError(f"set_weight: layer {layer} has neurons 0 to {n_out - 1}, got unit={unit!r}")
        if source != "bias" and not (isinstance(source, (int, np.integer)) and 0 <= source < n_in):
            raise ValueError(f"set_weight: source must be 'bias' or 0 to {n_in - 1}, got {source!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
            raise ValueError(f"set_weight: value must be a finite number, got {value!r}")
        if source == "bias":
            dense.b[..., unit] = value
        else:
            dense.W[source, unit] = value
        self.redraw()
        return self

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
            from .app import _PlaygroundUI

            self._ui = _PlaygroundUI(self)
            self._ui.redraw()
        return self._ui.box

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)

"""Diagnostics: watch what happens inside a network while it trains.

Three things go wrong in deep networks (chapter 6), and each leaves a trace you can measure:

* vanishing / exploding gradients: the gradient norm ``||dL/dW||`` of each Dense
  layer, from the input side to the output side, shrinks or grows layer by layer;
* saturated activations: units sit where the activation's slope is ~0
  (sigmoid near 0 or 1, tanh near -1 or 1), so gradients passing through them shrink;
* dead ReLU units: a unit whose weighted sum is <= 0 for *every* example outputs 0
  everywhere and gets exactly zero gradient, so it never changes again.

Standalone functions measure a model once::

    gradient_norms(model, X, y, loss)   # (n_dense,) array: ||dL/dW|| per Dense layer, input side first
    activation_stats(model, X)          # per activation layer: mean, std, saturation
    dead_units(model, X)                # per ReLU layer: boolean array, True = dead on X
    dead_unit_fraction(model, X)        # fraction of all ReLU units that are dead on X

and :class:`Monitor` records them during ``fit`` (a callback, cheap enough to leave on)::

    monitor = Monitor(X)
    model.fit(X, y, ..., callbacks=[monitor])
    monitor.grad_norms        # (epochs, n_dense): mean over the epoch's batches of ||dL/dW||
    monitor.dead_fraction     # (epochs,); also in history["dead_fraction"]

None of these change the model: the functions restore what they touch
(gradients, batch-norm running statistics, dropout random state), and the monitor
only reads gradients and runs the probe in inference mode.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import get_loss
from .regularization import BatchNorm, Dropout

__all__ = [
    "dense_layers", "layer_names", "gradient_norms", "layer_outputs", "activation_stats",
    "dead_units", "dead_unit_fraction", "Monitor",
]

ACTIVATIONS = (Sigmoid, Tanh, ReLU, LeakyReLU)


def dense_layers(model):
    """The layers with a weight matrix W (the Dense layers), input side first."""
    return [layer for layer in model.layers if "W" in layer.params]


def layer_names(model, kind="dense"):
    """Short labels for plots: "layer 1 (2 -> 32)", ... for kind="dense";
    "Sigmoid 1", ... for kind="activation"; "ReLU 1", ... for kind="relu"."""
    if kind == "dense":
        return [f"layer {i} ({layer.in_features} -> {layer.out_features})"
                for i, layer in enumerate(dense_layers(model), 1)]
    layers = _activation_layers(model) if kind == "activation" else _relu_layers(model)
    return _numbered(layers)


def _numbered(layers):
    """"Sigmoid 1", "ReLU 1", "ReLU 2": each kind of layer counted on its own."""
    counts, names = {}, []
    for layer in layers:
        kind = type(layer).__name__
        counts[kind] = counts.get(kind, 0) + 1
        names.append(f"{kind} {counts[kind]}")
    return names


def _activation_layers(model):
    return [layer for layer in model.layers if isinstance(layer, ACTIVATIONS)]


def _relu_layers(model):
    return [layer for layer in model.layers if type(layer) is ReLU]


@contextlib.contextmanager
def _untouched(model):
    """Restore gradients, batch-norm running statistics and dropout random states on exit."""
    grads = [{k: g.copy() for k, g in layer.grads.items()} for layer in model.layers]
    bn = [(layer, layer.running_mean.copy(), layer.running_var.copy())
          for layer in model.layers if isinstance(layer, BatchNorm)]
    drop = [(layer, layer.rng.bit_generator.state) for layer in model.layers if isinstance(layer, Dropout)]
    try:
        yield
    finally:
        for layer, saved in zip(model.layers, grads):
            for k, g in saved.items():
                layer.grads[k][...] = g
        for layer, mean, var in bn:
            layer.running_mean[...] = mean
            layer.running_var[...] = var
        for layer, state in drop:
            layer.rng.bit_generator.state = state


def _check_model(model, who):
    if not hasattr(model, "layers"):
        raise TypeError(f"{who}: model must be a Sequential, got {type(model).__name__}")


def gradient_norms(model, X, y, loss, *, training=True):
    """||dL/dW|| (Frobenius norm) of every Dense layer for one gradient step on (X, y).

    Returns an array of shape (n_dense,), the layer nearest the input first.
    training=True computes the gradient as fit does (batch statistics, dropout
    masks); the model is left as it was.
    """
    _check_model(model, "gradient_norms")
    loss = get_loss(loss)
    X, y = model._check_xy(X, y, "gradient_norms")
    with _untouched(model), np.errstate(over="ignore", invalid="ignore"):
        value = loss.forward(model.forward(X, training=training), y)
        model.backward(loss.backward(), need_input_grad=False)
        norms = np.array([np.linalg.norm(layer.grads["W"]) for layer in dense_layers(model)])
    if not np.isfinite(value):
        norms[:] = np.nan if np.isnan(value) else np.inf
    return norms


def layer_outputs(model, X, *, training=False):
    """The output of every layer for X, as a list (one (batch, width) array per layer).

    training=False (default) is inference mode; the model is left as it was.
    """
    _check_model(model, "layer_outputs")
    X, _ = model._check_xy(X, None, "layer_outputs")
    with _untouched(model), np.errstate(over="ignore", invalid="ignore"):
        if not training:
            return _outputs(model, X)
        outs = []
        for layer in model.layers:
            X = layer.forward(X, training=True)
            outs.append(X)
    return outs


def _slope(layer, y):
    """The activation's slope f'(z) at each entry of its last forward pass: its own backward of a gradient of ones."""
    return layer.backward(np.ones_like(y))


def _outputs(model, x):
    """Every layer's output for x in inference mode (each layer keeps what its backward needs)."""
    outs = []
    for layer in model.layers:
        x = layer.forward(x, training=False)
        outs.append(x)
    return outs


_MAX_SLOPE = {Sigmoid: 0.25, Tanh: 1.0, ReLU: 1.0, LeakyReLU: 1.0}


def _stats(model, outs, threshold):
    """Activation statistics and dead ReLU units from the outputs of every layer."""
    means, stds, sats, dead = [], [], [], []
    for layer, y in zip(model.layers, outs):
        if isinstance(layer, ACTIVATIONS):
            means.append(float(np.mean(y)))
            stds.append(float(np.std(y)))
            sats.append(float(np.mean(_slope(layer, y) < threshold * _MAX_SLOPE[type(layer)])))
        if type(layer) is ReLU:
            dead.append(~np.any(y > 0, axis=0))
    return np.array(means), np.array(stds), np.array(sats), dead


def activation_stats(model, X, *, threshold=0.01):
    """Mean, standard deviation and saturation of each activation layer's output on X.

    Saturation is the fraction of (example, unit) entries where the slope f'(z)
    is below ``threshold`` times its largest value: a gradient passing there
    shrinks at least 1 / threshold times. Sigmoid: output below ~0.0025 or above ~0.9975
    (threshold 0.01); tanh: |output| > ~0.995; ReLU: output 0 (slope exactly 0).

    Returns {"layer": names, "mean": (n_act,), "std": (n_act,), "saturation": (n_act,)}.
    """
    means, stds, sats, _ = _stats(model, layer_outputs(model, X), threshold)
    return {"layer": layer_names(model, "activation"), "mean": means, "std": stds, "saturation": sats}


def dead_units(model, X):
    """For every ReLU layer, a boolean array (width,): True where the unit outputs 0 for every example of X.

    Such a unit is dead on X: its gradient is exactly 0 for any batch drawn from X,
    so gradient descent cannot bring it back (unless the layers below it change its
    input). LeakyReLU layers are not counted: their slope alpha keeps gradients flowing.
    """
    return _stats(model, layer_outputs(model, X), 0.0)[3]


def dead_unit_fraction(model, X):
    """Fraction of all ReLU units in the model that are dead on X (0.0 when there are none)."""
    return _dead_fraction(dead_units(model, X))


def _dead_fraction(dead):
    """The fraction of dead units over all ReLU layers, from dead_units' list (0.0 without ReLU layers)."""
    total = sum(d.size for d in dead)
    return float(sum(int(d.sum()) for d in dead) / total) if total else 0.0


class Monitor:
    """A ``fit`` callback that records, per epoch, what goes on inside the network.

        monitor = Monitor(X_probe)
        history = model.fit(X, y, ..., callbacks=[monitor])

    After each batch it reads the gradient norm ||dL/dW|| of every Dense layer
    (the gradients fit just computed: nothing extra to compute). After each epoch
    it runs X_probe through the model once in inference mode for the activation
    statistics and the dead ReLU units, and adds "dead_fraction" to the history.
    It never changes the model or the course of training.

    Recorded (numpy arrays, one row per completed epoch):
    grad_norms (epochs, n_dense): mean over the epoch's batches;
    act_mean, act_std, saturation (epochs, n_activation_layers);
    dead_per_layer (epochs, n_relu_layers); dead_fraction (epochs,); loss (epochs,).
    """

    def __init__(self, X_probe, *, threshold=0.01):
        self.X_probe = X_probe
        self.threshold = threshold
        self._reset()

    def _reset(self):
        self.epochs = []
        self._rows = {k: [] for k in ("grad_norms", "act_mean", "act_std", "saturation",
                                      "dead_per_layer", "dead_fraction", "loss")}
        self._sum = None
        self._batches = 0

    # --- the callback interface of Sequential.fit --------------------------
    def on_train_begin(self, model):
        self._reset()
        self.dense = dense_layers(model)
        self.dense_names = layer_names(model, "dense")
        self.activation_names = layer_names(model, "activation")
        self.relu_names = layer_names(model, "relu")
        self._probe, _ = model._check_xy(self.X_probe, None, "Monitor(X_probe)")

    def on_batch_end(self, model, epoch, batch):
        norms = [np.linalg.norm(layer.grads["W"]) for layer in self.dense]
        self._sum = np.array(norms) if self._sum is None else self._sum + norms
        self._batches += 1

    def on_epoch_end(self, model, epoch, logs):
        self.epochs.append(epoch)
        rows = self._rows
        rows["grad_norms"].append(self._sum / max(self._batches, 1) if self._sum is not None
                                  else np.full(len(self.dense), np.nan))
        self._sum, self._batches = None, 0
        # One pass of the probe in inference mode: it reads the weights and changes nothing
        # that training uses (no running statistics, no random masks; gradients untouched).
        outs = _outputs(model, self._probe)
        means, stds, sats, dead = _stats(model, outs, self.threshold)
        rows["act_mean"].append(means)
        rows["act_std"].append(stds)
        rows["saturation"].append(sats)
        rows["dead_per_layer"].append(np.array([d.mean() for d in dead]))
        fraction = _dead_fraction(dead)
        rows["dead_fraction"].append(fraction)
        rows["loss"].append(logs.get("loss", np.nan))
        if dead:
            logs["dead_fraction"] = fraction

    def __getattr__(self, name):
        rows = self.__dict__.get("_rows", {})
        if name in rows:
            return np.array(rows[name], dtype=float)
        raise AttributeError(f"'Monitor' object has no attribute {name!r}")

    def __repr__(self):
        return f"Monitor({len(self.epochs)} epochs recorded)"

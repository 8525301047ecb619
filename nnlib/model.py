"""Sequential: layers in a row, and the training loop that fits them.

    model = Sequential([Dense(2, 8, rng=0), ReLU(), Dense(8, 1, rng=1)])
    history = model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(0.01), epochs=50)
    model.predict(X)          # outputs (logits for the classification losses)
    model.evaluate(X, y)      # {"loss": ..., "accuracy": ...}

One training step is: forward the batch, measure the loss, backward the loss's
gradient through the layers in reverse order, let the optimizer update every
parameter. ``fit`` repeats that over mini-batches for some epochs, or until the
loss falls below ``stop_at_loss``.
"""
from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from ._validate import as_float_array, as_generator, check_number, check_positive_int
from .losses import get_loss
from .metrics import accuracy
from .optim import get_optimizer

__all__ = ["Sequential", "History", "TrainingDivergedWarning"]


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became NaN or inf: fit stopped instead of training on garbage."""


warnings.simplefilter("always", TrainingDivergedWarning)


class History:
    """What fit measured, epoch by epoch (like Keras' History).

    history.history: dict of lists, e.g. "loss", "accuracy", "val_loss", "val_accuracy"
    (or "r2" for regression); history["loss"] is a shortcut.
    history.epoch: the epoch numbers (1, 2, ...).
    history.stopped_epoch / stop_reason: set when training stopped early
    (loss below stop_at_loss, or a diverging loss); history.diverged is True for the latter.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.stopped_epoch = None
        self.stop_reason = None
        self.diverged = False

    def _log(self, epoch, values):
        self.epoch.append(epoch)
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs: {last})"


def _movable(layer):
    """True if layer's params and grads are arrays under the same names that no other attribute holds or views."""
    params, grads = layer.params, getattr(layer, "grads", None)
    if not (isinstance(params, dict) and isinstance(grads, dict) and params.keys() == grads.keys()):
        return False
    arrays = [*params.values(), *grads.values()]
    if not all(isinstance(a, np.ndarray) and a.base is None for a in arrays):
        return False
    held = []
    for name, value in getattr(layer, "__dict__", {}).items():
        if name not in ("params", "grads"):
            held += value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
    return not any(np.may_share_memory(h, a) for h in held if isinstance(h, np.ndarray) for a in arrays)


def _moved(array, space):
    """A copy of array in space (a 1-D view with room for exactly its values)."""
    view = space.reshape(array.shape)
    view[...] = array
    return view


def _want_progress(verbose):
    if verbose != "auto":
        return bool(verbose)
    if "ipykernel" in sys.modules:
        return True
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


class Sequential:
    """A model made of layers applied one after another."""

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        width = None
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential: item {i} ({layer!r}) is not a layer (it needs forward and backward)")
            n_in = getattr(layer, "in_features", None)
            if width is not None and n_in is not None and n_in != width:
                raise ValueError(
                    f"Sequential: layer {i} {layer!r} expects {n_in} inputs, "
                    f"but the layers before it give {width}"
                )
            width = getattr(layer, "out_features", width)
        self.layers = layers
        self.history = None
        self.loss = None
        self._put_parameters_in_one_array()

    def _put_parameters_in_one_array(self):
        """Move all parameters into one flat array, and all gradients into another.

        Each layer's params and grads become views into them: the same values and
        shapes, still plain arrays (``layer.W is layer.params["W"]``). An optimizer
        then updates the whole model with a few numpy calls per step instead of a
        few per parameter (see nnlib.optim). Done only when all of them share one
        float dtype and every layer keeps its arrays in params and grads alone;
        otherwise nothing changes, and training is only slower.
        """
        owners = [layer for layer in self.layers if getattr(layer, "params", None)]
        if not owners or len(set(map(id, owners))) != len(owners) or not all(map(_movable, owners)):
            return
        arrays = [a for layer in owners for a in (*layer.params.values(), *layer.grads.values())]
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) != 1 or dtypes.pop().kind != "f":
            return
        size = sum(p.size for layer in owners for p in layer.params.values())
        flat_params, flat_grads = np.empty(size, arrays[0].dtype), np.empty(size, arrays[0].dtype)
        start = 0
        for layer in owners:
            for name, p in layer.params.items():
                stop = start + p.size
                layer.params[name] = _moved(p, flat_params[start:stop])
                layer.grads[name] = _moved(layer.grads[name], flat_grads[start:stop])
                start = stop

    # --- the network itself -------------------------------------------------
    def forward(self, x, training=False):
        """Output of the last layer for a batch x of shape (batch, in_features)."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    __call__ = forward

    def backward(self, grad_out, need_input_grad=True):
        """Backpropagate dL/d(output) through the layers; return dL/d(input).

        Fills every layer's grads. need_input_grad=False lets the first layer
        skip dL/dx (training never needs it); the return value is then None.
        """
        self.layers[0].need_input_grad = need_input_grad
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        self.layers[0].need_input_grad = True
        return grad_out

    def parameters(self):
        """All parameter arrays, layer by layer (the arrays themselves, not copies)."""
        return [p for layer in self.layers for p in layer.params.values()]

    def gradients(self):
        """The gradient arrays, parallel to parameters()."""
        return [layer.grads[name] for layer in self.layers for name in layer.params]

    @property
    def dtype(self):
        for p in self.parameters():
            return p.dtype.type
        return np.float64

    @property
    def in_features(self):
        return getattr(self.layers[0], "in_features", None)

    def count_params(self):
        return int(sum(p.size for p in self.parameters()))

    def summary(self):
        """A table of the layers and their parameter counts, as a string."""
        lines = [f"{'#':>2}  {'layer':<24}{'parameters':>12}"]
        for i, layer in enumerate(self.layers):
            n = sum(p.size for p in layer.params.values())
            lines.append(f"{i:>2}  {layer!r:<24}{n:>12,}")
        lines.append(f"    {'total':<24}{self.count_params():>12,}")
        return "\n".join(lines)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner},\n])"

    # --- training -----------------------------------------------------------
    def _check_xy(self, X, y, who):
        X = as_float_array(X, f"{who}: X", dtype=self.dtype)
        first = self.layers[0]
        if hasattr(first, "in_channels"):          # a convolutional first layer takes images
            if X.ndim != 4 or X.shape[1] != first.in_channels:
                raise ValueError(f"{who}: X has shape {X.shape} but the first layer {first!r} expects "
                                 f"(examples, {first.in_channels}, height, width)")
        elif X.ndim < 2 or (self.in_features is not None and X.ndim != 2):
            raise ValueError(f"{who}: X must be 2-D (examples, features), got shape {X.shape}")
        elif self.in_features is not None and X.shape[1] != self.in_features:
            raise ValueError(
                f"{who}: X has {X.shape[1]} features per example (shape {X.shape}) "
                f"but the first layer {self.layers[0]!r} expects {self.in_features}"
            )
        if y is None:
            return X, None
        y = np.asarray(y)
        if y.dtype.kind not in "iufb":
            raise TypeError(f"{who}: y must be numeric labels or targets, got dtype {y.dtype}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{who}: X has {X.shape[0]} examples but y has {y.shape[0]}")
        if y.dtype.kind == "f":
            y = as_float_array(y, f"{who}: y", dtype=self.dtype)
        return X, y

    def fit(self, X, y, *, loss, optimizer, epochs=10, batch_size=32, shuffle=True,
            validation_data=None, seed=0, stop_at_loss=None, verbose="auto", callbacks=()):
        """Train with mini-batch gradient descent; return a History.

        X: (examples, features); y: targets as the loss expects them.
        batch_size: examples per step (None or len(X): full batch; 1: one at a time).
        stop_at_loss: stop once an epoch's mean training loss is <= this value.
        seed: shuffles the batches (an int or a numpy Generator).
        verbose: "auto" shows a progress bar in a notebook or terminal; False is quiet.
        callbacks: objects with any of the methods on_train_begin(model),
        on_batch_end(model, epoch, batch) (after the update; layer.grads still hold
        this batch's gradients) and on_epoch_end(model, epoch, logs) (may add
        entries to logs, which go into the history; may set model.stop_training = True).
        If the loss becomes NaN or inf, training stops with a TrainingDivergedWarning
        and history.diverged is True.
        """
        loss = get_loss(loss)
        optimizer = get_optimizer(optimizer)
        X, y = self._check_xy(X, y, "Sequential.fit")
        n = X.shape[0]
        epochs = check_positive_int(epochs, "Sequential.fit: epochs")
        batch_size = n if batch_size is None else min(check_positive_int(batch_size, "Sequential.fit: batch_size"), n)
        if stop_at_loss is not None:
            stop_at_loss = check_number(stop_at_loss, "Sequential.fit: stop_at_loss", low=0.0)
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError("Sequential.fit: validation_data must be a pair (X_val, y_val)")
            Xv, yv = self._check_xy(*validation_data, "Sequential.fit: validation_data")
        rng = as_generator(seed, "Sequential.fit: seed")
        # Fail early, with the loss's own message, on targets it cannot take.
        loss.forward(self.forward(X[:1]), y[:1])
        metric = loss.metric
        y_mean = y.mean(axis=0) if metric == "r2" else None
        ss_tot = float(np.sum((y - y_mean) ** 2)) if metric == "r2" else None

        self.loss = loss
        history = History()
        self.history = history
        bar = None
        if _want_progress(verbose):
            from tqdm.auto import tqdm
            bar = tqdm(total=epochs, desc="fit", unit="epoch", leave=True)
        params, grads = self.parameters(), self.gradients()
        callbacks = list(callbacks or ())
        self.stop_training = False
        for cb in callbacks:
            if hasattr(cb, "on_train_begin"):
                cb.on_train_begin(self)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for epoch in range(1, epochs + 1):
                    order = rng.permutation(n) if shuffle else np.arange(n)
                    total_loss, total_metric = 0.0, 0.0
                    for start in range(0, n, batch_size):
                        idx = order[start:start + batch_size]
                        xb, yb = X[idx], y[idx]
                        out = self.forward(xb, training=True)
                        value = loss.forward(out, yb)
                        if not math.isfinite(value):
                            self._diverged(history, epoch, start // batch_size + 1, value, optimizer)
                            return history
                        self.backward(loss.backward(), need_input_grad=False)
                        optimizer.step(params, grads)
                        for cb in callbacks:
                            if hasattr(cb, "on_batch_end"):
                                cb.on_batch_end(self, epoch, start // batch_size)
                        total_loss += value * len(idx)
                        if metric == "r2":
                            total_metric += float(np.sum((yb.reshape(out.shape) - out) ** 2))
                        else:
                            total_metric += accuracy(out, yb) * len(idx)
                    logs = {"loss": total_loss / n}
                    logs[metric] = 1.0 - total_metric / ss_tot if metric == "r2" else total_metric / n
                    if validation_data is not None:
                        for key, value in self.evaluate(Xv, yv, loss=loss).items():
                            logs["val_" + key] = value
                    for cb in callbacks:
                        if hasattr(cb, "on_epoch_end"):
                            cb.on_epoch_end(self, epoch, logs)
                    history._log(epoch, logs)
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                    if stop_at_loss is not None and logs["loss"] <= stop_at_loss:
                        history.stopped_epoch = epoch
                        history.stop_reason = (
                            f"stopped at epoch {epoch}: loss {logs['loss']:.4g} <= stop_at_loss {stop_at_loss:g}"
                        )
                        break
                    if self.stop_training:
                        history.stopped_epoch = epoch
                        history.stop_reason = history.stop_reason or f"stopped at epoch {epoch} by a callback"
                        break
        finally:
            if bar is not None:
                bar.close()
        return history

    def _diverged(self, history, epoch, batch, value, optimizer):
        history.diverged = True
        history.stopped_epoch = epoch
        lr = getattr(optimizer, "lr", None)
        history.stop_reason = (
            f"training stopped at epoch {epoch}, batch {batch}: the loss became {value}. "
            f"The updates grew too large: try a smaller learning rate"
            f"{f' (now {lr:g})' if lr is not None else ''}, smaller initial weights, "
            f"or batch normalization (exploding gradients)."
        )
        warnings.warn(history.stop_reason, TrainingDivergedWarning, stacklevel=3)

    # --- using a trained model ---------------------------------------------
    def predict(self, X):
        """Outputs for X (logits for the classification losses), in inference mode."""
        X, _ = self._check_xy(X, None, "Sequential.predict")
        return self.forward(X, training=False)

    def evaluate(self, X, y, loss=None):
        """{"loss": ..., "accuracy" or "r2": ...} on (X, y), in inference mode."""
        loss = get_loss(loss) if loss is not None else self.loss
        if loss is None:
            raise ValueError("Sequential.evaluate: give loss=... (the model has not been fit yet)")
        X, y = self._check_xy(X, y, "Sequential.evaluate")
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.forward(X, training=False)
            value = loss.forward(out, y)
        if loss.metric == "r2":
            from .metrics import r2_score
            return {"loss": value, "r2": r2_score(out, y)}
        return {"loss": value, "accuracy": accuracy(out, y)}

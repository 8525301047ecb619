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
from operator import is_
import sys
import warnings

import numpy as np

from ._validate import as_float_array, as_generator, check_number, check_positive_int, default_stream
from .losses import get_loss
from .metrics import accuracy, r2_score
from .optim import get_optimizer
from .regularization import BatchNorm, get_regularizer

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


def _only_in_params(layer):
    """True if no attribute of layer but params and grads holds (a view of) one of their arrays.

    Only then may the arrays move into the model's flat arrays: a layer that also keeps
    ``self.W = self.params["W"]`` would go on using the old array.
    """
    arrays = [*layer.params.values(), *layer.grads.values()]
    if layer.params.keys() != layer.grads.keys() or not all(isinstance(a, np.ndarray) for a in arrays):
        return False
    held = []
    for name, value in vars(layer).items():
        if name not in ("params", "grads"):
            held += value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
    return not any(np.may_share_memory(h, a) for h in held if isinstance(h, np.ndarray) for a in arrays)


class _ChecksDone:
    """``with checks_done:`` around each of fit's training steps skips the per-batch checks.

    fit checks X and every target whole before the first step, and its first step runs
    every check of every layer and of the loss (forward and backward). Each later batch is
    a slice of the same arrays through the same layers, so those checks can find nothing
    new; on batches of 32 they would cost a sixth of the step. From the second step on,
    the layers and the loss skip them (their ``_checked_once`` is True) inside the step
    only: callbacks, validation and any other use see every check.
    """

    def __init__(self, objects):
        self.objects = objects
        self.first_step_done = False

    def __enter__(self):
        for obj in self.objects:
            obj._checked_once = self.first_step_done

    def __exit__(self, exc_type, exc, tb):
        for obj in self.objects:
            obj._checked_once = False
        self.first_step_done = exc_type is None


def _want_progress(verbose):
    if verbose != "auto":
        return bool(verbose)
    if "ipykernel" in sys.modules:
        return True
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


class Sequential:
    """A model made of layers applied one after another.

    Each layer object may appear once: a layer keeps its last input for its backward
    pass, so a second use would overwrite what the first needs (and a shared Dense
    would get only one use's gradient). Make a new layer for each place.

    Layers made with rng=None each start from seed 0 on their own; in a Sequential
    the k-th of them (k = 0, 1, ...) is given its own stream (seed 0 for the first,
    ``np.random.default_rng([0, k])`` for the others) unless its weights or random
    state were changed since it was made. So two ``Dense(8, 8)`` start different,
    and the model is the same at every run.

    The parameters of all layers live in one flat array and their gradients in
    another (``model.flat_parameters()``); each layer's ``params`` and ``grads``
    are views into them, plain arrays of the usual shapes. The optimizer updates
    the whole model in one go.
    """

    def __init__(self, layers):
        if hasattr(layers, "forward") or not hasattr(layers, "__iter__"):
            raise TypeError(f"Sequential takes a list of layers, e.g. Sequential([Dense(2, 8), ReLU(), Dense(8, 1)]), "
                            f"got {type(layers).__name__} {layers!r}")
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        width, seen = None, {}
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential: item {i} ({layer!r}) is not a layer (it needs forward and backward)")
            if id(layer) in seen:
                raise ValueError(
                    f"Sequential: layer {i} {layer!r} is the same object as layer {seen[id(layer)]}. A layer "
                    f"remembers its input for backward, so each place needs its own: make a new "
                    f"{type(layer).__name__}(...) for each (nnlib does not share weights between layers)")
            seen[id(layer)] = i
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
        self.optimizer = None
        self.output = None
        defaults = [layer for layer in layers if getattr(layer, "rng_default", False)]
        for k, layer in enumerate(defaults):
            layer._reseed(default_stream(k))
            layer.rng_default = False
        self._flatten()

    def _flatten(self):
        """Put all parameters in one flat array and all gradients in another; layers get views.

        Done when every parameter and gradient shares one float dtype and no layer keeps
        its arrays anywhere but in params and grads; otherwise the optimizer updates
        the layers' arrays one by one (the same numbers, a little slower).
        """
        owners = [layer for layer in self.layers if getattr(layer, "params", None)]
        self._owners = owners
        arrays = [a for layer in owners for d in (layer.params, layer.grads) for a in d.values()]
        self._flat, self._views = None, arrays
        if not arrays or len({a.dtype for a in arrays}) != 1 or arrays[0].dtype.kind != "f" \
                or not all(map(_only_in_params, owners)):
            return
        params = np.concatenate([p.ravel() for layer in owners for p in layer.params.values()])
        grads = np.concatenate([layer.grads[k].ravel() for layer in owners for k in layer.params])
        start = 0
        for layer in owners:
            for name, p in layer.params.items():
                stop = start + p.size
                layer.params[name] = params[start:stop].reshape(p.shape)
                layer.grads[name] = grads[start:stop].reshape(p.shape)
                start = stop
        self._flat = (params, grads)
        self._views = [a for layer in owners for d in (layer.params, layer.grads) for a in d.values()]

    def flat_parameters(self):
        """(params, grads): lists of the arrays an optimizer steps over for this model.

        Normally ``[flat_params], [flat_grads]``, the one flat array of all parameters and
        the one of all gradients; the per-layer lists otherwise (see _flatten). If a
        layer's arrays were replaced or moved (another Sequential took the layer),
        the flat arrays are made again from the layers' current values.
        """
        current = [a for layer in self._owners for d in (layer.params, layer.grads) for a in d.values()]
        if len(current) != len(self._views) or not all(map(is_, current, self._views)):
            self._flatten()
        if self._flat is None:
            return self.parameters(), self.gradients()
        return [self._flat[0]], [self._flat[1]]

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

    def train_step(self, xb, yb, loss=None, optimizer=None, regularizer=None):
        """One step of gradient descent on the batch (xb, yb); returns the loss value.

        The four lines of training::

            out = model.forward(xb, training=True)      # 1. forward
            value = loss.forward(out, yb)               # 2. loss
            model.backward(loss.backward())             # 3. backward: every layer's grads
            optimizer.step(params, grads)               # 4. update

        loss / optimizer: default to the ones of the last fit. regularizer: e.g.
        ``nnlib.regularization.L2(1e-3)``, adds its gradient before the step (the value
        returned is the loss without its penalty). If the loss is NaN or inf no step is
        taken (the value says so). ``model.output`` keeps the batch's output.
        xb and yb are used as given (fit checks X and y once).
        """
        loss = get_loss(loss) if loss is not None else self.loss
        optimizer = get_optimizer(optimizer) if optimizer is not None else self.optimizer
        if loss is None or optimizer is None:
            raise ValueError("Sequential.train_step: give loss=... and optimizer=... (or call fit first)")
        self.loss, self.optimizer = loss, optimizer
        self.output = out = self.forward(xb, training=True)
        value = loss.forward(out, yb)
        if not math.isfinite(value):
            return value
        self.backward(loss.backward(), need_input_grad=False)
        params, grads = self.flat_parameters()
        if regularizer is not None:
            regularizer.add_gradient(self)
        optimizer.step(params, grads)
        if regularizer is not None:
            regularizer.after_step(self, optimizer)
        return value

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
        if np.iscomplexobj(y):
            raise TypeError(f"{who}: y must hold real numbers, got complex values")
        y = np.asarray(y)
        if y.dtype.kind not in "iufb":
            raise TypeError(f"{who}: y must be numeric labels or targets, got dtype {y.dtype}")
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"{who}: X has {X.shape[0]} examples but y has {y.shape[0] if y.ndim else 'shape ()'}")
        if y.dtype.kind == "f":
            y = as_float_array(y, f"{who}: y", dtype=self.dtype)
        return X, y

    def _check_targets(self, loss, X, y, who):
        """Let the loss check every target before the first step; return y as the loss computes with it.

        (The output of one example gives the shape; the returned y needs no converting per batch.)
        """
        if len(X) == 0:
            raise ValueError(f"{who}: X has no examples (shape {X.shape})")
        out = self.forward(X[:1])
        zeros = np.zeros((len(X), *out.shape[1:]), out.dtype)
        try:
            loss.forward(zeros, y)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{who}: y does not fit the loss: {exc}") from None
        return loss._target(zeros, y)

    def fit(self, X, y, *, loss, optimizer, epochs=10, batch_size=32, shuffle=True, validation_data=None,
            seed=0, stop_at_loss=None, verbose="auto", callbacks=(), regularizer=None):
        """Train with mini-batch gradient descent (``train_step`` on each batch); return a History.

        X: (examples, features); y: targets as the loss expects them (every one is checked
        before the first step).
        batch_size: examples per step (None or len(X): full batch; 1: one at a time). With a
        BatchNorm layer, a last partial batch of 1 joins the batch before it (BatchNorm
        cannot normalise one example).
        stop_at_loss: stop once an epoch's mean training loss is <= this value.
        seed: shuffles the batches (an int or a numpy Generator).
        verbose: "auto" shows a progress bar in a notebook or terminal; False is quiet.
        regularizer: e.g. ``nnlib.regularization.L2(1e-3)`` or ``L1(1e-3)`` (the logged loss
        is the data loss, without the penalty).
        callbacks: objects with any of the methods on_train_begin(model),
        on_batch_end(model, epoch, batch) (after the update; layer.grads still hold
        this batch's gradients) and on_epoch_end(model, epoch, logs) (may add
        entries to logs, which go into the history; may set model.stop_training = True).
        If the loss becomes NaN or inf, training stops with a TrainingDivergedWarning
        and history.diverged is True.
        """
        who = "Sequential.fit"
        loss, optimizer, regularizer = get_loss(loss), get_optimizer(optimizer), get_regularizer(regularizer)
        if y is None:
            raise ValueError(f"{who}: y is None; fit needs the targets (labels or values) of X")
        X, y = self._check_xy(X, y, who)
        epochs = check_positive_int(epochs, f"{who}: epochs")
        batch_size = len(X) if batch_size is None else check_positive_int(batch_size, f"{who}: batch_size")
        if stop_at_loss is not None:
            stop_at_loss = check_number(stop_at_loss, f"{who}: stop_at_loss", low=0.0)
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError(f"{who}: validation_data must be a pair (X_val, y_val)")
            validation_data = self._check_xy(*validation_data, f"{who}: validation_data")
        rng = as_generator(seed, f"{who}: seed")
        y = self._check_targets(loss, X, y, who)
        checks_done = _ChecksDone([*self.layers, loss])
        self.loss, self.optimizer, self.stop_training = loss, optimizer, False
        self.history = history = History()
        callbacks = list(callbacks or ())
        for cb in callbacks:
            if hasattr(cb, "on_train_begin"):
                cb.on_train_begin(self)
        bar = _progress_bar(verbose, epochs)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for epoch in range(1, epochs + 1):
                    order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
                    logs = self._epoch(X, y, order, batch_size, epoch, regularizer, callbacks, checks_done)
                    if logs is None:
                        return history
                    if validation_data is not None:
                        logs.update({"val_" + k: v for k, v in self.evaluate(*validation_data, loss=loss).items()})
                    for cb in callbacks:
                        if hasattr(cb, "on_epoch_end"):
                            cb.on_epoch_end(self, epoch, logs)
                    history._log(epoch, logs)
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                    if self._should_stop(history, epoch, logs["loss"], stop_at_loss):
                        break
        finally:
            if bar is not None:
                bar.close()
        return history

    def _batches(self, n, batch_size):
        """(start, stop) of each batch; with BatchNorm a last batch of 1 joins the one before."""
        starts = list(range(0, n, batch_size))
        if len(starts) > 1 and n - starts[-1] == 1 and any(isinstance(l, BatchNorm) for l in self.layers):
            starts.pop()
        return list(zip(starts, starts[1:] + [n]))

    def _epoch(self, X, y, order, batch_size, epoch, regularizer, callbacks, checks_done):
        """One pass over the data in batches; returns the epoch's logs, or None if the loss diverged.

        The metric (accuracy or r2) is measured once, on the outputs of all the epoch's
        batches, each as its step saw it (before the update).
        """
        total_loss, outputs = 0.0, None
        for batch, (start, stop) in enumerate(self._batches(len(X), batch_size)):
            idx = order[start:stop]
            with checks_done:                       # every batch is a slice of the X and y fit checked
                value = self.train_step(X[idx], y[idx], regularizer=regularizer)
            if not math.isfinite(value):
                self._diverged(self.history, epoch, batch + 1, value, self.optimizer)
                return None
            for cb in callbacks:
                if hasattr(cb, "on_batch_end"):
                    cb.on_batch_end(self, epoch, batch)
            total_loss += value * len(idx)
            if outputs is None:
                outputs = np.empty((len(X), *self.output.shape[1:]), self.output.dtype)
            outputs[start:stop] = self.output
        y = y[order]
        if self.loss.metric == "r2":
            return {"loss": total_loss / len(X), "r2": r2_score(outputs, y)}
        return {"loss": total_loss / len(X), self.loss.metric: accuracy(outputs, y)}

    def _should_stop(self, history, epoch, value, stop_at_loss):
        if stop_at_loss is not None and value <= stop_at_loss:
            history.stop_reason = f"stopped at epoch {epoch}: loss {value:.4g} <= stop_at_loss {stop_at_loss:g}"
        elif self.stop_training:
            history.stop_reason = history.stop_reason or f"stopped at epoch {epoch} by a callback"
        else:
            return False
        history.stopped_epoch = epoch
        return True

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
        warnings.warn(history.stop_reason, TrainingDivergedWarning, stacklevel=4)

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
        if y is None:
            raise ValueError("Sequential.evaluate: y is None; evaluate needs the targets of X")
        X, y = self._check_xy(X, y, "Sequential.evaluate")
        if len(X) == 0:
            raise ValueError(f"Sequential.evaluate: X has no examples (shape {X.shape})")
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.forward(X, training=False)
            value = loss.forward(out, y)
        if loss.metric == "r2":
            return {"loss": value, "r2": r2_score(out, y)}
        return {"loss": value, "accuracy": accuracy(out, y)}


def _progress_bar(verbose, epochs):
    if not _want_progress(verbose):
        return None
    from tqdm.auto import tqdm
    return tqdm(total=epochs, desc="fit", unit="epoch", leave=True)

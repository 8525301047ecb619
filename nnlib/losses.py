"""Loss functions: how wrong a batch of predictions is, and in which direction to move.

``value = loss.forward(pred, target)`` returns the mean loss over the batch (a
float); ``loss.backward()`` then returns d value / d pred, an array shaped like
pred. The classification losses take *logits* (raw scores, before sigmoid or
softmax): computing the loss from logits is exact and never overflows.

* ``MSE``: mean squared error, for regression with a linear output.
* ``BinaryCrossEntropy``: logistic loss for one or several yes/no labels
  (sigmoid outputs, multi-label too).
* ``CrossEntropy``: softmax + cross-entropy for one label out of several
  classes; targets as integer labels or one-hot rows.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array
from .activations import log_softmax, sigmoid

__all__ = ["Loss", "MSE", "BinaryCrossEntropy", "CrossEntropy", "get_loss"]


class Loss:
    """Base class. Subclasses implement forward(pred, target) and backward().

    forward starts with ``pred, target = self._checked(pred, target)``: a clear error for a
    wrong pred or target, and the target converted as the loss computes with it (``_target``).
    """

    name = "loss"
    metric = "accuracy"   # what Sequential.fit reports beside the loss
    # True only while Sequential.fit runs a training step on slices of an X and a y it has
    # already checked whole (see Sequential._epoch): then _checked has nothing new to find.
    _checked_once = False

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def _checked(self, pred, target):
        """(pred, target), checked and converted for forward."""
        if self._checked_once:
            return pred, target
        pred = self._pred(pred)
        return pred, self._target(pred, target)

    def _pred(self, pred):
        pred = as_float_array(pred, f"{type(self).__name__}: pred", finite=False)
        if pred.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: pred must be (batch,) or (batch, outputs), got shape {pred.shape}")
        if pred.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}: pred is an empty batch (shape {pred.shape}): "
                             f"a mean over no examples is undefined")
        return pred

    def _target(self, pred, target):
        """target checked against pred, in the form forward computes with (a subclass's own rules)."""
        return target

    def _need_forward(self):
        if getattr(self, "_cache", None) is None:
            raise RuntimeError(f"{type(self).__name__}: call forward before backward")

    def __repr__(self):
        return f"{type(self).__name__}()"


def _match_shape(pred, target, who):
    """Accept a target of shape (batch,) for a pred of shape (batch, 1) and vice versa."""
    if target.shape == pred.shape:
        return target
    if target.size == pred.size and target.shape[:1] == pred.shape[:1] and max(target.ndim, pred.ndim) <= 2:
        return target.reshape(pred.shape)
    raise ValueError(f"{who}: target has shape {target.shape} but pred has shape {pred.shape}; they must match")


class MSE(Loss):
    """Mean squared error: mean over all entries of (pred - target)^2."""

    name = "mse"
    metric = "r2"

    def forward(self, pred, target):
        pred, target = self._checked(pred, target)
        diff = pred - target
        self._cache = diff
        return float(np.mean(diff ** 2))

    def _target(self, pred, target):
        return _match_shape(pred, as_float_array(target, "MSE: target"), "MSE")

    def backward(self):
        self._need_forward()
        diff = self._cache
        return (2.0 / diff.size) * diff        # d/dpred mean((pred - y)^2) = 2 (pred - y) / N


class BinaryCrossEntropy(Loss):
    """Logistic loss on logits z with labels y in {0, 1} (or in [0, 1]).

    Per entry: -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]
             = max(z, 0) - z y + log(1 + exp(-|z|))   (the stable form),
    averaged over all entries. Several output columns are independent labels
    (multi-label).
    """

    name = "binary_cross_entropy"

    def forward(self, pred, target):
        z, y = self._checked(pred, target)
        self._cache = (z, y)
        per_entry = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        return float(per_entry.mean())

    def _target(self, z, target):
        y = _match_shape(z, as_float_array(target, "BinaryCrossEntropy: target"), "BinaryCrossEntropy")
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"BinaryCrossEntropy: targets must lie in [0, 1] (labels 0 or 1), "
                f"got values from {y.min()} to {y.max()}"
            )
        return y

    def backward(self):
        self._need_forward()
        z, y = self._cache
        return (sigmoid(z) - y) / z.size       # dL/dz = (sigmoid(z) - y) / N


class CrossEntropy(Loss):
    """Softmax followed by cross-entropy, on logits of shape (batch, classes).

    target: integer labels of shape (batch,) in [0, classes), or one-hot (or
    soft) rows of shape (batch, classes) that sum to 1.
    loss = mean over the batch of -log softmax(z)[label];  dL/dz = (p - y) / batch.
    """

    name = "cross_entropy"

    def forward(self, pred, target):
        z, y = self._checked(pred, target)
        n = z.shape[0]
        logp = log_softmax(z, axis=1)
        self._cache = (logp, y)
        if y.ndim == 1:                       # labels: -log p of each example's own class
            return float(-logp[np.arange(n), y].sum() / n)
        return float(-(y * logp).sum() / n)

    def backward(self):
        self._need_forward()
        logp, y = self._cache
        n = logp.shape[0]
        grad = np.exp(logp)                   # softmax(z)
        if y.ndim == 1:
            grad[np.arange(n), y] -= 1        # softmax(z) - one_hot(y), without building the one-hot
        else:
            grad -= y
        grad /= n                             # dL/dz = (softmax(z) - y) / batch
        return grad

    def _target(self, z, target):
        """Integer labels of shape (n,), or rows of shape (n, k) that sum to 1 in z's dtype, checked."""
        if z.ndim != 2:
            raise ValueError(f"CrossEntropy: pred must be logits of shape (batch, classes), got shape {z.shape}")
        n, k = z.shape
        t = np.asarray(target)
        if t.dtype.kind not in "iufb":
            raise TypeError(f"CrossEntropy: target must be integer labels or one-hot rows, got dtype {t.dtype}")
        if t.ndim == 1 or (t.ndim == 2 and t.shape[1] == 1 and k > 1):
            t = t.reshape(-1)
            if t.shape[0] != n:
                raise ValueError(f"CrossEntropy: {t.shape[0]} labels for a batch of {n} predictions")
            if t.dtype.kind == "f":
                if not np.isfinite(t).all() or (t != np.round(t)).any():
                    raise TypeError("CrossEntropy: labels must be whole numbers (class indices), "
                                    f"got e.g. {t[(~np.isfinite(t)) | (t != np.round(t))][0]}")
                if t.size and (t.min() < 0 or t.max() >= k):     # before the cast: 1e20 does not fit an int
                    bad = t[(t < 0) | (t >= k)][0]
                    raise ValueError(f"CrossEntropy: label {bad:g} is out of range for {k} classes "
                                     f"(expected 0..{k - 1})")
                t = t.astype(np.int64)
            if t.size and (t.min() < 0 or t.max() >= k):
                bad = t[(t < 0) | (t >= k)][0]
                raise ValueError(f"CrossEntropy: label {bad} is out of range for {k} classes (expected 0..{k - 1})")
            return t.astype(np.intp, copy=False)
        if t.shape != (n, k):
            raise ValueError(
                f"CrossEntropy: target of shape {t.shape} does not fit logits of shape {(n, k)}: "
                f"expected labels of shape ({n},) or one-hot rows of shape ({n}, {k})"
            )
        t = as_float_array(t, "CrossEntropy: target")
        if (t < 0).any() or not np.allclose(t.sum(axis=1), 1.0, atol=1e-6):
            row = int(np.argmax(np.abs(t.sum(axis=1) - 1.0) + (t < 0).any(axis=1)))
            raise ValueError(
                f"CrossEntropy: one-hot target rows must be non-negative and sum to 1; "
                f"row {row} sums to {t[row].sum():.4g}"
            )
        return t.astype(z.dtype, copy=False)


_LOSSES = {
    "mse": MSE, "mean_squared_error": MSE,
    "binary_cross_entropy": BinaryCrossEntropy, "bce": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy, "categorical_cross_entropy": CrossEntropy,
}


def get_loss(loss):
    """A Loss from an instance or a name ("mse", "binary_cross_entropy", "cross_entropy")."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    if isinstance(loss, str) and loss.lower() in _LOSSES:
        return _LOSSES[loss.lower()]()
    raise ValueError(
        f"loss must be a Loss (MSE(), BinaryCrossEntropy(), CrossEntropy()) or one of "
        f"{sorted(_LOSSES)}, got {loss!r}"
    )

"""Metrics that say how good predictions are, in words a person reads (not a loss)."""
from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "r2_score"]


def accuracy(output, target):
    """Fraction of correct predictions.

    output: model outputs (logits). With several columns and integer or one-hot
    targets of one label per example, the predicted class is the argmax. With
    one column (or targets of the same shape as several independent labels),
    a logit > 0 means "yes" and each entry counts.
    """
    output = np.asarray(output)
    target = np.asarray(target)
    if output.ndim == 2 and output.shape[1] > 1 and target.shape != output.shape:
        return float(np.mean(output.argmax(axis=1) == target.reshape(-1)))
    if output.ndim == 2 and output.shape[1] > 1 and _is_one_hot(target):
        return float(np.mean(output.argmax(axis=1) == target.argmax(axis=1)))
    return float(np.mean((output.reshape(target.shape) > 0) == (target > 0.5)))


def _is_one_hot(t):
    return t.ndim == 2 and np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1)


def r2_score(pred, target):
    """Coefficient of determination: 1 - SS_res / SS_tot (1 is a perfect fit, 0 is predicting the mean)."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64).reshape(pred.shape)
    ss_res = np.sum((target - pred) ** 2)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)

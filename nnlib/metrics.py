"""Metrics that say how good predictions are, in words a person reads (not a loss)."""
from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "r2_score", "best_linear_accuracy"]


def accuracy(output, target):
    """Fraction of correct predictions.

    output: model outputs (logits). With several columns and integer or one-hot
    targets of one label per example, the predicted class is the argmax. With
    one column (or targets of the same shape as several independent labels),
    a logit > 0 means "yes" and each entry counts.
    """
    output = np.asarray(output)
    target = np.asarray(target)
    if output.shape[:1] != target.shape[:1] or (target.size != output.size and target.size != len(output)):
        raise ValueError(f"accuracy: output has shape {output.shape} but target has shape {target.shape}: "
                         f"expected one label per row of output, or a target of the output's shape")
    if output.ndim == 2 and output.shape[1] > 1 and target.shape != output.shape:
        return _fraction(output.argmax(axis=1) == target.reshape(-1))
    if output.ndim == 2 and output.shape[1] > 1 and _is_one_hot(target):
        return _fraction(output.argmax(axis=1) == target.argmax(axis=1))
    return _fraction((output.reshape(target.shape) > 0) == (target > 0.5))


def _fraction(correct):
    """The fraction of True in a boolean array (np.mean does the same, several times slower)."""
    return np.count_nonzero(correct) / correct.size if correct.size else float("nan")


def _is_one_hot(t):
    return t.ndim == 2 and np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1)


def r2_score(pred, target):
    """Coefficient of determination: 1 - SS_res / SS_tot (1 is a perfect fit, 0 is predicting the mean)."""
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if target.size != pred.size or target.shape[:1] != pred.shape[:1]:
        raise ValueError(f"r2_score: pred has shape {pred.shape} but target has shape {target.shape}; they must match")
    target = target.reshape(pred.shape)
    ss_res = np.sum((target - pred) ** 2)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)


def best_linear_accuracy(X, y, n_angles=360):
    """The best accuracy any straight line can reach on 2-class, 2-D data (a search).

    For each of n_angles directions, project the points on it and try every
    threshold between two neighbours, with either side as class 1. This is the
    ceiling for every linear model: if it is low, no training can help.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"best_linear_accuracy: X must have shape (n, 2), got {X.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("best_linear_accuracy: y must hold labels 0 and 1")
    n = len(y)
    angles = np.linspace(0, np.pi, n_angles, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)])        # (2, n_angles)
    order = np.argsort(X @ directions, axis=0)                       # sort points along each direction
    ones_sorted = y[order]                                           # (n, n_angles)
    # cumulative count of class-1 points at or below each cut (cut 0: none below)
    below_ones = np.vstack([np.zeros((1, n_angles)), np.cumsum(ones_sorted, axis=0)])
    below = np.arange(n + 1)[:, None]
    total_ones = y.sum()
    # class 1 above the cut: correct = zeros below + ones above
    correct = (below - below_ones) + (total_ones - below_ones)
    best = np.maximum(correct, n - correct).max()
    return float(best / n)

"""k-fold cross-validation: how well a kind of model generalises, with its spread.

One train/validation split gives one number, and a lucky or unlucky split can
move it a lot. k-fold cross-validation trains k models, each validated on a
different fifth (say) of the data, so every example is used for validation once.
The mean of the k scores estimates the performance on new data; their spread
says how much to trust that estimate.
"""
from __future__ import annotations

import numpy as np

from .data import k_fold

__all__ = ["cross_validate"]


def cross_validate(build, X, y, *, k=5, seed=0, metric=None, **fit_kwargs):
    """Train build() on k train folds and score it on the matching validation folds.

    build: a function returning a new, untrained model (called once per fold).
    fit_kwargs: passed to model.fit (loss=..., optimizer=... must be a fresh
    optimizer per fold, so pass a function ``optimizer=lambda: Adam(0.01)``).
    metric: the key of evaluate() to report ("accuracy" or "r2"; default: the loss's metric).
    Returns {"scores": [...], "mean": ..., "std": ..., "folds": [(train_idx, val_idx), ...]}.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"cross_validate: X has {len(X)} examples but y has {len(y)}")
    if not callable(build) or hasattr(build, "layers") or hasattr(build, "forward"):
        raise TypeError(f"cross_validate: build must be a function that returns a new, untrained model "
                        f"(e.g. build=lambda: Sequential([...])), got {type(build).__name__}; one model "
                        f"would be trained on every fold in turn")
    make_optimizer = fit_kwargs.pop("optimizer", None)
    if make_optimizer is None or not callable(make_optimizer) or hasattr(make_optimizer, "step"):
        raise TypeError("cross_validate: pass optimizer=a function returning a new optimizer, "
                        "e.g. optimizer=lambda: Adam(0.01), so the folds do not share optimizer state")
    folds = k_fold(len(X), k, seed=seed)
    scores = []
    for train_idx, val_idx in folds:
        model = build()
        model.fit(X[train_idx], y[train_idx], optimizer=make_optimizer(), **{"verbose": False, **fit_kwargs})
        result = model.evaluate(X[val_idx], y[val_idx])
        key = metric or next(key for key in result if key != "loss")
        if key not in result:
            raise ValueError(f"cross_validate: metric {key!r} is not one of {sorted(result)}")
        scores.append(result[key])
    scores = np.array(scores)
    return {"scores": scores.tolist(), "mean": float(scores.mean()), "std": float(scores.std(ddof=1)),
            "folds": folds}

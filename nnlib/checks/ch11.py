"""Self-checks for exercise 11, a complete project."""
from __future__ import annotations

import numpy as np

from ..data import spirals
from . import check, expect, expect_callable, expect_close


@check("k_fold_indices")
def k_fold_indices(fn):
    expect_callable(fn, "k_fold_indices")
    for n, k in [(10, 5), (11, 3), (7, 7)]:
        folds = fn(n, k, np.random.default_rng(1101))
        expect(isinstance(folds, list) and len(folds) == k,
               f"k_fold_indices({n}, {k}) should return a list of {k} (train, val) pairs, got "
               f"{len(folds) if isinstance(folds, list) else type(folds).__name__}.")
        vals = []
        for i, pair in enumerate(folds):
            expect(isinstance(pair, tuple) and len(pair) == 2, f"fold {i} should be a pair (train_idx, val_idx).")
            tr, va = (np.asarray(a).astype(int) for a in pair)
            overlap = np.intersect1d(tr, va)
            expect(overlap.size == 0, f"for n={n}, k={k}, fold {i}: indices {overlap.tolist()} are in both train and validation.")
            expect(sorted(np.concatenate([tr, va]).tolist()) == list(range(n)),
                   f"for n={n}, k={k}, fold {i}: train and validation together should hold each index 0..{n - 1} once.")
            vals.append(va)
        sizes = sorted(len(v) for v in vals)
        expect(sizes[-1] - sizes[0] <= 1, f"for n={n}, k={k} your validation folds have sizes {sizes}; they should differ by at most 1.")
        joined = np.concatenate(vals)
        expect(sorted(joined.tolist()) == list(range(n)),
               f"for n={n}, k={k} the validation folds together should cover every index exactly once; "
               f"got {sorted(joined.tolist())}.")
    first = np.concatenate([va for _, va in fn(20, 4, np.random.default_rng(1102))])
    expect(not np.array_equal(first, np.arange(20)), "your folds are consecutive blocks of 0, 1, 2, ...: shuffle first.")
    return "every index is validated exactly once, folds of equal size, shuffled."


@check("standardize_train_test")
def standardize_train_test(fn):
    expect_callable(fn, "standardize_train_test")
    rng = np.random.default_rng(1103)
    train = rng.normal([5.0, -2.0, 100.0], [2.0, 0.1, 30.0], size=(50, 3))
    test = rng.normal([5.0, -2.0, 100.0], [2.0, 0.1, 30.0], size=(10, 3))
    result = fn(train.copy(), test.copy())
    expect(isinstance(result, tuple) and len(result) == 2, "standardize_train_test should return (train_z, test_z).")
    tz, sz = result
    mean, std = train.mean(axis=0), train.std(axis=0)
    expect_close(tz, (train - mean) / std, "your standardised training set")
    own = (test - test.mean(axis=0)) / test.std(axis=0)
    if np.shape(sz) == own.shape and np.allclose(sz, own):
        expect(False, "you standardised the test set with its own mean and std; use the training set's, "
                      "exactly as you will for new data.")
    expect_close(sz, (test - mean) / std, "your standardised test set")
    return "both sets scaled with the training set's mean and standard deviation."


@check("cross_val_scores")
def cross_val_scores(fn):
    expect_callable(fn, "cross_val_scores")
    X, y = spirals(300, k=2, noise=0.02, seed=1104)
    scores = fn(X, y, 4)
    scores = np.asarray(scores, dtype=float)
    expect(scores.shape == (4,), f"cross_val_scores(X, y, k=4) should return 4 scores, got shape {scores.shape}.")
    expect(((scores >= 0) & (scores <= 1)).all(), f"accuracies lie between 0 and 1; got {np.round(scores, 3)}.")
    expect(len(np.unique(np.round(scores, 6))) > 1,
           f"all 4 folds scored exactly {scores[0]:.4f}: did every fold train and validate on the same data?")
    expect(scores.mean() > 0.85, f"mean validation accuracy {scores.mean():.3f} is below 0.85: does each fold train a "
                                 "new model on its training part, and evaluate it on its validation part?")
    return f"fold accuracies {np.round(scores, 3)}: mean {scores.mean():.3f} ± {scores.std(ddof=1):.3f}."

"""Self-checks for exercise 11, a complete project."""
from __future__ import annotations

import numpy as np

from nnlib.data import spirals
from nnlib.layers import Dense, ReLU
from nnlib.losses import CrossEntropy
from nnlib.model import Sequential
from nnlib.optim import Adam
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
    for mistake, wrong in _wrong_cross_validations(X, y, 4).items():
        if np.allclose(scores, wrong) and not np.allclose(scores, _cv_variant(X, y, 4, "honest")):
            expect(False, f"your fold accuracies {np.round(scores, 3)} are what you get when you {mistake}. "
                          "Each fold needs a new model from build_model(), fitted on X[train_idx] only, "
                          "and evaluated on X[val_idx].")
    expect(len(np.unique(np.round(scores, 6))) > 1,
           f"all 4 folds scored exactly {scores[0]:.4f}: did every fold train and validate on the same data?")
    expect(scores.mean() > 0.85, f"mean validation accuracy {scores.mean():.3f} is below 0.85: does each fold train a "
                                 "new model on its training part, and evaluate it on its validation part?")
    return f"fold accuracies {np.round(scores, 3)}: mean {scores.mean():.3f} ± {scores.std(ddof=1):.3f}."


def _cv_variant(X, y, k, how):
    """Cross-validation as exercise 11 asks ("honest"), or with one typical mistake (for the messages)."""
    folds = np.array_split(np.random.default_rng(0).permutation(len(X)), k)
    scores, model = [], None
    for i in range(k):
        tr, va = np.concatenate(folds[:i] + folds[i + 1:]), folds[i]
        if model is None or how != "reuse":
            model = Sequential([Dense(2, 32, rng=0), ReLU(), Dense(32, 2, rng=1)])
        fit_on = np.arange(len(X)) if how == "all" else tr
        model.fit(X[fit_on], y[fit_on], loss=CrossEntropy(), optimizer=Adam(0.02), epochs=40, batch_size=32, verbose=False)
        on = tr if how == "train" else va
        scores.append(model.evaluate(X[on], y[on])["accuracy"])
    return np.array(scores)


def _wrong_cross_validations(X, y, k):
    return {
        "evaluate each model on its training part instead of the validation part": _cv_variant(X, y, k, "train"),
        "fit every model on all of X, validation folds included": _cv_variant(X, y, k, "all"),
        "keep training one model across the folds (it has already seen each later validation fold)": _cv_variant(X, y, k, "reuse"),
    }

"""Self-checks for exercise 11, a complete project: k folds that partition the data,
cross-validation with the scaler, the model and the optimizer made afresh inside each fold, and a
prediction about cross-validating a baseline on pure noise.

Every check calls the learner's functions with plain data (numbers, arrays, lists of index arrays);
the cross-validation is compared with a reference run of the same folds from the same seeds, and
each classic mistake is re-run to name it. ``POINTS`` are the nbgrader points of each question.
"""
from __future__ import annotations

import numpy as np

from nnlib.data import spirals
from nnlib.layers import Dense, ReLU
from nnlib.losses import CrossEntropy
from nnlib.model import Sequential
from nnlib.optim import Adam
from . import check, expect, expect_callable
from . import progress as _progress

POINTS = {"k_fold_indices": 2, "cross_val_scores": 5, "predicted_majority": 3}


def progress():
    """The running total of this exercise's self-checks (the last cell of the exercise)."""
    return _progress(POINTS)


# The exercise's setup cell defines these three, word for word (a test checks it).
SETUP = '''
def build_model():                 # a new, untrained network: the same initial weights every time
    return Sequential([Dense(3, 16, rng=0), ReLU(), Dense(16, 2, rng=1)])

def new_optimizer():               # a new optimizer, with no memory of earlier steps
    return Adam(0.02)

FIT = dict(loss=CrossEntropy(), epochs=30, batch_size=32, seed=0, verbose=False)
'''
_env = {"Sequential": Sequential, "Dense": Dense, "ReLU": ReLU, "Adam": Adam, "CrossEntropy": CrossEntropy}
exec(SETUP, _env)
build_model, new_optimizer, FIT = _env["build_model"], _env["new_optimizer"], _env["FIT"]


# --- Question 1: k folds that partition the data --------------------------------------------------

def _indices(a, what):
    try:
        arr = np.asarray(a)
    except Exception:
        expect(False, f"{what} should be an array of indices, got {type(a).__name__}.")
    expect(arr.ndim == 1 and (arr.size == 0 or arr.dtype.kind in "iu"),
           f"{what} should be a 1-d array of whole-number indices, got {arr.dtype} of shape {arr.shape}.")
    return arr.astype(int)


@check("k_fold_indices")
def k_fold_indices(fn):
    expect_callable(fn, "k_fold_indices")
    for n, k in [(10, 5), (11, 3), (7, 7), (23, 4)]:
        folds = fn(n, k, np.random.default_rng(1101))
        expect(isinstance(folds, (list, tuple)) and len(folds) == k,
               f"k_fold_indices({n}, {k}) should return a list of {k} (train_idx, val_idx) pairs, got "
               f"{len(folds) if isinstance(folds, (list, tuple)) else type(folds).__name__}.")
        where = f"for n={n}, k={k}"
        trains, vals = [], []
        for i, pair in enumerate(folds):
            expect(isinstance(pair, (tuple, list)) and len(pair) == 2, f"{where}, fold {i} should be a pair (train_idx, val_idx).")
            tr, va = _indices(pair[0], f"{where}, fold {i}'s train_idx"), _indices(pair[1], f"{where}, fold {i}'s val_idx")
            overlap = np.intersect1d(tr, va)
            expect(overlap.size == 0, f"{where}, fold {i}: indices {overlap.tolist()} are in both train and validation; "
                                      "a fold must never train on what it validates.")
            trains.append(tr)
            vals.append(va)
        joined = np.concatenate(vals)
        counts = np.bincount(joined[(joined >= 0) & (joined < n)], minlength=n)
        twice = np.flatnonzero(counts > 1)
        if twice.size:
            expect(False, f"{where}, the validation folds overlap: index {twice[0]} is validated "
                          f"{counts[twice[0]]} times (and {twice.size - 1} more indices too). The folds must "
                          "partition the data: cut ONE shuffled order of 0..n-1 into k pieces, do not draw "
                          "each fold at random.")
        missing = np.flatnonzero(counts == 0)
        expect(missing.size == 0, f"{where}, indices {missing.tolist()} are never validated: the folds must partition "
                                  "0..n-1, every index in exactly one validation fold (did the split drop the "
                                  f"remainder of {n} / {k}?).")
        expect(joined.min() >= 0 and joined.max() < n, f"{where}, the validation indices should lie in 0..{n - 1}, "
                                                        f"got {joined.min()}..{joined.max()}.")
        for i, (tr, va) in enumerate(zip(trains, vals)):
            rest = np.setdiff1d(np.arange(n), va)
            expect(np.array_equal(np.sort(tr), rest),
                   f"{where}, fold {i} trains on {len(tr)} examples but {len(rest)} are outside its validation fold: "
                   "train on every index not in the validation fold, each once.")
        sizes = sorted(len(v) for v in vals)
        expect(sizes[-1] - sizes[0] <= 1, f"{where}, your validation folds have sizes {sizes}; they should differ by at "
                                          f"most 1 (spread the remainder of {n} / {k} over several folds).")
    first = np.concatenate([np.asarray(va) for _, va in fn(20, 4, np.random.default_rng(1102))])
    expect(not np.array_equal(first, np.arange(20)), "your folds are consecutive blocks of 0, 1, 2, ...: shuffle "
                                                     "with rng.permutation(n) first (data are often sorted by class).")
    return "the validation folds partition the data, sizes differ by at most 1, shuffled."


# --- Question 2: cross-validation with everything fitted inside each fold -------------------------

def cv_data(seed=1104, n=200):
    """Two spiral arms in columns of very different units, plus a noise column: scaling matters."""
    Xs, y = spirals(n, k=2, noise=0.05, seed=seed)
    noise = np.random.default_rng(seed).standard_normal(n) * 30.0 + 50.0
    return np.column_stack([Xs[:, 0] * 100.0, Xs[:, 1] * 0.01, noise]), y


def cv_folds(n, k, seed):
    parts = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])), np.sort(parts[i])) for i in range(k)]


def _scale(A, B, ddof=0):
    mean, std = A.mean(axis=0), A.std(axis=0, ddof=ddof)
    return (B - mean) / std


def reference_cv(X, y, folds, how="honest"):
    """[(loss, accuracy)] per fold, done right ("honest") or with one classic mistake."""
    results, model, optimizer = [], None, None
    for tr, va in folds:
        everything = np.concatenate([tr, va])
        if how == "pooled":                                    # statistics of train + validation together
            Ztr, Zva = _scale(X[everything], X[tr]), _scale(X[everything], X[va])
        elif how == "none":
            Ztr, Zva = X[tr], X[va]
        elif how == "own":                                     # the validation part scaled with its own statistics
            Ztr, Zva = _scale(X[tr], X[tr]), _scale(X[va], X[va])
        elif how == "ddof1":
            Ztr, Zva = _scale(X[tr], X[tr], ddof=1), _scale(X[tr], X[va], ddof=1)
        elif how == "swapped":
            Ztr, Zva = _scale(X[va], X[va]), _scale(X[va], X[tr])
        else:
            Ztr, Zva = _scale(X[tr], X[tr]), _scale(X[tr], X[va])
        if model is None or how not in ("reuse", "reuse_both"):
            model = build_model()
        if optimizer is None or how not in ("shared", "reuse_both"):
            optimizer = new_optimizer()
        y_fit = y[va] if how == "swapped" else y[tr]
        if how == "all":
            Ztr, y_fit = np.concatenate([Ztr, Zva]), np.concatenate([y[tr], y[va]])
        model.fit(Ztr, y_fit, optimizer=optimizer, **FIT)
        on, y_on = (Ztr, y[tr]) if how == "train" else (Zva, y[tr] if how == "swapped" else y[va])
        r = model.evaluate(on, y_on)
        results.append((float(r["loss"]), float(r["accuracy"])))
    return np.array(results)


CV_MISTAKES = {
    "pooled": "you standardised with statistics pooled over the training AND validation parts (pooled train+test "
              "statistics): the validation examples leaked into the scaler. Fit the mean and std on X[train_idx] only, "
              "then apply those same numbers to both parts.",
    "own": "you standardised the validation part with its own mean and std; use the training part's, exactly as new "
           "data would be.",
    "none": "you did not standardise: columns in units of 100 and of 0.01 make training much harder. Standardise "
            "inside each fold with the training part's mean and std.",
    "ddof1": "you scaled with the sample standard deviation (ddof=1, pandas' default); the course's standardising, "
             "like np.std and nnlib's Standardizer, divides by the plain standard deviation (ddof=0).",
    "shared": "you made one optimizer and shared it across the folds: Adam's m, v and step count carry over from "
              "fold to fold, so each fold starts from the previous fold's momentum. Call new_optimizer() in every fold.",
    "reuse": "you kept training one model across the folds: by fold 2 it has already trained on the examples it now "
             "validates. Call build_model() in every fold.",
    "reuse_both": "you kept one model and one optimizer across the folds: each later fold validates on examples the "
                  "model has trained on. Call build_model() and new_optimizer() in every fold.",
    "all": "you fitted each model on the validation part too (train + validation): it has seen what it is scored on.",
    "train": "you evaluated each model on its training part; score it on the validation part, which it has not seen.",
    "swapped": "you swapped the roles: trained on the validation fold and scored on the training part.",
}


def _cv_results(got, k):
    expect(got is not None, "cross_val_scores returned None: did you forget to `return` the list?")
    expect(isinstance(got, (list, tuple)) and len(got) == k,
           f"cross_val_scores should return a list of {k} results, one per fold, got "
           f"{len(got) if isinstance(got, (list, tuple)) else type(got).__name__}.")
    rows = []
    for i, r in enumerate(got):
        expect(isinstance(r, dict) and "loss" in r and "accuracy" in r,
               f"result {i} should be the dict model.evaluate(...) returns, {{'loss': ..., 'accuracy': ...}}, got "
               f"{type(r).__name__}{' with keys ' + str(list(r)) if isinstance(r, dict) else ''}.")
        try:
            rows.append((float(r["loss"]), float(r["accuracy"])))
        except (TypeError, ValueError):
            expect(False, f"result {i}'s loss and accuracy should be numbers, got {r!r}.")
    return np.array(rows)


def _same(a, b):
    return a.shape == b.shape and bool(np.allclose(a[:, 0], b[:, 0], rtol=1e-4, atol=1e-7)
                                       and np.allclose(a[:, 1], b[:, 1], atol=1e-9))


@check("cross_val_scores")
def cross_val_scores(fn):
    expect_callable(fn, "cross_val_scores")
    X, y = cv_data()
    folds = cv_folds(len(X), 4, 1105)
    got = _cv_results(fn(X.copy(), y.copy(), [(tr.copy(), va.copy()) for tr, va in folds]), len(folds))
    right = reference_cv(X, y, folds)
    if not _same(got, right):
        for how, message in CV_MISTAKES.items():
            if _same(got, reference_cv(X, y, folds, how)):
                expect(False, f"your fold results (accuracies {np.round(got[:, 1], 3)}) are what you get when {message}")
        i = int(np.argmax(~np.isclose(got[:, 0], right[:, 0], rtol=1e-4, atol=1e-7) | (got[:, 1] != right[:, 1])))
        expect(False, f"fold {i}: your validation loss {got[i, 0]:.4f}, accuracy {got[i, 1]:.3f}; the reference run "
                      f"(the same folds, build_model(), new_optimizer() and FIT) gives {right[i, 0]:.4f}, {right[i, 1]:.3f}. "
                      "In each fold: standardise with the training part's mean and std, fit a new model with a new "
                      "optimizer on the training part, evaluate on the validation part.")
    acc = got[:, 1]
    return f"matches the reference run fold by fold: accuracy {acc.mean():.3f} ± {acc.std(ddof=1):.3f} over {len(acc)} folds."


# --- Question 3: predict, then measure: a majority-class baseline under cross-validation ----------

N_PER_CLASS = 10
CHOICES = ("below", "about", "above")
MAJORITY_ANSWER = (0.0, "below", 0.5)


def _number(value, what):
    expect(value is not None and not isinstance(value, (bool, np.bool_, str)) and np.ndim(value) == 0,
           f"{what} should be one number, got {value!r}.")
    return float(value)


@check("predicted_majority")
def predicted_majority(fn):
    expect_callable(fn, "predicted_majority")
    got = fn()
    expect(isinstance(got, (tuple, list)) and len(got) == 3,
           f"predicted_majority should return 3 values (loo, random_folds, stratified), got {got!r}.")
    loo, choice, strat = _number(got[0], "loo"), got[1], _number(got[2], "stratified")
    if loo != 0.0:
        hints = {0.5: "0.5 is chance for a guess that ignores the labels, but this one reads the training part's labels: "
                      "leaving out an example of class c leaves 9 of class c and 10 of the other.",
                 1.0: "leaving out an example of class c leaves its class in the MINORITY (9 against 10), so the "
                      "training part's majority is the other class.",
                 0.45: "leaving one out is the same situation for every example: the count is 9 against 10 each time.",
                 0.475: "leaving one out is the same situation for every example: the count is 9 against 10 each time."}
        hint = hints.get(round(loo, 3), "what are the class counts of the training part when one example of class c "
                                        "is left out, and which class does the baseline then predict?")
        expect(False, f"you predicted a leave-one-out accuracy of {loo:.3g}: {hint}")
    expect(isinstance(choice, str) and choice in CHOICES,
           f"random_folds should be one of {', '.join(repr(c) for c in CHOICES)}, got {choice!r}.")
    if choice != "below":
        expect(False, f"you predicted the random folds' mean accuracy is {choice!r} 0.5: a fold with more of class c "
                      "leaves fewer of class c for training, so the training majority is the class the fold has FEWER "
                      "of (or a tie). No fold can score above 0.5, and an unbalanced one scores below.")
    if strat != 0.5:
        hint = ("each stratified training part holds 8 of each class: a tie, broken towards class 0, and every "
                "validation fold is half class 0." if strat in (0.0, 1.0) else
                "count the classes in a stratified training part (16 examples), then apply the tie rule.")
        expect(False, f"you predicted a stratified accuracy of {strat:.3g}: {hint}")
    return "leave-one-out 0, random folds below chance, stratified folds exactly 0.5. Run the next cell to measure it."


def majority_cv(labels, folds):
    """Mean validation accuracy of 'predict the training part's most common class' (ties: class 0)."""
    accs = []
    for tr, va in folds:
        guess = np.bincount(labels[tr], minlength=2).argmax()
        accs.append(np.mean(labels[va] == guess))
    return float(np.mean(accs))


def measure_majority(seeds=200, k=5):
    """The three cross-validations over many seeds: {name: array of mean accuracies, one per seed}."""
    n = 2 * N_PER_CLASS
    out = {"leave-one-out": [], f"{k} random folds": [], f"{k} stratified folds": []}
    for seed in range(seeds):
        rng = np.random.default_rng(1100 + seed)
        labels = rng.permutation(np.repeat([0, 1], N_PER_CLASS))
        loo = [(np.delete(np.arange(n), i), np.array([i])) for i in range(n)]
        out["leave-one-out"].append(majority_cv(labels, loo))
        out[f"{k} random folds"].append(majority_cv(labels, cv_folds(n, k, rng)))
        by_class = [np.array_split(rng.permutation(np.flatnonzero(labels == c)), k) for c in (0, 1)]
        vals = [np.concatenate([by_class[0][i], by_class[1][i]]) for i in range(k)]
        strat = [(np.setdiff1d(np.arange(n), va), va) for va in vals]
        out[f"{k} stratified folds"].append(majority_cv(labels, strat))
    return {name: np.array(v) for name, v in out.items()}


def verify_majority(fn, seeds=200):
    """The experiment after the prediction: the baseline cross-validated on 20 balanced labels, over seeds.
    It waits for the prediction: the measurement is shown once there is one to compare it with."""
    try:
        loo, choice, strat = fn()
    except NotImplementedError:
        print("⏳ make your prediction in predicted_majority() first, then run this cell again.")
        return
    except Exception as exc:
        print(f"❌ your prediction could not be read as (loo, random_folds, stratified) ({type(exc).__name__}: {exc}).")
        return
    measured = measure_majority(seeds)
    print(f"the majority-class baseline on {2 * N_PER_CLASS} examples ({N_PER_CLASS} per class), {seeds} seeds "
          "(each its own order and folds):")
    for name, accs in measured.items():
        print(f"  {name:>20}: mean accuracy {accs.mean():.3f} ± {accs.std(ddof=1):.3f} "
              f"(min {accs.min():.2f}, max {accs.max():.2f})")
    accs = list(measured.values())
    held = {"below": accs[1].mean() < 0.45, "about": abs(accs[1].mean() - 0.5) <= 0.05, "above": accs[1].mean() > 0.55}
    try:
        loo, strat = float(loo), float(strat)
    except (TypeError, ValueError):
        print(f"❌ loo and stratified should be numbers, got {loo!r} and {strat!r}.")
        return
    for name, guess, ok in (("leave-one-out", loo, np.allclose(accs[0], loo)),
                            ("random folds", choice, held.get(choice, False)),
                            ("stratified folds", strat, np.allclose(accs[2], strat))):
        print(f"{name}: you predicted {guess!r}: {'held' if ok else 'did not hold'}.")

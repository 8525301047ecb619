"""Exercise 11's checks: the solution passes, the setup cell is the check's, every classic mistake
of cross-validation gives its own result (so the check can tell them apart), and the prediction is
graded against what is measured. (Typical wrong answers, each with its message, are in
wrong_answers_ch10_11.py, run by test_wrong_answers_ch06_11.py.)"""
import json

import numpy as np
import pytest

from nncourse.checks import ch11
from nnlib import data

from conftest import ROOT

SOLUTION = json.loads((ROOT / "solutions" / "11_complete_project.ipynb").read_text())


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def _setup_source():
    return next("".join(c["source"]) for c in SOLUTION["cells"]
                if c["cell_type"] == "code" and not c.get("id", "").startswith("colab-"))


def _answers():
    ns = {}
    exec(_setup_source(), ns)
    for cell in SOLUTION["cells"]:
        if cell.get("id", "").endswith("-answer"):
            exec("".join(cell["source"]), ns)
    return ns


def test_the_setup_cell_defines_what_the_check_uses():
    assert ch11.SETUP.strip() in _setup_source()
    ns = _answers()
    assert ns["FIT"].keys() == ch11.FIT.keys() and repr(ns["new_optimizer"]()) == repr(ch11.new_optimizer())
    for a, b in zip(ns["build_model"]().layers, ch11.build_model().layers):
        assert repr(a) == repr(b) and all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_the_solution_passes_every_check():
    ns = _answers()
    for name in ch11.POINTS:
        assert getattr(ch11, name)(ns[name]).passed, name


def test_every_classic_mistake_gives_results_of_its_own():
    X, y = ch11.cv_data()
    folds = ch11.cv_folds(len(X), 4, 1105)
    runs = {how: ch11.reference_cv(X, y, folds, how) for how in ["honest", *ch11.CV_MISTAKES]}
    names = list(runs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not ch11._same(runs[a], runs[b]), (a, b)


def test_the_reference_run_is_nnlib_cross_validate():
    """The honest reference, fold by fold, is what chapter 11's cross_validate measures on the same folds."""
    assert ch11.FIT["seed"] == 0
    X, y = ch11.cv_data()
    folds = data.k_fold(len(X), k=4, seed=3)
    ours = ch11.reference_cv(X, y, [(np.asarray(t), np.asarray(v)) for t, v in folds])
    from nnlib import validation
    theirs = validation.cross_validate(ch11.build_model, X, y, k=4, seed=3, optimizer=ch11.new_optimizer,
                                       preprocess=lambda A, _: data.Standardizer().fit(A).transform,
                                       **{k: v for k, v in ch11.FIT.items() if k != "seed"})   # fit's default seed
    assert np.allclose(ours[:, 1], theirs["scores"])


def test_a_cross_validation_that_ignores_the_folds_given_is_not_passed():
    def own_folds(X, y, folds):
        return ch11.reference_cv(X, y, ch11.cv_folds(len(X), len(folds), 0)).tolist()
    r = ch11.cross_val_scores(lambda X, y, folds: [{"loss": a, "accuracy": b} for a, b in own_folds(X, y, folds)])
    assert r.status == "failed" and "the reference run" in r.message, r.message


def test_the_prediction_is_graded_against_what_is_measured():
    measured = list(ch11.measure_majority(seeds=50).values())
    loo, choice, strat = ch11.MAJORITY_ANSWER
    assert np.all(measured[0] == loo) and np.all(measured[2] == strat)
    assert choice == "below" and measured[1].mean() < 0.45 and measured[1].max() <= 0.5


def test_the_experiment_waits_for_the_prediction(capsys):
    def not_yet():
        raise NotImplementedError
    ch11.verify_majority(not_yet, seeds=5)
    out = capsys.readouterr().out
    assert "⏳" in out and "mean accuracy" not in out
    ch11.verify_majority(lambda: (0.5, "below", 0.5), seeds=5)
    out = capsys.readouterr().out
    assert "leave-one-out: mean accuracy 0.000" in out
    assert "leave-one-out: you predicted 0.5: did not hold" in out and "random folds: you predicted 'below': held" in out

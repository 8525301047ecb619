"""Exercise 10's checks: the solution passes, the prediction is graded against what is measured,
and the formulas the checks name mistakes with are nnlib's own. (Typical wrong answers, each with
its message, are in wrong_answers_ch10_11.py, run by test_wrong_answers_ch06_11.py.)"""
import json

import numpy as np
import pytest

from nncourse.checks import ch10
from nnlib.conv import Conv2D

from conftest import ROOT

SOLUTION = json.loads((ROOT / "solutions" / "10_convolution.ipynb").read_text())


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def _answers():
    ns = {"np": np}
    for cell in SOLUTION["cells"]:
        if cell.get("id", "").endswith("-answer"):
            exec("".join(cell["source"]), ns)
    return ns


def test_the_solution_passes_every_check():
    ns = _answers()
    for name in ch10.POINTS:
        assert getattr(ch10, name)(ns[name]).passed, name


def test_the_predicted_stack_is_graded_against_what_is_measured():
    shape, params, field, _ = ch10.measure_stack()
    assert (tuple(shape), params, field) == (ch10.STACK_ANSWER[0], ch10.STACK_ANSWER[1], (ch10.STACK_ANSWER[2],) * 2)


def test_the_exercise_shows_the_network_the_check_builds():
    text = "".join("".join(c["source"]) for c in SOLUTION["cells"] if c["cell_type"] == "markdown")
    assert ch10.STACK_SOURCE in text
    ns = {}
    exec("from nnlib import Sequential, Dense, ReLU\nfrom nnlib.conv import Conv2D, MaxPool2D, GlobalAvgPool2D\n"
         f"net = {ch10.STACK_SOURCE}", ns)
    assert [repr(layer) for layer in ns["net"].layers] == [repr(layer) for layer in ch10.build_stack().layers]


def test_the_input_gradient_formula_is_conv2d_backward():
    rng = np.random.default_rng(0)
    x, W, G = rng.standard_normal((2, 5, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((3, 3, 4))
    layer = Conv2D(2, 3, 3)
    layer.W[...] = W
    layer.forward(x[None])
    dx = layer.backward(G[None])[0]
    assert np.allclose(ch10._dx_formula(G, W, x.shape), dx)
    assert np.allclose(ch10._dw_formula(x, G, 3), layer.grads["W"])


def test_ties_go_to_the_first_maximum_as_in_maxpool2d():
    x = np.array([[1.0, 1.0], [1.0, 0.0]])
    assert np.array_equal(ch10.maxpool_reference(x, np.array([[2.0]]), 2), [[2.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("answer, words", [(lambda: True, "should return 3 values"),
                                           (lambda: ((16, 7, 7), True, 10), "one whole number"),
                                           (lambda: ("16x7x7", 1946, 10), "three whole numbers")])
def test_a_prediction_of_the_wrong_kind_is_explained(answer, words):
    r = ch10.predicted_stack(answer)
    assert r.status == "failed" and words in r.message, r.message


def test_the_experiment_waits_for_the_prediction(capsys):
    def not_yet():
        raise NotImplementedError
    ch10.verify_stack(not_yet)
    out = capsys.readouterr().out
    assert "⏳" in out and "measured" not in out
    ch10.verify_stack(lambda: ((16, 6, 6), 1946, 9))
    out = capsys.readouterr().out
    assert "measured: second convolution's output (16, 7, 7)" in out
    assert "output shape: you predicted (16, 6, 6): did not hold" in out and "parameters: you predicted 1946: held" in out

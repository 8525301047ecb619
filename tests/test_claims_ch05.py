"""Claims of chapter 5 (backpropagation), measured with nnlib (see ../shared/CLAIMS.md, C07).

The chapter's statements measured here: the chain rule by hand, the engine and finite differences
agree; the matrix formulas give nnlib's gradients; a gradient check in float64 catches a planted
bug that training curves hide; float32 is unfit for gradient checks; backprop needs one backward
pass where the numerical gradient needs two forward passes per parameter.
"""
import time

import numpy as np
import pytest

from nnlib import CrossEntropy, Dense, ReLU, Sequential, Sigmoid, Tanh, data
from nnlib.activations import log_softmax, sigmoid
from nnlib.autograd import Value
from nnlib.gradcheck import check_model, numerical_gradient, relative_error

TOL = 1e-6


# --- the chapter's own matrix backward pass --------------------------------------------------------

def dense_backward(X, W, G):
    return G @ W.T, X.T @ G, G.sum(axis=0)


def dense_backward_buggy(X, W, G):
    return G @ W.T, X.T @ G, G.mean(axis=0)          # the planted bug: mean instead of sum


ACTIVATIONS = {   # name: (forward, backward from output A and input Z, nnlib layer)
    "tanh": (np.tanh, lambda A, Z, G: G * (1 - A ** 2), Tanh),
    "sigmoid": (sigmoid, lambda A, Z, G: G * A * (1 - A), Sigmoid),
    "relu": (lambda Z: np.maximum(Z, 0), lambda A, Z, G: G * (Z > 0), ReLU),
}


def softmax_cross_entropy(Z, labels):
    n = len(labels)
    log_p = log_softmax(Z, axis=1)
    return -np.mean(log_p[np.arange(n), labels]), (np.exp(log_p) - np.eye(Z.shape[1])[labels]) / n


def forward_backward(params, X, labels, activation="tanh", dense_bw=dense_backward):
    f, f_backward, _ = ACTIVATIONS[activation]
    Z1 = X @ params["W1"] + params["b1"]
    A1 = f(Z1)
    loss, dZ2 = softmax_cross_entropy(A1 @ params["W2"] + params["b2"], labels)
    dA1, dW2, db2 = dense_bw(A1, params["W2"], dZ2)
    _, dW1, db1 = dense_bw(X, params["W1"], f_backward(A1, Z1, dA1))
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def loss_only(params, X, labels, activation="tanh"):
    A1 = ACTIVATIONS[activation][0](X @ params["W1"] + params["b1"])
    return softmax_cross_entropy(A1 @ params["W2"] + params["b2"], labels)[0]


def spiral_network(activation="tanh", hidden=16):
    model = Sequential([Dense(2, hidden, rng=0), ACTIVATIONS[activation][2](), Dense(hidden, 3, rng=1)])
    rng = np.random.default_rng(5)
    for layer in (model.layers[0], model.layers[2]):
        layer.b[:] = rng.normal(0, 0.5, layer.b.shape)
    params = {"W1": model.layers[0].W, "b1": model.layers[0].b, "W2": model.layers[2].W, "b2": model.layers[2].b}
    return model, params


def test_C07_chain_rule_by_hand_equals_the_engine_and_finite_differences():
    x, w, b, t = 1.5, 0.8, -0.5, 1.0
    a = 1 / (1 + np.exp(-(w * x + b)))
    dL_dz = 2 * (a - t) * a * (1 - a)
    by_hand = np.array([dL_dz * x, dL_dz, dL_dz * w])                      # dL/dw, dL/db, dL/dx

    wv, bv, xv = Value(w), Value(b), Value(x)
    loss = ((wv * xv + bv).sigmoid() - t) ** 2
    loss.backward()
    engine = np.array([wv.grad, bv.grad, xv.grad])

    def loss_at(p):
        return (1 / (1 + np.exp(-(p[0] * p[2] + p[1]))) - t) ** 2
    point = np.array([w, b, x])
    numeric = numerical_gradient(lambda: loss_at(point), point)
    assert np.allclose(engine, by_hand, rtol=1e-12)
    assert relative_error(by_hand, numeric) < TOL


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_C07_matrix_formulas_give_nnlibs_gradients_and_the_numerical_ones(activation):
    X, labels = data.spirals(200, k=3, seed=0)
    model, params = spiral_network(activation)
    loss, ours = forward_backward(params, X, labels, activation)
    ce = CrossEntropy()
    assert ce.forward(model.forward(X), labels) == pytest.approx(loss, rel=1e-12)
    model.backward(ce.backward())
    theirs = {"W1": model.layers[0].grads["W"], "b1": model.layers[0].grads["b"],
              "W2": model.layers[2].grads["W"], "b2": model.layers[2].grads["b"]}
    for key in ours:
        assert np.allclose(ours[key], theirs[key], rtol=1e-10, atol=1e-15), key
    assert max(check_model(model, CrossEntropy(), X[:40], labels[:40], details=True)) < TOL


def bias_bug_check():
    X, labels = data.spirals(200, k=3, seed=0)
    _, params = spiral_network()
    errors = {}
    for version, bw in (("buggy", dense_backward_buggy), ("fixed", dense_backward)):
        _, grads = forward_backward(params, X, labels, dense_bw=bw)
        errors[version] = {
            key: relative_error(grads[key], numerical_gradient(
                lambda: loss_only(params, X, labels), p, eps=1e-5))
            for key, p in params.items()
        }
    return errors


def test_C07_gradient_check_catches_the_planted_bias_bug_and_passes_the_fix():
    errors = bias_bug_check()
    assert errors["buggy"]["b1"] > 0.5 and errors["buggy"]["b2"] > 0.5          # N = 200 times too small
    assert errors["buggy"]["W1"] < TOL and errors["buggy"]["W2"] < TOL          # ...and only there
    assert max(errors["fixed"].values()) < TOL


def test_training_with_the_bias_bug_still_lowers_the_loss_only_more_slowly():
    X, labels = data.spirals(200, k=3, seed=0)
    _, params = spiral_network()
    finals = {}
    for version, bw in (("buggy", dense_backward_buggy), ("fixed", dense_backward)):
        p = {k: v.copy() for k, v in params.items()}
        losses = []
        for _ in range(400):
            value, grads = forward_backward(p, X, labels, dense_bw=bw)
            losses.append(value)
            for k in p:
                p[k] -= 0.5 * grads[k]
        assert losses[-1] < 0.9 * losses[0], version                 # the curve goes down either way
        finals[version] = losses[-1]
    assert finals["fixed"] < finals["buggy"]


def test_C07_centered_differences_need_float64():
    X, labels = data.spirals(200, k=3, seed=0)
    _, params = spiral_network()
    exact = forward_backward(params, X, labels)[1]["W1"][0, 0]
    w00 = params["W1"][0, 0]

    def loss(value, dtype):
        p = {k: v.astype(dtype) for k, v in params.items()}
        p["W1"][0, 0] = value
        Z = np.tanh(X.astype(dtype) @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return float(-np.mean(log_softmax(Z, axis=1)[np.arange(len(labels)), labels]))

    eps = np.logspace(-12, -1, 45)

    def errors(estimate):
        values = np.array([estimate(e) for e in eps])
        return np.abs(values - exact) / (np.abs(values) + abs(exact))

    one_sided = errors(lambda e: (loss(w00 + e, np.float64) - loss(w00, np.float64)) / e)
    centered = errors(lambda e: (loss(w00 + e, np.float64) - loss(w00 - e, np.float64)) / (2 * e))
    single = errors(lambda e: (loss(w00 + e, np.float32) - loss(w00 - e, np.float32)) / (2 * e))

    assert centered.min() < 1e-9 and centered.min() < one_sided.min() / 10
    wide = (eps >= 1e-8) & (eps <= 1e-3)
    assert centered[wide].max() < TOL                                  # float64 passes over a wide range of eps
    assert single[np.abs(eps - 1e-6).argmin()] > 0.5                   # float32 at the usual eps: noise
    usable = (eps >= 1e-6) & (eps <= 1e-2)
    assert np.mean(single[usable] < TOL) < 0.25                        # float32 passes only at isolated eps...
    assert np.median(single[usable]) > 100 * TOL                       # ...and is typically far off


def test_backprop_needs_one_backward_pass_where_numerical_needs_two_forward_passes_per_parameter():
    X, labels = data.spirals(100, k=3, seed=1)
    rng = np.random.default_rng(2)
    width = 64
    params = {"W1": rng.normal(0, 1, (2, width)), "b1": np.zeros(width),
              "W2": rng.normal(0, width ** -0.5, (width, 3)), "b2": np.zeros(3)}
    n_params = sum(p.size for p in params.values())
    calls = {"n": 0}

    def loss():
        calls["n"] += 1
        return loss_only(params, X, labels)             # a forward pass

    start = time.perf_counter()
    numeric = {k: numerical_gradient(loss, p, eps=1e-5) for k, p in params.items()}
    t_numeric = time.perf_counter() - start
    assert calls["n"] == 2 * n_params == 774

    t_forward = t_backprop = np.inf
    for _ in range(20):                                          # the fastest of 20 runs: the least disturbed
        start = time.perf_counter()
        loss_only(params, X, labels)
        t_forward = min(t_forward, time.perf_counter() - start)
        start = time.perf_counter()
        _, grads = forward_backward(params, X, labels)           # one forward + one backward pass
        t_backprop = min(t_backprop, time.perf_counter() - start)
    assert all(relative_error(grads[k], numeric[k]) < TOL for k in params)
    assert t_numeric > 10 * t_backprop, (t_numeric, t_backprop)  # measured ratio is in the hundreds
    assert t_backprop < 10 * t_forward, (t_backprop, t_forward)  # every gradient for a few forward passes' time


def test_C32_gradient_check_fails_at_relus_kink_although_backward_is_right():
    from nnlib import ReLU
    from nnlib.gradcheck import check_layer

    rng = np.random.default_rng(0)
    eps = 1e-5
    near_kink = rng.uniform(-eps / 2, eps / 2, size=(6, 4))         # every input within eps of 0
    away = rng.choice([-1.0, 1.0], size=(6, 4)) * rng.uniform(0.1, 2.0, size=(6, 4))
    err_near = check_layer(ReLU(), near_kink, eps=eps, details=True)["x"]
    err_away = check_layer(ReLU(), away, eps=eps, details=True)["x"]
    assert err_near > 1e-2, f"near the kink the check should fail, got {err_near:.1e}"
    assert err_away < 1e-7, f"away from the kink the check should pass, got {err_away:.1e}"
    # the backward pass is the same rule in both cases: slope 1 above 0, 0 below
    layer = ReLU()
    layer.forward(near_kink)
    assert np.array_equal(layer.backward(np.ones_like(near_kink)), (near_kink > 0).astype(float))

"""Self-checks for exercise 05, backpropagation.

Every backward pass is compared with the numerical gradient (centered
differences in float64), the way chapter 5 checks nnlib's own layers; the
mistakes seen most often get a message of their own. Each check states its
whole rule in its messages; the hidden tests only add cases of the same rules.
"""
from __future__ import annotations

import numpy as np

from nnlib.activations import sigmoid
from nnlib.gradcheck import numerical_gradient
from . import Mismatch, as_array, check, expect, expect_callable, expect_close, expect_tuple
from . import progress as _progress

TOL = 1e-6          # max relative error against the numerical gradient


_array = as_array


def _same(got, expected):
    return got.shape == np.shape(expected) and np.allclose(got, expected, rtol=1e-6, atol=1e-9)


def _agree(got, numeric, what):
    """The max relative error of got against the numerical gradient; a Mismatch saying where, if too large."""
    got = _array(got, what)
    if got.shape != numeric.shape:
        raise Mismatch(f"{what} has shape {got.shape}, expected {numeric.shape} (a gradient has the shape "
                       f"of what it is the gradient of).")
    if not np.isfinite(got).all():
        raise Mismatch(f"{what} contains NaN or inf: look for an overflow (exp of a large number) or a division by 0.")
    rel = np.abs(got - numeric) / np.maximum(np.abs(got) + np.abs(numeric), 1e-8)
    err = float(rel.max()) if rel.size else 0.0
    if err > TOL:
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
        where = f" at index {idx if len(idx) > 1 else idx[0]}" if idx else ""
        raise Mismatch(f"{what}{where} is {got[idx]:.6g}, but the numerical gradient is {numeric[idx]:.6g} "
                       f"(max relative error {err:.2g}; a correct backward pass stays below {TOL:g}).")
    return err


def _triple(result, fn_name, names):
    return [_array(r, name) for r, name in zip(expect_tuple(result, names, fn_name), names)]


POINTS = {"manual_gradients": 3, "softmax_backward": 3, "which_gradient_is_wrong": 2, "scaled_sigmoid_backward": 3}


def progress():
    """The running total of this exercise's self-checks (the exercise's last cell)."""
    return _progress(POINTS)


# --- backprop by hand ---------------------------------------------------------------------------

MANUAL = {"x": np.array([1.0, -2.0]), "W1": np.array([[0.5, -1.0], [0.25, 0.5]]), "b1": np.array([0.1, 0.2]),
          "w2": np.array([2.0, -1.0]), "b2": 0.3, "y": 1.5}


def manual_reference(gate=True, factor=2.0, sign=1.0):
    m = MANUAL
    z = m["x"] @ m["W1"] + m["b1"]
    h = np.maximum(z, 0)
    out = h @ m["w2"] + m["b2"]
    dout = sign * factor * (out - m["y"])
    dh = dout * m["w2"]
    dz = dh * (z > 0) if gate else dh
    return {"W1": np.outer(m["x"], dz), "b1": dz, "w2": dout * h, "b2": np.array(dout)}


@check("manual_gradients")
def manual_gradients(fn):
    expect_callable(fn, "manual_gradients")
    got = fn()
    expect(isinstance(got, dict), f"manual_gradients should return a dict with the keys W1, b1, w2, b2, got "
                                  f"{type(got).__name__}.")
    missing = [k for k in ("W1", "b1", "w2", "b2") if k not in got]
    expect(not missing, f"the dict lacks {', '.join(missing)} (expected the keys W1, b1, w2, b2).")
    g = {k: _array(got[k], f"your dL/d{k}") for k in ("W1", "b1", "w2", "b2")}
    ref = manual_reference()
    for k in ("W1", "b1", "w2"):
        expect(g[k].shape == ref[k].shape, f"your dL/d{k} has shape {g[k].shape}, expected {ref[k].shape}, the "
                                           f"shape of {k}" + (" (you may have it transposed)"
                                                              if g[k].shape == ref[k].T.shape else "") + ".")
    expect(g["b2"].size == 1, f"your dL/db2 should be one number, got shape {g['b2'].shape}.")
    g["b2"] = g["b2"].reshape(())

    def all_match(r):
        return all(_same(g[k], r[k]) for k in g)

    if all_match(ref):
        return "all 7 numbers of the gradient are right (the engine of chapter 5 gets the same)."
    if all_match(manual_reference(factor=1.0)):
        raise Mismatch("every gradient is half the right one: dL/d out of (out - y)^2 is 2 (out - y).")
    if all_match(manual_reference(sign=-1.0)) or all_match(manual_reference(factor=1.0, sign=-1.0)):
        raise Mismatch("every gradient has the wrong sign: dL/d out = 2 (out - y), and out = 0.5 is below y = 1.5, "
                       "so it is negative.")
    if _same(g["b1"], manual_reference(gate=False)["b1"]) or _same(g["W1"], manual_reference(gate=False)["W1"]):
        raise Mismatch("your gradient reaches the second hidden unit, but its pre-activation z2 = -1.8 is negative: "
                       "ReLU outputs 0 there and its slope is 0, so nothing flows back through it.")
    if _same(g["W1"], ref["W1"].T):
        raise Mismatch("your dL/dW1 is transposed: entry (i, j) is x_i * dL/dz_j (W1 has one row per input).")
    for k in ("w2", "b2", "b1", "W1"):
        expect(_same(g[k], ref[k]), f"your dL/d{k} = {np.round(g[k], 4).tolist()} is wrong; go backwards from "
                                    "dL/d out, one node at a time, and check each step.")
    raise Mismatch("the gradient is not right.")


# --- softmax backward ----------------------------------------------------------------------------

def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@check("softmax_backward")
def softmax_backward(fn):
    expect_callable(fn, "softmax_backward")
    rng = np.random.default_rng(503)
    cases = [(np.array([[2.0, 1.0, -1.0], [0.5, 0.5, 3.0]]), np.array([[1.0, -2.0, 0.5], [0.3, 0.0, -1.0]])),
             (rng.standard_normal((5, 4)) * 2, rng.standard_normal((5, 4))),
             (rng.standard_normal((4, 4)), rng.standard_normal((4, 4)))]
    worst = 0.0
    for i, (z, G) in enumerate(cases, 1):
        case = f"for case {i} (z of shape {z.shape})"
        got = _array(fn(z.copy(), G.copy()), f"{case}, dz")
        s = _softmax(z)
        if got.shape == z.shape:
            if _same(got, s * (1 - s) * G):
                raise Mismatch(f"{case}, dz uses only the diagonal of the softmax's Jacobian, s_j (1 - s_j): every "
                               "output s_k depends on every z_j, so the other outputs' gradients flow back too.")
            if _same(got, s * (G - np.sum(G * s, axis=0, keepdims=True))):
                raise Mismatch(f"{case}, dz sums over the wrong axis (axis 0, over the batch): the softmax mixes the "
                               "classes of one example, so sum over axis 1.")
            if _same(got, -s * (G - np.sum(G * s, axis=1, keepdims=True))):
                raise Mismatch(f"{case}, dz has the wrong sign.")
        numeric = numerical_gradient(lambda: float(np.sum(_softmax(z) * G)), z)
        worst = max(worst, _agree(got, numeric, f"{case}, dz"))
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]])
    G = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    with np.errstate(all="ignore"):
        got = _array(fn(big.copy(), G.copy()), "for logits of 1000, dz")
    if not np.isfinite(got).all():
        raise Mismatch("for logits of 1000 your dz contains NaN or inf: exp(1000) overflows. Subtract each row's "
                       "largest logit before exp: the softmax does not change, and no exp exceeds 1.")
    s = _softmax(big)
    expect_close(got, s * (G - np.sum(G * s, axis=1, keepdims=True)), "for logits of 1000, dz")
    return f"dz agrees with the numerical gradient (max relative error {worst:.1e}), also for logits of 1000."


# --- a layer with a planted bug ----------------------------------------------------------------------

def scaled_tanh_forward(x, W, b, gamma):
    return gamma * np.tanh(x @ W + b)


def scaled_tanh_backward_buggy(x, W, b, gamma, grad_out):
    """The exercise's layer with one wrong gradient (which one is question 3)."""
    a = np.tanh(x @ W + b)
    dgamma = np.sum(grad_out * a, axis=0)
    dz = grad_out * gamma * (1 - a ** 2)
    return dz @ W, x.T @ dz, dz.sum(axis=0), dgamma


def _tanh_case(seed=504, n=5, n_in=3, n_out=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, n_in)), rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out),
            rng.uniform(0.5, 2, n_out), rng.standard_normal((n, n_out)))


def buggy_errors():
    """{gradient name: max relative error of the buggy layer's gradient against the numerical one}."""
    from nnlib.gradcheck import relative_error

    x, W, b, gamma, G = _tanh_case()
    got = dict(zip(("dx", "dW", "db", "dgamma"), scaled_tanh_backward_buggy(x, W, b, gamma, G)))

    def loss():
        return float(np.sum(scaled_tanh_forward(x, W, b, gamma) * G))

    return {name: relative_error(got[name], numerical_gradient(loss, p))
            for name, p in (("dx", x), ("dW", W), ("db", b), ("dgamma", gamma))}


@check("which_gradient_is_wrong")
def which_gradient_is_wrong(fn):
    expect_callable(fn, "which_gradient_is_wrong")
    got = fn()
    expect(isinstance(got, str) and got.strip() in ("dx", "dW", "db", "dgamma"),
           f"answer with one of the names \"dx\", \"dW\", \"db\", \"dgamma\", got {got!r}.")
    got = got.strip()
    errors = buggy_errors()
    wrong = max(errors, key=errors.get)
    if got != wrong:
        raise Mismatch(f"the layer's {got} agrees with the numerical gradient (max relative error "
                       f"{errors[got]:.1e}): that one is right. Run the gradient check on each of the four.")
    return f"{wrong} is the wrong one (relative error {errors[wrong]:.2g}; the other three stay below 1e-8)."


def scaled_sigmoid_forward(x, W, b, gamma):
    return 1 / (1 + np.exp(-gamma * (x @ W + b)))


@check("scaled_sigmoid_backward")
def scaled_sigmoid_backward(fn):
    expect_callable(fn, "scaled_sigmoid_backward")
    worst = 0.0
    for i, shape in enumerate([(5, 3, 3), (4, 2, 3), (1, 4, 2)], 1):
        x, W, b, gamma, G = _tanh_case(504 + i, *shape)
        case = f"for case {i} (x {x.shape}, W {W.shape})"
        dx, dW, db, dgamma = (_array(r, n) for r, n in zip(
            expect_tuple(fn(x.copy(), W.copy(), b.copy(), gamma.copy(), G.copy()), ("dx", "dW", "db", "dgamma"),
                         "scaled_sigmoid_backward"), ("dx", "dW", "db", "dgamma")))
        z = x @ W + b
        s = sigmoid(gamma * z)
        du = G * s * (1 - s)                      # dL/du for u = gamma * z
        dz = du * gamma
        n = len(x)
        if dgamma.shape == G.shape != gamma.shape:
            raise Mismatch(f"{case}, dgamma has shape {dgamma.shape}, one row per example: gamma is used for every "
                           f"example, so add up over the batch (axis 0) to get shape {gamma.shape}.")
        if _same(dgamma, np.sum(G * z, axis=0)) or _same(dgamma, np.sum(du, axis=0)):
            raise Mismatch(f"{case}, dgamma is missing a factor: gamma multiplies z inside the sigmoid, so "
                           "dL/dgamma = sum over the batch of dL/du * z, with dL/du = grad_out * s (1 - s).")
        if _same(dgamma, np.sum(G * s, axis=0)):
            raise Mismatch(f"{case}, dgamma multiplies grad_out by the output s; gamma sits inside the sigmoid here, "
                           "so the chain rule goes through the sigmoid's slope and z.")
        if dx.shape == dz.shape and W.shape[0] == W.shape[1] and _same(dx, dz @ W):
            raise Mismatch(f"{case}, dx = dz @ W: each input feeds every unit through one row of W, so dx = dz @ W.T.")
        if dx.shape != x.shape:
            raise Mismatch(f"{case}, dx has shape {dx.shape}, expected the shape of x, {x.shape}: dx = dz @ W.T.")
        if _same(db, dz.mean(axis=0)) and n > 1:
            raise Mismatch(f"{case}, db is the mean over the batch, {n} times too small: take the sum (the 1/N "
                           "of a mean loss is already inside grad_out).")
        if _same(dW, x.T @ du):
            raise Mismatch(f"{case}, dW misses the factor gamma: z is multiplied by gamma before the sigmoid, so "
                           "dL/dz = dL/du * gamma.")
        t = np.tanh(gamma * z)
        if _same(dW, x.T @ (G * (1 - t ** 2) * gamma)) or _same(dW, x.T @ (G * (1 - s ** 2) * gamma)):
            raise Mismatch(f"{case}, your slope is tanh's rule, 1 - s^2; the sigmoid's slope is s (1 - s).")
        if _same(dW, x.T @ (G * gamma)):
            raise Mismatch(f"{case}, dW skips the sigmoid: multiply by its slope s (1 - s).")

        def loss():
            return float(np.sum(scaled_sigmoid_forward(x, W, b, gamma) * G))

        for name, got, p in (("dx", dx, x), ("dW", dW, W), ("db", db, b), ("dgamma", dgamma, gamma)):
            worst = max(worst, _agree(got, numerical_gradient(loss, p), f"{case}, {name}"))
    return f"dx, dW, db and dgamma agree with the numerical gradient (max relative error {worst:.1e})."

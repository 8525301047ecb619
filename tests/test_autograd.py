"""The scalar autograd engine (nnlib.autograd): every operation's gradient checked against
finite differences, a whole network against nnlib's vectorised backward pass (C07), and
clear errors for operands it cannot take."""
import math

import numpy as np
import pytest

from nnlib import BinaryCrossEntropy, CrossEntropy, Dense, MSE, ReLU, Sequential, Sigmoid, Tanh
from nnlib.activations import sigmoid
from nnlib.autograd import Value, topological_order
from nnlib.gradcheck import relative_error

TOL = 1e-6


def numeric_partials(f, args, eps=1e-6):
    """Centered differences of the plain-number function f(*args) in each argument."""
    out = []
    for i in range(len(args)):
        up, down = list(args), list(args)
        up[i] += eps
        down[i] -= eps
        out.append((f(*up) - f(*down)) / (2 * eps))
    return np.array(out)


# op name -> (function of Values, points to test at)
OPS = {
    "a + b": (lambda a, b: a + b, [(1.3, -0.4)]),
    "a - b": (lambda a, b: a - b, [(1.3, -0.4)]),
    "a * b": (lambda a, b: a * b, [(1.3, -0.4), (-2.0, 3.5)]),
    "a / b": (lambda a, b: a / b, [(1.3, -0.4), (-2.0, 3.5)]),
    "a ** 2": (lambda a: a ** 2, [(1.3,), (-0.7,)]),
    "a ** 3": (lambda a: a ** 3, [(-1.1,)]),
    "a ** 0.5": (lambda a: a ** 0.5, [(2.0,)]),
    "a ** -1": (lambda a: a ** -1, [(-0.8,)]),
    "a ** 0": (lambda a: a ** 0, [(1.7,)]),
    "-a": (lambda a: -a, [(0.9,)]),
    "2 + a": (lambda a: 2 + a, [(0.9,)]),
    "2 - a": (lambda a: 2 - a, [(0.9,)]),
    "2 * a": (lambda a: 2 * a, [(0.9,)]),
    "2 / a": (lambda a: 2 / a, [(0.9,)]),
    "a + 2.5": (lambda a: a + 2.5, [(0.9,)]),
    "a * np.float64": (lambda a: a * np.float64(-3.0), [(0.9,)]),
    "tanh": (lambda a: a.tanh(), [(0.3,), (-2.0,)]),
    "exp": (lambda a: a.exp(), [(0.3,), (-2.0,)]),
    "log": (lambda a: a.log(), [(0.3,), (4.0,)]),
    "relu": (lambda a: a.relu(), [(0.3,), (-2.0,)]),
    "sigmoid": (lambda a: a.sigmoid(), [(0.3,), (-2.0,), (8.0,)]),
}


@pytest.mark.parametrize("name", OPS)
def test_C07_each_autograd_op_matches_numerical_gradient(name):
    op, points = OPS[name]
    for point in points:
        inputs = [Value(p) for p in point]
        out = op(*inputs)
        out.backward()
        analytic = np.array([v.grad for v in inputs])
        numeric = numeric_partials(lambda *xs: op(*[Value(x) for x in xs]).data, point)
        assert relative_error(analytic, numeric) < TOL, (name, point, analytic, numeric)


def test_C07_autograd_values_match_math():
    a, b = Value(1.3), Value(-0.4)
    assert (a / b).data == 1.3 / -0.4 and (a - b).data == 1.3 + 0.4 and (-a).data == -1.3
    assert a.tanh().data == math.tanh(1.3) and a.exp().data == math.exp(1.3) and a.log().data == math.log(1.3)
    assert b.relu().data == 0.0 and a.relu().data == 1.3 and (a ** 3).data == 1.3 ** 3
    for x in (-1000.0, -5.0, 0.0, 2.0, 1000.0):           # stable at the extremes, same as nnlib's sigmoid
        assert Value(x).sigmoid().data == pytest.approx(float(sigmoid(x)), rel=1e-15, abs=1e-300)


def test_C07_composite_expression_with_reused_values():
    def f(a, b, c):
        return (a * b + a.tanh()) / (b ** 2 + 1) + (a - c).exp() * a - (c * c).sigmoid() + (b.relu() + 3).log()

    point = (0.7, 1.9, -0.3)
    vals = [Value(p) for p in point]
    f(*vals).backward()
    numeric = numeric_partials(lambda *xs: f(*[Value(x) for x in xs]).data, point)
    assert relative_error([v.grad for v in vals], numeric) < TOL


def test_a_value_used_twice_gets_the_sum_of_both_paths():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    (x + x).backward()
    assert x.grad == 2.0
    y = x * 2
    (y * y + y).backward()                    # d/dx (4x^2 + 2x) = 8x + 2
    assert x.grad == 26.0


def test_backward_resets_grads_so_calling_it_twice_gives_the_same_numbers():
    w, x = Value(0.8), Value(1.5)
    loss = (w * x).tanh()
    loss.backward()
    first = (w.grad, x.grad)
    loss.backward()
    assert (w.grad, x.grad) == first and loss.grad == 1.0


def test_topological_order_puts_every_node_after_its_children():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order[-1] is e and len(order) == len({id(v) for v in order}) == 5
    place = {id(v): i for i, v in enumerate(order)}
    assert all(place[id(child)] < place[id(v)] for v in order for child in v.children)


def test_a_deep_graph_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(20_000):                   # far deeper than Python's recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0 and len(topological_order(y)) == 1 + 4 * 20_000


def mlp_from_values(model, X):
    """The same network as model (Dense / activation layers), computed with Values on object arrays."""
    to_values = np.vectorize(Value, otypes=[object])
    params = [{k: to_values(p) for k, p in layer.params.items()} for layer in model.layers]
    act = {Tanh: Value.tanh, Sigmoid: Value.sigmoid, ReLU: Value.relu}
    Xv = to_values(X)
    h = Xv
    for layer, p in zip(model.layers, params):
        if isinstance(layer, Dense):
            h = h @ p["W"] + p["b"]
        else:
            h = np.vectorize(act[type(layer)], otypes=[object])(h)
    return Xv, params, h


def value_loss(kind, out, y):
    n = out.shape[0]
    if kind == "mse":
        return sum((o - t) ** 2 for o, t in zip(out.ravel(), y.ravel())) / out.size
    if kind == "bce":
        return -sum(t * o.sigmoid().log() + (1 - t) * (1 - o.sigmoid()).log()
                    for o, t in zip(out.ravel(), y.ravel())) / out.size
    # softmax + cross-entropy: -log softmax(z)[label] = log(sum_j exp z_j) - z_label
    return sum(sum(z.exp() for z in row).log() - row[label] for row, label in zip(out, y)) / n


@pytest.mark.parametrize("kind, loss, out_dim", [("ce", CrossEntropy(), 3), ("mse", MSE(), 2),
                                                 ("bce", BinaryCrossEntropy(), 2)])
def test_C07_value_network_has_the_gradients_of_the_vectorised_nnlib_pass(kind, loss, out_dim, rng):
    model = Sequential([Dense(3, 5, rng=1), Tanh(), Dense(5, 4, rng=2), ReLU(), Dense(4, 4, rng=3),
                        Sigmoid(), Dense(4, out_dim, rng=4)])
    for layer in model.layers:
        if isinstance(layer, Dense):
            layer.b[:] = rng.standard_normal(layer.b.shape) * 0.3      # non-zero biases: a real test
    X = rng.standard_normal((6, 3))
    y = {"ce": rng.integers(0, 3, 6), "mse": rng.standard_normal((6, 2)),
         "bce": rng.integers(0, 2, (6, 2)).astype(float)}[kind]

    value = loss.forward(model.forward(X), y)                     # nnlib: matrices
    dX = model.backward(loss.backward())

    Xv, params, out = mlp_from_values(model, X)                   # the engine: one number at a time
    total = value_loss(kind, out, y)
    total.backward()
    grad_of = np.vectorize(lambda v: v.grad, otypes=[float])

    assert total.data == pytest.approx(value, rel=1e-12)
    assert np.allclose(grad_of(Xv), dX, rtol=1e-10, atol=1e-14)
    for layer, p in zip(model.layers, params):
        for name in p:
            assert np.allclose(grad_of(p[name]), layer.grads[name], rtol=1e-10, atol=1e-14), (layer, name)


@pytest.mark.parametrize("make, match", [
    (lambda: Value(1.0) + "a", r"unsupported operand for \+: Value and str"),
    (lambda: "a" + Value(1.0), r"unsupported operand for \+: str and Value"),
    (lambda: Value(1.0) * None, r"unsupported operand for \*: Value and NoneType"),
    (lambda: [1, 2] - Value(1.0), r"unsupported operand for -: list and Value"),
    (lambda: Value(1.0) / {}, r"unsupported operand for /: Value and dict"),
    (lambda: Value(2.0) ** Value(2.0), r"unsupported operand for \*\*: Value and Value; the exponent must be a plain number"),
    (lambda: Value(2.0) ** "2", r"unsupported operand for \*\*: Value and str"),
    (lambda: 2 ** Value(2.0), r"unsupported operand for \*\*: int and Value"),
    (lambda: Value("3"), r"Value holds one real number, got str"),
    (lambda: Value(np.zeros(3)), r"Value holds one real number, got ndarray; for arrays use numpy"),
    (lambda: Value(1 + 2j), r"Value holds one real number, got complex"),
])
def test_bad_operands_raise_a_type_error_naming_the_type(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_values_outside_an_operations_domain_say_so():
    with pytest.raises(ValueError, match=r"log of Value\(0\): the natural log needs a positive number"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"log of Value\(-2\)"):
        Value(-2.0).log()
    with pytest.raises(ZeroDivisionError, match=r"Value division by zero: 3 / 0"):
        Value(3.0) / 0
    with pytest.raises(ValueError, match=r"Value\(-8\) \*\* 0.5: a negative number has no real fractional power"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match=r"Value\(0\) \*\* -1"):
        Value(0.0) ** -1
    assert (Value(-2.0) ** 2).data == 4.0 and (Value(0.0) ** 2).data == 0.0


def test_relu_slope_at_zero_is_zero_like_nnlib_relu():
    x = Value(0.0)
    x.relu().backward()
    layer = ReLU()
    layer.forward(np.zeros((1, 1)))
    assert x.grad == 0.0 == layer.backward(np.ones((1, 1)))[0, 0]


def test_repr_shows_data_grad_and_label():
    w = Value(0.25, label="w")
    assert repr(w) == "Value(data=0.25, grad=0, label='w')"
    assert repr(Value(2) * 3) == "Value(data=6, grad=0)"
    assert (Value(1.0) + Value(2.0)).op == "+" and (Value(2.0) ** 3).op == "**3" and Value(1.0).tanh().op == "tanh"


def test_draw_graph_draws_a_box_per_value_and_rejects_other_roots():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    from nnlib import plot

    w, x, b = Value(0.8, label="w"), Value(1.5, label="x"), Value(-0.5, label="b")
    z = w * x + b
    loss = z.tanh()
    loss.backward()
    ax = plot.draw_graph(loss, highlight=z, local_grads=True, title="a neuron")
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(topological_order(loss)) == 6
    assert sum(p.get_edgecolor()[:3] == matplotlib.colors.to_rgb("#d62728") for p in boxes) == 1
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "w" in texts and f"grad {w.grad:.3f}" in texts and ax.get_title() == "a neuron"
    plt.close("all")
    ax = plot.draw_graph(loss, data={w: 0.8}, grads=False)                 # partly known: "?" elsewhere
    texts = [t.get_text() for t in ax.texts]
    assert any("data 0.800" in t for t in texts) and any("data ?" in t for t in texts)
    assert not any("grad" in t for t in texts)
    plt.close("all")
    with pytest.raises(TypeError, match="root must be an nnlib.autograd.Value, got float"):
        plot.draw_graph(1.0)

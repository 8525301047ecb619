"""Claims of chapters 2-4, measured with nnlib (see ../shared/CLAIMS.md)."""
import numpy as np

from nnlib import SGD, Adam, BinaryCrossEntropy, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh, data
from nnlib.activations import relu, sigmoid
from nnlib.metrics import best_linear_accuracy


def fold_linear_layers(layers):
    """The single affine map (W, b) that a stack of Dense layers without activations computes."""
    W, b = layers[0].W, layers[0].b
    for layer in layers[1:]:
        W, b = W @ layer.W, b @ layer.W + layer.b
    return W, b


def train_bce(model, X, y, epochs=300, lr=0.05):
    model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(lr), epochs=epochs, batch_size=None, verbose=False)
    return model.evaluate(X, y)["accuracy"]


# --- chapter 2 ---------------------------------------------------------------------------

def test_C02_stacked_dense_layers_collapse_into_one_affine_map():
    rng = np.random.default_rng(0)
    for sizes in ([3, 5, 2], [2, 8, 8, 1], [4, 16, 3, 7, 2]):
        layers = [Dense(a, b, rng=i) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        for layer in layers:
            layer.b[:] = rng.normal(size=layer.b.shape)
        stack = Sequential(layers)
        W, b = fold_linear_layers(layers)
        single = Dense(sizes[0], sizes[-1])
        single.W, single.b = W, b
        X = rng.uniform(-3, 3, size=(500, sizes[0]))
        out_stack, out_single = stack.predict(X), single.forward(X)
        assert out_stack.dtype == np.float64
        assert np.max(np.abs(out_stack - out_single)) < 1e-12
        # ...and the stack really is more than one layer: its parameters differ from the folded map's
        assert stack.count_params() > W.size + b.size


def test_C02_stack_without_activation_still_fails_on_xor():
    X, y = data.xor(400, seed=0)
    stack = Sequential([Dense(2, 8, rng=0), Dense(8, 8, rng=1), Dense(8, 1, rng=2)])
    acc = train_bce(stack, X, y)
    best = best_linear_accuracy(X, y)
    assert acc <= best + 1e-9 and acc < 0.75, f"linear stack reached {acc:.3f} (best line {best:.3f})"
    # the trained stack is still exactly its folded single layer
    W, b = fold_linear_layers(stack.layers)
    assert np.max(np.abs(stack.predict(X) - (X @ W + b))) < 1e-12
    # the same layers with ReLU between them fit XOR: the activation, not the depth, made the difference
    relu_net = Sequential([Dense(2, 8, rng=0), ReLU(), Dense(8, 8, rng=1), ReLU(), Dense(8, 1, rng=2)])
    assert train_bce(relu_net, X, y) >= 0.97


# --- chapter 3 ---------------------------------------------------------------------------

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "ReLU": ReLU, "leaky ReLU": LeakyReLU}


def make_network(activation, depth=1, width=16, seed=0):
    """The chapter's network: depth hidden layers of width units, the activation after each, one output."""
    layers, n_in = [], 2
    for i in range(depth):
        layers.append(Dense(n_in, width, rng=seed + i))
        if activation is not None:
            layers.append(ACTIVATIONS[activation]())
        n_in = width
    layers.append(Dense(n_in, 1, rng=seed + depth))
    return Sequential(layers)


def test_C03_same_network_with_any_activation_fits_xor_and_circles():
    sets = {"XOR": data.xor(400, seed=0), "circles": data.circles(400, noise=0.05, seed=0)}
    for name, (X, y) in sets.items():
        assert train_bce(make_network(None), X, y, lr=0.02) < 0.75, f"{name} without activation"
        for activation in ("ReLU", "tanh", "sigmoid"):
            acc = train_bce(make_network(activation), X, y, lr=0.02)
            assert acc >= 0.97, f"{name} with {activation}: accuracy {acc:.3f}"


def test_C03_holds_for_other_seeds_and_fresh_data():
    # sigmoid trains slowest: with other starting weights it needs more epochs than ReLU and tanh
    epochs = {"ReLU": 300, "tanh": 300, "sigmoid": 1000}
    for seed in (1, 2, 3, 4, 5):
        for make in (data.xor, lambda n, seed: data.circles(n, noise=0.05, seed=seed)):
            X, y = make(300, seed=10 + seed)
            for activation in ("ReLU", "tanh", "sigmoid"):
                acc = train_bce(make_network(activation, seed=seed), X, y, lr=0.02, epochs=epochs[activation])
                assert acc >= 0.97, f"seed {seed}, {activation}: {acc:.3f}"


def test_C05_sigmoid_values_and_slopes():
    z = np.linspace(-40, 40, 800_001)
    s = sigmoid(z)
    assert np.all((s >= 0) & (s <= 1)) and np.all((s[np.abs(z) < 30] > 0) & (s[np.abs(z) < 30] < 1))
    assert np.isclose(sigmoid(0.0), 0.5) and np.allclose(sigmoid(-z), 1 - s)
    layer = Sigmoid()
    out = layer.forward(z[:, None])
    slope = layer.backward(np.ones_like(out))[:, 0]           # the layer's own derivative
    numeric = (sigmoid(z + 1e-6) - sigmoid(z - 1e-6)) / 2e-6
    assert np.allclose(slope, numeric, atol=1e-9)
    assert slope.max() <= 0.25 and np.isclose(slope.max(), 0.25) and z[slope.argmax()] == 0.0
    assert slope[np.abs(z) > 5].max() < 0.01                   # flat on both sides
    assert np.isclose(slope[z > 5].max(), slope[z < -5].max())   # symmetric
    # slope falls on both sides of 0
    assert np.all(np.diff(slope[z >= 0]) <= 0) and np.all(np.diff(slope[z <= 0]) >= 0)


def test_C05_relu_is_max_of_zero_and_x_with_slope_one_or_zero():
    z = np.array([-5.0, -1e-9, 0.0, 1e-9, 3.0, 1e6])
    assert np.array_equal(relu(z), np.maximum(0, z))
    layer = ReLU()
    out = layer.forward(z[:, None])
    assert np.array_equal(out[:, 0], [0, 0, 0, 1e-9, 3.0, 1e6])
    assert np.array_equal(layer.backward(np.ones_like(out))[:, 0], [0, 0, 0, 1, 1, 1])
    # (the speed ratio ReLU vs sigmoid is measured and shown in chapter 3, not asserted here)


def test_C06_feature_cross_lets_a_linear_model_fit_xor():
    X, y = data.xor(400, seed=0)
    cross = np.column_stack([X, X[:, 0] * X[:, 1]])
    results = {}
    for name, features in (("plain", X), ("cross", cross)):
        model = Sequential([Dense(features.shape[1], 1, rng=0)])
        model.fit(features, y, loss=BinaryCrossEntropy(), optimizer=SGD(1.0), epochs=300, batch_size=None, verbose=False)
        results[name] = model.evaluate(features, y)["accuracy"]
    assert results["cross"] >= 0.97
    assert results["plain"] <= best_linear_accuracy(X, y) + 1e-9 < 0.8
    # the cross carries the weight: |w_cross| dominates the weights of x1 and x2
    w = model.layers[0].W[:, 0]
    assert abs(w[2]) > 10 * max(abs(w[0]), abs(w[1]))


def test_C06_network_learns_an_equivalent_feature_by_itself():
    X, y = data.xor(400, seed=0)
    X_new, y_new = data.xor(400, seed=1)
    for seed in (0, 1, 2):
        net = make_network("tanh", depth=1, width=4, seed=seed)
        train_bce(net, X, y, epochs=500, lr=0.02)
        assert net.evaluate(X_new, y_new)["accuracy"] >= 0.95
        logit = net.predict(X_new)[:, 0]
        corr = np.corrcoef(logit, X_new[:, 0] * X_new[:, 1])[0, 1]
        assert corr > 0.8, f"seed {seed}: the output follows x1*x2 only with correlation {corr:.2f}"


def test_C22_spirals_need_more_units_or_layers():
    X, y = data.spirals(400, turns=1.5, seed=0)
    X_new, y_new = data.spirals(400, turns=1.5, seed=1)
    for activation in ("ReLU", "tanh"):
        small = train_bce(make_network(activation, depth=1, width=3), X, y, epochs=1500, lr=0.02)
        assert small < 0.85, f"{activation}: 3 units reached {small:.3f}"
        deeper = make_network(activation, depth=2, width=16)
        assert train_bce(deeper, X, y, epochs=500, lr=0.02) >= 0.97
        assert deeper.evaluate(X_new, y_new)["accuracy"] >= 0.95
    wider = make_network("ReLU", depth=1, width=32)
    assert train_bce(wider, X, y, epochs=500, lr=0.02) >= 0.97


# --- the plotting helper chapter 3 added to nnlib.plot ----------------------------------

def test_heatmap_draws_one_value_per_point_and_rejects_bad_shapes():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pytest

    from nnlib import plot

    X, y = data.xor(50, seed=0)
    ax = plot.heatmap(lambda P: P[:, 0] * P[:, 1], X, y, resolution=20, title="x1 x2")
    assert ax.get_title() == "x1 x2" and ax.get_xlabel() == "$x_1$"
    with pytest.raises(ValueError, match=r"heatmap: fn must map points of shape \(400, 2\) to shape \(400,\)"):
        plot.heatmap(lambda P: P, X, resolution=20)
    with pytest.raises(ValueError, match=r"heatmap: X must have shape \(examples, 2\), got \(50, 3\)"):
        plot.heatmap(lambda P: P[:, 0], np.ones((50, 3)))
    plt.close("all")

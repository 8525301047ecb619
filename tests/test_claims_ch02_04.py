"""Claims of chapters 2-4, measured with nnlib (see ../shared/CLAIMS.md)."""
import numpy as np

from nnlib import MSE, SGD, Adam, BinaryCrossEntropy, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh, data
from nnlib.gradcheck import check_loss, check_model
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
        # ...although the stack has more parameters than the single map it equals
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
    for seed in (1, 2, 3):
        for make in (data.xor, lambda n, seed: data.circles(n, noise=0.05, seed=seed)):
            X, y = make(200, seed=10 + seed)
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



# --- chapter 4 ---------------------------------------------------------------------------

def linear_regression_data():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 2, size=(50, 1))
    return x, 1.5 * x[:, 0] + 0.5 + 0.2 * rng.standard_normal(50)


def test_C12_fit_stops_at_a_loss_threshold_and_reports_the_epoch():
    X, y = linear_regression_data()
    A = np.column_stack([X, np.ones(len(X))])
    best = np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)      # the least-squares optimum
    threshold = 1.01 * best
    model = Sequential([Dense(1, 1, rng=0)])
    history = model.fit(X, y, loss=MSE(), optimizer=SGD(0.3), epochs=10_000, batch_size=None,
                        stop_at_loss=threshold, verbose=False)
    losses = history["loss"]
    assert history.stopped_epoch == len(losses) < 10_000
    assert losses[-1] <= threshold and all(value > threshold for value in losses[:-1])
    assert f"stopped at epoch {history.stopped_epoch}" in history.stop_reason
    # a threshold that is never reached: the fit runs all its epochs and says nothing about stopping
    history = Sequential([Dense(1, 1, rng=0)]).fit(X, y, loss=MSE(), optimizer=SGD(0.3), epochs=50, batch_size=None,
                                                   stop_at_loss=0.5 * best, verbose=False)
    assert len(history["loss"]) == 50 and history.stopped_epoch is None


def test_C12_is_the_plain_gradient_descent_loop():
    """fit(batch_size=None) takes exactly the steps w <- w - lr dL/dw written out by hand."""
    X, y = linear_regression_data()
    x = X[:, 0]
    w, b, lr, threshold = -1.0, 3.0, 0.3, 0.03
    for epoch in range(1, 10_001):
        error = w * x + b - y
        value = np.mean(error ** 2)
        w, b = w - lr * 2 * np.mean(error * x), b - lr * 2 * np.mean(error)
        if value <= threshold:
            break
    model = Sequential([Dense(1, 1)])
    model.layers[0].W[:], model.layers[0].b[:] = -1.0, 3.0
    history = model.fit(X, y, loss=MSE(), optimizer=SGD(lr), epochs=10_000, batch_size=None, shuffle=False,
                        stop_at_loss=threshold, verbose=False)
    assert history.stopped_epoch == epoch
    assert np.isclose(model.layers[0].W[0, 0], w, rtol=1e-12) and np.isclose(model.layers[0].b[0], b, rtol=1e-12)


def test_C12_loss_decreases_monotonically_on_a_convex_problem():
    X, y = data.linear(200, n_features=3, weights=[1.5, -2.0, 0.5], bias=1.0, noise=0.1, seed=0)
    full = Sequential([Dense(3, 1, rng=0)]).fit(X, y, loss=MSE(), optimizer=SGD(0.1), epochs=200, batch_size=None,
                                                 verbose=False)["loss"]
    assert np.all(np.diff(full) < 0), "full-batch gradient descent with a safe rate must lower the loss every epoch"
    # mini-batches: the loss falls at every epoch until it is close to the best possible loss,
    # then wiggles (each step sees only 16 examples) without leaving that neighbourhood
    A = np.column_stack([X, np.ones(len(X))])
    best = np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    mini = np.array(Sequential([Dense(3, 1, rng=0)]).fit(X, y, loss=MSE(), optimizer=SGD(0.05), epochs=60,
                                                          batch_size=16, seed=0, verbose=False)["loss"])
    rises = np.flatnonzero(np.diff(mini) > 0)
    first_rise = rises[0] if len(rises) else len(mini) - 1
    assert first_rise >= 10 and mini[0] > 100 * best
    assert mini[first_rise] < 1.05 * best and mini[first_rise:].max() < 1.05 * best


def test_C13_mse_and_cross_entropy_gradients_are_correct():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    assert check_loss(MSE(), pred, target) < 1e-6
    z, labels = rng.normal(0, 3, size=(8, 1)), rng.integers(0, 2, size=(8, 1)).astype(float)
    assert check_loss(BinaryCrossEntropy(), z, labels) < 1e-6
    # the closed forms the chapter teaches
    loss = MSE()
    loss.forward(pred, target)
    assert np.allclose(loss.backward(), 2 * (pred - target) / pred.size)
    loss = BinaryCrossEntropy()
    loss.forward(z, labels)
    assert np.allclose(loss.backward(), (sigmoid(z) - labels) / z.size)
    # the classifier trained with squared error: a network ending in a Sigmoid layer, under MSE
    X, y = data.circles(20, noise=0.05, seed=0)
    for head in ([], [Sigmoid()]):
        net = Sequential([Dense(2, 5, rng=0), Tanh(), Dense(5, 1, rng=1)] + head)
        loss = MSE() if head else BinaryCrossEntropy()
        assert check_model(net, loss, X, y.astype(float)[:, None]) < 1e-6


def epochs_to_accuracy(loss_name, optimizer, init, target=0.95, max_epochs=3000, X=None, y=None):
    """Epochs until the same 2-8-1 tanh network reaches the target accuracy on the circles."""
    if X is None:
        X, y = data.circles(400, noise=0.05, seed=0)
    layers = [Dense(2, 8, init=init, rng=0), Tanh(), Dense(8, 1, init=init, rng=1)]
    if loss_name == "ce":
        loss, threshold = BinaryCrossEntropy(), 0.0
    else:
        layers.append(Sigmoid())
        loss, threshold = MSE(), 0.5

    class Until:
        epoch = None

        def on_epoch_end(self, model, epoch, logs):
            if np.mean((model.predict(X)[:, 0] > threshold) == y) >= target:
                self.epoch, model.stop_training = epoch, True

    until = Until()
    Sequential(layers).fit(X, y.astype(float), loss=loss, optimizer=optimizer, epochs=max_epochs, batch_size=None,
                           verbose=False, callbacks=[until])
    return until.epoch if until.epoch is not None else np.inf


def test_C13_cross_entropy_trains_a_classifier_in_fewer_epochs_with_gradient_descent():
    # same net, same initial weights, same SGD learning rate: cross-entropy gets there first at every rate tried
    for lr in (0.3, 1.0, 3.0):
        ce, se = epochs_to_accuracy("ce", SGD(lr), "xavier"), epochs_to_accuracy("mse", SGD(lr), "xavier")
        assert ce < se < np.inf, f"SGD({lr}): cross-entropy {ce} epochs, squared error {se}"
    # ...and with each loss at its own best rate of those
    best_ce = min(epochs_to_accuracy("ce", SGD(lr), "xavier") for lr in (0.3, 1.0, 3.0))
    best_se = min(epochs_to_accuracy("mse", SGD(lr), "xavier") for lr in (0.3, 1.0, 3.0))
    assert best_ce < best_se
    # saturated outputs (large initial weights): squared error is slower by an order of magnitude
    ce, se = epochs_to_accuracy("ce", SGD(1.0), 4.0), epochs_to_accuracy("mse", SGD(1.0), 4.0)
    assert 5 * ce < se, f"large init: cross-entropy {ce}, squared error {se}"


def test_C13_with_adam_the_gap_closes_unless_outputs_saturate():
    """What chapter 4 reports honestly: Adam rescales gradients, so the factor p(1 - p) matters less."""
    ce, se = epochs_to_accuracy("ce", Adam(0.03), "xavier"), epochs_to_accuracy("mse", Adam(0.03), "xavier")
    assert 0.5 < se / ce < 1.5, f"Adam, small init: cross-entropy {ce}, squared error {se}"
    ce, se = epochs_to_accuracy("ce", Adam(0.03), 4.0), epochs_to_accuracy("mse", Adam(0.03), 4.0)
    assert 2 * ce < se, f"Adam, large init: cross-entropy {ce}, squared error {se}"


def one_weight_loss_and_gradient(w, loss_name, x, y):
    """Loss and dL/dw of the one-weight logistic model p = sigmoid(w x), measured with nnlib.

    "ce": cross-entropy on the logit w x; "mse": squared error on the sigmoid's output."""
    layers = [Dense(1, 1, bias=False)]
    layers[0].W[:] = w
    if loss_name == "mse":
        layers.append(Sigmoid())
    model, loss = Sequential(layers), (MSE() if loss_name == "mse" else BinaryCrossEntropy())
    value = loss.forward(model.forward(x[:, None]), y[:, None])
    model.backward(loss.backward())
    return value, model.layers[0].grads["W"][0, 0]


def test_C25_cross_entropy_is_convex_in_w_and_squared_error_after_a_sigmoid_is_not():
    rng = np.random.default_rng(0)
    x = np.concatenate([-np.linspace(0.5, 3, 10), np.linspace(0.5, 3, 10)])
    y = (rng.random(20) < sigmoid(2 * x)).astype(float)           # noisy labels: both minima are finite
    ws, h = np.linspace(-10, 10, 201), 1e-4
    curves = {}
    for name in ("ce", "mse"):
        values, grads = np.array([one_weight_loss_and_gradient(w, name, x, y) for w in ws]).T
        second = np.array([(one_weight_loss_and_gradient(w + h, name, x, y)[1]
                            - one_weight_loss_and_gradient(w - h, name, x, y)[1]) / (2 * h) for w in ws])
        curves[name] = values, grads, second
    ce, mse = curves["ce"], curves["mse"]
    assert ce[2].min() >= -1e-8, f"cross-entropy's second derivative dips to {ce[2].min():.2e}"
    assert mse[2].min() < -0.1, f"squared error's second derivative never clearly negative ({mse[2].min():.2e})"
    # confidently wrong (w = -10): squared error is far above its minimum yet its slope is almost 0
    wrong = 0
    assert mse[0][wrong] - mse[0].min() > 0.5 and abs(mse[1][wrong]) < 1e-3, (mse[0][wrong], mse[1][wrong])
    assert abs(ce[1][wrong]) > 1.0, f"cross-entropy's slope there is {ce[1][wrong]:.2e}"   # it pushes hard
    # the slope matches the closed forms the chapter gives: mean((p - y) x) and mean(2 (p - y) p (1 - p) x)
    p = sigmoid(-10 * x)
    assert np.isclose(ce[1][wrong], np.mean((p - y) * x)) and np.isclose(mse[1][wrong], np.mean(2 * (p - y) * p * (1 - p) * x))


# --- the plotting helper chapter 3 added to nnlib.plot ----------------------------------

def test_heatmap_draws_one_value_per_point_and_rejects_bad_shapes():
    import matplotlib.pyplot as plt         # conftest selects the Agg backend
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

"""nnlib.diagnostics: gradient norms, activation statistics, dead units, and the Monitor callback."""
import numpy as np
import pytest

from nnlib import (SGD, BatchNorm, BinaryCrossEntropy, CrossEntropy, Dense, Dropout, LeakyReLU, ReLU, Sequential,
                   Sigmoid, Tanh, data, diagnostics)
from nnlib.diagnostics import Monitor, activation_stats, dead_unit_fraction, dead_units, gradient_norms, layer_outputs


def small_relu_net():
    return Sequential([Dense(2, 8, init="he", rng=0), ReLU(), Dense(8, 6, init="he", rng=1), ReLU(), Dense(6, 1, rng=2)])


def test_gradient_norms_are_the_norms_of_each_dense_layers_gradient(rng):
    X, y = rng.standard_normal((20, 2)), rng.integers(0, 2, 20)
    model = small_relu_net()
    norms = gradient_norms(model, X, y, BinaryCrossEntropy())
    loss = BinaryCrossEntropy()
    loss.forward(model.forward(X, training=True), y)
    model.backward(loss.backward())
    expected = [np.linalg.norm(model.layers[i].grads["W"]) for i in (0, 2, 4)]
    assert norms.shape == (3,) and np.allclose(norms, expected, rtol=1e-12)
    assert np.allclose(gradient_norms(model, X, y, "binary_cross_entropy"), expected)


def test_diagnostics_leave_the_model_as_it_was(rng):
    model = Sequential([Dense(2, 6, rng=0), BatchNorm(6), ReLU(), Dropout(0.5, rng=1), Dense(6, 3, rng=2)])
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 3, 30)
    model.fit(X, y, loss=CrossEntropy(), optimizer=SGD(0.1), epochs=2, verbose=False)
    bn, drop = model.layers[1], model.layers[3]
    grads = [g.copy() for g in model.gradients()]
    params = [p.copy() for p in model.parameters()]
    running = bn.running_mean.copy(), bn.running_var.copy()
    rng_state = drop.rng.bit_generator.state
    gradient_norms(model, X, y, CrossEntropy())
    activation_stats(model, X)
    dead_units(model, X)
    layer_outputs(model, X, training=True)
    assert all(np.array_equal(a, b) for a, b in zip(grads, model.gradients()))
    assert all(np.array_equal(a, b) for a, b in zip(params, model.parameters()))
    assert np.array_equal(running[0], bn.running_mean) and np.array_equal(running[1], bn.running_var)
    assert drop.rng.bit_generator.state == rng_state


def test_layer_outputs_chain_to_the_prediction(rng):
    model = small_relu_net()
    X = rng.standard_normal((5, 2))
    outs = layer_outputs(model, X)
    assert len(outs) == len(model.layers) and np.array_equal(outs[-1], model.predict(X))
    assert np.array_equal(outs[1], np.maximum(outs[0], 0))


def test_activation_stats_measure_mean_std_and_saturation(rng):
    X = rng.standard_normal((200, 2))
    model = Sequential([Dense(2, 4, init=100.0, rng=0), Sigmoid(), Dense(4, 4, init=0.01, rng=1), Tanh(),
                        Dense(4, 4, rng=2), ReLU(), Dense(4, 1, rng=3)])
    stats = activation_stats(model, X)
    assert stats["layer"] == ["Sigmoid 1", "Tanh 1", "ReLU 1"]
    outs = layer_outputs(model, X)
    assert np.allclose(stats["mean"], [outs[i].mean() for i in (1, 3, 5)])
    assert np.allclose(stats["std"], [outs[i].std() for i in (1, 3, 5)])
    assert stats["saturation"][0] > 0.9            # weights of std 100: the sigmoid sits at 0 or 1
    assert stats["saturation"][1] == 0.0           # tiny weights: tanh works in its linear middle
    assert np.isclose(stats["saturation"][2], np.mean(outs[5] == 0))   # ReLU: slope 0 where the output is 0


def test_a_unit_with_a_large_negative_bias_is_dead_and_gets_exactly_zero_gradient(rng):
    X, y = rng.standard_normal((50, 2)), rng.integers(0, 2, 50)
    model = small_relu_net()
    model.layers[0].b[[1, 5]] = -100.0             # units 1 and 5 of the first layer never switch on
    dead = dead_units(model, X)
    assert [d.shape for d in dead] == [(8,), (6,)]
    assert set(np.flatnonzero(dead[0])) >= {1, 5}
    loss = BinaryCrossEntropy()
    loss.forward(model.forward(X, training=True), y)
    model.backward(loss.backward())
    first = model.layers[0]
    assert not first.grads["W"][:, dead[0]].any() and not first.grads["b"][dead[0]].any()
    assert not model.layers[2].grads["W"][dead[0], :].any()     # and no gradient flows out of them either
    total = dead[0].sum() + dead[1].sum()
    assert dead_unit_fraction(model, X) == total / 14


def test_dead_units_count_only_plain_relu(rng):
    X = rng.standard_normal((20, 2))
    leaky = Sequential([Dense(2, 4, rng=0), LeakyReLU(0.1), Dense(4, 1, rng=1)])
    leaky.layers[0].b[:] = -100.0
    assert dead_units(leaky, X) == [] and dead_unit_fraction(leaky, X) == 0.0


def test_monitor_records_per_epoch_without_changing_training():
    X, y = data.circles(120, noise=0.05, seed=0)

    def run(callbacks):
        model = Sequential([Dense(2, 8, init="he", rng=0), BatchNorm(8), ReLU(), Dropout(0.2, rng=3),
                            Dense(8, 8, init="he", rng=1), ReLU(), Dense(8, 1, rng=2)])
        history = model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(0.5), epochs=6, batch_size=32,
                            verbose=False, callbacks=callbacks)
        return model, history

    class BatchNorms:      # an independent record of what the monitor should average
        def on_train_begin(self, model):
            self.rows = []

        def on_batch_end(self, model, epoch, batch):
            self.rows.append((epoch, [np.linalg.norm(model.layers[i].grads["W"]) for i in (0, 4, 6)]))

    plain, plain_history = run([])
    monitor, spy = Monitor(X), BatchNorms()
    watched, history = run([monitor, spy])
    assert all(np.array_equal(a, b) for a, b in zip(plain.parameters(), watched.parameters()))
    assert history["loss"] == plain_history["loss"]

    assert monitor.epochs == [1, 2, 3, 4, 5, 6]
    assert monitor.grad_norms.shape == (6, 3)
    expected = [np.mean([n for e, n in spy.rows if e == epoch], axis=0) for epoch in range(1, 7)]
    assert np.allclose(monitor.grad_norms, expected, rtol=1e-12)
    assert monitor.act_mean.shape == monitor.act_std.shape == monitor.saturation.shape == (6, 2)
    assert monitor.dead_per_layer.shape == (6, 2)
    assert history["dead_fraction"] == list(monitor.dead_fraction)
    assert np.isclose(monitor.dead_fraction[-1], dead_unit_fraction(watched, X))
    assert monitor.loss.tolist() == history["loss"]
    assert monitor.dense_names == ["layer 1 (2 -> 8)", "layer 2 (8 -> 8)", "layer 3 (8 -> 1)"]


def test_monitor_keeps_the_epochs_before_a_divergence():
    X, y = data.circles(200, noise=0.05, seed=0)
    model = Sequential([Dense(2, 32, init=0.5, rng=i) if i == 0 else Dense(32, 32, init=0.5, rng=i)
                        for i in range(1)] + [ReLU()] +
                       [layer for i in range(1, 8) for layer in (Dense(32, 32, init=0.5, rng=i), ReLU())] +
                       [Dense(32, 1, init=0.5, rng=9)])
    monitor = Monitor(X)
    with pytest.warns(RuntimeWarning, match="loss became"):
        history = model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(0.1), epochs=5, verbose=False,
                            callbacks=[monitor])
    assert history.diverged
    assert len(monitor.epochs) == history.stopped_epoch - 1
    assert monitor.grad_norms.shape[0] == len(monitor.epochs)


def test_monitor_reuse_starts_afresh():
    X, y = data.xor(64, seed=0)
    monitor = Monitor(X)
    model = small_relu_net()
    for _ in range(2):
        model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(0.1), epochs=3, verbose=False, callbacks=[monitor])
    assert monitor.epochs == [1, 2, 3] and monitor.grad_norms.shape == (3, 3)


def test_gradient_norms_of_a_diverged_network_are_not_finite():
    X, y = np.ones((4, 2)) * 1e200, np.array([0, 1, 0, 1])
    model = Sequential([Dense(2, 4, init=1e100, rng=0), ReLU(), Dense(4, 1, init=1e100, rng=1)])
    assert not np.isfinite(gradient_norms(model, X, y, BinaryCrossEntropy())).any()


def test_bad_input_is_named(rng):
    with pytest.raises(TypeError, match="gradient_norms: model must be a Sequential, got Dense"):
        gradient_norms(Dense(2, 2), np.zeros((3, 2)), np.zeros(3), "mse")
    with pytest.raises(ValueError, match=r"gradient_norms: X has 3 features per example .* expects 2"):
        gradient_norms(small_relu_net(), np.zeros((4, 3)), np.zeros(4), "mse")
    model = small_relu_net()
    with pytest.raises(ValueError, match=r"Monitor\(X_probe\): X has 5 features per example"):
        model.fit(np.zeros((4, 2)), np.zeros(4), loss="mse", optimizer=SGD(0.1), verbose=False,
                  callbacks=[Monitor(np.zeros((3, 5)))])
    with pytest.raises(AttributeError, match="no attribute 'grad_norm'"):
        Monitor(np.zeros((3, 2))).grad_norm


def test_layer_names(rng):
    model = Sequential([Dense(2, 4, rng=0), Sigmoid(), Dense(4, 3, rng=1), ReLU(), Dense(3, 1, rng=2)])
    assert diagnostics.layer_names(model) == ["layer 1 (2 -> 4)", "layer 2 (4 -> 3)", "layer 3 (3 -> 1)"]
    assert diagnostics.layer_names(model, "activation") == ["Sigmoid 1", "ReLU 1"]
    assert diagnostics.layer_names(model, "relu") == ["ReLU 1"]


def test_plot_helpers_draw_labelled_figures():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnlib import plot

    X, y = data.circles(100, seed=0)
    model = small_relu_net()
    monitor = Monitor(X)
    history = model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(0.1), epochs=3, verbose=False,
                        callbacks=[monitor])
    ax = plot.layer_gradient_norms({"a": [1e-3, 1e-1, 1.0], "b": [1.0, np.nan, np.inf]})
    assert ax.get_yscale() == "log" and ax.get_xlabel() and ax.get_title()
    axes = plot.training_dashboard(monitor, history)
    assert all(a.get_xlabel() and a.get_ylabel() and a.get_title() for a in axes)
    sigmoid_net = Sequential([Dense(2, 4, rng=0), Sigmoid(), Dense(4, 1, rng=1)])
    monitor = Monitor(X)
    history = sigmoid_net.fit(X, y, loss=BinaryCrossEntropy(), optimizer=SGD(0.1), epochs=2, verbose=False,
                              callbacks=[monitor])
    axes = plot.training_dashboard(monitor, history)                  # no ReLU: saturation instead of dead units
    assert axes[1].get_ylabel() == "saturated units (%)"
    ax = plot.layer_histograms([np.zeros(5), np.ones(5)], labels=["x", "y"])
    assert ax.get_xlabel() and ax.get_title()
    plt.close("all")

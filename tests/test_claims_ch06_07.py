"""Claims of chapters 6 (training failures) and 7 (dropout), measured with nnlib (see ../shared/CLAIMS.md).

Every number is measured here with fixed seeds; the notebooks show the same runs.
"""
import warnings

import numpy as np
import pytest

from nnlib import (SGD, Adam, BatchNorm, BinaryCrossEntropy, Dense, Dropout, LeakyReLU, ReLU, Sequential, Sigmoid,
                   Tanh, TrainingDivergedWarning, data)
from nnlib.diagnostics import dead_unit_fraction, dead_units, dense_layers, gradient_norms, layer_outputs

BCE = BinaryCrossEntropy()


def deep_net(activation, init, *, depth=10, width=32, batchnorm=False, n_in=2, seed=0):
    """depth Dense layers (depth - 1 hidden ones of `width` units) with `activation` between them.

    With batchnorm=True every hidden Dense layer is followed by BatchNorm (and has no bias:
    the normalisation would cancel it). seed: the initial weights, as chapter 6 numbers them.
    """
    layers, n = [], n_in
    for i in range(depth - 1):
        layers.append(Dense(n, width, init=init, bias=not batchnorm, rng=i + 100 * seed))
        if batchnorm:
            layers.append(BatchNorm(width))
        layers.append(activation())
        n = width
    layers.append(Dense(n, 1, init=init, rng=depth + 100 * seed))
    return Sequential(layers)


SEEDS = range(5)      # chapter 6 shows every comparison over these seeds (initial weights and batch order)


def circles():
    return data.circles(300, noise=0.05, seed=0)


def train(model, X, y, lr, epochs, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingDivergedWarning)
        return model.fit(X, y, loss=BCE, optimizer=SGD(lr), epochs=epochs, batch_size=32, verbose=False, **kw)


# --- C08: vanishing gradients ----------------------------------------------------------

def test_C08_deep_sigmoid_gradients_vanish_relu_with_he_keeps_them():
    X, y = circles()
    sigmoid = gradient_norms(deep_net(Sigmoid, "xavier"), X, y, BCE)
    relu = gradient_norms(deep_net(ReLU, "he"), X, y, BCE)
    assert len(sigmoid) == len(relu) == 10
    assert sigmoid[0] / sigmoid[-1] < 1e-3, sigmoid
    assert np.all(np.diff(sigmoid) > 0), "the sigmoid net's gradient should shrink layer by layer towards the input"
    assert 0.1 <= relu[0] / relu[-1] <= 10, relu


def test_C08_lower_sigmoid_layers_barely_move_and_relu_reaches_the_target_sooner():
    X, y = circles()
    epochs, moved = {}, {}
    for name, model in [("sigmoid", deep_net(Sigmoid, "xavier")), ("relu", deep_net(ReLU, "he"))]:
        start = [layer.W.copy() for layer in dense_layers(model)]
        history = train(model, X, y, lr=0.1, epochs=40, stop_at_loss=0.1)
        epochs[name] = history.stopped_epoch          # None: never reached the target
        moved[name] = [np.linalg.norm(layer.W - w) / np.linalg.norm(w) for layer, w in zip(dense_layers(model), start)]
    assert epochs["relu"] is not None and epochs["relu"] <= 20
    assert epochs["sigmoid"] is None                      # not within 40 epochs
    # after 40 epochs the sigmoid net's first layer has changed by a tiny fraction of what its last layer did
    assert moved["sigmoid"][0] < 1e-3 * moved["sigmoid"][-1]


def test_C08_over_5_seeds_sigmoid_never_reaches_the_target_relu_always_does():
    X, y = circles()
    for seed in SEEDS:
        sigmoid = train(deep_net(Sigmoid, "xavier", seed=seed), X, y, lr=0.1, epochs=30, stop_at_loss=0.1, seed=seed)
        relu = train(deep_net(ReLU, "he", seed=seed), X, y, lr=0.1, epochs=30, stop_at_loss=0.1, seed=seed)
        assert sigmoid.stopped_epoch is None and sigmoid["loss"][-1] > 0.65, (seed, sigmoid["loss"][-1])
        assert relu.stopped_epoch is not None and relu.stopped_epoch <= 20, (seed, relu.stopped_epoch)


# --- C09: exploding gradients ------------------------------------------------------------

def test_C09_large_init_tanh_lower_layer_gradients_explode_batchnorm_fixes_it():
    """Weights of std 2 (about 11x the Xavier scale here): gradients grow layer by layer towards the input."""
    X, y = circles()
    plain = gradient_norms(deep_net(Tanh, 2.0), X, y, BCE)
    normed_net = deep_net(Tanh, 2.0, batchnorm=True)
    normed = gradient_norms(normed_net, X, y, BCE)
    assert plain[0] >= 100 * plain[-1], plain
    assert 0.1 <= normed[0] / normed[-1] <= 10, normed
    history = train(normed_net, X, y, lr=0.1, epochs=60)
    assert not history.diverged and normed_net.evaluate(X, y)["accuracy"] >= 0.95


def test_C09_a_lower_learning_rate_does_not_rescue_the_large_init_tanh_net():
    """Honest part: for this net the trouble is the weights, not the step size."""
    X, y = circles()
    for lr in (0.1, 0.01, 0.001):
        model = deep_net(Tanh, 2.0)
        train(model, X, y, lr=lr, epochs=40)
        assert model.evaluate(X, y)["accuracy"] < 0.8, lr


def test_C09_large_init_relu_net_diverges_a_lower_learning_rate_or_batchnorm_converge():
    """Weights of std 0.5 (2x the He scale): every layer's gradient is huge and SGD at 0.1 blows up."""
    X, y = circles()
    he = gradient_norms(deep_net(ReLU, "he"), X, y, BCE)
    big = gradient_norms(deep_net(ReLU, 0.5), X, y, BCE)
    assert np.all(big >= 100 * he), big / he

    with pytest.warns(TrainingDivergedWarning, match="the loss became (nan|inf)"):
        diverged = deep_net(ReLU, 0.5).fit(X, y, loss=BCE, optimizer=SGD(0.1), epochs=40, batch_size=32, verbose=False)
    assert diverged.diverged and diverged.stopped_epoch == 1

    slow = deep_net(ReLU, 0.5)
    history = train(slow, X, y, lr=0.01, epochs=40)
    assert not history.diverged and history["loss"][-1] < 0.01 * history["loss"][0]
    assert slow.evaluate(X, y)["accuracy"] >= 0.99

    normed = deep_net(ReLU, 0.5, batchnorm=True)
    history = train(normed, X, y, lr=0.1, epochs=40)
    assert not history.diverged and normed.evaluate(X, y)["accuracy"] >= 0.95


def test_C09_over_5_seeds_batchnorm_always_rescues_the_large_init_nets_a_lower_rate_only_the_relu_one_mostly():
    """Chapter 6's seed comparison: lr 0.1 diverges on every seed, BatchNorm trains on every seed; the
    lower rate trains the ReLU net on most seeds but not on all, and the tanh net on none."""
    X, y = circles()
    relu_slow_trained = 0
    for seed in SEEDS:
        assert train(deep_net(ReLU, 0.5, seed=seed), X, y, lr=0.1, epochs=20, seed=seed).diverged, seed
        normed = deep_net(ReLU, 0.5, batchnorm=True, seed=seed)
        assert not train(normed, X, y, lr=0.1, epochs=20, seed=seed).diverged
        assert normed.evaluate(X, y)["accuracy"] >= 0.95, seed
        slow = deep_net(ReLU, 0.5, seed=seed)
        relu_slow_trained += (not train(slow, X, y, lr=0.01, epochs=20, seed=seed).diverged
                              and slow.evaluate(X, y)["accuracy"] >= 0.95)
        tanh_slow, tanh_normed = deep_net(Tanh, 2.0, seed=seed), deep_net(Tanh, 2.0, batchnorm=True, seed=seed)
        train(tanh_slow, X, y, lr=0.01, epochs=30, seed=seed)
        train(tanh_normed, X, y, lr=0.1, epochs=30, seed=seed)
        assert tanh_slow.evaluate(X, y)["accuracy"] < 0.8, seed
        assert tanh_normed.evaluate(X, y)["accuracy"] >= 0.95, seed
    assert 3 <= relu_slow_trained <= 4, relu_slow_trained       # most seeds, not all: what the chapter says


# --- C10: dead ReLU units -----------------------------------------------------------------

def moons_relu_net():
    return Sequential([Dense(2, 32, init="he", rng=0), ReLU(), Dense(32, 32, init="he", rng=1), ReLU(),
                       Dense(32, 32, init="he", rng=2), ReLU(), Dense(32, 1, rng=9)])


def test_C10_a_too_high_learning_rate_kills_relu_units_and_their_gradient_is_exactly_zero():
    X, y = data.moons(300, noise=0.1, seed=0)
    model = moons_relu_net()
    history = train(model, X, y, lr=3.0, epochs=30)
    assert not history.diverged
    dead = dead_units(model, X)
    assert dead_unit_fraction(model, X) >= 0.3
    # one gradient step on the whole data set: every dead unit's weights and bias get exactly 0
    BCE.forward(model.forward(X, training=True), y)
    model.backward(BCE.backward())
    for layer, d in zip(dense_layers(model), dead):
        assert d.any()
        assert np.all(layer.grads["W"][:, d] == 0) and np.all(layer.grads["b"][d] == 0)


def test_C10_a_lower_learning_rate_keeps_them_alive():
    X, y = data.moons(300, noise=0.1, seed=0)
    model = moons_relu_net()
    train(model, X, y, lr=0.1, epochs=30)
    assert dead_unit_fraction(model, X) <= 0.1
    assert model.evaluate(X, y)["accuracy"] >= 0.9


def test_C10_dead_first_layer_units_stay_dead_at_any_later_learning_rate():
    X, y = data.moons(300, noise=0.1, seed=0)
    model = moons_relu_net()
    train(model, X, y, lr=3.0, epochs=30)
    first = dead_units(model, X)[0].copy()
    W, b = model.layers[0].W[:, first].copy(), model.layers[0].b[first].copy()
    train(model, X, y, lr=0.1, epochs=20)
    assert first.any() and np.all(dead_units(model, X)[0][first])
    assert np.array_equal(model.layers[0].W[:, first], W) and np.array_equal(model.layers[0].b[first], b)


def moons_net(activation, seed):
    r = 10 * seed          # chapter 6's relu_net(activation, seed); seed 0 is moons_relu_net()
    return Sequential([Dense(2, 32, init="he", rng=r), activation(), Dense(32, 32, init="he", rng=r + 1), activation(),
                       Dense(32, 32, init="he", rng=r + 2), activation(), Dense(32, 1, rng=r + 9)])


def test_C10_over_5_seeds_high_rate_kills_units_low_rate_never_lr_2_depends_on_the_seed_leaky_diverges():
    X, y = data.moons(300, noise=0.1, seed=0)
    outcome = {}
    for activation in (ReLU, LeakyReLU):
        for lr in (0.1, 2.0, 3.0):
            runs = []
            for seed in SEEDS:
                model = moons_net(activation, seed)
                h = train(model, X, y, lr=lr, epochs=30, seed=seed)
                runs.append(None if h.diverged else (dead_unit_fraction(model, X), model.evaluate(X, y)["accuracy"]))
            outcome[activation.__name__, lr] = runs
    for dead, acc in outcome["ReLU", 0.1]:
        assert dead <= 0.1 and acc >= 0.9
    trained_at_3 = [r for r in outcome["ReLU", 3.0] if r is not None]
    assert len(trained_at_3) >= 3 and all(dead >= 0.3 and acc <= 0.55 for dead, acc in trained_at_3)
    at_2 = [r for r in outcome["ReLU", 2.0] if r is not None]
    assert any(acc <= 0.55 and dead >= 0.8 for dead, acc in at_2) and any(acc >= 0.95 for dead, acc in at_2)
    assert all(r is not None for r in outcome["LeakyReLU", 0.1])
    for lr in (2.0, 3.0):
        assert sum(r is None for r in outcome["LeakyReLU", lr]) >= 3, lr       # most leaky runs diverge


# --- C11: dropout ---------------------------------------------------------------------------

def dropout_net(rate, width=32):
    return Sequential([Dense(2, width, init="he", rng=0), ReLU(), Dropout(rate, rng=100),
                       Dense(width, width, init="he", rng=1), ReLU(), Dropout(rate, rng=200),
                       Dense(width, 1, rng=2)])


def small_noisy_moons():
    return data.moons(60, noise=0.35, seed=1), data.moons(1000, noise=0.35, seed=2)


def fit_dropout(rate):
    (X, y), (Xt, yt) = small_noisy_moons()
    model = dropout_net(rate)
    model.fit(X, y, loss=BCE, optimizer=Adam(0.01), epochs=200, batch_size=None, verbose=False)
    return model, model.evaluate(X, y)["accuracy"], model.evaluate(Xt, yt)["accuracy"]


def test_C11_rate_0_is_the_identity():
    (X, y), _ = small_noisy_moons()
    x = np.random.default_rng(0).standard_normal((10, 4))
    assert np.array_equal(Dropout(0.0).forward(x, training=True), x)
    with_layer, _, _ = fit_dropout(0.0)
    without = Sequential([Dense(2, 32, init="he", rng=0), ReLU(), Dense(32, 32, init="he", rng=1), ReLU(),
                          Dense(32, 1, rng=2)])
    without.fit(X, y, loss=BCE, optimizer=Adam(0.01), epochs=200, batch_size=None, verbose=False)
    assert all(np.array_equal(a, b) for a, b in zip(with_layer.parameters(), without.parameters()))


def test_C11_rate_1_learns_nothing():
    (X, y), _ = small_noisy_moons()
    model = dropout_net(1.0)
    start = [p.copy() for p in model.parameters()]
    history = model.fit(X, y, loss=BCE, optimizer=Adam(0.01), epochs=100, batch_size=None, verbose=False)
    *weights, out_bias = model.parameters()
    assert all(np.array_equal(a, b) for a, b in zip(start[:-1], weights)), "only the output bias may change"
    train_mode = model.forward(X, training=True)
    assert np.ptp(train_mode) == 0                       # the same output for every example
    p = y.mean()
    best_constant = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert history["loss"][-1] >= best_constant - 1e-9   # no better than guessing the class frequency


def test_C11_an_intermediate_rate_shrinks_the_train_test_gap():
    _, train0, test0 = fit_dropout(0.0)
    _, train5, test5 = fit_dropout(0.5)
    assert train0 - test0 >= 0.15                        # no dropout: overfits the 60 noisy points
    assert (train5 - test5) <= (train0 - test0) - 0.05
    assert test5 > test0


def test_C11_no_dropout_at_inference():
    model, _, _ = fit_dropout(0.5)
    (X, _), _ = small_noisy_moons()
    no_dropout = Sequential([layer for layer in model.layers if not isinstance(layer, Dropout)])
    assert np.array_equal(model.predict(X), model.predict(X))
    assert np.array_equal(model.predict(X), no_dropout.predict(X))
    assert not np.array_equal(model.forward(X, training=True), model.predict(X))


def test_C11_inverted_scaling_keeps_the_expected_activation():
    x = np.random.default_rng(0).uniform(0.5, 2.0, (5, 4))
    for rate in (0.2, 0.5, 0.8):
        layer = Dropout(rate, rng=1)
        outs = np.array([layer.forward(x, training=True) for _ in range(20000)])
        assert np.allclose(outs.mean(axis=0), x, rtol=0.05), rate
        assert np.isclose(np.mean(outs == 0), rate, atol=0.01)
        # without the 1 / (1 - rate) scaling the mean would drop to (1 - rate) x
        assert not np.allclose((outs * (1 - rate)).mean(axis=0), x, rtol=0.05)


# --- C21: batch normalization keeps each layer's input normalised ----------------------------

def test_C21_batchnorm_normalises_each_feature_in_training():
    X, y = circles()
    model = deep_net(Tanh, 2.0, batchnorm=True)
    train(model, X, y, lr=0.1, epochs=5)
    batch = X[:64]
    outs = layer_outputs(model, batch, training=True)
    checked = 0
    for i, layer in enumerate(model.layers):
        if isinstance(layer, BatchNorm):
            raw = outs[i - 1]                             # what the layer receives
            x_hat = (outs[i] - layer.beta) / layer.gamma  # undo the learned scale and shift
            assert np.allclose(x_hat.mean(axis=0), 0, atol=1e-8)
            assert np.allclose(x_hat.var(axis=0), 1, atol=1e-3)
            if i > 1:                                     # behind a tanh layer, weights of std 2 spread it wide
                assert raw.std() > 3
            checked += 1
    assert checked == 9


def test_C21_batchnorm_uses_running_statistics_at_inference():
    X, y = circles()
    model = deep_net(Tanh, 2.0, batchnorm=True)
    train(model, X, y, lr=0.1, epochs=20)
    bn = model.layers[1]
    inputs = layer_outputs(model, X)[0]                   # what the first BatchNorm sees
    # the running averages track the statistics of the data the layer sees
    assert np.allclose(bn.running_mean, inputs.mean(axis=0), atol=0.1 * inputs.std())
    assert np.allclose(bn.running_var, inputs.var(axis=0), rtol=0.3)
    # inference normalises with them: one example alone gets the same output as in a batch
    expected = (inputs - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) * bn.gamma + bn.beta
    assert np.allclose(layer_outputs(model, X)[1], expected)
    assert np.allclose(model.predict(X[:1]), model.predict(X)[:1])
    assert not np.allclose(model.forward(X[:2], training=True)[:1], model.predict(X[:1]))   # batch statistics (a training batch needs >= 2)


def test_C30_dropouts_robust_effect_is_a_smaller_gap_not_a_test_peak():
    (Xt, yt) = data.moons(1000, noise=0.35, seed=2)
    rates, seeds = [0.0, 0.2, 0.5, 0.8], range(6)
    gap, test = np.zeros((4, 6)), np.zeros((4, 6))
    for i, rate in enumerate(rates):
        for s in seeds:
            X, y = data.moons(60, noise=0.35, seed=100 + s)          # another sample, weights and masks per seed
            net = Sequential([Dense(2, 32, init="he", rng=10 * s), ReLU(), Dropout(rate, rng=10 * s + 100),
                              Dense(32, 32, init="he", rng=10 * s + 1), ReLU(), Dropout(rate, rng=10 * s + 200),
                              Dense(32, 1, rng=10 * s + 2)])
            net.fit(X, y, loss=BCE, optimizer=Adam(0.01), epochs=200, batch_size=None, verbose=False)
            tr, te = net.evaluate(X, y)["accuracy"], net.evaluate(Xt, yt)["accuracy"]
            gap[i, s], test[i, s] = tr - te, te
    mean_gap = gap.mean(1)
    assert np.all(np.diff(mean_gap) < 0), mean_gap                  # falls with the rate, step by step
    assert mean_gap[0] - mean_gap[-1] >= 0.05
    assert np.all(gap[-1] < gap[0]), gap              # at the largest rate, on every seed (the chapter says so)
    assert (gap[1:-1] >= gap[0]).any(), gap            # but not at every small rate on every seed: on average
    # the test accuracy is reported with its spread, not asserted to peak: the rates differ by less
    # than the seeds do, and the best rate is not the same on every seed
    assert np.ptp(test.mean(1)) < test.std(1, ddof=1).max() * 2
    assert len(set(test.argmax(0))) > 1


def test_C21_batchnorm_backward_couples_the_examples_of_a_batch():
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((8, 3)) * 4 + 2, rng.standard_normal((8, 3))
    layer = BatchNorm(3)
    layer.gamma[...] = [0.5, 1.0, 2.0]
    layer.forward(x, training=True)
    dx = layer.backward(g)
    x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + layer.eps)
    by_hand = layer.gamma / np.sqrt(x.var(0) + layer.eps) * (g - g.mean(0) - x_hat * (g * x_hat).mean(0))
    assert np.abs(dx - by_hand).max() < 1e-12
    assert np.abs(dx.sum(0)).max() < 1e-12                       # a shift of the whole batch changes nothing
    x2 = x.copy()
    x2[1:] = rng.standard_normal((7, 3)) * 4 + 2
    layer.forward(x2, training=True)
    assert np.abs(layer.backward(g)[0] - dx[0]).max() > 1e-3      # same example, other batch-mates
    pair = BatchNorm(3).forward(rng.standard_normal((2, 3)) * 10, training=True)
    assert np.allclose(np.abs(pair), 1.0, atol=1e-3)              # a batch of 2 keeps only the order
    with pytest.raises(ValueError, match="batch"):                 # a batch of 1 would output beta alone
        BatchNorm(2).forward(np.array([[5.0, -7.0]]), training=True)


def test_C21_batchnorm_nets_trained_with_batches_of_2_learn_next_to_nothing_over_5_seeds():
    """Chapter 6's batch-size experiment: the same BatchNorm net, 8 epochs, batches of 2 versus 16."""
    X, y = circles()

    def bn_net(seed):
        return Sequential([Dense(2, 16, bias=False, init="he", rng=seed), BatchNorm(16), ReLU(),
                           Dense(16, 16, bias=False, init="he", rng=seed + 10), BatchNorm(16), ReLU(),
                           Dense(16, 1, rng=seed + 20)])
    accuracy = {}
    for batch in (2, 16):
        accuracy[batch] = []
        for seed in SEEDS:
            model = bn_net(seed)
            model.fit(X, y, loss=BCE, optimizer=SGD(0.05), epochs=8, batch_size=batch, seed=seed, verbose=False)
            accuracy[batch].append(model.evaluate(X, y)["accuracy"])
    assert max(accuracy[2]) <= 0.7 and abs(np.mean(accuracy[2]) - 0.5) <= 0.1, accuracy[2]
    assert min(accuracy[16]) >= 0.9, accuracy[16]

"""BatchNorm and Dropout: gradients checked against finite differences, modes, running statistics, bad input."""
import numpy as np
import pytest

import nnlib
from nnlib import SGD, BatchNorm, CrossEntropy, Dense, Dropout, ReLU, Sequential, Tanh, data
from nnlib.gradcheck import check_layer, check_model

TOL = 1e-6


def batchnorm_with_random_scale(rng, n=4):
    bn = BatchNorm(n)
    bn.params["gamma"][...] = rng.uniform(0.5, 2.0, n) * rng.choice([-1, 1], n)
    bn.params["beta"][...] = rng.standard_normal(n)
    return bn


# --- gradient checks ---------------------------------------------------------

@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batchnorm_gradients_match_numerical(training, rng):
    bn = batchnorm_with_random_scale(rng)
    bn.running_mean[...] = rng.standard_normal(4)
    bn.running_var[...] = rng.uniform(0.5, 3.0, 4)
    x = rng.standard_normal((7, 4)) * [1.0, 3.0, 0.2, 10.0] + [0.0, 5.0, -1.0, 2.0]
    errors = check_layer(bn, x, seed=7, training=training, details=True)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("rate", [0.0, 0.3, 0.5, 0.9])
def test_dropout_gradients_match_numerical_with_a_fixed_mask(rate, rng):
    layer = Dropout(rate, rng=0)
    x = rng.standard_normal((6, 5))
    layer.fixed_mask = rng.random(x.shape) >= rate
    assert check_layer(layer, x, seed=3, training=True) < TOL
    assert check_layer(layer, x, seed=3, training=False) < TOL


def test_whole_network_with_batchnorm_and_dropout_gradients_match_numerical(rng):
    # a bias right before BatchNorm would be cancelled by the mean subtraction (see below): leave it out
    model = Sequential([Dense(3, 6, bias=False, rng=1), BatchNorm(6), Tanh(), Dropout(0.4, rng=2),
                        Dense(6, 5, bias=False, rng=3), BatchNorm(5), ReLU(), Dense(5, 3, rng=4)])
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    model.layers[3].fixed_mask = rng.random((10, 6)) >= 0.4
    errors = check_model(model, CrossEntropy(), X, y, details=True)
    assert len(errors) == 8 and max(errors) < TOL, errors


def test_a_bias_before_batchnorm_gets_no_gradient(rng):
    model = Sequential([Dense(3, 4, rng=1), BatchNorm(4), Tanh(), Dense(4, 2, rng=2)])
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    loss = CrossEntropy()
    loss.forward(model.forward(X, training=True), y)
    model.backward(loss.backward())
    assert np.abs(model.layers[0].grads["b"]).max() < 1e-15
    assert np.abs(model.layers[0].grads["W"]).max() > 1e-3


def test_gradcheck_catches_batchnorm_without_the_batch_terms(rng):
    class NaiveBatchNorm(BatchNorm):
        def backward(self, grad_out):
            super().backward(grad_out)
            return grad_out * self.params["gamma"] * self.inv_std   # treats mean and var as constants
    x = rng.standard_normal((6, 3))
    assert check_layer(NaiveBatchNorm(3), x, seed=5) > 0.1


# --- BatchNorm behaviour -------------------------------------------------------

def test_batchnorm_training_output_has_mean_0_and_variance_1_per_feature(rng):
    x = rng.standard_normal((50, 3)) * [0.1, 10.0, 1000.0] + [5.0, -3.0, 1e4]
    y = BatchNorm(3).forward(x, training=True)
    assert np.allclose(y.mean(axis=0), 0, atol=1e-10)
    assert np.allclose(y.var(axis=0), 1, atol=1e-3)


def test_batchnorm_gamma_and_beta_set_the_scale_and_shift(rng):
    bn = BatchNorm(2)
    bn.params["gamma"][...] = [2.0, 0.5]
    bn.params["beta"][...] = [1.0, -4.0]
    y = bn.forward(rng.standard_normal((40, 2)) * 7 + 3, training=True)
    assert np.allclose(y.mean(axis=0), [1.0, -4.0]) and np.allclose(y.std(axis=0), [2.0, 0.5], rtol=1e-4)


def test_batchnorm_running_statistics_follow_the_documented_update(rng):
    bn = BatchNorm(3, momentum=0.8)
    x1, x2 = rng.standard_normal((10, 3)) + 2, rng.standard_normal((10, 3)) * 3
    bn.forward(x1, training=True)
    bn.forward(x2, training=True)
    mean = 0.8 * (0.8 * 0 + 0.2 * x1.mean(0)) + 0.2 * x2.mean(0)
    var = 0.8 * (0.8 * 1 + 0.2 * x1.var(0)) + 0.2 * x2.var(0)
    assert np.allclose(bn.running_mean, mean) and np.allclose(bn.running_var, var)
    before = bn.running_mean.copy()
    bn.forward(x1, training=False)                    # inference does not update them
    assert np.array_equal(bn.running_mean, before)


def test_batchnorm_inference_uses_running_statistics_not_the_batch(rng):
    bn = BatchNorm(2, eps=1e-5)
    bn.running_mean[...] = [1.0, -2.0]
    bn.running_var[...] = [4.0, 0.25]
    x = rng.standard_normal((5, 2))
    expected = (x - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5)
    assert np.allclose(bn.forward(x, training=False), expected)
    # one example gives the same answer alone as in a batch
    assert np.allclose(bn.forward(x[:1], training=False), expected[:1])


def test_batchnorm_running_statistics_are_not_parameters():
    model = Sequential([Dense(2, 3, rng=0), BatchNorm(3), ReLU(), Dense(3, 1, rng=1)])
    bn = model.layers[1]
    assert set(bn.params) == set(bn.grads) == {"gamma", "beta"}
    assert bn.gamma is bn.params["gamma"] and bn.beta is bn.params["beta"]
    ids = {id(p) for p in model.parameters()}
    assert id(bn.running_mean) not in ids and id(bn.running_var) not in ids
    assert model.count_params() == 2 * 3 + 3 + 3 + 3 + 3 + 1


def test_batchnorm_float32_on_request(rng):
    bn = BatchNorm(3, dtype=np.float32)
    y = bn.forward(rng.standard_normal((4, 3)), training=True)
    assert y.dtype == np.float32 and bn.gamma.dtype == np.float32 and bn.running_mean.dtype == np.float32
    assert bn.backward(np.ones((4, 3), np.float32)).dtype == np.float32
    assert BatchNorm(3).gamma.dtype == np.float64


# --- Dropout behaviour -----------------------------------------------------------

def test_dropout_rate_0_is_the_identity(rng):
    x = rng.standard_normal((8, 5))
    layer = Dropout(0.0, rng=0)
    assert np.array_equal(layer.forward(x, training=True), x)
    g = rng.standard_normal((8, 5))
    assert np.array_equal(layer.backward(g), g)


def test_dropout_rate_1_drops_everything(rng):
    layer = Dropout(1.0, rng=0)
    x = rng.standard_normal((8, 5))
    out = layer.forward(x, training=True)
    assert np.isfinite(out).all() and not out.any()
    assert not layer.backward(np.ones_like(x)).any()


def test_dropout_is_off_at_inference(rng):
    layer = Dropout(0.5, rng=0)
    x = rng.standard_normal((8, 5))
    assert np.array_equal(layer.forward(x), x) and np.array_equal(layer.forward(x, training=False), x)


def test_dropout_drops_the_rate_and_scales_the_survivors(rng):
    layer = Dropout(0.3, rng=0)
    x = np.ones((1000, 50))
    out = layer.forward(x, training=True)
    assert abs(np.mean(out == 0) - 0.3) < 0.01
    assert np.allclose(out[out != 0], 1 / 0.7)
    assert np.array_equal(out != 0, layer.mask)


def test_dropout_inverted_scaling_keeps_the_expected_activation(rng):
    layer = Dropout(0.6, rng=1)
    x = rng.standard_normal((4, 3))
    mean = np.mean([layer.forward(x, training=True) for _ in range(20000)], axis=0)
    assert np.allclose(mean, x, atol=0.05 * np.abs(x).max())


def test_dropout_draws_a_new_mask_each_step_reproducibly(rng):
    x = np.ones((20, 10))
    a, b = Dropout(0.5, rng=3), Dropout(0.5, rng=3)
    first, second = a.forward(x, training=True), a.forward(x, training=True)
    assert not np.array_equal(first, second)
    assert np.array_equal(first, b.forward(x, training=True))
    assert np.array_equal(second, b.forward(x, training=True))


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = Dropout(0.5, rng=0)
    x = rng.standard_normal((6, 4))
    out = layer.forward(x, training=True)
    g = layer.backward(np.ones_like(x))
    assert np.array_equal(g == 0, out == 0) and np.allclose(g[g != 0], 2.0)


def test_model_with_dropout_predicts_deterministically():
    X, y = data.moons(100, noise=0.2, seed=0)
    model = Sequential([Dense(2, 16, rng=0), ReLU(), Dropout(0.5, rng=1), Dense(16, 2, rng=2)])
    model.fit(X, y, loss=CrossEntropy(), optimizer=SGD(0.1), epochs=3, verbose=False)
    assert np.array_equal(model.predict(X), model.predict(X))


def test_training_with_dropout_and_batchnorm_is_reproducible():
    X, y = data.moons(100, noise=0.2, seed=0)

    def run():
        model = Sequential([Dense(2, 16, rng=0), BatchNorm(16), ReLU(), Dropout(0.5, rng=1), Dense(16, 2, rng=2)])
        model.fit(X, y, loss=CrossEntropy(), optimizer=SGD(0.1), epochs=5, verbose=False)
        return model.predict(X)
    assert np.array_equal(run(), run())


def test_exported_from_nnlib_and_layers():
    assert nnlib.BatchNorm is nnlib.layers.BatchNorm is BatchNorm
    assert nnlib.Dropout is nnlib.layers.Dropout is Dropout
    assert {"BatchNorm", "Dropout"} <= set(nnlib.__all__) and {"BatchNorm", "Dropout"} <= set(nnlib.layers.__all__)


# --- bad input -------------------------------------------------------------------

@pytest.mark.parametrize("rate", [-0.1, 1.5, np.inf])
def test_dropout_rate_outside_0_1_is_named(rate):
    with pytest.raises(ValueError, match=rf"Dropout: rate .* must be between 0 and 1, got {rate}"):
        Dropout(rate)


@pytest.mark.parametrize("rate", ["0.5", None, True])
def test_dropout_rate_must_be_a_number(rate):
    with pytest.raises(TypeError, match="Dropout: rate must be a number between 0 and 1"):
        Dropout(rate)


def test_dropout_bad_rng_and_bad_mask():
    with pytest.raises(TypeError, match="Dropout: rng must be an int or a numpy.random.Generator"):
        Dropout(0.5, rng="seed")
    layer = Dropout(0.5)
    layer.fixed_mask = np.ones((2, 2), bool)
    with pytest.raises(ValueError, match=r"Dropout\(rate=0.5\): fixed_mask has shape \(2, 2\), input has shape \(3, 2\)"):
        layer.forward(np.zeros((3, 2)), training=True)


@pytest.mark.parametrize("call, match", [
    (lambda: BatchNorm(0), "BatchNorm: num_features must be an integer >= 1, got 0"),
    (lambda: BatchNorm(3, momentum=1.5), "BatchNorm: momentum must be <= 1.0, got 1.5"),
    (lambda: BatchNorm(3, eps=0), "BatchNorm: eps must be > 0.0, got 0"),
    (lambda: BatchNorm(3, dtype=np.int64), "BatchNorm: dtype must be float32 or float64"),
    (lambda: BatchNorm(3).forward(np.zeros((10, 5))), r"BatchNorm\(3\) got input of shape \(10, 5\): expected \(batch, 3\)"),
    (lambda: BatchNorm(3).forward(np.zeros(3)), r"BatchNorm\(3\) got input of shape \(3,\): expected \(batch, 3\) \(for one example use x.reshape\(1, -1\)\)"),
    (lambda: Dropout(0.5).forward(np.zeros(4), training=True), r"Dropout\(rate=0.5\) got input of shape \(4,\): expected \(batch, features\)"),
    (lambda: BatchNorm(3).backward(np.zeros((2, 3))), "BatchNorm\\(3\\): call forward before backward"),
    (lambda: Dropout(0.2).backward(np.zeros((2, 3))), "Dropout\\(rate=0.2\\): call forward before backward"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=match):
        call()


def test_wrong_gradient_shape_is_named():
    bn = BatchNorm(3)
    bn.forward(np.zeros((4, 3)), training=True)
    with pytest.raises(ValueError, match=r"BatchNorm\(3\).backward got grad_out of shape \(4, 2\): expected \(4, 3\)"):
        bn.backward(np.zeros((4, 2)))
    drop = Dropout(0.5)
    drop.forward(np.zeros((4, 3)), training=True)
    with pytest.raises(ValueError, match=r"Dropout\(rate=0.5\).backward got grad_out of shape \(3, 4\): expected \(4, 3\)"):
        drop.backward(np.zeros((3, 4)))


def test_sequential_checks_batchnorm_width():
    with pytest.raises(ValueError, match=r"layer 1 BatchNorm\(4\) expects 4 inputs, but the layers before it give 3"):
        Sequential([Dense(2, 3), BatchNorm(4)])

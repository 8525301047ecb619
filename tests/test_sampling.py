"""SampledSoftmax: exact gradients of its sampled loss (C07), what it touches, bad input."""
import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, relative_error
from nnlib.sampling import SampledSoftmax


def fixed_sample_loss(layer, x, labels, seed=0):
    layer.rng = np.random.default_rng(seed)           # the same negatives at every call
    return layer.loss(x, labels)


@pytest.mark.parametrize("bias", [True, False])
def test_C07_sampled_loss_gradients_match_numerical(bias, rng):
    layer = SampledSoftmax(5, 40, num_sampled=8, bias=bias, init=0.5, rng=0)
    x = rng.standard_normal((6, 5))
    labels = np.array([3, 3, 17, 0, 39, 8])
    fixed_sample_loss(layer, x, labels)
    dx = layer.backward_loss()
    grads = {k: g.copy() for k, g in layer.grads.items()}
    f = lambda: fixed_sample_loss(layer, x, labels)
    assert relative_error(dx, numerical_gradient(f, x)) < 1e-6
    for name, p in layer.params.items():
        assert relative_error(grads[name], numerical_gradient(f, p)) < 1e-6


def test_accidental_hits_are_removed():
    layer = SampledSoftmax(3, 10, num_sampled=9, init=0.3, rng=0)       # every class but one is sampled
    x = np.ones((2, 3))
    layer.loss(x, np.array([4, 7]))
    _, labels, neg, logp = layer._cache
    hit = neg[None, :] == labels[:, None]
    assert hit.any() and np.isneginf(logp[:, 1:][hit]).all()


def test_gradient_touches_only_scored_columns(rng):
    layer = SampledSoftmax(4, 1000, num_sampled=16, init=0.1, rng=0)
    layer.loss(rng.standard_normal((5, 4)), np.array([1, 2, 3, 4, 5]))
    layer.backward_loss()
    touched = np.flatnonzero(np.abs(layer.grads["W"]).sum(0))
    assert len(touched) <= 5 + 16 and layer.columns_computed == 17


def test_forward_is_the_full_layer(rng):
    layer = SampledSoftmax(4, 50, num_sampled=5, init=0.2, rng=0)
    x = rng.standard_normal((3, 4))
    assert np.allclose(layer.forward(x), x @ layer.W + layer.b) and layer.columns_computed == 50


@pytest.mark.parametrize("call, match", [
    (lambda: SampledSoftmax(4, 10, num_sampled=10), r"num_sampled \(10\) must be smaller than num_classes \(10\)"),
    (lambda: SampledSoftmax(4, 10, num_sampled=3).loss(np.zeros((2, 3)), np.array([0, 1])), r"expected \(batch, 4\)"),
    (lambda: SampledSoftmax(4, 10, num_sampled=3).loss(np.zeros((2, 4)), np.array([0, 10])), "label 10 is out of range for 10 classes"),
    (lambda: SampledSoftmax(4, 10, num_sampled=3).loss(np.zeros((2, 4)), np.array([0.5, 1.0])), "labels must be integers"),
    (lambda: SampledSoftmax(4, 10, num_sampled=3).backward_loss(), "call loss before backward_loss"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        call()

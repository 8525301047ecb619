"""Cases that used to give a wrong answer without a word (issue 13): each is now right or refused."""
import numpy as np
import pytest

from nnlib import (SGD, Adam, BatchNorm, BinaryCrossEntropy, CrossEntropy, Dense, Dropout, MSE, ReLU, Sequential,
                   Tanh)
from nnlib.gradcheck import check_model, numerical_gradient


def test_one_activation_object_used_twice_is_refused():
    relu = ReLU()
    with pytest.raises(ValueError, match=r"layer 3 ReLU\(\) is the same object as layer 1.*make a new ReLU"):
        Sequential([Dense(2, 4, rng=0), relu, Dense(4, 4, rng=1), relu, Dense(4, 1, rng=2)])


def test_one_dense_used_twice_to_share_weights_is_refused():
    d = Dense(4, 4, rng=0)
    with pytest.raises(ValueError, match="same object as layer 0"):
        Sequential([d, Tanh(), d])


def test_gradients_are_right_with_a_new_layer_in_each_place():
    model = Sequential([Dense(2, 4, rng=0), Tanh(), Dense(4, 4, rng=1), Tanh(), Dense(4, 1, rng=2)])
    X = np.random.default_rng(0).standard_normal((8, 2))      # (Tanh: no kink for finite differences to straddle)
    assert check_model(model, MSE(), X, np.ones((8, 1))) < 1e-6


@pytest.mark.parametrize("loss, bad_y", [
    (CrossEntropy(), np.r_[np.zeros(99, int), 7]),           # label 7 of 3 classes at the last index
    (BinaryCrossEntropy(), np.r_[np.zeros(99), 2.0]),          # a BCE target of 2.0 at index 99
])
def test_every_target_is_checked_before_the_first_step(loss, bad_y):
    out = 3 if isinstance(loss, CrossEntropy) else 1
    model = Sequential([Dense(2, out, rng=0)])
    before = model.layers[0].W.copy()
    X = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(ValueError, match="y does not fit the loss"):
        model.fit(X, bad_y.reshape(-1, 1) if out == 1 else bad_y, loss=loss, optimizer=SGD(0.1),
                  batch_size=10, verbose=False)
    assert np.array_equal(model.layers[0].W, before)          # not a single step was taken


@pytest.mark.parametrize("n", [0, 1])
def test_batchnorm_refuses_a_training_batch_of_one_or_none(n):
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match="a training batch needs at least 2 examples"):
        bn.forward(np.ones((n, 3)), training=True)
    assert np.array_equal(bn.running_mean, np.zeros(3)) and np.array_equal(bn.running_var, np.ones(3))


def test_fit_with_33_examples_and_batch_32_merges_the_last_example_and_keeps_running_var_right():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((33, 2)) * 3.0                     # true variance 9 per feature
    model = Sequential([BatchNorm(2, momentum=0.0), Dense(2, 1, rng=0)])   # momentum 0: the last batch's var
    seen = []
    model.fit(X, np.zeros((33, 1)), loss=MSE(), optimizer=SGD(1e-9), epochs=3, batch_size=32, verbose=False,
              callbacks=[type("C", (), {"on_batch_end": lambda self, m, e, b: seen.append(m.layers[0].x_hat.shape[0])})()])
    assert seen == [33, 33, 33]                                # one batch of 33, never a batch of 1
    np.testing.assert_allclose(model.layers[0].running_var, X.var(axis=0), rtol=1e-12)


def test_numerical_gradient_refuses_an_integer_array():
    x = np.array([1, 2, 3])
    with pytest.raises(TypeError, match="x must be a float numpy array"):
        numerical_gradient(lambda: float(np.sum(x ** 2)), x)


def test_numerical_gradient_on_floats_is_right():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 2 * x, rtol=1e-8)


def test_two_default_dense_layers_in_a_model_start_with_different_weights():
    model = Sequential([Dense(8, 8), ReLU(), Dense(8, 8)])
    assert not np.array_equal(model.layers[0].W, model.layers[2].W)


def test_default_streams_are_reproducible_and_the_first_keeps_seed_0():
    a = Sequential([Dense(8, 8), ReLU(), Dense(8, 8)])
    b = Sequential([Dense(8, 8), ReLU(), Dense(8, 8)])
    assert all(np.array_equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert np.array_equal(a.layers[0].W, Dense(8, 8).W)         # a layer alone: seed 0, as before
    assert np.array_equal(a.layers[2].W, Dense(8, 8, rng=np.random.default_rng([0, 1])).W)


def test_weights_set_by_hand_are_not_redrawn():
    d1, d2 = Dense(3, 3), Dense(3, 3)
    d2.W = np.eye(3)
    Sequential([d1, d2])
    assert np.array_equal(d2.W, np.eye(3))


def test_two_default_dropouts_draw_different_masks():
    model = Sequential([Dense(4, 50, rng=0), Dropout(0.5), Dense(50, 50, rng=1), Dropout(0.5)])
    x = np.ones((20, 50))
    m1 = model.layers[1].forward(x, training=True) != 0
    m2 = model.layers[3].forward(x, training=True) != 0
    assert not np.array_equal(m1, m2)


@pytest.mark.parametrize("call", [
    lambda: Dense(2, 2, rng=0).forward(np.ones((3, 2)) * (1 + 1j)),
    lambda: ReLU().forward(np.ones((3, 2), complex)),
    lambda: Sequential([Dense(2, 1, rng=0)]).fit(np.ones((3, 2), complex), np.ones((3, 1)), loss=MSE(),
                                                 optimizer=SGD(), verbose=False),
    lambda: Sequential([Dense(2, 1, rng=0)]).fit(np.ones((3, 2)), np.ones((3, 1)) * 1j, loss=MSE(),
                                                 optimizer=SGD(), verbose=False),
    lambda: MSE().forward(np.ones((3, 1), complex), np.ones((3, 1))),
], ids=["Dense", "ReLU", "fit X", "fit y", "MSE pred"])
def test_complex_input_is_refused(call):
    with pytest.raises(TypeError, match="real numbers|complex"):
        call()


def test_a_layer_taken_by_a_second_model_still_trains_in_the_first():
    d = Dense(2, 1, rng=0)
    first = Sequential([d])
    Sequential([d, Tanh()])                                    # moves d's arrays into its own flat array
    before = d.W.copy()
    X, y = np.ones((4, 2)), np.zeros((4, 1))
    first.fit(X, y, loss=MSE(), optimizer=SGD(0.1), epochs=1, batch_size=4, verbose=False)
    assert not np.array_equal(d.W, before)                     # the step reached the layer's own weights


def test_train_step_is_forward_loss_backward_step():
    rng = np.random.default_rng(0)
    a = Sequential([Dense(3, 4, rng=0), ReLU(), Dense(4, 2, rng=1)])
    b = Sequential([Dense(3, 4, rng=0), ReLU(), Dense(4, 2, rng=1)])
    xb, yb = rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    loss, opt_a, opt_b = CrossEntropy(), Adam(0.01), Adam(0.01)
    value = a.train_step(xb, yb, loss, opt_a)
    out = b.forward(xb, training=True)
    assert value == loss.forward(out, yb)
    b.backward(loss.backward())
    opt_b.step(b.parameters(), b.gradients())
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)


def test_fit_skips_per_batch_checks_only_inside_its_own_steps():
    """fit checks X and y whole and runs its first step with every check; later steps skip them.
    A callback (outside the step) still gets every check, and nothing stays switched off after fit."""
    import nnlib
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((70, 3)), rng.integers(0, 3, 70)
    inside = []

    class Spy(nnlib.Identity):
        def forward(self, x, training=False):
            inside.append(self._checked_once)
            return super().forward(x, training)

    model = nnlib.Sequential([nnlib.Dense(3, 4), nnlib.ReLU(), Spy(), nnlib.Dense(4, 3)])
    loss = nnlib.CrossEntropy()
    seen = []

    class Probe:
        def on_batch_end(self, model, epoch, batch):
            seen.append([layer._checked_once for layer in model.layers] + [loss._checked_once])
            with pytest.raises(ValueError, match="out of range"):
                loss.forward(np.zeros((2, 3)), np.array([0, 7]))
            with pytest.raises(ValueError, match="expected"):
                model.layers[0].forward(np.zeros((2, 5)))

    model.fit(X, y, loss=loss, optimizer=nnlib.Adam(0.01), epochs=2, batch_size=32, callbacks=[Probe()], verbose=False)
    assert len(seen) == 6 and not any(any(flags) for flags in seen)
    assert inside[1:] == [False] + [True] * 5          # (inside[0]: fit's check of one example)
    assert not any(layer._checked_once for layer in model.layers) and not loss._checked_once

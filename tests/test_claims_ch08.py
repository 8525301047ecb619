"""Claims of chapter 8 (optimizers), measured with nnlib."""
import warnings

import numpy as np
import pytest

from nnlib import SGD, Adam, CrossEntropy, Dense, MSE, Momentum, ReLU, Sequential, Tanh, data


def ill_conditioned(angle=0):
    """Curvatures 100x apart along the axes; angle turns the whole problem (data, answer, start)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2)) * [3.0, 0.3]
    a = np.deg2rad(angle)
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    X = X @ R.T
    return X, X @ (R @ np.array([1.0, 2.0])), R @ np.array([-2.0, -1.0])


def steps_to_target(optimizer, target=1e-3, max_steps=3000, angle=0):
    X, y, start = ill_conditioned(angle)
    model = Sequential([Dense(2, 1, bias=False, init="zeros")])
    model.layers[0].W[:, 0] = start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hist = model.fit(X, y, loss=MSE(), optimizer=optimizer, epochs=max_steps, batch_size=None,
                         stop_at_loss=target, verbose=False)
    return len(hist.epoch) if hist.stopped_epoch and not hist.diverged else np.inf


def test_C19_adam_needs_fewer_steps_than_sgd_at_its_best_rate():
    rates = [0.003, 0.01, 0.03, 0.05, 0.08, 0.1, 0.11, 0.12, 0.3, 1.0]
    sgd_best = min(steps_to_target(SGD(lr)) for lr in rates)
    adam_best = min(steps_to_target(Adam(lr)) for lr in rates)
    assert np.isfinite(sgd_best) and np.isfinite(adam_best)
    assert adam_best * 2 <= sgd_best, f"Adam {adam_best} steps vs SGD's best {sgd_best}"


def test_C19_adam_steps_are_about_lr_in_every_coordinate():
    # the per-parameter scaling: at t=1 each entry moves by lr whatever its gradient's size
    p = np.zeros(3)
    Adam(lr=0.01).step([p], [np.array([1e-4, 1.0, 1e4])])
    assert np.allclose(p, -0.01, rtol=1e-3)


RATES = [0.003, 0.01, 0.03, 0.1, 0.12, 0.3, 1.0]


def test_C26_rotating_the_valley_leaves_sgd_unchanged_and_slows_adam():
    for make in (SGD, Momentum):
        aligned = [steps_to_target(make(lr)) for lr in RATES]
        rotated = [steps_to_target(make(lr), angle=45) for lr in RATES]
        assert np.isfinite(min(aligned))
        for a, r in zip(aligned, rotated):         # the same at every rate (a rotation changes no gradient norm)
            assert a == r or abs(a - r) <= 1, (make.__name__, aligned, rotated)
    adam_aligned = min(steps_to_target(Adam(lr)) for lr in RATES)
    adam_rotated = min(steps_to_target(Adam(lr), angle=45) for lr in RATES)
    assert adam_rotated >= 2 * adam_aligned, (adam_aligned, adam_rotated)
    # the diagonal rescaling: Adam's first step is lr * sign(g) per coordinate, whatever the direction
    p = np.zeros(2)
    Adam(lr=0.1).step([p], [np.array([3.0, -0.01])])
    assert np.allclose(p, [-0.1, 0.1], rtol=1e-4)


def adam_step_sizes(steps, **kwargs):
    opt, p, sizes = Adam(lr=0.01, **kwargs), np.zeros(1), []
    for _ in range(steps):
        before = p.copy()
        opt.step([p], [np.array([0.5])])          # a steady gradient
        sizes.append(abs(p - before)[0] / opt.lr)
    return np.array(sizes)


def test_C27_bias_correction_makes_the_first_steps_lr_sized():
    corrected, raw = adam_step_sizes(10), adam_step_sizes(10, bias_correction=False)
    assert np.allclose(corrected, 1.0, rtol=1e-6)
    assert raw[0] == pytest.approx((1 - 0.9) / np.sqrt(1 - 0.999), rel=1e-6)      # 3.16
    assert raw[0] == pytest.approx(3.16, abs=0.01)
    assert np.all(raw > 3.0) and raw[9] > 6.0                                     # still off at t = 10


def _model():
    return Sequential([Dense(2, 16, rng=0), ReLU(), Dense(16, 8, rng=1), Tanh(), Dense(8, 3, rng=2)])


def test_C18_accumulated_micro_batches_give_the_large_batch_step():
    X, y = data.spirals(240, k=3, seed=4)
    loss = CrossEntropy()
    big = _model()
    loss.forward(big.forward(X, training=True), y)
    big.backward(loss.backward())
    SGD(lr=0.5).step(big.parameters(), big.gradients())

    acc = _model()
    total = [np.zeros_like(p) for p in acc.parameters()]
    for chunk in np.array_split(np.arange(240), [50, 130, 200]):      # unequal micro-batches
        loss.forward(acc.forward(X[chunk], training=True), y[chunk])
        acc.backward(loss.backward())
        for t, g in zip(total, acc.gradients()):
            t += g * len(chunk) / 240
    SGD(lr=0.5).step(acc.parameters(), total)

    diffs = [np.max(np.abs(a - b)) for a, b in zip(big.parameters(), acc.parameters())]
    assert max(diffs) < 1e-12
    moved = max(np.max(np.abs(a - b)) for a, b in zip(big.parameters(), _model().parameters()))
    assert moved > 1e-3          # the step really changed the weights


def test_C18_plain_average_of_unequal_micro_batches_is_not_the_same():
    X, y = data.spirals(240, k=3, seed=4)
    loss = CrossEntropy()
    m = _model()
    loss.forward(m.forward(X, training=True), y)
    m.backward(loss.backward())
    full = [g.copy() for g in m.gradients()]
    chunks = np.array_split(np.arange(240), [50, 130, 200])
    mean = [np.zeros_like(g) for g in full]
    for chunk in chunks:
        loss.forward(m.forward(X[chunk], training=True), y[chunk])
        m.backward(loss.backward())
        for t, g in zip(mean, m.gradients()):
            t += g / len(chunks)
    assert max(np.max(np.abs(a - b)) for a, b in zip(full, mean)) > 1e-4


def test_C26_past_2_over_lambda_sgd_diverges_momentum_later_per_parameter_methods_never():
    """Chapter 8's table: the stability limit is 2/lambda_max (0.115) for SGD and 2(1+beta)/lambda_max (0.22) for
    momentum; AdaGrad, RMSProp and Adam take steps of about lr whatever the gradient and never diverge there."""
    from nnlib import AdaGrad, RMSProp
    X, _, _ = ill_conditioned()
    lam = np.linalg.eigvalsh(2 * X.T @ X / len(X))[-1]
    assert 0.11 < 2 / lam < 0.12 and 0.21 < 2 * 1.9 / lam < 0.23

    def diverged(optimizer, angle=0):
        X, y, start = ill_conditioned(angle)
        model = Sequential([Dense(2, 1, bias=False, init="zeros")])
        model.layers[0].W[:, 0] = start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h = model.fit(X, y, loss=MSE(), optimizer=optimizer, epochs=3000, batch_size=None, stop_at_loss=1e-3,
                          verbose=False)
        return bool(h.diverged or h["loss"][-1] > h["loss"][0])
    for angle in (0, 45):
        assert not diverged(SGD(0.1), angle) and diverged(SGD(0.12), angle)
        assert not diverged(Momentum(0.12, beta=0.9), angle) and diverged(Momentum(0.3, beta=0.9), angle)
        for make in (AdaGrad, RMSProp, Adam):
            assert not any(diverged(make(lr), angle) for lr in (0.12, 0.3, 1.0)), make.__name__

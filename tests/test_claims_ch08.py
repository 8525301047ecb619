"""Claims of chapter 8 (optimizers), measured with nnlib."""
import warnings

import numpy as np

from nnlib import SGD, Adam, CrossEntropy, Dense, MSE, ReLU, Sequential, Tanh, data


def ill_conditioned():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2)) * [3.0, 0.3]       # curvatures 100x apart
    return X, X @ np.array([1.0, 2.0])


def steps_to_target(optimizer, target=1e-3, max_steps=3000):
    X, y = ill_conditioned()
    model = Sequential([Dense(2, 1, bias=False, init="zeros")])
    model.layers[0].W[:, 0] = (-2.0, -1.0)
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

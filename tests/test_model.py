"""Sequential: the training loop, its history, stopping rules and reproducibility."""

import numpy as np
import pytest

from nnlib import (SGD, Adam, BinaryCrossEntropy, CrossEntropy, Dense, MSE, ReLU, Sequential, Tanh,
                   TrainingDivergedWarning, data)


def small_classifier(seed=0, dtype=np.float64):
    return Sequential([Dense(2, 8, rng=seed, dtype=dtype), Tanh(), Dense(8, 1, rng=seed + 1, dtype=dtype)])


def test_parameters_and_gradients_are_parallel_lists_of_the_layer_arrays():
    model = Sequential([Dense(2, 3, rng=0), ReLU(), Dense(3, 1, rng=1)])
    params, grads = model.parameters(), model.gradients()
    assert [p.shape for p in params] == [(2, 3), (3,), (3, 1), (1,)]
    assert [g.shape for g in grads] == [p.shape for p in params]
    assert params[0] is model.layers[0].W and grads[2] is model.layers[2].grads["W"]


def test_backward_returns_input_gradient(rng):
    model = Sequential([Dense(2, 3, rng=0), Tanh(), Dense(3, 1, rng=1)])
    x = rng.standard_normal((4, 2))
    model.forward(x)
    assert model.backward(np.ones((4, 1))).shape == (4, 2)
    model.forward(x)
    assert model.backward(np.ones((4, 1)), need_input_grad=False) is None


def test_fit_returns_history_with_train_and_validation_metrics():
    X, y = data.circles(200, noise=0.05, seed=1)
    Xt, Xv, yt, yv = data.train_test_split(X, y, seed=1)
    hist = small_classifier().fit(Xt, yt, loss=BinaryCrossEntropy(), optimizer=Adam(0.05), epochs=5,
                                  validation_data=(Xv, yv), verbose=False)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.epoch == [1, 2, 3, 4, 5]
    assert all(len(v) == 5 for v in hist.history.values())
    assert hist["loss"][-1] < hist["loss"][0]


def test_regression_history_reports_r2():
    X, y = data.linear(100, n_features=2, noise=0.05, seed=0)
    model = Sequential([Dense(2, 1, rng=0)])
    hist = model.fit(X, y, loss=MSE(), optimizer=SGD(0.2), epochs=100, batch_size=None, verbose=False)
    assert "r2" in hist.history and hist["r2"][-1] > 0.99
    assert model.evaluate(X, y)["r2"] > 0.99


def test_same_seed_gives_bit_identical_results():
    X, y = data.spirals(150, k=3, seed=3)

    def train():
        model = Sequential([Dense(2, 16, rng=5), ReLU(), Dense(16, 3, rng=6)])
        hist = model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=5, batch_size=16, seed=11,
                         verbose=False)
        return hist["loss"], [p.copy() for p in model.parameters()]

    (l1, p1), (l2, p2) = train(), train()
    assert l1 == l2
    assert all(np.array_equal(a, b) for a, b in zip(p1, p2))
    X2, y2 = data.spirals(150, k=3, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_different_shuffle_seed_gives_a_different_run():
    X, y = data.spirals(150, k=3, seed=3)
    losses = []
    for seed in (1, 2):
        model = Sequential([Dense(2, 16, rng=5), ReLU(), Dense(16, 3, rng=6)])
        losses.append(model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=3, batch_size=16,
                                seed=seed, verbose=False)["loss"])
    assert losses[0] != losses[1]


def test_stop_at_loss_stops_and_reports_the_epoch():
    X, y = data.blobs(200, k=2, spread=0.5, seed=0)
    hist = small_classifier().fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(0.05), epochs=500,
                                  stop_at_loss=0.05, verbose=False)
    assert hist.stopped_epoch == len(hist.epoch) < 500
    assert hist["loss"][-1] <= 0.05 < hist["loss"][-2]
    assert f"epoch {hist.stopped_epoch}" in hist.stop_reason


def test_divergence_stops_training_with_a_hint():
    X, y = data.linear(100, n_features=3, noise=0.1, seed=0)
    X = X * 100
    model = Sequential([Dense(3, 16, rng=0), ReLU(), Dense(16, 1, rng=1)])
    with pytest.warns(TrainingDivergedWarning, match="learning rate") as record:
        hist = model.fit(X, y, loss=MSE(), optimizer=SGD(lr=1.0), epochs=50, verbose=False)
    assert hist.diverged and hist.stopped_epoch is not None and hist.stopped_epoch < 50
    message = str(record[0].message)
    assert f"epoch {hist.stopped_epoch}" in message and "exploding" in message
    assert len(hist.epoch) == hist.stopped_epoch - 1       # the broken epoch is not logged


def test_fit_is_quiet_when_asked(capsys):
    X, y = data.xor(50, seed=0)
    small_classifier().fit(X, y, loss="bce", optimizer="adam", epochs=2, verbose=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_fit_shows_progress_when_asked(capsys):
    X, y = data.xor(50, seed=0)
    small_classifier().fit(X, y, loss="bce", optimizer="adam", epochs=3, verbose=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss" in err


def test_float32_training_stays_float32():
    X, y = data.circles(100, seed=0)
    model = small_classifier(dtype=np.float32)
    model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(0.01), epochs=2, verbose=False)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.predict(X).dtype == np.float32


def test_predict_and_evaluate(rng):
    X, y = data.blobs(120, k=3, spread=0.4, seed=0)
    model = Sequential([Dense(2, 3, rng=0)])
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.1), epochs=50, verbose=False)
    assert model.predict(X).shape == (120, 3)
    scores = model.evaluate(X, y)
    assert set(scores) == {"loss", "accuracy"} and scores["accuracy"] > 0.95


def test_summary_counts_parameters():
    model = Sequential([Dense(2, 4), ReLU(), Dense(4, 1)])
    assert model.count_params() == 2 * 4 + 4 + 4 + 1
    assert "17" in model.summary() and "Dense(2 -> 4)" in model.summary()


def test_callbacks_see_every_batch_and_epoch_and_can_stop_training():
    X, y = data.xor(64, seed=0)

    class Recorder:
        def __init__(self):
            self.calls = []

        def on_train_begin(self, model):
            self.calls.append("begin")

        def on_batch_end(self, model, epoch, batch):
            self.calls.append((epoch, batch, float(np.abs(model.layers[0].grads["W"]).sum())))

        def on_epoch_end(self, model, epoch, logs):
            logs["grad_seen"] = self.calls[-1][2]
            if epoch == 3:
                model.stop_training = True

    rec = Recorder()
    hist = small_classifier().fit(X, y, loss="bce", optimizer="sgd", epochs=10, batch_size=16, callbacks=[rec],
                                  verbose=False)
    assert rec.calls[0] == "begin" and len(rec.calls) == 1 + 3 * 4
    assert [c[:2] for c in rec.calls[1:5]] == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert all(c[2] > 0 for c in rec.calls[1:])
    assert hist.epoch == [1, 2, 3] and hist.stopped_epoch == 3 and len(hist["grad_seen"]) == 3

"""The playground (nnlib.playground) as a state machine, without a browser.

Every button and slider of the app calls Playground.set / step / reset / regenerate /
play / pause / load_preset; these tests drive those and the widgets' own callbacks, and
measure that the presets really show their lessons.
"""
import asyncio
import io
import json
import math

import numpy as np
import pytest

from nnlib.regularization import get_regularizer

from nnlib import BatchNorm, BinaryCrossEntropy, CrossEntropy, Dense, Dropout, MSE, ReLU, Sigmoid, Tanh
from nnlib.optim import SGD, Adam, Momentum
from nnlib.playground import DATASETS, DEFAULTS, FEATURES, PRESETS, Playground, feature_matrix, make_data



def _blank_png():
    import numpy as np
    from nnlib.playground.pictures import _encode_png
    return _encode_png(np.full((1, 1, 4), 255, np.uint8))


_BLANK = _blank_png()        # the enlarged neuron when none is selected: a blank picture, never b""

def _weights(pg):
    return [p.copy() for p in pg.model.parameters()]


# --- parity with the TensorFlow Playground ------------------------------------------------------
def test_defaults_are_the_tensorflow_playgrounds():
    pg = Playground()
    s = pg.settings
    assert (s["dataset"], s["noise"], s["train_percent"], s["batch_size"]) == ("circle", 0, 50, 10)
    assert s["features"] == ["x1", "x2"] and s["hidden"] == [4, 2]
    assert (s["activation"], s["learning_rate"], s["regularization"], s["problem"]) == ("tanh", 0.03, "none",
                                                                                        "classification")
    assert [type(layer) for layer in pg.model.layers] == [Dense, Tanh, Dense, Tanh, Dense, Tanh]
    assert isinstance(pg.loss, MSE)          # the Playground trains classification with squared error
    assert pg.epoch == 0 and len(pg.history["train_loss"]) == 1     # the loss before training is logged


def test_all_the_playgrounds_choices_exist():
    assert DATASETS == {"classification": ["circle", "xor", "gauss", "spiral"],
                        "regression": ["plane", "multi gaussian"]}
    assert list(FEATURES) == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
    for activation in ("relu", "tanh", "sigmoid", "linear"):
        Playground(activation=activation)
    for reg in ("none", "L1", "L2"):
        Playground(regularization=reg, reg_rate=0.01)


@pytest.mark.parametrize("name", sum(DATASETS.values(), []))
def test_every_data_set_fills_the_plane_and_has_its_kind_of_target(name):
    X, y = make_data(name, 500, noise=20, classes=2, seed=3)
    assert X.shape == (500, 2) and y.shape == (500,)
    assert np.mean(np.all(np.abs(X) <= 6, axis=1)) > 0.98        # the plane shown is [-6, 6]^2
    if name in DATASETS["classification"]:
        assert set(np.unique(y)) == {0, 1}
    else:
        assert y.dtype.kind == "f" and np.abs(y).max() < 1.5 and y.std() > 0.1


def test_noise_moves_the_points_and_the_same_seed_gives_the_same_data():
    X0, y0 = make_data("circle", noise=0, seed=1)
    X1, y1 = make_data("circle", noise=50, seed=1)
    radius0, radius1 = np.hypot(*X0.T), np.hypot(*X1.T)
    assert np.ptp(radius0[y0 == 0]) < 1e-9 and np.ptp(radius1[y1 == 0]) > 1.0
    assert np.array_equal(make_data("spiral", seed=4)[0], make_data("spiral", seed=4)[0])


def test_train_ratio_splits_the_points_and_regenerate_makes_new_ones():
    pg = Playground(train_percent=30)
    assert len(pg.X_train) == 150 and len(pg.X_test) == 350
    before = pg.X_train.copy()
    pg.regenerate()
    assert pg.settings["data_seed"] == 1 and not np.array_equal(before, pg.X_train)
    assert pg.epoch == 0


def test_features_are_the_seven_functions_of_x1_and_x2():
    X = np.array([[0.5, -2.0], [3.0, 1.0]])
    F = feature_matrix(X, list(FEATURES))
    x1, x2 = X.T
    expected = np.column_stack([x1, x2, x1 ** 2, x2 ** 2, x1 * x2, np.sin(x1), np.sin(x2)])
    assert np.array_equal(F, expected)
    pg = Playground(features=["sin(x2)", "x1*x2"])
    assert pg.settings["features"] == ["x1*x2", "sin(x2)"]      # kept in the Playground's order
    assert pg.dense_layers[0].in_features == 2


@pytest.mark.parametrize("setting, value", [
    ("noise", 60), ("train_percent", 5), ("train_percent", 95), ("batch_size", 0), ("batch_size", 31),
    ("hidden", [4] * 7), ("hidden", [9]), ("hidden", [0]), ("features", []), ("features", ["x3"]),
    ("activation", "softplus"), ("learning_rate", 0), ("regularization", "L3"), ("reg_rate", -1),
    ("optimizer", "rmsprop"), ("loss", "hinge"), ("dropout", 1.0), ("classes", 7), ("dataset", "moons"),
])
def test_out_of_range_settings_are_refused_by_name(setting, value):
    pg = Playground()
    with pytest.raises(ValueError, match=setting):
        pg.set(**{setting: value})
    assert pg.settings == Playground().settings          # nothing half-applied


@pytest.mark.parametrize("setting, value", [("noise", "low"), ("batch_size", None), ("learning_rate", True),
                                            ("features", "x1"), ("hidden", 4)])
def test_settings_of_the_wrong_type_are_refused_by_name(setting, value):
    with pytest.raises(TypeError, match=setting):
        Playground(**{setting: value})


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="unknown setting 'hiden'"):
        Playground(hiden=[3])


def test_zero_to_six_hidden_layers_of_one_to_eight_neurons():
    assert [type(layer) for layer in Playground(hidden=[]).model.layers] == [Dense, Tanh]
    pg = Playground(hidden=[1, 8, 8, 8, 8, 8])
    assert [d.out_features for d in pg.dense_layers] == [1, 8, 8, 8, 8, 8, 1]


def test_one_step_is_one_epoch_of_mini_batches():
    pg = Playground(batch_size=7)
    w = _weights(pg)
    pg.step()
    assert pg.epoch == 1 and pg.optimizer.t == math.ceil(250 / 7)
    assert len(pg.history["train_loss"]) == len(pg.history["test_loss"]) == 2
    assert any(not np.array_equal(a, b) for a, b in zip(w, pg.model.parameters()))
    pg.step(3)
    assert pg.epoch == 4


def test_default_network_learns_the_circle():
    pg = Playground().step(150)
    assert pg.train_loss < 0.1 < pg.history["train_loss"][0]
    assert pg.accuracy() >= 0.95


def test_regression_learns_the_plane_with_a_linear_output():
    pg = Playground(problem="regression")
    assert pg.settings["dataset"] == "plane" and isinstance(pg.loss, MSE)
    assert type(pg.model.layers[-1]) is Dense                  # linear output
    pg.step(100)
    assert pg.test_loss < 0.1 * pg.history["test_loss"][0]


def test_changes_that_reset_and_changes_that_apply_at_once():
    pg = Playground().step(3)
    pg.set(learning_rate=0.1, batch_size=20, regularization="L2", reg_rate=0.001, show_test=True, discretize=True)
    assert pg.epoch == 3 and pg.optimizer.lr == 0.1                # applied without a reset
    model = pg.model
    pg.set(activation="relu")
    assert pg.epoch == 0 and pg.model is not model and type(pg.model.layers[1]) is ReLU
    pg.step(2)
    pg.set(dataset="xor")
    assert pg.epoch == 0 and pg.settings["problem"] == "classification"
    pg.set(dataset="multi gaussian")
    assert pg.settings["problem"] == "regression"


def test_reset_starts_again_from_the_same_seed():
    pg = Playground()
    start = _weights(pg)
    pg.step(5).reset()
    assert pg.epoch == 0 and all(np.array_equal(a, b) for a, b in zip(start, pg.model.parameters()))
    pg.set(seed=1)
    assert not np.array_equal(start[0], pg.model.parameters()[0])


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_regularization_adds_its_gradient_to_the_weights_only(kind):
    pg = Playground(regularization=kind, reg_rate=0.3)
    for layer in pg.model.layers:
        for g in layer.grads.values():
            g[...] = 0.0
    get_regularizer(kind, 0.3).add_gradient(pg.model)       # the playground's penalty: nnlib.regularization's
    for layer in pg.dense_layers:
        expected = 0.3 * (layer.W if kind == "L2" else np.sign(layer.W))
        assert np.array_equal(layer.grads["W"], expected)
        assert not layer.grads["b"].any()                          # biases are not regularized


@pytest.mark.parametrize("kind, penalty", [
    ("L2", lambda W, rate: rate / 2 * np.sum(W ** 2)), ("L1", lambda W, rate: rate * np.sum(np.abs(W))),
])
def test_gradient_with_the_penalty_matches_numerical(kind, penalty):
    """What the step descends is loss + penalty: its gradient checked against finite differences."""
    from nnlib.gradcheck import numerical_gradient, relative_error

    pg = Playground(regularization=kind, reg_rate=0.3, hidden=[3])
    model, F, T = pg.model, pg.F_train[:20], pg.T_train[:20]

    def total():
        return pg.loss.forward(model.forward(F), T) + sum(penalty(d.W, 0.3) for d in pg.dense_layers)

    pg.loss.forward(model.forward(F), T)
    model.backward(pg.loss.backward())
    get_regularizer(kind, 0.3).add_gradient(model)
    for layer in pg.dense_layers:
        assert relative_error(layer.grads["W"], numerical_gradient(total, layer.W)) < 1e-6


def test_l2_shrinks_the_weights():
    norms = {}
    for reg in ("none", "L2"):
        pg = Playground(regularization=reg, reg_rate=0.1).step(60)
        norms[reg] = sum(np.sum(d.W ** 2) for d in pg.dense_layers)
    assert norms["L2"] < 0.5 * norms["none"]


def test_an_epoch_with_l2_is_sgd_on_loss_plus_penalty():
    """Per batch: W <- W - lr (dL/dW + rate W) and b <- b - lr dL/db, replayed by hand on a copy."""
    settings = dict(regularization="L2", reg_rate=0.1, batch_size=30, train_percent=10, learning_rate=0.1)
    pg, replay = Playground(**settings), Playground(**settings)
    model = replay.model
    order = np.random.default_rng([0, 1]).permutation(len(pg.F_train))     # the playground's batch order
    for start in (0, 30):
        idx = order[start:start + 30]
        replay.loss.forward(model.forward(replay.F_train[idx], training=True), replay.T_train[idx])
        model.backward(replay.loss.backward())
        for p, g in zip(model.parameters(), model.gradients()):
            p -= 0.1 * (g + (0.1 * p if p.ndim == 2 else 0.0))
    pg.step()
    for p, e in zip(pg.model.parameters(), model.parameters()):
        np.testing.assert_allclose(p, e, rtol=1e-12, atol=1e-15)



@pytest.mark.parametrize("kind", ["none", "L1", "L2"])
def test_l1_sets_a_weight_that_its_penalty_carries_across_zero_to_exactly_zero(kind):
    """As the TensorFlow Playground: with L1 a weight the penalty's step (lr * rate = 0.01) carries across
    zero lands on 0; one the loss's gradient carries across keeps its value; L2 and none are plain steps."""
    pg = Playground(regularization=kind, reg_rate=0.1, learning_rate=0.1, hidden=[], features=["x1", "x2", "x1*x2"])
    layer = pg.dense_layers[0]
    for g in pg.model.gradients():
        g[...] = 0.0
    W = np.array([0.004, -0.5, 0.004])       # near zero, far from zero, near zero
    g = np.array([0.0, 0.0, 0.1])            # the loss's gradient: only the third weight's, and it crosses zero
    layer.W[:, 0], layer.grads["W"][:, 0] = W, g
    b = layer.b.copy()
    reg = get_regularizer(kind, 0.1)                 # what Sequential.train_step does after backward
    if reg is not None:
        reg.add_gradient(pg.model)
    pg.optimizer.step(pg.model.parameters(), pg.model.gradients())
    if reg is not None:
        reg.after_step(pg.model, pg.optimizer)
    if kind == "L1":
        expected = [0.0, -0.5 + 0.01, 0.004 - 0.01 - 0.01]
        assert layer.W[0, 0] == 0.0                                  # exactly 0, not -0.006
    else:
        expected = W - 0.1 * (g + (0.1 * W if kind == "L2" else 0.0))
        assert layer.W[0, 0] != 0.0
    np.testing.assert_allclose(layer.W[:, 0], expected, rtol=1e-12, atol=1e-15)
    assert np.array_equal(layer.b, b)                                # biases are not regularized


def test_l1_training_leaves_weights_at_exactly_zero_and_l2_does_not():
    zeros, accuracy = {}, {}
    for reg in ("none", "L1", "L2"):
        pg = Playground(regularization=reg, reg_rate=0.03, hidden=[8, 8], features=list(FEATURES)).step(60)
        zeros[reg] = np.mean(np.concatenate([d.W.ravel() for d in pg.dense_layers]) == 0)
        accuracy[reg] = pg.accuracy()
    assert zeros["L1"] > 0.1 and zeros["none"] == zeros["L2"] == 0.0
    assert accuracy["L1"] >= 0.95

# --- beyond the Playground --------------------------------------------------------------------
def test_more_than_two_classes_train_with_softmax_cross_entropy():
    pg = Playground(dataset="gauss", classes=4, loss="cross-entropy", hidden=[8], learning_rate=0.1)
    assert isinstance(pg.loss, CrossEntropy) and pg.dense_layers[-1].out_features == 4
    assert set(np.unique(pg.y_train)) == {0, 1, 2, 3}
    pg.step(60)
    assert pg.accuracy() >= 0.9


def test_binary_cross_entropy_has_a_logit_output():
    pg = Playground(loss="cross-entropy", learning_rate=0.1)
    assert isinstance(pg.loss, BinaryCrossEntropy) and type(pg.model.layers[-1]) is Dense
    pg.step(100)
    assert pg.accuracy() >= 0.95


def test_circle_and_xor_stay_two_classes():
    assert Playground(dataset="circle", classes=5).classes == 2
    assert Playground(dataset="spiral", classes=3).classes == 3


@pytest.mark.parametrize("name, cls", [("SGD", SGD), ("momentum", Momentum), ("Adam", Adam)])
def test_optimizer_choice(name, cls):
    pg = Playground(optimizer=name, learning_rate=0.01)
    assert type(pg.optimizer) is cls and pg.optimizer.lr == 0.01
    pg.step(2)


def test_dropout_and_batch_norm_go_into_every_hidden_layer():
    pg = Playground(dropout=0.25, batch_norm=True, hidden=[4, 3])
    kinds = [type(layer) for layer in pg.model.layers]
    assert kinds == [Dense, BatchNorm, Tanh, Dropout, Dense, BatchNorm, Tanh, Dropout, Dense, Tanh]
    assert all(layer.rate == 0.25 for layer in pg.model.layers if isinstance(layer, Dropout))
    pg.step(20)
    assert pg.train_loss < pg.history["train_loss"][0]


def test_gradient_norms_are_the_epoch_mean_per_dense_layer():
    pg = Playground(hidden=[4, 4, 2]).step(2)
    assert pg.grad_norms.shape == (4,) and np.all(pg.grad_norms > 0)
    np.testing.assert_array_equal(pg.grad_norms, pg.monitor.grad_norms[-1])
    assert pg.monitor.grad_norms.shape == (2, 4)


def test_dead_fraction_counts_relu_units_that_output_zero_everywhere():
    pg = Playground(activation="relu", hidden=[3, 2])
    pg.dense_layers[0].b[:] = [-100.0, 0.0, 0.0]       # unit 1 of layer 1 can never switch on
    pg.dense_layers[1].b[:] = [-100.0, -100.0]         # layer 2 is all dead
    assert pg.dead_fraction() == [pytest.approx(1 / 3), 1.0]
    assert Playground(activation="tanh").dead_fraction() == [0.0, 0.0]


def test_a_diverging_run_stops_with_a_message():
    pg = Playground(problem="regression", activation="linear", learning_rate=10.0)
    pg.step(20)
    assert "learning rate is too high" in pg.message and pg.epoch < 20 and not pg.playing
    epoch = pg.epoch
    pg.step()
    assert pg.epoch == epoch                            # nothing trains until a reset
    pg.set(learning_rate=0.01)
    pg.reset()
    assert pg.message == "" and pg.epoch == 0


# --- presets: each one shows its lesson (measured) ----------------------------------------------
def _preset(name, epochs, **changes):
    pg = Playground()
    note = pg.load_preset(name)
    assert note == PRESETS[name][1] and pg.preset_note == note
    if changes:
        pg.set(**changes)
    return pg.step(epochs)


def test_preset_xor_needs_a_hidden_layer():
    assert _preset("XOR needs a hidden layer", 100).accuracy() <= 0.6
    assert _preset("XOR needs a hidden layer", 100, hidden=[4]).accuracy() >= 0.9
    assert _preset("XOR needs a hidden layer", 100, features=["x1", "x2", "x1*x2"]).accuracy() >= 0.95


def test_preset_vanishing_gradients():
    sigmoid = _preset("vanishing gradients", 60)
    assert sigmoid.grad_norms[0] < 1e-2 * sigmoid.grad_norms[-1]
    relu = _preset("vanishing gradients", 60, activation="relu")
    assert 0.1 < relu.grad_norms[0] / relu.grad_norms[-1] < 10
    assert relu.accuracy() > sigmoid.accuracy() + 0.3


def test_preset_dead_relu():
    high = _preset("dead ReLU", 60)
    assert np.mean(high.dead_fraction()) >= 0.3
    low = _preset("dead ReLU", 60, learning_rate=0.03)
    assert np.mean(low.dead_fraction()) <= 0.1 and low.accuracy() > high.accuracy()


def test_preset_overfitting_and_dropout():
    plain = _preset("overfitting and dropout", 200)
    train, test = plain.history["train_loss"], plain.history["test_loss"]
    assert plain.train_loss < 0.5 * train[0] and plain.test_loss > 2 * plain.train_loss
    assert plain.test_loss > min(test) + 0.2          # the test loss climbs again while the training loss falls
    dropout = _preset("overfitting and dropout", 200, dropout=0.2)
    assert dropout.test_loss - dropout.train_loss < 0.5 * (plain.test_loss - plain.train_loss)
    assert dropout.test_loss < plain.test_loss


def test_every_preset_has_a_one_line_explanation():
    for name, (changes, note) in PRESETS.items():
        assert set(changes) <= set(DEFAULTS) and "\n" not in note and 40 < len(note) < 240


# --- export and the whole state -----------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    {}, {"features": list(FEATURES), "hidden": [5, 3], "activation": "relu"},
    {"dataset": "spiral", "classes": 3, "loss": "cross-entropy", "batch_norm": True, "dropout": 0.1},
    {"problem": "regression", "dataset": "multi gaussian", "activation": "sigmoid", "hidden": []},
])
def test_exported_code_rebuilds_the_trained_network_exactly(settings):
    pg = Playground(**settings).step(5)
    namespace = {}
    exec(pg.to_code(), namespace)
    X = np.random.default_rng(0).uniform(-6, 6, size=(50, 2))
    ours = pg.predict(X)
    theirs = namespace["model"].predict(namespace["features"](X))
    assert np.array_equal(ours, theirs)


def test_state_dict_is_json_and_restoring_it_carries_on_exactly():
    settings = {"optimizer": "Adam", "dropout": 0.2, "batch_norm": True, "hidden": [5, 3], "learning_rate": 0.01}
    original = Playground(**settings).step(4)
    state = json.loads(json.dumps(original.state_dict()))
    restored = Playground.from_state(state)
    assert restored.epoch == 4 and restored.history == original.history
    original.step(3)
    restored.step(3)
    for a, b in zip(original.model.parameters(), restored.model.parameters()):
        assert np.array_equal(a, b)
    assert restored.history == original.history


@pytest.mark.parametrize("optimizer", ["momentum", "Adam"])
def test_loading_a_state_into_a_used_playground_carries_on_exactly(optimizer):
    original = Playground(optimizer=optimizer, learning_rate=0.01).step(3)
    state = original.state_dict()
    used = Playground(optimizer=optimizer, learning_rate=0.01, seed=5).step(4)   # its optimizer has momentum
    used.load_state_dict(state)
    assert all(np.array_equal(a, b) for a, b in zip(original.model.parameters(), used.model.parameters()))
    original.step(2)
    used.step(2)
    assert all(np.array_equal(a, b) for a, b in zip(original.model.parameters(), used.model.parameters()))


def test_load_state_dict_refuses_what_is_not_a_state():
    with pytest.raises(ValueError, match="state_dict"):
        Playground().load_state_dict({"weights": []})


# --- play mode ----------------------------------------------------------------------------------
def test_play_loop_runs_one_epoch_per_frame():
    pg = Playground()
    pg.playing = True
    frames = asyncio.run(pg._play_loop(max_frames=3))
    assert frames == 3 and pg.epoch == 3 and not pg.playing


def test_play_trains_in_the_background_until_pause():
    pg = Playground()

    async def scenario():
        pg.play()
        assert pg.playing
        await asyncio.sleep(0.5)            # the event loop is free: other work (widget messages) runs
        pg.pause()
        stopped_at = pg.epoch
        await asyncio.sleep(0.2)
        return stopped_at

    stopped_at = asyncio.run(scenario())
    assert stopped_at >= 2 and pg.epoch == stopped_at and not pg.playing


def test_play_without_an_event_loop_says_what_to_do():
    with pytest.raises(RuntimeError, match="step"):
        Playground().play()


def test_a_reset_pauses_play():
    pg = Playground()

    async def scenario():
        pg.play()
        await asyncio.sleep(0.2)
        pg.set(activation="relu")
        await asyncio.sleep(0.2)

    asyncio.run(scenario())
    assert not pg.playing and pg.epoch == 0


# --- the widgets ------------------------------------------------------------------------------
def _png_size(data):
    from PIL import Image

    return Image.open(io.BytesIO(data)).size


def test_widgets_draw_png_figures_that_change_with_training():
    pg = Playground()
    ui = pg.ui
    assert "nnlib-playground" in ui._dom_classes
    images = {name: getattr(pg._ui, name).value for name in ("loss_img", "output_img", "network_img",
                                                              "diagnostics_img")}
    for data in images.values():
        width, height = _png_size(data)
        assert width > 300 and height > 100
    pg._ui.step_btn.click()
    assert pg.epoch == 1 and "000,001" in pg._ui.epoch.value
    for name, before in images.items():
        assert getattr(pg._ui, name).value != before, name


def test_widgets_call_the_playground():
    pg = Playground()
    pg.ui
    ui = pg._ui
    ui.controls["activation"].value = "relu"
    assert pg.settings["activation"] == "relu"
    ui.controls["learning_rate"].value = 0.1
    assert pg.optimizer.lr == 0.1
    ui.add_layer.click()
    assert pg.settings["hidden"] == [4, 2, 2]
    ui.neuron_buttons.children[0].children[0].click()           # + on layer 1
    assert pg.settings["hidden"] == [5, 2, 2]
    ui.remove_layer.click()
    assert pg.settings["hidden"] == [5, 2]
    ui.features["x1*x2"].value = True
    assert pg.settings["features"] == ["x1", "x2", "x1*x2"]
    ui.controls["problem"].value = "regression"
    assert pg.settings["dataset"] == "plane" and list(ui.controls["dataset"].options) == DATASETS["regression"]
    ui.controls["dataset"].value = "multi gaussian"
    assert pg.settings["dataset"] == "multi gaussian"
    ui.regen_btn.click()
    assert pg.settings["data_seed"] == 1


def test_a_learning_rate_set_from_code_joins_the_menu():
    pg = Playground()
    pg.ui
    pg.set(learning_rate=0.05)
    assert pg._ui.controls["learning_rate"].value == 0.05 and pg.optimizer.lr == 0.05


def test_widgets_refuse_to_untick_the_last_feature():
    pg = Playground(features=["x1"])
    pg.ui
    pg._ui.features["x1"].value = False
    assert pg.settings["features"] == ["x1"] and pg._ui.features["x1"].value
    assert "at least one input feature" in pg._ui.message.value


def test_play_button_toggles_and_shows_pause():
    pg = Playground()
    pg.ui

    async def scenario():
        pg._ui.play_btn.click()
        assert pg.playing and pg._ui.play_btn.description == "pause"
        await asyncio.sleep(0.3)
        pg._ui.play_btn.click()

    asyncio.run(scenario())
    assert not pg.playing and pg._ui.play_btn.description == "play" and pg.epoch >= 1


def test_preset_export_save_and_restore_buttons():
    pg = Playground()
    pg.ui
    ui = pg._ui
    ui.preset.value = "dead ReLU"
    assert pg.settings["learning_rate"] == 1.0 and PRESETS["dead ReLU"][1] in ui.preset_note.value
    ui.step_btn.click()
    ui.save_btn.click()
    saved = [p.copy() for p in pg.model.parameters()]
    ui.step_btn.click()
    ui.restore_btn.click()
    assert pg.epoch == 1 and all(np.array_equal(a, b) for a, b in zip(saved, pg.model.parameters()))
    ui.export_btn.click()
    assert ui.code.value == pg.to_code() and ui.code.layout.display is None


def test_a_bad_value_from_a_widget_is_shown_not_raised():
    pg = Playground()
    pg.ui
    pg._ui._call(pg.set, noise=99)
    assert "noise must be from 0 to 50" in pg._ui.message.value


def test_playground_is_exported_from_widgets():
    import nnlib.playground
    import nnlib.widgets

    assert nnlib.widgets.Playground is nnlib.playground.Playground


# --- what a student who knows the TensorFlow Playground expects ----------------------------------
def test_spiral_is_the_hard_data_set_that_needs_sin_features_or_a_bigger_network():
    # As in the TensorFlow Playground (1.75 turns per arm): x1, x2 and layers of 4 and 2 do not fit it.
    assert Playground(dataset="spiral").step(300).accuracy() < 0.8
    assert Playground(dataset="spiral", features=["x1", "x2", "sin(x1)", "sin(x2)"]).step(300).accuracy() >= 0.9
    assert Playground(dataset="spiral", hidden=[8, 8, 8], activation="relu").step(300).accuracy() >= 0.9


def test_spiral_noise_jitters_the_arms_less_than_their_spacing():
    X0, y0 = make_data("spiral", noise=0, seed=2)
    X50, y50 = make_data("spiral", noise=50, seed=2)
    assert np.array_equal(y0, y50)
    jitter = np.std(X50 - X0)
    assert 0.2 < jitter < 0.4             # the arms are 5 / (2 * 1.75) = 1.4 apart along a radius
    assert Playground(dataset="spiral", noise=50, hidden=[8, 8, 8], activation="relu").step(300).accuracy() > 0.65


def test_l1_holds_the_weights_of_unneeded_features_near_zero_and_l2_does_not():
    weights = {}
    for kind in ("L1", "L2"):
        pg = Playground(hidden=[], features=list(FEATURES), regularization=kind, reg_rate=0.003).step(200)
        weights[kind] = dict(zip(pg.settings["features"], pg.dense_layers[0].W[:, 0]))
        assert pg.accuracy() == 1.0
    unneeded = [f for f in FEATURES if f not in ("x1^2", "x2^2")]
    assert max(abs(weights["L1"][f]) for f in unneeded) < 0.002
    assert max(abs(weights["L2"][f]) for f in unneeded) > 0.01
    assert min(abs(weights["L1"][f]) for f in ("x1^2", "x2^2")) > 0.1


def test_the_output_surface_is_lighter_than_the_points_so_they_stay_visible():
    from nnlib.playground.pictures import _LEVELS, _POS, _NEG, _WHITE, _Pictures, _class_rgb

    for settings in ({}, {"discretize": True}, {"dataset": "gauss", "classes": 3, "loss": "cross-entropy"}):
        pg = Playground(**settings).step(60)
        pictures = _Pictures(pg)
        _, out = pg.hidden_outputs(pg.F_grid)
        surface = pictures._surface_rgb(out).astype(float)
        colours = np.vstack([_POS, _NEG, _class_rgb()[:pg.classes]])
        # every pixel of the surface is at least a third of the way from any point colour to white
        gap = np.linalg.norm(surface[:, None, :] - colours[None], axis=2).min()
        assert gap > 0.3 * np.linalg.norm(_WHITE - _POS), settings
    assert np.linalg.norm(_LEVELS[-1] - _POS) > 0.3 * np.linalg.norm(_WHITE - _POS)


def test_weight_lines_fade_to_grey_near_zero_and_are_full_colour_from_one():
    from nnlib.playground.pictures import _NEG, _POS, _ZERO, _weight_rgb

    rgb = _weight_rgb(np.array([0.0, 1e-6, 0.25, -0.25, 1.0, -3.0, np.nan]))
    assert np.allclose(rgb[0], _ZERO) and np.abs(rgb[1] - _ZERO).max() < 1
    assert np.allclose(rgb[2], _ZERO + 0.5 * (_POS - _ZERO)) and np.allclose(rgb[3], _ZERO + 0.5 * (_NEG - _ZERO))
    assert np.allclose(rgb[4], _POS) and np.allclose(rgb[5], _NEG) and np.allclose(rgb[6], _ZERO)


def test_data_sliders_have_one_label_width_and_room_for_their_tracks():
    pg = Playground(problem="regression")
    pg.ui
    c = pg._ui.controls
    assert {c[k].style.description_width for k in ("classes", "train_percent", "noise", "batch_size")} == {"72px"}
    assert c["dataset"].style.button_width == "104px"      # "multi gaussian" fits


@pytest.mark.parametrize("hidden", [[4], [4, 2], [8, 8, 8, 8], [1, 2, 3, 4, 5, 6]])
def test_each_layers_neuron_buttons_sit_above_its_column_of_the_picture(hidden):
    from nnlib.playground.pictures import _Pictures

    pg = Playground(hidden=hidden)
    pg.ui
    groups, x = pg._ui.neuron_buttons.children, 0.0
    assert len(groups) == len(hidden)
    for i, group in enumerate(groups):
        width = float(group.layout.width.rstrip("px"))
        x += float(group.layout.margin.split()[-1].rstrip("px"))
        centre = x + width / 2
        assert abs(centre - _Pictures.column_centre(i + 1, len(hidden) + 2)) <= 1
        assert width <= _Pictures.column_step(len(hidden) + 2)          # groups never overlap
        assert sum(float(b.layout.width.rstrip("px")) for b in group.children) <= width
        x += width
    assert x <= _Pictures.NETWORK_WIDTH
    # the picture really puts its columns there: the figure is NETWORK_WIDTH pixels wide
    assert pg._ui.pictures.blits["network"].fig.bbox.width == _Pictures.NETWORK_WIDTH
    assert pg._ui.pictures.column == _Pictures.column_step(len(hidden) + 2)


def test_the_gradient_view_says_0_no_gradient_for_an_exact_zero():
    pg = Playground()
    pg.ui
    texts = pg._ui.pictures.zero_labels
    assert all(t.get_text() == "" for t in texts)                  # epoch 0: nothing measured yet
    pg.step()
    assert all(t.get_text() == "" for t in texts)                  # a live network has gradients
    pg.grad_norms = np.array([0.0] + [1.0] * (len(pg.grad_norms) - 1))
    pg._ui.redraw()
    assert [t.get_text() for t in texts] == ["0, no gradient"] + [""] * (len(texts) - 1)


def test_the_output_legend_says_which_colour_is_which_class():
    from nnlib.playground.pictures import _class_rgb
    pg = Playground()
    pg.ui
    legend = lambda: pg._ui.legend.value  # noqa: E731
    assert "class 0" in legend() and "class 1" in legend() and "output 0" in legend() and "surer" in legend()
    assert "rgb(232,116,59)" in legend().split("class 0")[0]          # orange before "class 0"
    pg.set(loss="cross-entropy")
    pg._ui.redraw()
    assert "p(class 1) = 0.5" in legend()
    pg.set(dataset="gauss", classes=4)
    pg._ui.redraw()
    for c in range(4):
        r, g, b = (int(v) for v in _class_rgb()[c])
        assert f"rgb({r},{g},{b})'></span>&nbsp;class&nbsp;{c}" in legend()
    assert "class&nbsp;4" not in legend()
    pg.set(problem="regression")
    pg._ui.redraw()
    assert "output &lt; 0" in legend() and "class" not in legend()


def test_set_weight_edits_one_parameter_and_refuses_what_is_not_one_by_name():
    pg = Playground()
    before = [p.copy() for p in pg.model.parameters()]
    pg.set_weight(2, 1, 3, -1.25)
    pg.set_weight(1, 0, "bias", 0.5)
    changed = [(i, tuple(idx)) for i, (a, b) in enumerate(zip(before, pg.model.parameters()))
               for idx in np.argwhere(a != b)]
    W2, b1 = pg.dense_layers[1].W, pg.dense_layers[0].b
    assert W2[3, 1] == -1.25 and b1[0] == 0.5 and len(changed) == 2
    for args, name in [((0, 0, 0, 1.0), "layer"), ((4, 0, 0, 1.0), "layer"), ((1, 4, 0, 1.0), "unit"),
                       ((1, 0, 2, 1.0), "source"), ((1, 0, 0, float("nan")), "value"), ((1, 0, 0, "1"), "value")]:
        with pytest.raises(ValueError, match=name):
            pg.set_weight(*args)


def test_selecting_a_neuron_enlarges_it_and_its_weight_boxes_edit_and_follow_training():
    pg = Playground()
    pg.ui
    ui = pg._ui
    assert ui.neuron_img.value == _BLANK and ui.weight_boxes.children == ()
    ui.neuron.value = (2, 1)                       # the second neuron of the second hidden layer
    boxes = ui.weight_boxes.children
    assert len(boxes) == 4 + 1 and boxes[-1].description == "bias"
    assert ui.neuron_img.value[:8] == b"\x89PNG\r\n\x1a\n"
    first = ui.neuron_img.value
    boxes[0].value = -1.5                          # a learner types a weight
    assert pg.dense_layers[1].W[0, 1] == -1.5 and ui.neuron_img.value != first
    pg.step()
    assert boxes[0].value == round(float(pg.dense_layers[1].W[0, 1]), 4) != -1.5
    ui.select_neuron(1, 0)
    assert [b.description for b in ui.weight_boxes.children] == ["from x1", "from x2", "bias"]
    ui.weight_boxes.children[-1].value = 2.0
    assert pg.dense_layers[0].b[0] == 2.0
    pg.set(hidden=[3])                             # a new network: the selection stays if the neuron exists
    assert ui.selected == (1, 0) and len(ui.neuron.options) == 3 + 1
    ui.select_neuron(2, 0)
    pg.set(hidden=[])                              # ... and goes if it does not
    assert ui.selected is None and ui.neuron_img.value == _BLANK


def test_the_dead_relu_preset_shows_0_no_gradient():
    pg = Playground()
    pg.ui
    pg.load_preset("dead ReLU")
    pg.step(60)
    assert "0, no gradient" in [t.get_text() for t in pg._ui.pictures.zero_labels]


def _centre(pictures, layer, unit):
    """The pixel of the network figure (from its top-left corner) at the centre of a neuron's square."""
    top, left = pictures.net_origin
    x, y = pictures._node_xy(layer, unit, pictures._columns()[layer])
    return {"dataX": left + x + pictures.SQUARE / 2, "dataY": top + y + pictures.SQUARE / 2}


def test_clicking_a_neuron_in_the_network_picture_selects_it_and_hovering_previews_it():
    pytest.importorskip("ipyevents")
    pg = Playground(hidden=[4, 3])
    pg.ui
    ui, pictures = pg._ui, pg._ui.pictures
    assert [e.watched_events for e in ui.network_events] == [["click"], ["mousemove", "mouseleave"]]
    assert all(e.source is ui.network_img and e.xy_coordinate_system == "data" for e in ui.network_events)
    for layer, n in enumerate([2, 4, 3, 1]):       # every square, and nothing between two of them
        for unit in range(n):
            assert pictures.neuron_at(*_centre(pictures, layer, unit).values()) == (layer, unit)
    gap = _centre(pictures, 1, 0)
    assert pictures.neuron_at(gap["dataX"], gap["dataY"] + pictures.PITCH / 2) is None
    assert pictures.neuron_at(2, 2) is None

    network_before = ui.network_img.value
    ui.network_event({"type": "click", **_centre(pictures, 2, 1)})
    assert ui.selected == (2, 1) and ui.neuron.value == (2, 1) and pictures.highlight == (2, 1)
    assert [b.description for b in ui.weight_boxes.children] == [f"from neuron {j}" for j in range(4)] + ["bias"]
    assert [b.value for b in ui.weight_boxes.children[:-1]] == [round(float(w), 4) for w in pg.dense_layers[1].W[:, 1]]
    assert ui.network_img.value != network_before           # the selected square gets a thick frame
    assert "layer 2, neuron 1" in ui.neuron_caption.value
    selected_png = ui.neuron_img.value

    ui.network_event({"type": "mousemove", **_centre(pictures, 1, 3)})         # hover: a preview only
    assert ui.hovered == (1, 3) and ui.selected == (2, 1) and ui.neuron_img.value != selected_png
    assert "layer 1, neuron 3" in ui.neuron_caption.value and "click" in ui.neuron_caption.value
    assert len(ui.weight_boxes.children) == 5                # still the selected neuron's weights
    ui.network_event({"type": "mousemove", **_centre(pictures, 0, 1)})         # a feature: no weights into it
    assert "feature x2" in ui.neuron_caption.value
    ui.network_event({"type": "mouseleave"})
    assert ui.hovered is None and ui.neuron_img.value == selected_png

    ui.network_event({"type": "click", "dataX": 2, "dataY": 2})                # between the squares: nothing
    ui.network_event({"type": "click", **_centre(pictures, 0, 0)})             # a feature: preview, no selection
    assert ui.selected == (2, 1)
    ui.network_event({"type": "click", **_centre(pictures, 3, 0)})             # the output neuron
    assert ui.selected == (3, 0) and "the output" in ui.neuron_caption.value
    assert [b.description for b in ui.weight_boxes.children] == [f"from neuron {j}" for j in range(3)] + ["bias"]
    ui.weight_boxes.children[2].value = 0.75                                   # and its weights edit
    assert pg.dense_layers[2].W[2, 0] == 0.75


def test_without_ipyevents_the_app_still_works_with_the_neuron_menu(monkeypatch):
    """Google Colab gets no extra widgets from the course: the app is built without click events."""
    import nnlib.playground.app as app

    monkeypatch.setattr(app, "_Event", None)
    pg = Playground()
    pg.ui
    ui = pg._ui
    assert ui.network_events == []
    ui.neuron.value = (1, 0)
    assert ui.selected == (1, 0) and len(ui.weight_boxes.children) == 3


@pytest.mark.parametrize("dataset", ["plane", "multi gaussian"])
def test_regression_with_relu_at_the_default_rate_does_not_blow_up(dataset):
    """He init keeps the hidden signals at the inputs' scale (|x| up to 6), so a random linear output
    started at several times the targets' range and the first epoch blew up (multi gaussian, relu,
    8-8, seed 0: loss 1e38 at epoch 1, every unit dead). The output's weights start at 0 now.
    Measured over 5 seeds and two shapes at the default rate 0.03, 60 epochs."""
    for hidden in ([4, 2], [8, 8]):
        for seed in range(5):
            pg = Playground(dataset=dataset, activation="relu", hidden=hidden, seed=seed)
            assert np.all(pg.dense_layers[-1].W == 0) and pg.test_loss == pytest.approx(np.mean(pg.T_test ** 2))
            pg.step(60)
            history = np.asarray(pg.history["train_loss"])
            assert not pg.message and history.max() < 1.5 * history[0], (hidden, seed, history.max())
            if hidden == [8, 8]:              # the larger network beats predicting the mean (0) on every seed
                assert pg.test_loss < 0.9 * np.mean(pg.T_test ** 2), (seed, pg.test_loss)
                assert np.mean(pg.dead_fraction()) < 0.5
    assert not np.all(Playground(dataset=dataset, activation="tanh").dense_layers[-1].W == 0)


def test_a_build_of_static_pages_leaves_the_click_events_out(monkeypatch):
    """The book and the decks save the app's widget state into pages that serve only ipywidgets' own
    JavaScript; their builds set NNLIB_STATIC_PAGE, and the app then makes no ipyevents model."""
    pytest.importorskip("ipyevents")
    import nnlib.playground.app as app

    monkeypatch.setenv(app.STATIC_PAGE_ENV, "1")
    pg = Playground()
    pg.ui
    assert pg._ui.network_events == []
    from conftest import ROOT
    for path in ("book/conf.py", "book/slides.py"):
        assert f'os.environ.setdefault("{app.STATIC_PAGE_ENV}", "1")' in (ROOT / path).read_text()

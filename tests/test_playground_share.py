"""The playground's share line: copy the settings (and epoch) as text, paste them elsewhere."""
import numpy as np
import pytest

from nnlib.playground import DEFAULTS, Playground
from nnlib.playground.share import parse_share, to_share


def test_defaults_share_as_an_empty_line():
    assert Playground().share(epoch=False) == ""


def test_only_changed_settings_are_written_readably():
    pg = Playground(dataset="spiral", hidden=[8, 8, 8], activation="relu", learning_rate=0.01,
                    features=["x1", "x2", "x1*x2", "sin(x1)"])
    line = pg.share(epoch=False)
    assert line == "dataset=spiral&features=x1,x2,x1*x2,sin(x1)&hidden=8,8,8&activation=relu&learning_rate=0.01"


def test_pasting_a_line_rebuilds_the_same_trained_network():
    a = Playground(dataset="xor", hidden=[6, 3], activation="relu", learning_rate=0.03, noise=10, seed=3)
    a.step(7)
    b = Playground().load_share(a.share())
    assert b.settings == a.settings and b.epoch == 7
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert np.array_equal(pa, pb)


def test_no_hidden_layer_and_booleans_round_trip():
    s = dict(DEFAULTS, hidden=[], batch_norm=True, show_test=True)
    changes, epoch = parse_share(to_share(s))
    assert changes["hidden"] == [] and changes["batch_norm"] is True and changes["show_test"] is True and epoch == 0


def test_text_before_a_hash_is_ignored():
    changes, epoch = parse_share("https://example.org/playground#dataset=gauss&epoch=12")
    assert changes == {"dataset": "gauss"} and epoch == 12


@pytest.mark.parametrize("line, words", [
    ("colour=red", "unknown setting 'colour'"),
    ("hidden=4,x", "layer widths"),
    ("learning_rate=fast", "expected a number"),
    ("batch_norm=maybe", "true or false"),
    ("epoch=-3", "epoch"),
    ("dataset", "not key=value"),
])
def test_a_bad_line_is_refused_by_name(line, words):
    with pytest.raises(ValueError, match=words):
        parse_share(line)


def test_a_bad_value_is_refused_by_the_settings_check():
    with pytest.raises(ValueError, match="hidden"):
        Playground().load_share("hidden=4,20")


# --- the app's share field and load box ---------------------------------------------------
def test_the_apps_share_field_follows_the_state_and_its_load_box_rebuilds_it():
    pg = Playground()
    pg.ui
    ui = pg._ui
    assert ui.share.value == pg.share()
    ui.controls["dataset"].value = "spiral"
    ui.step_btn.click()
    line = ui.share.value
    assert line == pg.share() and "dataset=spiral" in line and "epoch=1" in line
    weights = [p.copy() for p in pg.model.parameters()]

    other = Playground()
    other.ui
    other._ui.paste.value = line
    other._ui.load_btn.click()
    assert other.settings == pg.settings and other.epoch == 1 and other._ui.share.value == line
    assert all(np.array_equal(a, b) for a, b in zip(weights, other.model.parameters()))
    assert other._ui.controls["dataset"].value == "spiral" and other.message == ""


@pytest.mark.parametrize("text, expected", [("", "Paste a share line"), ("hidden=99", "hidden"),
                                            ("colour=red", "unknown setting 'colour'"), ("dataset", "key=value")])
def test_a_bad_share_line_is_shown_in_the_apps_message_not_raised(text, expected):
    pg = Playground()
    pg.ui
    before = dict(pg.settings)
    pg._ui.paste.value = text
    pg._ui.load_btn.click()                      # a traceback here would fail the test
    assert expected in pg.message and expected in pg._ui.message.value
    assert pg.settings == before

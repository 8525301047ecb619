"""The playground: the TensorFlow Playground rebuilt on nnlib, as an ipywidgets app.

    from nnlib.widgets import Playground
    pg = Playground()            # circle data, features x1 and x2, two tanh layers of 4 and 2
    pg                           # in Jupyter: the app (play, step, reset, every setting)
    pg.step(10)                  # or drive it from code: ten epochs
    pg.set(activation="relu", hidden=[8, 8, 8])
    state = pg.state_dict()      # everything, as a dictionary of plain lists and numbers
    print(pg.to_code())          # the trained network as nnlib code with its weights

What it does, as the TensorFlow Playground does: points in the plane ([-6, 6]^2),
seven input features computed from them (x1, x2, x1^2, x2^2, x1*x2, sin x1,
sin x2), a network of 0-6 hidden layers of 1-8 neurons, and a picture of it all
that changes while it trains (click a neuron in it to enlarge its picture and edit
the weights into it; with ipyevents missing, as in Colab, a menu picks the neuron). One *epoch* is one pass over the training points
in mini-batches, one optimizer step per batch; in play mode the app runs an
epoch and redraws, again and again. Beyond the Playground: more than two
classes (softmax and cross-entropy), SGD / momentum / Adam, dropout, batch
normalization, gradient norms and dead units per layer, presets for the
course's lessons, and export.

The class is a state machine you can test without a browser: every button and
slider calls one of ``set``, ``step``, ``reset``, ``regenerate``, ``play``,
``pause`` and ``load_preset``; the widgets only mirror ``settings``.

One concept per module:

    choices.py    what can be chosen: data sets and their points, features, activations, rates,
                  optimizers, losses, DEFAULTS, PRESETS, and the check of a set of settings
    core.py       Playground, the state machine: settings, data, network, training (L1, L2), play mode
    export.py     the trained network as nnlib code; the whole state as plain data and back
    pictures.py   the figures (matplotlib's Agg canvas, sent as PNG bytes), plot_output
    app.py        the ipywidgets app, made on first display

``import nnlib.playground`` loads neither matplotlib nor ipywidgets; they load when
something draws.
"""
from .choices import DATASETS, DEFAULTS, FEATURES, PRESETS, feature_matrix, make_data
from .core import Playground

# The other choices and the output's colour steps stay importable from here, as before the package.
from .choices import (ACTIVATIONS, DATA_KEYS, DOMAIN, LEARNING_RATES, LOSSES, MAX_LAYERS,  # noqa: F401
                      MAX_NEURONS, MULTICLASS, N_POINTS, NETWORK_KEYS, OPTIMIZERS, REG_RATES)
from .pictures import SHADES  # noqa: F401

__all__ = ["Playground", "DEFAULTS", "PRESETS", "FEATURES", "DATASETS", "make_data", "feature_matrix"]

"""Bad input gets a clear error that names the thing and the shapes, not a numpy traceback."""
import numpy as np
import pytest

from nnlib import SGD, Adam, BinaryCrossEntropy, CrossEntropy, Dense, LeakyReLU, MSE, ReLU, Sequential, data
from nnlib.layers import init_weights


def model():
    return Sequential([Dense(3, 4, rng=0), ReLU(), Dense(4, 2, rng=1)])


def test_dense_wrong_width_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Dense\(3 -> 4\) got input of shape \(10, 5\): expected \(batch, 3\)"):
        Dense(3, 4).forward(np.zeros((10, 5)))


def test_dense_one_example_without_batch_axis_gets_a_hint():
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        Dense(3, 4).forward(np.zeros(3))


def test_sequential_rejects_layers_that_do_not_chain():
    with pytest.raises(ValueError, match=r"layer 2 Dense\(3 -> 1\) expects 3 inputs, but the layers before it give 4"):
        Sequential([Dense(2, 4), ReLU(), Dense(3, 1)])
    with pytest.raises(TypeError, match="item 1 .* is not a layer"):
        Sequential([Dense(2, 4), "relu"])


def test_fit_with_wrong_feature_count():
    with pytest.raises(ValueError, match=r"X has 5 features per example \(shape \(8, 5\)\) but the first layer Dense\(3 -> 4\) expects 3"):
        model().fit(np.zeros((8, 5)), np.zeros(8, int), loss=CrossEntropy(), optimizer=SGD(), verbose=False)


def test_fit_with_mismatched_lengths():
    with pytest.raises(ValueError, match="X has 8 examples but y has 7"):
        model().fit(np.zeros((8, 3)), np.zeros(7, int), loss=CrossEntropy(), optimizer=SGD(), verbose=False)


@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (np.inf, "inf")])
def test_nan_or_inf_in_data(bad, what):
    X = np.zeros((6, 3))
    X[4, 1] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at index \(4, 1\)"):
        model().fit(X, np.zeros(6, int), loss=CrossEntropy(), optimizer=SGD(), verbose=False)
    y = np.zeros(6)
    y[2] = bad
    with pytest.raises(ValueError, match=r"y contains NaN or inf \(first at index 2"):
        Sequential([Dense(3, 1)]).fit(np.zeros((6, 3)), y, loss=MSE(), optimizer=SGD(), verbose=False)


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"label 5 is out of range for 2 classes \(expected 0..1\)"):
        model().fit(np.zeros((4, 3)), np.array([0, 1, 5, 1]), loss=CrossEntropy(), optimizer=SGD(), verbose=False)
    with pytest.raises(ValueError, match=r"label -1 is out of range"):
        CrossEntropy().forward(np.zeros((2, 3)), np.array([0, -1]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\].*from 0.0 to 2.0"):
        BinaryCrossEntropy().forward(np.zeros((3, 1)), np.array([0, 1, 2]))


def test_labels_of_the_wrong_kind():
    with pytest.raises(TypeError, match="y must be numeric"):
        model().fit(np.zeros((2, 3)), np.array(["cat", "dog"]), loss=CrossEntropy(), optimizer=SGD(), verbose=False)
    with pytest.raises(TypeError, match="labels must be whole numbers"):
        CrossEntropy().forward(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"target of shape \(2, 4\) does not fit logits of shape \(2, 3\)"):
        CrossEntropy().forward(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="row 1 sums to 2"):
        CrossEntropy().forward(np.zeros((2, 2)), np.array([[1.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"MSE: target has shape \(3,\) but pred has shape \(2, 1\)"):
        MSE().forward(np.zeros((2, 1)), np.zeros(3))


@pytest.mark.parametrize("call, match", [
    (lambda: model().fit(np.zeros((4, 3)), np.zeros(4, int), loss="hinge", optimizer=SGD()),
     r"loss must be .* one of .*'cross_entropy'.*got 'hinge'"),
    (lambda: model().fit(np.zeros((4, 3)), np.zeros(4, int), loss="mse", optimizer="rmsprop"),
     r"optimizer must be .* one of \['adam', 'momentum', 'sgd'\], got 'rmsprop'"),
    (lambda: Dense(3, 4, init="glorious"), r"init must be one of \['xavier'.*got 'glorious'"),
    (lambda: Dense(3, 4, dtype=np.int32), "dtype must be float32 or float64"),
    (lambda: Dense(0, 4), "in_features must be an integer >= 1, got 0"),
    (lambda: Dense(3, 2.5), "out_features must be an integer >= 1, got 2.5"),
    (lambda: model().fit(np.zeros((4, 3)), np.zeros(4, int), loss="mse", optimizer=SGD(), epochs=0),
     "epochs must be an integer >= 1, got 0"),
    (lambda: model().fit(np.zeros((4, 3)), np.zeros(4, int), loss="mse", optimizer=SGD(), batch_size=-2),
     "batch_size must be an integer >= 1, got -2"),
    (lambda: model().fit(np.zeros((4, 3)), np.zeros(4, int), loss="mse", optimizer=SGD(), stop_at_loss=-1),
     "stop_at_loss must be >= 0"),
    (lambda: model().fit(np.zeros((4, 3)), np.zeros(4, int), loss="mse", optimizer=SGD(), validation_data=np.zeros(3)),
     r"validation_data must be a pair \(X_val, y_val\)"),
    (lambda: LeakyReLU(alpha=-1), "alpha must be >= 0"),
    (lambda: data.spirals(100, k=1), "k must be an integer >= 2"),
    (lambda: data.xor(100, noise=-0.1), "noise must be >= 0"),
    (lambda: data.circles(100, seed="abc"), "seed must be an int or a numpy.random.Generator"),
    (lambda: data.one_hot(np.array([0, 3]), 3), r"label 3 is out of range for 3 classes"),
    (lambda: data.train_test_split(np.zeros((4, 2)), np.zeros(3)), "X has 4 examples but y has 3"),
    (lambda: init_weights((2, 2), init=-1.0), "standard deviation, must be >= 0"),
])
def test_unknown_options_and_bad_values_are_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_errors_are_raised_before_any_training():
    m = model()
    before = [p.copy() for p in m.parameters()]
    with pytest.raises(ValueError):
        m.fit(np.zeros((4, 3)), np.array([0, 1, 9, 1]), loss=CrossEntropy(), optimizer=Adam(), verbose=False)
    assert all(np.array_equal(a, b) for a, b in zip(before, m.parameters()))


def test_backward_before_forward_is_explained():
    with pytest.raises(RuntimeError, match="call forward before backward"):
        Dense(2, 2).backward(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match="call forward before backward"):
        MSE().backward()


def test_backward_with_wrong_gradient_shape():
    layer = Dense(2, 3)
    layer.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Dense\(2 -> 3\).backward got grad_out of shape \(4, 2\): expected \(4, 3\)"):
        layer.backward(np.zeros((4, 2)))


def test_setting_weights_of_the_wrong_shape():
    layer = Dense(2, 3)
    with pytest.raises(ValueError, match=r"W must have shape \(2, 3\), got \(3, 2\)"):
        layer.W = np.zeros((3, 2))


# --- issue 13: each of these used to end in a numpy traceback or a wrong message -------------------
from nnlib.conv import Conv2D, Flatten  # noqa: E402
from nnlib.metrics import accuracy, r2_score  # noqa: E402
from nnlib.sampling import SampledSoftmax  # noqa: E402
from nnlib.validation import cross_validate  # noqa: E402
from nnlib import Identity  # noqa: E402


def _after_forward(layer, x):
    layer.forward(x)
    return layer


CLEAR_ERRORS = {
    "ReLU.forward(list)": (lambda: ReLU().forward([[1.0, -1.0]]), TypeError, r"ReLU\(\): input must be a numpy array, got list"),
    "Identity.forward(list)": (lambda: Identity().forward([1.0]), TypeError, "input must be a numpy array, got list"),
    "Flatten.forward(list)": (lambda: Flatten().forward([[1.0]]), TypeError, "input must be a numpy array, got list"),
    "Dense.forward(list)": (lambda: Dense(2, 2, rng=0).forward([[1.0, 2.0]]), TypeError, "must be a numpy array, got list"),
    "Dense.backward(list)": (lambda: _after_forward(Dense(2, 2, rng=0), np.ones((1, 2))).backward([[1.0, 1.0]]),
                             TypeError, r"backward: grad_out must be a numpy array, got list"),
    "ReLU.backward(list)": (lambda: _after_forward(ReLU(), np.ones((1, 2))).backward([[1.0, 1.0]]),
                            TypeError, "grad_out must be a numpy array"),
    "Identity.backward(wrong shape)": (lambda: _after_forward(Identity(), np.ones((3, 2))).backward(np.ones((3, 5))),
                                       ValueError, r"grad_out of shape \(3, 5\): expected \(3, 2\)"),
    "Flatten.backward(wrong shape)": (lambda: _after_forward(Flatten(), np.ones((3, 2, 2))).backward(np.ones((3, 5))),
                                      ValueError, r"expected \(3, 4\)"),
    "fit(empty X)": (lambda: model().fit(np.zeros((0, 3)), np.zeros(0, int), loss=CrossEntropy(), optimizer=SGD(),
                                         verbose=False), ValueError, r"X has no examples \(shape \(0, 3\)\)"),
    "Conv2D.forward(empty batch)": (lambda: Conv2D(1, 2, 3, rng=0).forward(np.zeros((0, 1, 5, 5))), ValueError,
                                    "with batch >= 1"),
    "SampledSoftmax.loss(empty batch)": (lambda: SampledSoftmax(4, 10, num_sampled=3, rng=0).loss(
        np.zeros((0, 4)), np.zeros(0, int)), ValueError, "got an empty batch"),
    "MSE(empty batch)": (lambda: MSE().forward(np.zeros((0, 1)), np.zeros((0, 1))), ValueError, "empty batch"),
    "Optimizer.step(int parameter)": (lambda: SGD(0.1).step([np.zeros(3, int)], [np.ones(3)]), TypeError,
                                      "parameter 0 has dtype int64; parameters and gradients must be float arrays"),
    "Sequential(one layer, not a list)": (lambda: Sequential(Dense(2, 2, rng=0)), TypeError,
                                          r"Sequential takes a list of layers.*got Dense"),
    "fit(X, None)": (lambda: model().fit(np.zeros((4, 3)), None, loss=CrossEntropy(), optimizer=SGD(), verbose=False),
                     ValueError, "y is None; fit needs the targets"),
    "accuracy(mismatched shapes)": (lambda: accuracy(np.zeros((4, 3)), np.zeros(5, int)), ValueError,
                                    r"accuracy: output has shape \(4, 3\) but target has shape \(5,\)"),
    "r2_score(mismatched shapes)": (lambda: r2_score(np.zeros(4), np.zeros(5)), ValueError,
                                    r"r2_score: pred has shape \(4,\) but target has shape \(5,\)"),
    "cross_validate(a model, not a build function)": (
        lambda: cross_validate(model(), np.zeros((10, 3)), np.zeros(10, int), loss="cross_entropy",
                               optimizer=lambda: SGD()), TypeError, "build must be a function that returns a new"),
    "CrossEntropy(label 1e20)": (lambda: CrossEntropy().forward(np.zeros((2, 3)), np.array([0.0, 1e20])), ValueError,
                                 r"label 1e\+20 is out of range for 3 classes"),
    "Dense(in_features='3')": (lambda: Dense("3", 2), TypeError, "in_features must be an integer >= 1, got str '3'"),
}


@pytest.mark.parametrize("case", list(CLEAR_ERRORS), ids=list(CLEAR_ERRORS))
def test_bad_input_gets_a_clear_error(case):
    call, kind, match = CLEAR_ERRORS[case]
    with pytest.raises(kind, match=match):
        call()


def test_test_size_as_a_numpy_float_is_a_fraction():
    X_tr, X_te, _, _ = data.train_test_split(np.zeros((8, 2)), np.zeros(8), test_size=np.float32(0.25))
    assert len(X_te) == 2 and len(X_tr) == 6

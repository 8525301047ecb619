"""Claims of chapters 2-4, measured with nnlib (see ../shared/CLAIMS.md)."""
import numpy as np

from nnlib import Adam, BinaryCrossEntropy, Dense, ReLU, Sequential, data
from nnlib.metrics import best_linear_accuracy


def fold_linear_layers(layers):
    """The single affine map (W, b) that a stack of Dense layers without activations computes."""
    W, b = layers[0].W, layers[0].b
    for layer in layers[1:]:
        W, b = W @ layer.W, b @ layer.W + layer.b
    return W, b


def train_bce(model, X, y, epochs=300, lr=0.05):
    model.fit(X, y, loss=BinaryCrossEntropy(), optimizer=Adam(lr), epochs=epochs, batch_size=None, verbose=False)
    return model.evaluate(X, y)["accuracy"]


# --- chapter 2 ---------------------------------------------------------------------------

def test_C02_stacked_dense_layers_collapse_into_one_affine_map():
    rng = np.random.default_rng(0)
    for sizes in ([3, 5, 2], [2, 8, 8, 1], [4, 16, 3, 7, 2]):
        layers = [Dense(a, b, rng=i) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        for layer in layers:
            layer.b[:] = rng.normal(size=layer.b.shape)
        stack = Sequential(layers)
        W, b = fold_linear_layers(layers)
        single = Dense(sizes[0], sizes[-1])
        single.W, single.b = W, b
        X = rng.uniform(-3, 3, size=(500, sizes[0]))
        out_stack, out_single = stack.predict(X), single.forward(X)
        assert out_stack.dtype == np.float64
        assert np.max(np.abs(out_stack - out_single)) < 1e-12
        # ...and the stack really is more than one layer: its parameters differ from the folded map's
        assert stack.count_params() > W.size + b.size


def test_C02_stack_without_activation_still_fails_on_xor():
    X, y = data.xor(400, seed=0)
    stack = Sequential([Dense(2, 8, rng=0), Dense(8, 8, rng=1), Dense(8, 1, rng=2)])
    acc = train_bce(stack, X, y)
    best = best_linear_accuracy(X, y)
    assert acc <= best + 1e-9 and acc < 0.75, f"linear stack reached {acc:.3f} (best line {best:.3f})"
    # the trained stack is still exactly its folded single layer
    W, b = fold_linear_layers(stack.layers)
    assert np.max(np.abs(stack.predict(X) - (X @ W + b))) < 1e-12
    # the same layers with ReLU between them fit XOR: the activation, not the depth, made the difference
    relu_net = Sequential([Dense(2, 8, rng=0), ReLU(), Dense(8, 8, rng=1), ReLU(), Dense(8, 1, rng=2)])
    assert train_bce(relu_net, X, y) >= 0.97

"""nnlib: the small numpy library of the neural-network course.

Read it: every layer's forward and backward pass sit side by side, and the code
the course teaches is the code that runs.

Public API
----------
nnlib.layers       Dense(in_features, out_features, *, bias=True, init="xavier", rng=None, dtype=float64)
                   (W: (in, out), b: (out,); layer.W is layer.params["W"]);
                   Identity, Sigmoid, Tanh, ReLU, LeakyReLU. Every layer:
                   forward(x, training=False) -> y;  backward(grad_out) -> grad_in;
                   params / grads: dicts of plain numpy arrays with the same keys.
nnlib.regularization  BatchNorm(num_features, momentum=0.9, eps=1e-5), Dropout(rate, rng=None)
                   (also in nnlib.layers): they act differently with training=True;
                   L1(rate), L2(rate): weight penalties for fit(..., regularizer=...).
nnlib.diagnostics  gradient_norms, activation_stats, dead_units, dead_unit_fraction; Monitor(X_probe),
                   a fit callback recording them per epoch.
nnlib.activations  the activation layers, and sigmoid, relu, softmax, log_softmax as functions.
nnlib.losses       MSE, BinaryCrossEntropy (on logits), CrossEntropy (softmax + CE on logits;
                   integer labels or one-hot). value = loss.forward(pred, target);
                   loss.backward() -> d value / d pred. Values are batch means.
nnlib.optim        SGD(lr), Momentum(lr, beta), Adam(lr, beta1, beta2, eps);
                   optimizer.step(params, grads) updates in place.
nnlib.Sequential   forward, backward, parameters(), gradients(), train_step(xb, yb, loss, optimizer,
                   regularizer=None) -> loss value, fit(..., regularizer=None) -> History,
                   predict, evaluate, summary, flat_parameters() (all parameters live in one flat
                   array, all gradients in another; layer params/grads are views into them).
nnlib.gradcheck    numerical_gradient, relative_error, check_layer, check_loss, check_model.
nnlib.data         linear, plane, xor, circles, blobs, moons, spirals, bars, multilabel,
                   codebook (seeded, with noise); train_test_split, k_fold, one_hot,
                   standardize, Standardizer.
nnlib.metrics      accuracy, r2_score, best_linear_accuracy.
nnlib.conv         Conv2D (batch, channels, H, W), Flatten, GlobalAvgPool2D.
nnlib.sampling     SampledSoftmax: candidate sampling for very many classes.
nnlib.saving       save(model, path), load(path): one .npz file, exact, never overwritten silently;
                   a damaged or foreign file raises ModelFileError naming the file.
nnlib.validation   cross_validate(build, X, y, k=...): k-fold scores with their mean and spread.
nnlib.plot         matplotlib figures used by the chapters (imported on use).
nnlib.widgets      ipywidgets helpers used by the chapters (imported on use).

Conventions: arrays are (batch, features); float64 unless a dtype is given;
randomness only through an explicit seed or numpy Generator (rng=, seed=). A layer made
with rng=None starts from seed 0; in a Sequential the k-th such layer gets its own stream
(np.random.default_rng([0, k]); the first keeps seed 0), so runs stay reproducible and
two Dense(8, 8) start different. A layer object may appear only once in a model.
"""
from . import activations, data, diagnostics, gradcheck, layers, losses, metrics, optim
from .layers import BatchNorm, Dense, Dropout, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import MSE, BinaryCrossEntropy, CrossEntropy
from .model import History, Sequential, TrainingDivergedWarning
from .optim import SGD, Adam, Momentum

__version__ = "0.1.0"

__all__ = [
    "activations", "data", "diagnostics", "gradcheck", "layers", "losses", "metrics", "optim",
    "Dense", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "BatchNorm", "Dropout",
    "MSE", "BinaryCrossEntropy", "CrossEntropy",
    "SGD", "Momentum", "Adam",
    "Sequential", "History", "TrainingDivergedWarning",
]


def __getattr__(name):
    # Modules that import matplotlib / ipywidgets load only when first used,
    # so `import nnlib` stays fast.
    if name in ("plot", "widgets", "autograd", "saving", "validation", "conv", "sampling"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")

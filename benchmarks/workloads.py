"""The benchmark's three workloads, and one trainer per library doing the same work on them.

The same work means: float32 throughout; the same initial weights (nnlib's Xavier
init, zero biases); the same mini-batches in the same order (one permutation per
epoch, drawn from one seeded Generator); softmax cross-entropy on logits; Adam with
lr, betas (0.9, 0.999) and eps 1e-8; no weight decay. Each trainer returns the
duration of every epoch and the training accuracy reached.

nnlib trains with ``Sequential.fit``, PyTorch with the usual loop over an
``nn.Sequential`` and ``torch.optim.Adam`` (defaults), scikit-learn with
``MLPClassifier(solver="adam").fit``. Only the training itself is timed: building
the model and copying the weights in happen before the clock starts.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np

import nnlib
from nnlib import CrossEntropy, Dense, ReLU, Sequential

SEED = 0


@dataclass(frozen=True)
class Workload:
    key: str
    name: str
    data: str           # what the data is, "{n}" standing for the number of examples
    sizes: tuple        # layer widths, input first
    batch: int
    epochs: int
    lr: float
    n: int              # examples (the data set decides for W2)

    @property
    def macs_per_example(self):
        """sum over layers of in x out: one multiply-add each, per example, forward."""
        return sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def describe(self):
        arch = "-".join(map(str, self.sizes))
        data = self.data.format(n=self.n)
        return f"{self.key} {self.name}: {data}, {arch} ReLU, batch {self.batch}, {self.epochs} epochs, Adam lr {self.lr:g}"


WORKLOADS = [
    Workload("W1", "playground", "2-D spirals, 3 classes, {n:,} points", (2, 16, 16, 3), 32, 50, 0.01, 1500),
    Workload("W2", "digits", "8x8 digits (scikit-learn's bundled copy), {n:,} images", (64, 128, 10), 64, 30, 0.001, 1797),
    Workload("W3", "mnist-size", "{n:,} random 784-dim inputs, labels from a fixed linear teacher",
             (784, 256, 128, 10), 128, 2, 0.001, 60000),
]

# --tiny: the same code paths on small sizes, so that a test can run them in seconds.
TINY = {"W1": dict(n=150, epochs=2), "W2": dict(n=200, epochs=2), "W3": dict(n=512, epochs=1)}


def workloads(tiny=False):
    if not tiny:
        return list(WORKLOADS)
    return [replace(w, **TINY[w.key]) for w in WORKLOADS]


# --- data --------------------------------------------------------------------
def load_data(w):
    """(X float32 (n, in), y int64 (n,), note): the workload's training set."""
    if w.key == "W1":
        X, y = nnlib.data.spirals(w.n, k=3, noise=0.05, seed=SEED)
        note = ""
    elif w.key == "W2":
        X, y, note = _digits(w.n)
    else:
        rng = np.random.default_rng(SEED)
        X = rng.standard_normal((w.n, w.sizes[0]), dtype=np.float32)
        teacher = rng.standard_normal((w.sizes[0], w.sizes[-1]))
        y = np.argmax(X @ teacher, axis=1)
        note = ""
    return np.ascontiguousarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64), note


def _digits(n):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        # Without scikit-learn: 64 features in [0, 1], 10 classes, as noisy prototypes.
        centers = np.random.default_rng(SEED).uniform(0, 1, size=(10, 64))
        X, y = nnlib.data.blobs(n, centers=centers, spread=0.3, seed=SEED)
        return np.clip(X, 0, 1), y, "substitute data (scikit-learn not installed): 10 noisy 64-dim prototypes"
    digits = load_digits()
    return digits.data[:n] / 16.0, digits.target[:n], ""


def initial_weights(w):
    """[(W (in, out), b (out,)), ...] float32: nnlib's default init, the same for every library."""
    return [(Dense(a, b, rng=SEED + i, dtype=np.float32).W.copy(), np.zeros(b, np.float32))
            for i, (a, b) in enumerate(zip(w.sizes[:-1], w.sizes[1:]))]


def epoch_orders(n, epochs):
    """The permutation of every epoch, as Sequential.fit(seed=SEED) draws them."""
    rng = np.random.default_rng(SEED)
    return [rng.permutation(n) for _ in range(epochs)]


def _durations(starts, end):
    return list(np.diff(np.array(starts + [end])))


# --- nnlib ---------------------------------------------------------------------
class _EpochClock(np.random.Generator):
    """The Generator of seed SEED, noting the time whenever fit draws an epoch's permutation."""

    def __init__(self):
        super().__init__(np.random.PCG64(SEED))
        self.starts, self.orders = [], []

    def permutation(self, x, axis=0):
        self.starts.append(time.perf_counter())
        order = super().permutation(x, axis)
        self.orders.append(order)
        return order


def nnlib_model(init):
    """The workload's network as an nnlib Sequential, float32, starting from init."""
    layers = []
    for i, (W, b) in enumerate(init):
        dense = Dense(*W.shape, dtype=np.float32)
        dense.W, dense.b = W, b
        layers += [dense, ReLU()] if i < len(init) - 1 else [dense]
    return Sequential(layers)


def train_nnlib(w, X, y, init, orders):
    model = nnlib_model(init)
    clock = _EpochClock()
    model.fit(X, y, loss=CrossEntropy(), optimizer=nnlib.Adam(w.lr), epochs=w.epochs,
              batch_size=w.batch, seed=clock, verbose=False)
    end = time.perf_counter()
    if len(clock.orders) != w.epochs or not all(np.array_equal(a, b) for a, b in zip(clock.orders, orders)):
        raise RuntimeError("nnlib's fit did not draw one permutation per epoch as expected: "
                           "the benchmark's epoch clock and batch order need updating")
    return _durations(clock.starts, end), model.evaluate(X, y)["accuracy"]


# --- the same training in plain numpy, with no library around it ------------------
def _flat_arrays(init, count):
    """count flat float32 arrays of the model's size, the first two holding the parameters (init's
    values) and their gradients; and the per-layer views [W], [b], [dW], [db] into those two."""
    n_params = sum(W.size + b.size for W, b in init)
    flat = [np.zeros(n_params, np.float32) for _ in range(count)]
    views, at = ([], [], [], []), 0
    for W, b in init:
        for k, src in enumerate((W, b)):
            views[k].append(flat[0][at:at + src.size].reshape(src.shape))
            views[k + 2].append(flat[1][at:at + src.size].reshape(src.shape))
            views[k][-1][...] = src
            at += src.size
    return flat, views


def _plain_result(X, y, Ws, bs, durations, return_weights):
    """(durations, training accuracy[, trained weights]) for the plain-numpy trainers."""
    h = X
    for i in range(len(Ws)):
        h = h @ Ws[i] + bs[i]
        if i < len(Ws) - 1:
            h = np.maximum(h, 0)
    accuracy = float(np.mean(h.argmax(axis=1) == y))
    if return_weights:
        return durations, accuracy, [(W.copy(), b.copy()) for W, b in zip(Ws, bs)]
    return durations, accuracy


def train_plain_numpy(w, X, y, init, orders, return_weights=False):
    """The same training as nnlib's, written as lean as plain numpy allows, for comparison.

    No library and no checks: every array is allocated once before the clock starts
    (parameters, gradients and Adam's state each in one flat array, activations and
    their gradients written in place with out=), and the loop does only the arithmetic.
    It shows what plain numpy reaches at this size: nnlib's own overhead is whatever
    lies between the two. Like the other trainers it computes each batch's loss
    (fit logs it, and stops on NaN); unlike fit it computes no training accuracy per batch.
    Returns (epoch durations, training accuracy), and the trained [(W, b), ...] too
    when return_weights (the tests check it computes what nnlib computes).
    """
    f32 = np.float32
    sizes = [W.shape[0] for W, _ in init] + [init[-1][0].shape[1]]
    (P, G, M, V, T), (Ws, bs, dWs, dbs) = _flat_arrays(init, 5)
    n, B, L = len(X), w.batch, len(init)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, w.lr
    buffers = {size: ([np.empty((size, k), f32) for k in sizes[1:]],
                      [np.empty((size, k), f32) for k in sizes[1:]], np.arange(size))
               for size in {min(B, n - start) for start in range(0, n, B)}}   # the last batch may be smaller

    step, starts = 0, []
    for order in orders:
        starts.append(time.perf_counter())
        total = 0.0
        for start in range(0, n, B):
            idx = order[start:start + B]
            hs, ds, rows = buffers[len(idx)]
            xb = X[idx]                                         # (faster than np.take(X, idx, out=buffer))
            yb = y[idx]
            x = xb
            for i in range(L):                                  # forward: h = relu(x W + b)
                np.matmul(x, Ws[i], out=hs[i])
                hs[i] += bs[i]
                if i < L - 1:
                    np.maximum(hs[i], 0, out=hs[i])
                x = hs[i]
            z, d = hs[-1], ds[-1]                               # softmax cross-entropy on the logits
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=d)
            d /= d.sum(axis=1, keepdims=True)
            total += -np.log(d[rows, yb]).sum()                # the batch's loss, as every trainer reports it
            d[rows, yb] -= 1
            d *= f32(1 / len(idx))
            for i in reversed(range(L)):                        # backward
                np.matmul((xb if i == 0 else hs[i - 1]).T, ds[i], out=dWs[i])
                ds[i].sum(axis=0, out=dbs[i])
                if i > 0:
                    np.matmul(ds[i], Ws[i].T, out=ds[i - 1])
                    ds[i - 1] *= hs[i - 1] > 0
            step += 1                                           # Adam, on the flat arrays
            c1, c2 = 1 - b1 ** step, math.sqrt(1 - b2 ** step)   # Python floats: a numpy float64 would make float32 ops slow
            M *= b1
            M += np.multiply(G, 1 - b1, out=T)
            V *= b2
            V += np.multiply(np.square(G, out=T), 1 - b2, out=T)
            np.sqrt(V, out=T)
            T += eps * c2
            np.divide(M, T, out=T)
            T *= lr * c2 / c1
            P -= T
    end = time.perf_counter()
    return _plain_result(X, y, Ws, bs, _durations(starts, end), return_weights)


def train_plain_inlined(w, X, y, init, orders, return_weights=False):
    """nnlib's own arithmetic, numpy call for numpy call, inlined in one loop: no layer objects, no checks.

    Between the tuned trainer above and nnlib's fit, to tell where nnlib's time goes. It computes
    as nnlib's code does: fresh arrays for the activations and their gradients, the weight
    gradients written into one flat gradient array (out=), log-softmax cross-entropy, Adam as
    chapter 8's formula (m_hat, v_hat) over one flat parameter array in 128 kB slices, and the
    epoch's accuracy from every batch's output. Against the tuned trainer it measures what the
    readable arithmetic costs (temporaries, the formula-shaped Adam); nnlib against it measures
    what the layer objects, the loss object and fit's loop cost in Python.
    Returns what train_plain_numpy returns.
    """
    from nnlib.optim import CHUNK_BYTES

    f32 = np.float32
    (P, G, M, V), (Ws, bs, dWs, dbs) = _flat_arrays(init, 4)
    n_params = P.size
    n, B, L = len(X), w.batch, len(Ws)
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, w.lr
    chunk = CHUNK_BYTES // P.itemsize

    t, starts = 0, []
    for order in orders:
        starts.append(time.perf_counter())
        total, outputs = 0.0, np.empty((n, Ws[-1].shape[1]), f32)
        for start in range(0, n, B):
            idx = order[start:start + B]
            xs, masks = [X[idx]], []
            yb = y[idx]
            for i in range(L):                                  # forward, as Dense and ReLU compute it
                h = xs[-1] @ Ws[i]
                h += bs[i]
                if i < L - 1:
                    masks.append(h > 0)
                    h = np.maximum(h, 0)
                xs.append(h)
            z = xs[-1]                                          # CrossEntropy: log-softmax
            shifted = z - z.max(axis=1, keepdims=True)
            logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            rows = np.arange(len(idx))
            total += float(-logp[rows, yb].sum() / len(idx)) * len(idx)
            g = np.exp(logp)
            g[rows, yb] -= 1
            g /= len(idx)
            for i in reversed(range(L)):                        # backward, as Dense and ReLU compute it
                np.matmul(xs[i].T, g, out=dWs[i])
                g.sum(axis=0, out=dbs[i])
                if i > 0:
                    g = (g @ Ws[i].T) * masks[i - 1]
            t += 1                                              # Adam, chapter 8's formula, in slices
            for part in (slice(s, s + chunk) for s in range(0, n_params, chunk)):
                w_, g_, m, v = P[part], G[part], M[part], V[part]
                m *= b1
                m += (1 - b1) * g_
                v *= b2
                v += (1 - b2) * np.square(g_)
                m_hat = m / (1 - b1 ** t)
                v_hat = v / (1 - b2 ** t)
                w_ -= lr * m_hat / (np.sqrt(v_hat) + eps)
            outputs[start:start + B] = z
        float(np.mean(outputs.argmax(axis=1) == y[order]))      # the epoch's accuracy, as fit logs it
    end = time.perf_counter()
    return _plain_result(X, y, Ws, bs, _durations(starts, end), return_weights)


# --- PyTorch -------------------------------------------------------------------
def train_torch(w, X, y, init, orders):
    import torch

    layers = []
    for i, (W, b) in enumerate(init):
        linear = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))   # torch stores (out, in)
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()] if i < len(init) - 1 else [linear]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=w.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n, starts = len(X), []
    for order in orders:
        starts.append(time.perf_counter())
        order = torch.from_numpy(order)
        total = 0.0
        for start in range(0, n, w.batch):
            idx = order[start:start + w.batch]
            xb, yb = Xt[idx], yt[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
    end = time.perf_counter()
    with torch.no_grad():
        accuracy = (model(Xt).argmax(dim=1) == yt).float().mean().item()
    return _durations(starts, end), accuracy


# --- scikit-learn ----------------------------------------------------------------
def train_sklearn(w, X, y, init, orders):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.neural_network import _multilayer_perceptron as mlp

    clf = MLPClassifier(
        hidden_layer_sizes=w.sizes[1:-1], activation="relu", solver="adam", alpha=0.0,
        batch_size=w.batch, learning_rate_init=w.lr, max_iter=w.epochs, shuffle=True,
        tol=0.0, n_iter_no_change=w.epochs + 1, warm_start=True, random_state=SEED,
    )
    # Let scikit-learn set itself up (classes, float32 arrays) on a few examples, then
    # put in the shared initial weights; fit() below starts a fresh Adam (warm_start
    # keeps the weights, not the optimizer).
    clf.partial_fit(X[:w.batch], y[:w.batch], classes=np.arange(w.sizes[-1]))
    for coef, intercept, (W, b) in zip(clf.coefs_, clf.intercepts_, init):
        coef[...], intercept[...] = W, b

    # MLPClassifier shuffles each epoch with sklearn.utils.shuffle: hand it our order instead.
    starts, pending = [], list(orders)

    def our_order(sample_idx, random_state=None):
        starts.append(time.perf_counter())
        return pending.pop(0)

    original = mlp.shuffle
    mlp.shuffle = our_order
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
    finally:
        mlp.shuffle = original
    end = time.perf_counter()
    if pending or len(starts) != w.epochs:
        raise RuntimeError("MLPClassifier did not shuffle once per epoch as expected: "
                           "the benchmark's batch-order hook needs updating")
    return _durations(starts, end), float(clf.score(X, y))


def train_nnlib_before(w, X, y, init, orders):
    """train_nnlib with another copy of nnlib, imported as the package ``nnlib_before``
    (bench.py --before DIR puts DIR on the path): before and after a change, in one run."""
    import nnlib_before as nb

    layers = []
    for i, (W, b) in enumerate(init):
        dense = nb.Dense(*W.shape, dtype=np.float32)
        dense.W, dense.b = W, b
        layers += [dense, nb.ReLU()] if i < len(init) - 1 else [dense]
    model = nb.Sequential(layers)
    clock = _EpochClock()
    model.fit(X, y, loss=nb.CrossEntropy(), optimizer=nb.Adam(w.lr), epochs=w.epochs,
              batch_size=w.batch, seed=clock, verbose=False)
    end = time.perf_counter()
    return _durations(clock.starts, end), model.evaluate(X, y)["accuracy"]


TRAINERS = {"nnlib": train_nnlib, "torch": train_torch, "sklearn": train_sklearn}
LABELS = {"nnlib": "nnlib", "torch": "PyTorch", "sklearn": "scikit-learn"}


# --- what W3's nnlib epoch is made of --------------------------------------------
def flops(w):
    """(by the issue's convention 6 x sum(in x out), actually performed) per example, one training step.

    Performed: forward x W (2 per multiply-add), dL/dW = x.T g (2), dL/dx = g W.T (2)
    except for the first layer, whose input gradient nobody needs.
    """
    s = w.macs_per_example
    return 6 * s, 6 * s - 2 * w.sizes[0] * w.sizes[1]


def matmuls_only(w, n):
    """Seconds for one epoch of just the training step's matmuls, in numpy, into preallocated outputs."""
    rng = np.random.default_rng(SEED)
    Ws = [rng.standard_normal((a, b), dtype=np.float32) / np.float32(np.sqrt(a))
          for a, b in zip(w.sizes[:-1], w.sizes[1:])]
    dWs = [np.empty_like(W) for W in Ws]
    sizes = [min(w.batch, n - s) for s in range(0, n, w.batch)]
    acts = {B: [rng.standard_normal((B, a), dtype=np.float32) for a in w.sizes] for B in set(sizes)}
    grads = {B: [np.empty((B, a), np.float32) for a in w.sizes] for B in set(sizes)}
    start = time.perf_counter()
    for B in sizes:
        a, g = acts[B], grads[B]
        for i, W in enumerate(Ws):                       # forward: x W
            np.matmul(a[i], W, out=a[i + 1])
        for i in reversed(range(len(Ws))):               # backward: x.T g, and g W.T but for layer 0
            np.matmul(a[i].T, a[i + 1], out=dWs[i])
            if i > 0:
                np.matmul(a[i + 1], Ws[i].T, out=g[i])
    return time.perf_counter() - start


def adam_only(w, init, n):
    """Seconds for one epoch of just nnlib's Adam updates on the model's parameters (laid out as fit has them)."""
    model = Sequential([Dense(*W.shape, dtype=np.float32) for W, _ in init])
    params, grads = model.parameters(), model.gradients()
    rng = np.random.default_rng(SEED)
    for g in grads:
        g[...] = rng.standard_normal(g.shape, dtype=np.float32) * 1e-2
    optimizer = nnlib.Adam(w.lr)
    steps = -(-n // w.batch)
    optimizer.step(params, grads)
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step(params, grads)
    return time.perf_counter() - start

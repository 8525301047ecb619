"""Self-checks for exercise 10, convolution: backward passes the chapter did not derive, and a
prediction about a small convolutional stack.

Every check calls the learner's functions with plain data (numbers, arrays) and compares with
nnlib's Conv2D / MaxPool2D and with numerical gradients; the mistakes seen most often get a
message of their own. ``POINTS`` are the nbgrader points of each question.
"""
from __future__ import annotations

import numpy as np

from nnlib.activations import ReLU
from nnlib.conv import Conv2D, GlobalAvgPool2D, MaxPool2D
from nnlib.gradcheck import numerical_gradient
from nnlib.layers import Dense
from nnlib.model import Sequential
from . import as_array, check, expect, expect_callable, expect_close, expect_tuple, is_close
from . import progress as _progress

POINTS = {"conv_backward": 4, "maxpool_backward": 3, "predicted_stack": 3}


def progress():
    """The running total of this exercise's self-checks (the last cell of the exercise)."""
    return _progress(POINTS)


# --- Question 1: a convolution's backward pass, several channels in and out -----------------------

def conv_forward(x, W, b):
    """nnlib's Conv2D on one image x (C, H, W) with kernels W (O, C, k, k) and biases b (O,)."""
    O, C, k, _ = W.shape
    layer = Conv2D(C, O, k)
    layer.W[...] = W
    layer.b[...] = b
    return layer.forward(np.asarray(x, dtype=float)[None])[0]


def _dx_formula(G, W, shape):
    """Each input pixel collects G times the kernel weight that multiplied it, over every window and output."""
    dx = np.zeros(shape)
    k, (ho, wo) = W.shape[2], G.shape[1:]
    for u in range(k):
        for v in range(k):
            dx[:, u:u + ho, v:v + wo] += np.einsum("oij,oc->cij", G, W[:, :, u, v])
    return dx


def _dw_formula(x, G, k):
    ho, wo = G.shape[1:]
    dW = np.zeros((G.shape[0], x.shape[0], k, k))
    for u in range(k):
        for v in range(k):
            dW[:, :, u, v] = np.einsum("oij,cij->oc", G, x[:, u:u + ho, v:v + wo])
    return dW


def _conv_case(rng, C, O, k, H, Wd):
    x, W, b = rng.standard_normal((C, H, Wd)), rng.standard_normal((O, C, k, k)), rng.standard_normal(O)
    G = rng.standard_normal((O, H - k + 1, Wd - k + 1))

    def loss():
        return float(np.sum(conv_forward(x, W, b) * G))

    numeric = tuple(numerical_gradient(loss, a) for a in (x, W, b))
    return x, W, b, G, numeric


def _conv_dx_mistakes(dx, x, W, G, where):
    C, H, Wd = x.shape
    O, k = W.shape[0], W.shape[2]
    shape = np.shape(dx)
    expect(shape != (O, H, Wd), f"{where}, dx has shape {shape}: one map per OUTPUT channel. dL/dx has the input's "
                                f"shape ({C}, {H}, {Wd}): each input channel c collects from every output channel o, "
                                "through W[o, c]; sum over o, not over c.")
    expect(shape != (O, C, H, Wd), f"{where}, dx has shape {shape}: you kept one gradient per output channel; "
                                   "sum them over the output channels o (every output map used every input channel).")
    expect(shape != (C, H - k + 1, Wd - k + 1) and shape != (C, H - k, Wd - k),
           f"{where}, dx has shape {shape}, the size of the output maps: dL/dx has the input's shape ({C}, {H}, {Wd}); "
           "pixels near the border are covered by fewer windows, but every pixel gets a gradient (off by one at the border).")
    right = _dx_formula(G, W, x.shape)
    if is_close(dx, _dx_formula(G, W[:, :, ::-1, ::-1], x.shape)) and not is_close(dx, right):
        expect(False, f"{where}, your dx uses the kernels flipped (upside down and left to right): pixel "
                      "x[c, i + u, j + v] was multiplied by W[o, c, u, v] in the window at (i, j), so that is the "
                      "weight its gradient G[o, i, j] comes back through.")
    if is_close(dx, -right):
        expect(False, f"{where}, your dx has the wrong sign: out grows with W * x, so dL/dx = +sum G * W.")
    if is_close(dx, right / np.prod(G.shape[1:])):
        expect(False, f"{where}, your dx is divided by the number of output positions: the gradient adds "
                      "the contributions of the windows, it does not average them.")


def _conv_dw_mistakes(dW, x, W, G, where):
    O, C, k = W.shape[0], W.shape[1], W.shape[2]
    shape = np.shape(dW)
    expect(shape != (C, O, k, k), f"{where}, dW has shape {shape}: transposed. W's axes are "
                                  f"(out channels, in channels, k, k) = {W.shape}, and so are dW's.")
    right = _dw_formula(x, G, k)
    if is_close(dW, right[:, :, ::-1, ::-1]) and not is_close(dW, right):
        expect(False, f"{where}, your dW is flipped (upside down and left to right): dL/dW[o, c, u, v] pairs "
                      "G[o, i, j] with x[c, i + u, j + v], the pixel W[o, c, u, v] multiplied.")
    if is_close(dW, right / np.prod(G.shape[1:])):
        expect(False, f"{where}, your dW is the mean over the {np.prod(G.shape[1:])} output positions: a shared "
                      "weight's gradient is the SUM of its gradients at every position (no 1/N).")
    if is_close(dW, -right):
        expect(False, f"{where}, your dW has the wrong sign.")
    if shape == W.shape and is_close(np.asarray(dW)[:, 0], right.sum(axis=1)):
        expect(False, f"{where}, your dW sums over the input channels: each (o, c) pair has a kernel of its own, "
                      "and dW[o, c] pairs G[o] with channel c of x only.")


def _conv_db_mistakes(db, G, where):
    O = G.shape[0]
    shape = np.shape(db)
    expect(shape != (), f"{where}, db is one number: there is one bias per output channel, shape ({O},); sum G over "
                        "the positions (axes 1 and 2) only, not over the channels too.")
    expect(shape != G.shape[1:], f"{where}, db has shape {shape}: you summed over the channels (axis 0). Each output "
                                 f"channel has one bias, added at every position: sum over axes 1 and 2, shape ({O},).")
    if is_close(db, G.mean(axis=(1, 2))):
        expect(False, f"{where}, db is the mean of G over the positions: the bias is added at every position, so "
                      "its gradient is the sum.")


@check("conv_backward")
def conv_backward(fn):
    expect_callable(fn, "conv_backward")
    rng = np.random.default_rng(1001)
    for C, O, k, H, Wd in [(2, 3, 3, 5, 6), (3, 2, 2, 4, 5), (1, 4, 3, 6, 6)]:
        x, W, b, G, (ndx, ndW, ndb) = _conv_case(rng, C, O, k, H, Wd)
        where = f"for x of shape {x.shape} and W of shape {W.shape}"
        dx, dW, db = expect_tuple(fn(x.copy(), W.copy(), G.copy()), ("dx", "dW", "db"), "conv_backward")
        if not is_close(dx, ndx, atol=1e-6, rtol=1e-4):
            _conv_dx_mistakes(dx, x, W, G, where)
        expect_close(dx, ndx, f"{where}, your dx (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
        if not is_close(dW, ndW, atol=1e-6, rtol=1e-4):
            _conv_dw_mistakes(dW, x, W, G, where)
        expect_close(dW, ndW, f"{where}, your dW (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
        if not is_close(db, ndb, atol=1e-6, rtol=1e-4):
            _conv_db_mistakes(db, G, where)
        expect_close(db, ndb, f"{where}, your db (compared with the numerical gradient)", atol=1e-6, rtol=1e-4)
    return "dx, dW and db agree with the numerical gradient for three channel layouts."


# --- Question 2: max pooling's backward pass ------------------------------------------------------

def maxpool_reference(x, grad_out, size):
    """nnlib's MaxPool2D backward for one map x (H, W)."""
    layer = MaxPool2D(size)
    layer.forward(np.asarray(x, dtype=float)[None, None])
    return layer.backward(np.asarray(grad_out, dtype=float)[None, None])[0, 0]


def _blocks(x, size):
    h, w = x.shape
    return x.reshape(h // size, size, w // size, size).transpose(0, 2, 1, 3)        # (H', W', size, size)


def _unblock(b):
    ho, wo, s, _ = b.shape
    return b.transpose(0, 2, 1, 3).reshape(ho * s, wo * s)


def _pool_variants(x, G, size):
    blocks = _blocks(x, size)
    top = blocks.max(axis=(2, 3), keepdims=True)
    ties = _unblock((blocks == top) * G[:, :, None, None])
    flat = blocks.reshape(*blocks.shape[:2], -1)
    last = size * size - 1 - flat[..., ::-1].argmax(-1)
    d_last = np.zeros_like(flat)
    np.put_along_axis(d_last, last[..., None], G[..., None], axis=-1)
    first = flat.argmax(-1)
    swapped = (first % size) * size + first // size                                # row and column exchanged
    d_swap = np.zeros_like(flat)
    np.put_along_axis(d_swap, swapped[..., None], G[..., None], axis=-1)
    return {
        "ties": ties,
        "last": _unblock(d_last.reshape(blocks.shape)),
        "average": np.kron(G, np.ones((size, size))) / size ** 2,
        "copied": np.kron(G, np.ones((size, size))),
        "swapped": _unblock(d_swap.reshape(blocks.shape)),
    }


POOL_MESSAGES = {
    "ties": "you sent the gradient to every pixel that ties for the maximum, so a block of equal values passes it "
            "on several times. The pooled output is ONE of them (here, as in np.argmax and MaxPool2D, the first in "
            "row-major order): only that pixel gets G; the others get 0.",
    "last": "on a tie you sent the gradient to the LAST maximum of the block; the convention here (np.argmax, "
            "MaxPool2D) is the first one in row-major order.",
    "average": "you spread each block's gradient evenly over its pixels (G / size**2): that is average pooling's "
               "backward. A max changes only when its largest input does: all of G goes to the argmax, 0 elsewhere.",
    "copied": "you copied each block's gradient to every pixel of the block: only the pixel that held the maximum "
              "moved the output, so only it gets G; the others get 0.",
    "swapped": "your gradient lands on the right block but at the wrong pixel in it: row and column of the argmax "
               "are swapped (transposed). With k = argmax of the flattened block, row = k // size, column = k % size.",
}


@check("maxpool_backward")
def maxpool_backward(fn):
    expect_callable(fn, "maxpool_backward")
    rng = np.random.default_rng(1002)
    relu_map = np.maximum(rng.standard_normal((6, 6)) - 0.6, 0.0)                  # many blocks of zeros: ties
    relu_map[:2, :2] = 0.0
    levels = rng.integers(0, 3, (4, 6)).astype(float)                            # integer levels: ties everywhere
    cases = [(rng.standard_normal((4, 6)), 2, "a random 4x6 map"), (relu_map, 2, "a ReLU map with blocks of zeros"),
             (levels, 2, "a map of integer levels (many ties)"), (rng.standard_normal((6, 6)), 3, "a random 6x6 map, size 3")]
    for x, size, name in cases:
        G = rng.uniform(0.5, 2.0, (x.shape[0] // size, x.shape[1] // size))
        where = f"for {name} (size {size})"
        got = fn(x.copy(), G.copy(), size)
        expected = maxpool_reference(x, G, size)
        arr = as_array(got, f"{where}, your dx")
        expect(arr.shape != G.shape, f"{where}, dx has shape {arr.shape}, that of grad_out: dL/dx has x's shape "
                                     f"{x.shape}, one entry per input pixel.")
        if not is_close(arr, expected):
            for mistake, wrong in _pool_variants(x, G, size).items():
                if is_close(arr, wrong):
                    expect(False, f"{where}, {POOL_MESSAGES[mistake]}")
        expect_close(arr, expected, f"{where}, your dx")
    return "the gradient goes to each block's first maximum, ties included."


# --- Question 3: predict a stack's output shape, parameters and receptive field -----------------

STACK_SOURCE = ("Sequential([Conv2D(3, 8, 5, padding=2), ReLU(), MaxPool2D(2),\n"
                "            Conv2D(8, 16, 3, stride=2), ReLU(), GlobalAvgPool2D(), Dense(16, 10)])")
IMAGE = (3, 32, 32)


def build_stack():
    return Sequential([Conv2D(3, 8, 5, padding=2, rng=0), ReLU(), MaxPool2D(2),
                       Conv2D(8, 16, 3, stride=2, rng=1), ReLU(), GlobalAvgPool2D(), Dense(16, 10, rng=2)])


def _field(layers):
    """Receptive field side of one output, by the rule r <- r + (k - 1) * jump, jump <- jump * stride."""
    r, jump = 1, 1
    for k, s in layers:
        r, jump = r + (k - 1) * jump, jump * s
    return r


STACK_ANSWER = ((16, 7, 7), 8 * 3 * 25 + 8 + 16 * 8 * 9 + 16 + 16 * 10 + 10, _field([(5, 1), (2, 2), (3, 2)]))


def _shape_hints(shape):
    hints = {(16, 6, 6): "without the padding: padding=2 keeps the first map at 32 x 32 (32 + 4 - 5 + 1).",
             (16, 14, 14): "without the stride of the second convolution: stride 2 roughly halves 16 - 3 + 1.",
             (16, 8, 8): "rounding up: (16 - 3) / 2 + 1 = 7.5, and the size is floor((H + 2p - k) / s) + 1 = 7.",
             (16, 15, 15): "without the max pooling: MaxPool2D(2) halves 32 x 32 to 16 x 16 first.",
             (8, 7, 7): "with 8 channels: a convolution's output has one channel per kernel, out_channels = 16.",
             (7, 7, 16): "in the wrong order: nnlib's images are (channels, height, width)."}
    return hints.get(shape)


@check("predicted_stack")
def predicted_stack(fn):
    expect_callable(fn, "predicted_stack")
    shape, params, field = expect_tuple(fn(), ("out_shape", "n_params", "field"), "predicted_stack")
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        expect(False, f"out_shape should be a tuple of three whole numbers (channels, height, width), got {shape!r}.")
    (want_shape, want_params, want_field) = STACK_ANSWER
    if shape != want_shape:
        hint = _shape_hints(shape)
        expect(hint is None, f"you predicted the second convolution's output {shape}: that is the shape {hint}")
        expect(False, f"you predicted the second convolution's output {shape}; apply the size rule layer by layer: "
                      "floor((H + 2p - k) / s) + 1 for a convolution, H // 2 for MaxPool2D(2).")
    for what, value in (("n_params", params), ("field", field)):
        expect(not isinstance(value, (bool, np.bool_)) and np.ndim(value) == 0,
               f"{what} should be one whole number, got {value!r}.")
    params, field = float(params), float(field)
    if params != want_params:
        hints = [(want_params - (8 + 16 + 10), "you left out the biases: one per output channel (and per Dense unit)."),
                 (8 * 25 + 8 + 16 * 9 + 16 + 170, "each kernel spans ALL input channels: a Conv2D(C, O, k) has "
                                                  "O * C * k * k weights, not O * k * k."),
                 (8 * 3 * 25 + 8 + 16 * 8 * 9 + 16, "you left out the last Dense(16, 10) layer."),
                 (8 * 3 * 25 + 8 + 16 * 8 * 9 + 16 + 16 * 7 * 7 * 10 + 10,
                  "GlobalAvgPool2D leaves one number per channel, so the Dense layer has 16 inputs, not 16 * 7 * 7.")]
        for value, hint in hints:
            expect(params != value, f"you predicted {params:.0f} parameters: {hint}")
        expect(False, f"you predicted {params:.0f} parameters; count O * C * k * k + O for each Conv2D, "
                      "inputs * units + units for the Dense layer, and 0 for ReLU and the pooling layers.")
    if field != want_field:
        hints = [(5 + 3 - 1, "that stacks the two kernels as if nothing stood between them; the max pool in between "
                             "widens the field and makes each step of the second convolution move further across the input."),
                 (_field([(5, 1), (1, 2), (3, 2)]), "the 2 x 2 max pool itself widens the field by one pixel (of its "
                                                    "input) before it doubles the step."),
                 (5 + 1 + 2, "the pooling doubles the step: after MaxPool2D(2) neighbouring inputs of the second "
                             "convolution are 2 pixels apart, so its 3 x 3 window adds (3 - 1) * 2 pixels."),
                 (6 + 2 * 4, "a layer's own stride does not widen its field; only the steps of the layers before it "
                             "(here the pool's 2) do.")]
        for value, hint in hints:
            expect(field != value, f"you predicted a receptive field of {field:.0f} pixels: {hint}")
        expect(False, f"you predicted a receptive field of {field:.0f} pixels; go layer by layer: a layer of size k adds "
                      "(k - 1) times the product of the strides before it.")
    return (f"output {want_shape}, {want_params} parameters, a field of {want_field} x {want_field} pixels. "
            "Run the next cell to measure them.")


def measure_stack(n_images=20, seed=0):
    """Build the stack, run it on random images: the second conv's output shape, the parameter count,
    and the receptive field of a central output (where its input gradient is non-zero)."""
    net = build_stack()
    x = np.random.default_rng(seed).standard_normal((n_images, *IMAGE))
    head = Sequential(net.layers[:4])                     # up to the second convolution
    out = head.forward(x)
    grad = np.zeros_like(out)
    grad[:, 0, out.shape[2] // 2, out.shape[3] // 2] = 1.0
    dx = np.abs(head.backward(grad)).sum(axis=(0, 1))
    rows, cols = np.nonzero(dx)
    return out.shape[1:], net.count_params(), (int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1), dx


def verify_stack(fn):
    """The experiment after the prediction: measured shape, parameter count, receptive field.
    It waits for the prediction: the measurement is shown once there is one to compare it with."""
    try:
        guess = fn()
    except NotImplementedError:
        print("⏳ make your prediction in predicted_stack() first, then run this cell again.")
        return
    except Exception as exc:
        print(f"❌ predicted_stack() raised {type(exc).__name__}: {exc}")
        return
    shape, params, field, _ = measure_stack()
    shape = tuple(int(s) for s in shape)
    print(f"measured: second convolution's output {shape} per image, {params:,} parameters, "
          f"a central output depends on a {field[0]} x {field[1]} patch of pixels")
    try:
        guess = (tuple(int(s) for s in guess[0]), float(guess[1]), float(guess[2]))
    except Exception as exc:
        print(f"❌ your prediction could not be read as (out_shape, n_params, field) ({type(exc).__name__}: {exc}).")
        return
    for name, g, m in (("output shape", guess[0], shape), ("parameters", guess[1], params),
                       ("receptive field", guess[2], field[0])):
        print(f"{name}: you predicted {g if isinstance(g, tuple) else f'{g:.0f}'}: "
              f"{'held' if g == m else 'did not hold'}.")

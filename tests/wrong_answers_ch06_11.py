"""The catalogue of wrong answers for exercises 06-11 (data for tests/test_wrong_answers_ch06_11.py).

CATALOGUE[chapter][question] is a list of (answer cell source, words the check's message must
contain). Each source replaces the whole answer cell of that question; the message words name
the mistake (not only "expected X").
"""

CATALOGUE = {}

CATALOGUE["06_training_failures"] = {
    "predicted_ratio": [
        ("def predicted_ratio():\n    return 0.25 ** 6\n", "off by one"),
        ("def predicted_ratio():\n    return 0.5 ** 5\n", "not 1/2"),
        ("def predicted_ratio():\n    return 0.25\n", "the factors compound"),
        ("def predicted_ratio():\n    return 0.25 * 5\n", "multiply, they do not add"),
    ],
    "vanishing_layer": [
        ("def vanishing_layer(norms, ratio=1e-3):\n    norms = np.asarray(norms, dtype=float)\n"
         "    below = np.flatnonzero(norms < ratio * norms[-1])\n    return int(below[-1]) if below.size else None\n",
         "number the layers from 1"),
        ("def vanishing_layer(norms, ratio=1e-3):\n    norms = np.asarray(norms, dtype=float)\n"
         "    return int(np.sum(norms < ratio * norms[-1])) or None\n", "the number of layers below the threshold"),
        ("def vanishing_layer(norms, ratio=1e-3):\n    norms = np.asarray(norms, dtype=float)\n"
         "    below = np.flatnonzero(norms < ratio * norms.max())\n    return int(below[-1]) + 1 if below.size else None\n",
         "compared with the largest norm"),
        ("def vanishing_layer(norms, ratio=1e-3):\n    norms = np.asarray(norms, dtype=float)\n"
         "    below = np.flatnonzero(norms < ratio * norms[-1])\n    return int(below[-1]) + 1 if below.size else 0\n",
         "expected None, got 0"),
    ],
    "batchnorm_forward": [
        ("def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.9, eps=1e-5):\n"
         "    mu, var = (x.mean(0), x.var(0, ddof=1)) if training else (running_mean, running_var)\n"
         "    if training:\n"
         "        running_mean = momentum * running_mean + (1 - momentum) * mu\n"
         "        running_var = momentum * running_var + (1 - momentum) * var\n"
         "    return gamma * (x - mu) / np.sqrt(var + eps) + beta, running_mean, running_var\n",
         "np.var with ddof=1"),
        ("def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.9, eps=1e-5):\n"
         "    mu, var = (x.mean(1, keepdims=True), x.var(1, keepdims=True)) if training else (running_mean, running_var)\n"
         "    if training:\n"
         "        running_mean = momentum * running_mean + (1 - momentum) * x.mean(0)\n"
         "        running_var = momentum * running_var + (1 - momentum) * x.var(0)\n"
         "    return gamma * (x - mu) / np.sqrt(var + eps) + beta, running_mean, running_var\n",
         "normalised each example (axis=1)"),
        ("def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.9, eps=1e-5):\n"
         "    mu, var = (x.mean(0), x.var(0)) if training else (running_mean, running_var)\n"
         "    if training:\n"
         "        running_mean = (1 - momentum) * running_mean + momentum * mu\n"
         "        running_var = (1 - momentum) * running_var + momentum * var\n"
         "    return gamma * (x - mu) / np.sqrt(var + eps) + beta, running_mean, running_var\n",
         "PyTorch's convention"),
        ("def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.9, eps=1e-5):\n"
         "    mu, var = x.mean(0), x.var(0)\n"
         "    if training:\n"
         "        running_mean = momentum * running_mean + (1 - momentum) * mu\n"
         "        running_var = momentum * running_var + (1 - momentum) * var\n"
         "    return gamma * (x - mu) / np.sqrt(var + eps) + beta, running_mean, running_var\n",
         "at inference you used the batch's statistics"),
        ("def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.9, eps=1e-5):\n"
         "    mu, var = (x.mean(0), x.var(0)) if training else (running_mean, running_var)\n"
         "    if training:\n"
         "        running_mean = momentum * running_mean + (1 - momentum) * mu\n"
         "        running_var = momentum * running_var + (1 - momentum) * x.var(0, ddof=1)\n"
         "    return gamma * (x - mu) / np.sqrt(var + eps) + beta, running_mean, running_var\n",
         "unbiased batch variance (ddof=1): that is PyTorch's convention"),
    ],
}

_BN_HEAD = ("def batchnorm_backward(dout, x, gamma, eps=1e-5):\n    n = x.shape[0]\n"
            "    inv = 1.0 / np.sqrt(x.var(0) + eps)\n    xh = (x - x.mean(0)) * inv\n    g = dout * gamma\n")
CATALOGUE["06_training_failures"]["batchnorm_backward"] = [
    (_BN_HEAD + "    return g * inv, (dout * xh).sum(0), dout.sum(0)\n", "treated the batch mean and variance as constants"),
    (_BN_HEAD + "    return inv * (g - g.mean(0)), (dout * xh).sum(0), dout.sum(0)\n", "not the one through the variance"),
    (_BN_HEAD + "    return inv * (g - g.sum(0) - xh * (g * xh).sum(0)), (dout * xh).sum(0), dout.sum(0)\n", "they are means"),
    (_BN_HEAD + "    return inv * (g - g.mean(0) - xh * (g * xh).mean(0)), dout * xh, dout.sum(0)\n", "sum over the batch (axis=0)"),
    (_BN_HEAD + "    return inv * (dout - dout.mean(0) - xh * (dout * xh).mean(0)), (dout * xh).sum(0), dout.sum(0)\n",
     "forgot the factor gamma"),
]

_PICK = "def pick_learning_rate(lrs, dead, accuracy, max_dead=0.1, min_accuracy=0.95):\n"
CATALOGUE["06_training_failures"]["pick_learning_rate"] = [
    (_PICK + "    good = [lr for lr, d, a in zip(lrs, dead, accuracy) if d <= max_dead and a >= min_accuracy]\n"
             "    return min(good) if good else None\n", "the smallest good rate"),
    (_PICK + "    good = [lr for lr, d in zip(lrs, dead) if d <= max_dead]\n    return max(good) if good else None\n",
     "must also reach accuracy 0.95"),
    (_PICK + "    good = [lr for lr, a in zip(lrs, accuracy) if a >= min_accuracy]\n    return max(good) if good else None\n",
     "at most 10% may be"),
    (_PICK + "    good = [lr for lr, d, a in zip(lrs, dead, accuracy) if d < max_dead and a > min_accuracy]\n"
             "    return max(good) if good else None\n", "use <= and >="),
    (_PICK + "    good = [i for i, (d, a) in enumerate(zip(dead, accuracy)) if d <= max_dead and a >= min_accuracy]\n"
             "    return max(good, key=lambda i: lrs[i]) if good else None\n", "the position of the rate in the list"),
]

_ADAM = ("def adam_step(w, g, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):\n"
         "    m = beta1 * m + (1 - beta1) * g\n    v = beta2 * v + (1 - beta2) * g ** 2\n")
_MOM = "def momentum_step(w, g, v, lr, beta):\n"
_ACC = "def accumulate(grads, sizes):\n"
_MB = "def minibatches(n, batch_size, rng):\n"
_PRED = "def predicted_first_steps():\n"
CATALOGUE["08_optimizers"] = {
    "momentum_step": [
        (_MOM + "    v = beta * v + (1 - beta) * g\n    return w - lr * v, v\n", "a running average of the gradients"),
        (_MOM + "    v = beta * v + lr * g\n    return w - lr * v, v\n", "the learning rate belongs in the weight update"),
        (_MOM + "    w = w - lr * v\n    v = beta * v + g\n    return w, v\n", "moved along the old velocity"),
        (_MOM + "    v = beta * v + g\n    return w + lr * v, v\n", "moved uphill"),
    ],
    "predicted_first_steps": [
        (_PRED + "    return 0.01, 0.01 * 0.1 / 0.001\n", "forgot the square root"),
        (_PRED + "    return 0.01, 0.01 * 0.1\n", "forgot that v shrinks too"),
        (_PRED + "    return 0.01, 0.01\n", "they no longer cancel"),
        (_PRED + "    return 0.001, 0.01 * 0.1 / np.sqrt(0.001)\n", "undoes the factor"),
    ],
    "adam_step": [
        (_ADAM + "    c = (1 - beta1 ** t, 1 - beta2 ** t) if bias_correction else (1, 1)\n"
                 "    return w - lr * (m / c[0]) / (v / c[1] + eps), m, v\n", "square root"),
        (_ADAM + "    c = (1 - beta1 ** (t + 1), 1 - beta2 ** (t + 1)) if bias_correction else (1, 1)\n"
                 "    return w - lr * (m / c[0]) / (np.sqrt(v / c[1]) + eps), m, v\n", "off by one"),
        (_ADAM + "    return w - lr * m / (np.sqrt(v) + eps), m, v\n", "you left out the correction"),
        (_ADAM + "    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)\n"
                 "    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v\n", "you still corrected m and v"),
        (_ADAM.replace("(1 - beta1) * g\n", "g\n") + "    c = (1 - beta1 ** t, 1 - beta2 ** t) if bias_correction else (1, 1)\n"
                 "    return w - lr * (m / c[0]) / (np.sqrt(v / c[1]) + eps), m, v\n", "adds the whole gradient"),
    ],
    "accumulate": [
        (_ACC + "    return sum(grads) / len(grads)\n", "in proportion to their size"),
        (_ACC + "    return sum(grads)\n", "without weights"),
        (_ACC + "    return sum(g * s for g, s in zip(grads, sizes))\n", "did not divide by the total"),
    ],
    "minibatches": [
        (_MB + "    order = np.arange(n)\n    return [order[i:i + batch_size] for i in range(0, n, batch_size)]\n", "shuffle"),
        (_MB + "    order = rng.permutation(n)\n    return [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]\n",
         "dropped the last, smaller batch"),
        (_MB + "    order = rng.integers(0, n, n)\n    return [order[i:i + batch_size] for i in range(0, n, batch_size)]\n",
         "sampled with replacement"),
    ],
}
from wrong_answers_ch07_09 import CATALOGUE_07_09  # noqa: E402
CATALOGUE.update(CATALOGUE_07_09)
from wrong_answers_ch10_11 import CATALOGUE_10_11  # noqa: E402
CATALOGUE.update(CATALOGUE_10_11)

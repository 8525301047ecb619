"""The catalogue of wrong answers for exercises 07 and 09 (merged into CATALOGUE by wrong_answers_ch06_11.py).

CATALOGUE_07_09[chapter][question] is a list of (answer cell source, words the check's message must
contain). Each source replaces the whole answer cell of that question; the message words name the
mistake (not only "expected X").
"""

_VAR = "def dropout_variance(a, rate):\n"
_SPREAD = "def predicted_spread():\n"
_LAYER = ("class MyDropout:\n    def __init__(self, rate, rng):\n        self.rate = rate\n        self.rng = rng\n"
          "        self.params, self.grads = {}, {}\n        self.keep = None\n\n")
_LAYER_RIGHT_FORWARD = ("    def forward(self, x, training=False):\n        if not training:\n            self.keep = None\n"
                        "            return x\n        self.keep = self.rng.random(x.shape) >= self.rate\n"
                        "        if self.rate == 1.0:\n            return np.zeros_like(x)\n"
                        "        return x * self.keep / (1 - self.rate)\n\n")
_LAYER_RIGHT_BACKWARD = ("    def backward(self, grad_out):\n        if self.keep is None:\n            return grad_out\n"
                         "        if self.rate == 1.0:\n            return np.zeros_like(grad_out)\n"
                         "        return grad_out * self.keep / (1 - self.rate)\n")
_DENSE = "def dense_after_dropout_backward(x, keep, rate, W, grad_out):\n    h = x * keep / (1 - rate)\n"

CATALOGUE_07_09 = {}

CATALOGUE_07_09["07_dropout"] = {
    "dropout_variance": [
        (_VAR + "    return a ** 2 * rate * (1 - rate)\n", "without the scaling"),
        (_VAR + "    return a * rate / (1 - rate)\n", "square of the activation"),
        (_VAR + "    return np.abs(a) * np.sqrt(rate / (1 - rate))\n", "that is the standard deviation"),
        (_VAR + "    return a ** 2 * (1 - rate) / rate if rate else 0 * a\n", "swapped rate and 1 - rate"),
        (_VAR + "    return a ** 2 / (1 - rate)\n", "the second moment"),
    ],
    "predicted_spread": [
        (_SPREAD + "    return 64 * 1.5, 64 * 1.5 ** 2 * 0.2 / 0.8\n", "that is the variance of z"),
        (_SPREAD + "    return 64 * 1.5, 64 * np.sqrt(1.5 ** 2 * 0.2 / 0.8)\n", "their variances add"),
        (_SPREAD + "    return 64 * 1.5, np.sqrt(64 * 1.5 ** 2 * 0.2 * 0.8)\n", "without the scaling"),
        (_SPREAD + "    return 64 * 1.5 * 0.8, 6.0\n", "the mean without the scaling"),
        (_SPREAD + "    return 64 * 1.5, np.sqrt(1.5 ** 2 * 0.2 / 0.8)\n", "standard deviation of one entry"),
    ],
    "dropout_layer": [
        # the stale mask: an inference pass does not forget the training pass's mask
        (_LAYER + "    def forward(self, x, training=False):\n        if not training:\n            return x\n"
                  "        self.keep = self.rng.random(x.shape) >= self.rate\n"
                  "        if self.rate == 1.0:\n            return np.zeros_like(x)\n"
                  "        return x * self.keep / (1 - self.rate)\n\n" + _LAYER_RIGHT_BACKWARD, "stale mask"),
        # dropout at inference too
        (_LAYER + "    def forward(self, x, training=False):\n        self.keep = self.rng.random(x.shape) >= self.rate\n"
                  "        if self.rate == 1.0:\n            return np.zeros_like(x)\n"
                  "        return x * self.keep / (1 - self.rate)\n\n" + _LAYER_RIGHT_BACKWARD,
         "there is no dropout at inference"),
        # backward without the scale
        (_LAYER + _LAYER_RIGHT_FORWARD + "    def backward(self, grad_out):\n        if self.keep is None:\n"
                  "            return grad_out\n        return grad_out * self.keep\n", "did not divide by 1 - rate"),
        # the mask drawn once and reused
        (_LAYER.replace("self.keep = None", "self.fixed = None\n        self.keep = None")
         + "    def forward(self, x, training=False):\n        if not training:\n            self.keep = None\n"
           "            return x\n        if self.fixed is None or self.fixed.shape != x.shape:\n"
           "            self.fixed = self.rng.random(x.shape) >= self.rate\n        self.keep = self.fixed\n"
           "        if self.rate == 1.0:\n            return np.zeros_like(x)\n"
           "        return x * self.keep / (1 - self.rate)\n\n" + _LAYER_RIGHT_BACKWARD, "used the same mask"),
        # no division guard at rate 1.0
        (_LAYER + "    def forward(self, x, training=False):\n        if not training:\n            self.keep = None\n"
                  "            return x\n        self.keep = self.rng.random(x.shape) >= self.rate\n"
                  "        return x * self.keep / np.float64(1 - self.rate)\n\n"
         + "    def backward(self, grad_out):\n        if self.keep is None:\n            return grad_out\n"
           "        return grad_out * self.keep / np.float64(1 - self.rate)\n", "without dividing by 1 - rate = 0"),
        # the keep rule reversed
        (_LAYER + _LAYER_RIGHT_FORWARD.replace(">= self.rate", "< self.rate") + _LAYER_RIGHT_BACKWARD,
         "keep those where it is >= rate"),
    ],
    "dense_after_dropout_backward": [
        (_DENSE + "    return (grad_out @ W.T) * keep / (1 - rate), x.T @ grad_out, grad_out.sum(0)\n",
         "the input before dropout"),
        (_DENSE + "    return grad_out @ W.T, h.T @ grad_out, grad_out.sum(0)\n", "your dx ignores the dropout"),
        (_DENSE + "    return (grad_out @ W.T) * keep, h.T @ grad_out, grad_out.sum(0)\n", "misses the factor"),
        (_DENSE + "    n = len(x)\n    return (grad_out @ W.T) * keep / (1 - rate), h.T @ grad_out / n, grad_out.sum(0)\n",
         "extra 1/N"),
        (_DENSE + "    return (grad_out @ W.T) * keep / (1 - rate), grad_out.T @ h, grad_out.sum(0)\n", "transposed"),
        (_DENSE + "    return (grad_out @ W.T) * keep / (1 - rate), h.T @ grad_out, grad_out.mean(0)\n",
         "the sum (axis=0)"),
    ],
}

_CE = ("def smoothed_cross_entropy(z, y, smoothing):\n    n, k = z.shape\n"
       "    t = (1 - smoothing) * np.eye(k)[y] + smoothing / k\n")
_LSE = ("    shifted = z - z.max(axis=1, keepdims=True)\n"
        "    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n    p = np.exp(log_p)\n")
_GAP = "def predicted_gap():\n    k, s = 10, 0.1\n"
_ML = "def multilabel_predict(logits, thresholds):\n"
_PC = "def pairwise_cost(K, n):\n"

CATALOGUE_07_09["09_multiclass"] = {
    "smoothed_cross_entropy": [
        # the log of a (stable) softmax: log(0) for logits of 1e4
        (_CE + "    e = np.exp(z - z.max(axis=1, keepdims=True))\n    p = e / e.sum(axis=1, keepdims=True)\n"
               "    return -np.sum(t * np.log(p)) / n, (p - t) / n\n", "log-sum-exp"),
        # the log of clipped probabilities: finite, but not exact
        (_CE + "    e = np.exp(z - z.max(axis=1, keepdims=True))\n    p = e / e.sum(axis=1, keepdims=True)\n"
               "    return -np.sum(t * np.log(np.clip(p, 1e-12, 1))) / n, (p - t) / n\n", "is not exact"),
        # the gradient with respect to p instead of z
        (_CE + _LSE + "    return -np.sum(t * log_p) / n, -t / p / n\n", "with respect to the probabilities p"),
        # the gradient of the summed loss
        (_CE + _LSE + "    return -np.sum(t * log_p) / n, p - t\n", "times too large"),
        # the gradient with the wrong sign
        (_CE + _LSE + "    return -np.sum(t * log_p) / n, (t - p) / n\n", "wrong sign"),
        # the smoothing left out of the gradient
        (_CE + _LSE + "    return -np.sum(t * log_p) / n, (p - np.eye(k)[y]) / n\n", "ignores the smoothing"),
        # the smoothing spread over the K - 1 wrong classes
        ("def smoothed_cross_entropy(z, y, smoothing):\n    n, k = z.shape\n    onehot = np.eye(k)[y]\n"
         "    t = (1 - smoothing) * onehot + smoothing / (k - 1) * (1 - onehot)\n" + _LSE
         + "    return -np.sum(t * log_p) / n, (p - t) / n\n", "K - 1 wrong classes"),
        # the summed loss
        (_CE + _LSE + "    return -np.sum(t * log_p), (p - t) / n\n", "the sum over the batch"),
    ],
    "predicted_gap": [
        (_GAP + "    return np.log((1 - s) / (s / k))\n", "gets its share of the smoothing"),
        (_GAP + "    return np.log((1 - s) / (s / (k - 1)))\n", "K - 1 wrong classes"),
        (_GAP + "    return (1 - s + s / k) / (s / k)\n", "the logits differ by its log"),
        (_GAP + "    return np.log10((1 - s + s / k) / (s / k))\n", "natural log"),
        (_GAP + "    return np.inf\n", "finite minimum"),
        (_GAP + "    return (1 - s + s / k) - s / k\n", "difference of the target probabilities"),
    ],
    "multilabel_predict": [
        (_ML + "    return (logits > thresholds).astype(int)\n", "compared the logits with the probability thresholds"),
        (_ML + "    return (logits >= np.log(thresholds / (1 - thresholds))).astype(int)\n", "use > rather than >="),
        (_ML + "    return (logits > np.log(thresholds)).astype(int)\n", "not log(t)"),
        (_ML + "    return (logits > np.log(thresholds / (1 - thresholds))[:, None]).astype(int)\n",
         "belongs to column k"),
        (_ML + "    return 1 / (1 + np.exp(-logits))\n", "not probabilities"),
        (_ML + "    return (logits > 0).astype(int)\n", "its own threshold"),
    ],
    "pairwise_cost": [
        (_PC + "    return K, K * K * n, K * (K - 1), K * (K - 1) * 2 * n\n", "counts each pair twice"),
        (_PC + "    m = K * (K - 1) // 2\n    return K, K * K * n, m, m * K * n\n", "only on the examples of its two"),
        (_PC + "    m = K * (K - 1) // 2\n    return K, K * n, m, m * 2 * n\n", "one classifier's share"),
        (_PC + "    m = K * (K + 1) // 2\n    return K, K * K * n, m, m * 2 * n\n", "not paired with itself"),
        (_PC + "    m = K * (K - 1) // 2\n    return K, K * K * n, m, m * n\n", "both of its"),
    ],
}

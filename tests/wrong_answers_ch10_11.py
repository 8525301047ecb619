"""The catalogue of wrong answers for exercises 10 and 11 (merged into CATALOGUE by
tests/wrong_answers_ch06_11.py; asserted by tests/test_wrong_answers_ch06_11.py).

CATALOGUE_10_11[chapter][question] is a list of (answer cell source, words the check's message must
contain). Each source replaces the whole answer cell of that question; the message words name the
mistake (not only "expected X").
"""


def _conv(dx_line="dx[:, u:u + ho, v:v + wo] += np.einsum(\"oij,oc->cij\", grad_out, W[:, :, u, v])",
          dw_line="dW[:, :, u, v] = np.einsum(\"oij,cij->oc\", grad_out, x[:, u:u + ho, v:v + wo])",
          dx_init="dx = np.zeros(x.shape)", dw_init="dW = np.zeros(W.shape)",
          db_line="db = grad_out.sum(axis=(1, 2))", tail=""):
    return ("def conv_backward(x, W, grad_out):\n"
            "    O, C, k, _ = W.shape\n"
            "    ho, wo = grad_out.shape[1:]\n"
            f"    {dx_init}\n    {dw_init}\n"
            "    for u in range(k):\n"
            "        for v in range(k):\n"
            f"            {dw_line}\n            {dx_line}\n"
            f"    {db_line}\n{tail}"
            "    return dx, dW, db\n")


def _pool(pick="r, c = divmod(int(np.argmax(block)), size)\n"
               "            dx[i * size + r, j * size + c] = grad_out[i, j]", init="dx = np.zeros(x.shape)", ret="dx"):
    return ("def maxpool_backward(x, grad_out, size):\n"
            f"    {init}\n"
            "    for i in range(grad_out.shape[0]):\n"
            "        for j in range(grad_out.shape[1]):\n"
            "            block = x[i * size:(i + 1) * size, j * size:(j + 1) * size]\n"
            f"            {pick}\n"
            f"    return {ret}\n")


def _stack(shape="(16, 7, 7)", params="1946", field="10"):
    return f"def predicted_stack():\n    return {shape}, {params}, {field}\n"


CATALOGUE_10_11 = {}

CATALOGUE_10_11["10_convolution"] = {
    "conv_backward": [
        (_conv(dx_line="dx[:, u:u + ho, v:v + wo] += np.einsum(\"oij,oc->cij\", grad_out, W[:, :, k - 1 - u, k - 1 - v])"),
         "kernels flipped"),
        (_conv(dx_init="dx = np.zeros((O,) + x.shape[1:])",
               dx_line="dx[:, u:u + ho, v:v + wo] += grad_out * W[:, :, u, v].sum(axis=1)[:, None, None]"),
         "one map per OUTPUT channel"),
        (_conv(dx_init="dx = np.zeros((C, ho, wo))", dx_line="dx += np.einsum(\"oij,oc->cij\", grad_out, W[:, :, u, v])"),
         "the size of the output maps"),
        (_conv(tail="    dW = dW / (ho * wo)\n"), "the mean over the"),
        (_conv(dw_init="dW = np.zeros((C, O, k, k))",
               dw_line="dW[:, :, u, v] = np.einsum(\"oij,cij->co\", grad_out, x[:, u:u + ho, v:v + wo])"), "transposed"),
        (_conv(db_line="db = grad_out.sum(axis=0)"), "you summed over the channels"),
        (_conv(tail="    dx = -dx\n"), "wrong sign"),
    ],
    "maxpool_backward": [
        (_pool(pick="dx[i * size:(i + 1) * size, j * size:(j + 1) * size] = (block == block.max()) * grad_out[i, j]"),
         "every pixel that ties"),
        (_pool(pick="dx[i * size:(i + 1) * size, j * size:(j + 1) * size] = grad_out[i, j] / size ** 2"),
         "average pooling's backward"),
        (_pool(pick="c, r = divmod(int(np.argmax(block)), size)\n"
                    "            dx[i * size + r, j * size + c] = grad_out[i, j]"), "swapped (transposed)"),
        (_pool(pick="dx[i * size:(i + 1) * size, j * size:(j + 1) * size] = grad_out[i, j]"), "copied each block's gradient"),
        (_pool(pick="r, c = divmod(size * size - 1 - int(np.argmax(block.ravel()[::-1])), size)\n"
                    "            dx[i * size + r, j * size + c] = grad_out[i, j]"), "LAST maximum"),
        (_pool(init="dx = np.zeros(grad_out.shape)",
               pick="dx[i, j] = grad_out[i, j] * (block.max() == block.max())"), "that of grad_out"),
    ],
    "predicted_stack": [
        (_stack(shape="(16, 6, 6)"), "without the padding"),
        (_stack(shape="(16, 14, 14)"), "without the stride"),
        (_stack(params="1912"), "left out the biases"),
        (_stack(params="538"), "ALL input channels"),
        (_stack(field="7"), "as if nothing stood between them"),
        (_stack(field="9"), "widens the field by one pixel"),
        (_stack(field="14"), "own stride does not widen"),
    ],
}


def _folds(body):
    return "def k_fold_indices(n, k, rng):\n" + body


def _cv(scale="mean, std = X[train_idx].mean(axis=0), X[train_idx].std(axis=0)\n"
              "        Z_train, Z_val = (X[train_idx] - mean) / std, (X[val_idx] - mean) / std",
        model="model = build_model()", optimizer="new_optimizer()", before="", result="model.evaluate(Z_val, y[val_idx])"):
    return ("def cross_val_scores(X, y, folds):\n"
            f"    results = []\n{before}"
            "    for train_idx, val_idx in folds:\n"
            f"        {scale}\n"
            f"        {model}\n"
            f"        model.fit(Z_train, y[train_idx], optimizer={optimizer}, **FIT)\n"
            f"        results.append({result})\n"
            "    return results\n")


def _majority(loo="0.0", choice='"below"', strat="0.5"):
    return f"def predicted_majority():\n    return {loo}, {choice}, {strat}\n"


CATALOGUE_10_11["11_complete_project"] = {
    "k_fold_indices": [
        (_folds("    folds = np.array_split(np.arange(n), k)\n"
                "    return [(np.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]\n"),
         "consecutive blocks"),
        (_folds("    folds = np.array_split(rng.permutation(n), k)\n"
                "    return [(np.arange(n), folds[i]) for i in range(k)]\n"), "in both train and validation"),
        (_folds("    order = rng.permutation(n)\n    folds = np.split(order[:n - n % k], k)\n"
                "    return [(np.setdiff1d(order, f), f) for f in folds]\n"), "never validated"),
        (_folds("    out = []\n    for i in range(k):\n"
                "        val = rng.choice(n, size=n // k, replace=False)\n"
                "        out.append((np.setdiff1d(np.arange(n), val), val))\n    return out\n"), "the validation folds overlap"),
        (_folds("    order, size = rng.permutation(n), n // k\n"
                "    folds = [order[i * size:(i + 1) * size] for i in range(k - 1)] + [order[(k - 1) * size:]]\n"
                "    return [(np.setdiff1d(order, f), f) for f in folds]\n"), "differ by at most 1"),
        (_folds("    folds = np.array_split(rng.permutation(n), k)\n"
                "    return [(folds[(i + 1) % k], folds[i]) for i in range(k)]\n"), "train on every index not in the validation fold"),
    ],
    "cross_val_scores": [
        (_cv(before="    X = (X - X.mean(axis=0)) / X.std(axis=0)          # once, before the folds\n",
             scale="Z_train, Z_val = X[train_idx], X[val_idx]"), "pooled train+test"),
        (_cv(before="    optimizer = new_optimizer()\n", optimizer="optimizer"), "shared it across the folds"),
        (_cv(before="    model = build_model()\n", model="pass"), "kept training one model"),
        (_cv(scale="Z_train = (X[train_idx] - X[train_idx].mean(0)) / X[train_idx].std(0)\n"
                   "        Z_val = (X[val_idx] - X[val_idx].mean(0)) / X[val_idx].std(0)"), "its own mean and std"),
        (_cv(scale="Z_train, Z_val = X[train_idx], X[val_idx]"), "did not standardise"),
        (_cv(result="model.evaluate(Z_train, y[train_idx])"), "evaluated each model on its training part"),
        (_cv(result='model.evaluate(Z_val, y[val_idx])["accuracy"]'), "should be the dict model.evaluate"),
        (_cv(scale="mean, std = X[train_idx].mean(axis=0), X[train_idx].std(axis=0, ddof=1)\n"
                   "        Z_train, Z_val = (X[train_idx] - mean) / std, (X[val_idx] - mean) / std"), "ddof=1"),
    ],
    "predicted_majority": [
        (_majority(loo="0.5"), "0.5 is chance"),
        (_majority(loo="1.0"), "MINORITY"),
        (_majority(choice='"about"'), "FEWER"),
        (_majority(strat="0.0"), "a tie, broken towards class 0"),
        (_majority(choice='"less"'), "should be one of"),
    ],
}

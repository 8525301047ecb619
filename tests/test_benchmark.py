"""The benchmark script keeps running, and nnlib's speed-ups keep its semantics.

Speed itself is measured by `make bench` (benchmarks/RESULTS.md), never asserted here:
these tests run the script on a tiny setting so that it cannot rot, and check that the
fast paths (one flat array for a model's parameters, one-go optimizer updates) give
the same numbers and the same plain arrays as before.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from nnlib import SGD, Adam, CrossEntropy, Dense, Momentum, ReLU, Sequential

BENCH = ["benchmarks/bench.py", "--tiny"]


def run_bench(root, tmp_path, *args, env=None):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, *BENCH, "--out", str(out), *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out.read_text()


def test_bench_runs_tiny_with_nnlib_alone_when_competitors_are_missing(root, tmp_path):
    # Make `import torch` and `import sklearn` fail in the benchmark's processes.
    hidden = tmp_path / "hidden"
    (hidden / "sklearn").mkdir(parents=True)
    (hidden / "torch.py").write_text("raise ImportError('hidden by the test')\n")
    (hidden / "sklearn" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hidden), os.environ.get("PYTHONPATH", "")]))

    text = run_bench(root, tmp_path, env=env)

    assert "PyTorch skipped" in text and "scikit-learn skipped" in text
    assert "substitute data" in text                      # W2 without scikit-learn's digits
    for setting in ("## 1 thread", "## Default threads"):
        assert setting in text
    rows = re.findall(r"^\| nnlib \| ([0-9.]+) ms \|.*\| ([0-9.]+) % \|", text, flags=re.M)
    assert len(rows) == 6                                 # 3 workloads x 2 thread settings
    assert all(float(t) > 0 and 0 <= float(acc) <= 100 for t, acc in rows)
    assert re.search(r"performs them at \*\*[0-9.]+ GFLOP/s\*\*", text)    # W3's FLOPs actually performed
    assert re.search(r"^\| W1 \| hand-written plain numpy \| [0-9.]+ \| <= 1.15 \|", text, flags=re.M)
    for key in ("W1", "W2", "W3"):                        # the decomposition of the gap to plain numpy
        assert re.search(rf"^\| {key} \| plain numpy, nnlib's arithmetic \(no layer objects\) \| [0-9.]+ \| "
                         rf"\(information\) \| \|$", text, flags=re.M)
    assert re.search(r"import nnlib`\n\nMedian over fresh interpreters: \*\*[0-9]+ ms\*\*", text)
    assert "PyTorch |" not in text


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or importlib.util.find_spec("sklearn") is None,
                    reason="PyTorch and scikit-learn are installed by `make bench`, not by the test extras")
def test_bench_compares_with_pytorch_and_sklearn_when_installed(root, tmp_path):
    text = run_bench(root, tmp_path, "--threads", "1", "--rounds", "1")
    for key in ("W1", "W2", "W3"):
        for other in ("PyTorch", "scikit-learn"):
            assert re.search(rf"^\| {key} \| {other} \| [0-9.]+ \| <= [0-9.]+ \| (yes|\*\*no\*\*) \|$", text, flags=re.M)
        assert re.search(rf"^\| {key} \| training accuracy \| [0-9.]+ pp apart \|", text, flags=re.M)
        assert re.search(rf"^\| {key} \| hand-written plain numpy \| [0-9.]+ \| <= 1.15 \| (yes|\*\*no\*\*) \|$",
                         text, flags=re.M)


def load_workloads(root):
    spec = importlib.util.spec_from_file_location("bench_workloads", root / "benchmarks" / "workloads.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                       # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("trainer", ["train_plain_numpy", "train_plain_inlined"])
@pytest.mark.parametrize("key", ["W1", "W2", "W3"])
def test_plain_numpy_trainer_does_the_same_work_as_nnlib(root, key, trainer):
    # The benchmark compares nnlib's speed with two hand-written plain-numpy trainers:
    # that comparison means something only if they compute the same training.
    import dataclasses

    wl = load_workloads(root)
    w = next(w for w in wl.workloads(tiny=True) if w.key == key)
    X, y, _ = wl.load_data(w)
    w = dataclasses.replace(w, n=len(X))
    init, orders = wl.initial_weights(w), wl.epoch_orders(len(X), w.epochs)
    durations, accuracy, weights = getattr(wl, trainer)(w, X, y, init, orders, return_weights=True)
    assert len(durations) == w.epochs and all(d > 0 for d in durations)

    model = wl.nnlib_model(init)
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(w.lr), epochs=w.epochs, batch_size=w.batch,
              seed=wl.SEED, verbose=False)
    moved = max(float(np.abs(W - W0).max()) for (W, _), (W0, _) in zip(weights, init))
    assert moved > 1e-3                                   # training changed the weights...
    for (W, b), dense in zip(weights, model.layers[::2]):  # ...exactly as nnlib's fit did
        np.testing.assert_allclose(W, dense.W, rtol=0, atol=1e-4)
        np.testing.assert_allclose(b, dense.b, rtol=0, atol=1e-4)
    assert accuracy == pytest.approx(model.evaluate(X, y)["accuracy"], abs=0.01)


# --- the fast paths keep the semantics ------------------------------------------
def make_model(dtype=np.float64):
    return Sequential([Dense(3, 5, rng=0, dtype=dtype), ReLU(), Dense(5, 2, rng=1, dtype=dtype)])


def test_sequential_params_stay_the_layers_plain_arrays():
    model = make_model()
    first = model.layers[0]
    assert first.W is first.params["W"] and first.b is first.params["b"]
    assert all(p is q for p, q in zip(model.parameters(), [first.W, first.b, model.layers[2].W, model.layers[2].b]))
    first.W[...] = 0.0                                    # setting weights in place reaches the model
    first.b[...] = 0.0
    assert np.all(model.forward(np.ones((4, 3))) == model.layers[2].b)
    first.W = np.ones((3, 5))                             # and so does assigning through the property
    assert np.all(first.params["W"] == 1.0)


def test_fit_trains_the_arrays_the_layers_hold():
    model = make_model()
    W = model.layers[0].W
    before = W.copy()
    X, y = np.random.default_rng(0).standard_normal((20, 3)), np.arange(20) % 2
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=2, batch_size=8, verbose=False)
    assert model.layers[0].W is W and not np.allclose(W, before)
    assert np.allclose(model.layers[0].grads["W"], model.gradients()[0])


@pytest.mark.parametrize("make", [lambda: SGD(0.1), lambda: Momentum(0.1, 0.9), lambda: Adam(0.01)])
def test_one_go_update_equals_the_update_parameter_by_parameter(make):
    rng = np.random.default_rng(0)
    model = make_model()                                  # parameters in one flat array
    loose = [p.copy() for p in model.parameters()]        # the same values, separate arrays
    fast, slow = make(), make()
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) for p in loose]
        for g, mg in zip(grads, model.gradients()):
            mg[...] = g
        fast.step(*model.flat_parameters())               # the whole model in one array, as train_step does
        slow.step(loose, grads)
    (flat,), _ = model.flat_parameters()
    assert len(fast.shapes) == 1 and len(slow.shapes) == 4 and flat.size == sum(p.size for p in loose)
    assert all(np.shares_memory(p, flat) for p in model.parameters())   # the layers' arrays are views of it
    for a, b in zip(model.parameters(), loose):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_optimizer_state_follows_parameters_that_change_between_calls():
    opt = Momentum(lr=1.0, beta=0.5)
    a, b = np.zeros(3), np.zeros(3)
    opt.step([a], [np.ones(3)])                           # v = 1, a = -1
    opt.step([b], [np.ones(3)])                           # same shapes, new array: v = 1.5, b = -1.5
    assert np.allclose(a, -1.0) and np.allclose(b, -1.5)


def test_float32_models_train_in_float32():
    model = make_model(np.float32)
    X, y = np.random.default_rng(0).standard_normal((16, 3)), np.arange(16) % 2
    model.fit(X, y, loss=CrossEntropy(), optimizer=Adam(0.01), epochs=1, batch_size=4, verbose=False)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model.predict(X).dtype == np.float32


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind counts the instructions (.ci/run installs it)")
def test_instruction_counts_place_nnlib_above_its_own_arithmetic_inlined(root):
    # The counts split nnlib's gap to the tuned plain-numpy trainer in two: the readable arithmetic
    # (fresh arrays, the formula-shaped Adam) and the layer objects around it. nnlib makes the very
    # numpy calls of the inlined trainer plus its own Python, so its count must be the highest.
    spec = importlib.util.spec_from_file_location("bench_main", root / "benchmarks" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    counts = bench.instruction_counts(tiny=True, keys=("W1",))          # (six callgrind runs, two at a time)
    c = counts["W1"]
    assert c["nnlib"] > c["plain inlined"] > c["plain numpy"] > 0
    text = "\n".join(bench._instructions(counts))
    assert re.search(r"^\| W1 \| plain numpy, nnlib's arithmetic \| [0-9.]+ M \| 1\.[0-9]+ \|$", text, flags=re.M)
    assert "Not measured" in "\n".join(bench._instructions(None))

"""Benchmark: nnlib against PyTorch and scikit-learn on the course's workloads.

    make bench                                     # installs scikit-learn and torch==2.13.0, then runs this
    python benchmarks/bench.py                     # all of it: writes benchmarks/RESULTS.md (a few minutes)
    python benchmarks/bench.py --tiny --out r.md   # the same code on small sizes, in seconds

Every thread setting runs in a process of its own, because OpenBLAS, MKL and OpenMP
fix their thread counts when they load: "1 thread" sets OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS to 1 (and torch.set_num_threads(1)); the
"default" run leaves them unset. Within a process the libraries take turns, the
order rotating every round (A B C, B C A, C A B, ...), so that neither a load spike
nor a warm cache favours one of them. The figures are medians over all epochs of all
rounds. A library that is not installed is skipped, and the report says so.

Besides training it times ``import nnlib`` (in fresh interpreters) and the nbval run
of every notebook in notebooks/ and solutions/ (what ``make test`` runs), and, where
valgrind is installed, counts the CPU instructions of an epoch of W1 and W2 for nnlib and
the two plain-numpy trainers: unlike times, those counts do not change with the load of
a shared machine.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ROUNDS = {"1": {"W1": 7, "W2": 7, "W3": 5}, "default": {"W1": 5, "W2": 5, "W3": 3}}
TARGETS = {  # nnlib time / other time, 1 thread (issue 8)
    ("W1", "torch"): 0.25, ("W1", "sklearn"): 0.5,
    ("W2", "torch"): 0.4, ("W2", "sklearn"): 0.6,
    ("W3", "torch"): 0.8, ("W3", "sklearn"): 0.85,
}
PLAIN_TARGET = 1.15      # nnlib time / hand-written plain numpy time, every workload
ACCURACY_TOLERANCE = 0.01
IMPORT_TARGET = 0.150
NOTEBOOK_BUDGET = 20.0


# --- one thread setting, in its own process ----------------------------------------
def run_worker(args):
    sys.path.insert(0, str(HERE))
    if args.before:
        sys.path.insert(0, args.before)
    import workloads as wl

    frameworks, skipped = {}, {}
    for name in args.frameworks.split(","):
        try:
            if name == "torch":
                import torch
                if args.threads == "1":
                    torch.set_num_threads(1)
            elif name == "sklearn":
                import sklearn.neural_network  # noqa: F401
            frameworks[name] = wl.TRAINERS[name]
        except ImportError as exc:
            skipped[name] = f"not installed ({exc})"

    out = {"threads": args.threads, "libraries": libraries(), "skipped": skipped, "workloads": {}}
    for w in [w for w in wl.workloads(args.tiny) if w.key in args.workloads.split(",")]:
        load_start = wait_for_calm(args.calm)
        X, y, note = wl.load_data(w)
        w = dataclasses.replace(w, n=len(X))
        init, orders = wl.initial_weights(w), wl.epoch_orders(len(X), w.epochs)
        runners = {name: (lambda t=train: t(w, X, y, init, orders)) for name, train in frameworks.items()}
        runners["plain numpy"] = lambda: wl.train_plain_numpy(w, X, y, init, orders)
        runners["plain inlined"] = lambda: wl.train_plain_inlined(w, X, y, init, orders)
        if args.before:
            runners["nnlib before"] = lambda: wl.train_nnlib_before(w, X, y, init, orders)
        if w.key == "W3":   # what an nnlib epoch is made of, measured in the same rotation
            runners["matmuls only"] = lambda: ([wl.matmuls_only(w, len(X))], None)
            runners["Adam only"] = lambda: ([wl.adam_only(w, init, len(X))], None)
        epochs = {name: [] for name in runners}
        accuracy = {}
        names = list(runners)
        for r in range(args.rounds or (2 if args.tiny else ROUNDS[args.threads][w.key])):
            for name in names[r % len(names):] + names[:r % len(names)]:
                durations, acc = runners[name]()
                epochs[name] += durations
                if acc is not None:
                    accuracy[name] = acc
        out["workloads"][w.key] = {
            "describe": w.describe(), "note": note, "n": len(X), "epochs": epochs, "accuracy": accuracy,
            "flops": wl.flops(w), "batch": w.batch,
            "params": sum(a * b + b for a, b in zip(w.sizes[:-1], w.sizes[1:])),
            "load": (load_start, os.getloadavg()[0]),
        }
        print(f"  [{args.threads} thread(s)] {w.key} done", file=sys.stderr, flush=True)
    Path(args.worker_out).write_text(json.dumps(out))


def wait_for_calm(limit, threshold=1.0):
    """Wait up to limit seconds for the 1-minute load average to fall below threshold; return it."""
    deadline = time.monotonic() + limit
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def libraries():
    """Versions and BLAS of the libraries in this process, and their thread counts."""
    import numpy as np

    info = {"python": platform.python_version(), "numpy": np.__version__,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)")}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy BLAS"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy: no mode="dicts"
        info["numpy BLAS"] = "unknown"
    try:
        import threadpoolctl
        for pool in threadpoolctl.threadpool_info():
            if pool.get("internal_api") == "openblas" and "numpy" in pool.get("filepath", ""):
                info["numpy BLAS"] += f" (core type {pool.get('architecture')}, threads: {pool.get('num_threads')})"
    except ImportError:
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        blas = [line.strip(" -") for line in torch.__config__.show().splitlines() if "Math Kernel" in line]
        info["torch"] = f"{torch.__version__} ({blas[0].split(' for ')[0] if blas else 'BLAS unknown'}, " \
                        f"threads: {torch.get_num_threads()})"
    if "sklearn" in sys.modules:
        info["scikit-learn"] = sys.modules["sklearn"].__version__
    return info


# --- instructions per epoch (callgrind) ----------------------------------------------
COUNTED = {"W1": ("nnlib", "plain numpy", "plain inlined"), "W2": ("nnlib", "plain numpy", "plain inlined")}
COUNT_EPOCHS = (2, 6)     # the difference of these two runs, over 4: one epoch, start-up and first steps left out


def run_count_worker(args):
    """Train args.count_worker = (workload, trainer, epochs), at 1 thread: what callgrind counts."""
    sys.path.insert(0, str(HERE))
    import workloads as wl

    key, trainer, epochs = args.count_worker
    w = next(w for w in wl.workloads(args.tiny) if w.key == key)
    X, y, _ = wl.load_data(w)
    w = dataclasses.replace(w, n=len(X), epochs=int(epochs))
    train = {"nnlib": wl.train_nnlib, "plain numpy": wl.train_plain_numpy, "plain inlined": wl.train_plain_inlined}
    train[trainer](w, X, y, wl.initial_weights(w), wl.epoch_orders(len(X), w.epochs))


def instruction_counts(tiny=False, keys=tuple(COUNTED)):
    """{workload: {trainer: instructions per epoch}} measured by callgrind, or None without valgrind.

    The runs go two at a time (each is one process, and callgrind is slow: ~15 s a run at --tiny sizes).
    """
    if shutil.which("valgrind") is None:
        return None
    env = dict(os.environ, PYTHONHASHSEED="0", **{var: "1" for var in THREAD_VARS})

    def collected(job):
        key, trainer, epochs = job
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
               "--count-worker", key, trainer, str(epochs)] + (["--tiny"] if tiny else [])
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        print(f"  instructions: {key} {trainer}, {epochs} epochs counted", file=sys.stderr, flush=True)
        return int(re.search(r"Collected : (\d+)", done.stderr).group(1))

    jobs = [(key, trainer, epochs) for key in keys for trainer in COUNTED[key] for epochs in COUNT_EPOCHS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        totals = dict(zip(jobs, pool.map(collected, jobs)))
    (short, long), counts = COUNT_EPOCHS, {}
    for key in keys:
        counts[key] = {t: (totals[key, t, long] - totals[key, t, short]) / (long - short) for t in COUNTED[key]}
    return counts


def _instructions(counts):
    lines = ["## Instructions per epoch (1 thread, callgrind)", ""]
    if counts is None:
        return lines + ["Not measured: valgrind is not installed (`apt-get install valgrind`), or this run "
                        "left them out (`--no-instructions`).", ""]
    lines += ["CPU instructions of one training epoch, counted by valgrind's callgrind (the difference of a "
              f"{COUNT_EPOCHS[1]}-epoch and a {COUNT_EPOCHS[0]}-epoch run, so start-up and the first steps are "
              "left out). A count does not depend on the machine's load, so it shows where nnlib's time goes "
              "more steadily than the timings above; it does not see cache misses.", "",
              "| workload | trainer | instructions / epoch | / plain numpy |", "|---|---|---:|---:|"]
    for key, rows in counts.items():
        for trainer, count in rows.items():
            lines.append(f"| {key} | {LABELS[trainer]} | {count / 1e6:.1f} M | {count / rows['plain numpy']:.2f} |")
    return lines + [""]


# --- the driver ---------------------------------------------------------------------
def run_setting(args, threads):
    env = dict(os.environ)
    for var in THREAD_VARS:
        env.pop(var, None)
        if threads == "1":
            env[var] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--worker", "--threads", threads, "--worker-out", str(result),
               "--frameworks", args.frameworks, "--workloads", args.workloads, "--calm", str(args.calm)]
        if args.before:
            cmd += ["--before", args.before]
        if args.tiny:
            cmd.append("--tiny")
        if args.rounds:
            cmd += ["--rounds", str(args.rounds)]
        subprocess.run(cmd, env=env, check=True)
        return json.loads(result.read_text())


def import_time(repeats):
    """Median seconds of `import nnlib` in a fresh interpreter (interpreter start-up not counted)."""
    code = "import time; t = time.perf_counter(); import nnlib; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True, cwd=ROOT).stdout) for _ in range(repeats)]
    return _median(times), min(times), max(times)


def notebook_times():
    """[(notebook, seconds, passed)] for the nbval run of each notebook, as `make test` runs it."""
    env = dict(os.environ, NNLIB_CHECKS_STRICT="1", MPLBACKEND="Agg")
    for var in THREAD_VARS:
        env.pop(var, None)
    rows = []
    for folder in ("notebooks", "solutions"):
        for nb in sorted((ROOT / folder).glob("*.ipynb")):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   str(nb.relative_to(ROOT))], cwd=ROOT, env=env, capture_output=True)
            rows.append((f"{folder}/{nb.name}", time.perf_counter() - start, done.returncode == 0))
            print(f"  nbval {folder}/{nb.name}: {rows[-1][1]:.1f} s", file=sys.stderr, flush=True)
    return rows


def machine():
    cpu = "unknown"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        get = lambda key: next((l.split(":", 1)[1].strip() for l in lines if l.startswith(key)), "?")
        cpu = f"{get('model name')} (family {get('cpu family')}, model {get('model')})"
    except OSError:
        cpu = platform.processor() or "unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform()}


# --- the report ---------------------------------------------------------------------
def _median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def _quantile(xs, q):
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _time(seconds):
    return f"{seconds * 1e3:.3g} ms" if seconds < 0.9995 else f"{seconds:.3g} s"


LABELS = {"nnlib": "nnlib", "torch": "PyTorch", "sklearn": "scikit-learn", "plain numpy": "plain numpy",
          "plain inlined": "plain numpy, nnlib's arithmetic", "nnlib before": "nnlib before the change"}


def report(args, settings, imports, notebooks, counts=None):
    first = settings[0]
    lines = [
        "# nnlib benchmark results",
        "",
        f"Written by `{' '.join(['benchmarks/bench.py', *args.argv])}` on "
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}. Every figure below is measured by that run; "
        "none is edited by hand. Re-run `make bench` to refresh them.",
        "",
        "## Machine and libraries",
        "",
    ]
    m = machine()
    lines += [f"- CPU: {m['cpu']}, {m['cores']} cores; {m['os']}"]
    for s in settings:
        libs = s["libraries"]
        label = "1 thread" if s["threads"] == "1" else "default threads"
        parts = [f"Python {libs['python']}", f"numpy {libs['numpy']} with {libs['numpy BLAS']}"]
        parts += [f"{k} {v}" for k, v in libs.items() if k in ("torch", "scikit-learn")]
        parts.append(f"OPENBLAS_CORETYPE={libs['OPENBLAS_CORETYPE']}")
        lines.append(f"- {label}: " + "; ".join(parts))
    for name, why in first["skipped"].items():
        lines.append(f"- **{LABELS[name]} skipped**: {why}")
    lines += [
        "- The machine is shared (other people's test runs may be going on, see the load averages "
        "with each table): the rotation and the medians are there for that, and the p25-p75 columns "
        "show how noisy a run was. Load slows the multi-threaded runs most: a 2-thread BLAS call "
        "waits for its slower thread.",
        "",
        "## Method",
        "",
        "Identical work for all three: float32, the same initial weights (Xavier uniform, zero biases), "
        "the same mini-batches in the same order, softmax cross-entropy, Adam (betas 0.9/0.999, eps 1e-8), "
        "no weight decay. nnlib runs `Sequential.fit`; PyTorch the usual `nn.Sequential` loop with "
        "`torch.optim.Adam` (its defaults) and `loss.item()` per batch; scikit-learn "
        "`MLPClassifier(solver=\"adam\", alpha=0).fit`. Only training is timed, per epoch; "
        "training accuracy is measured on the whole training set afterwards. "
        "Ratios are nnlib's median epoch time over the other library's (below 1: nnlib is faster).",
        "",
        "Two trainers in plain numpy, no library (benchmarks/workloads.py), tell where nnlib's own time goes. "
        "*Plain numpy* is the same training written as lean as numpy allows: every buffer allocated once "
        "(out=), Adam rearranged into scalar factors, no per-batch accuracy. *Plain numpy, nnlib's arithmetic* "
        "makes the very numpy calls nnlib makes (fresh arrays for activations, log-softmax, Adam as chapter 8's "
        "formula with m_hat and v_hat, the epoch's accuracy), inlined in one loop without layer objects, a loss "
        "object or checks. The second over the first is what the readable arithmetic costs; nnlib over the "
        "second is what the layer objects and fit's loop cost in Python. Tests check that both end at nnlib's "
        "weights.",
        "",
    ]
    for w in first["workloads"].values():
        lines.append(f"- {w['describe']}" + (f" **({w['note']})**" if w["note"] else ""))
    lines.append("")
    lines += _targets(settings)

    for s in settings:
        lines += _setting_tables(s)
    lines += _instructions(counts)

    lines += ["## `import nnlib`", ""]
    median, lo, hi = imports
    lines += [f"Median over fresh interpreters: **{median * 1e3:.0f} ms** (min {lo * 1e3:.0f}, max {hi * 1e3:.0f}); "
              f"target < {IMPORT_TARGET * 1e3:.0f} ms: {'met' if median < IMPORT_TARGET else 'NOT met'}. "
              "numpy's own import is most of it.", ""]

    lines += ["## nbval run per notebook", ""]
    if notebooks is None:
        lines += ["Not measured in this run (`--tiny` or `--no-notebooks`).", ""]
    elif not notebooks:
        lines += ["No notebooks in notebooks/ or solutions/ yet.", ""]
    else:
        lines += [f"`pytest <notebook>` (nbval, default threads), wall time including pytest and kernel start-up; "
                  f"budget {NOTEBOOK_BUDGET:.0f} s each.", "",
                  "| notebook | seconds | passed | within budget |", "|---|---:|---|---|"]
        for nb, secs, passed in notebooks:
            lines.append(f"| {nb} | {secs:.1f} | {'yes' if passed else 'NO'} | "
                         f"{'yes' if secs <= NOTEBOOK_BUDGET else 'NO'} |")
        lines.append("")
    return "\n".join(lines)


def _stats(s, key):
    w = s["workloads"][key]
    rows = {}
    for name, epochs in w["epochs"].items():
        if name in LABELS:
            med = _median(epochs)
            rows[name] = {"median": med, "p25": _quantile(epochs, 0.25), "p75": _quantile(epochs, 0.75),
                          "rate": w["n"] / med, "accuracy": w["accuracy"][name], "count": len(epochs)}
    return rows


def _setting_tables(s):
    label = "1 thread" if s["threads"] == "1" else "Default threads"
    lines = [f"## {label}", ""]
    for key, w in s["workloads"].items():
        rows = _stats(s, key)
        lines += [f"### {w['describe'].split(':')[0]}", "",
                  f"Load average (1 min) at the start and the end: {w['load'][0]:.2f}, {w['load'][1]:.2f}.", "",
                  "| library | time / epoch (median) | p25 - p75 | samples / s | training accuracy | nnlib / this |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, r in rows.items():
            ratio = rows["nnlib"]["median"] / r["median"] if "nnlib" in rows else float("nan")
            lines.append(f"| {LABELS[name]} | {_time(r['median'])} | {_time(r['p25'])} - {_time(r['p75'])} | "
                         f"{r['rate']:,.0f} | {r['accuracy'] * 100:.2f} % | {ratio:.2f} |")
        lines.append(f"\n({rows['nnlib']['count']} epochs per library.)" if "nnlib" in rows else "")
        if key == "W3" and "nnlib" in rows:
            lines += [""] + _gflops(s)
        lines.append("")
    return lines


def gflops(s):
    """W3's figures: GFLOP/s of nnlib and of numpy's matmuls alone, and the share.

    Attainable is the fastest epoch of the step's matmuls alone (load only ever slows
    a run down, so the fastest is the machine's capability). nnlib's official figure
    uses its median epoch, as every other time here; under load that is pessimistic,
    so its fastest epoch is given too.
    """
    w = s["workloads"]["W3"]
    convention, performed = w["flops"]
    n = w["n"]
    median, fastest = _median(w["epochs"]["nnlib"]), min(w["epochs"]["nnlib"])
    matmul, adam = min(w["epochs"]["matmuls only"]), min(w["epochs"]["Adam only"])
    plain = w["epochs"].get("plain numpy")
    attainable = performed * n / matmul
    return {"convention": convention, "performed": performed, "median": median, "fastest": fastest,
            "plain_median": _median(plain) if plain else None, "plain_fastest": min(plain) if plain else None,
            "plain_share": convention * n / _median(plain) / attainable if plain else None,
            "plain_share_fastest": convention * n / min(plain) / attainable if plain else None,
            "plain_accuracy": w["accuracy"].get("plain numpy"),
            "matmul": matmul, "adam": adam, "attainable": attainable,
            "ours": convention * n / median, "ours_fastest": convention * n / fastest,
            "share": convention * n / median / attainable, "share_fastest": convention * n / fastest / attainable,
            "params": w["params"], "batch": w["batch"], "n": n}


def _gflops(s):
    g = gflops(s)
    per_step = g["performed"] * g["n"]
    lines = [
        f"FLOPs actually performed per example and step: {g['performed']:,} (forward x W, dL/dW = x.T g and "
        f"dL/dx = g W.T, 2 FLOP per multiply-add, without the first layer's input gradient that nobody needs and "
        f"no library computes; the common 6 x sum(in x out) convention would say {g['convention']:,}). "
        f"nnlib's median epoch ({_time(g['median'])}) performs them at **{per_step / g['median'] / 1e9:.1f} GFLOP/s** "
        f"(fastest epoch {per_step / g['fastest'] / 1e9:.1f}); the hand-written plain-numpy trainer at "
        + (f"{per_step / g['plain_median'] / 1e9:.1f} GFLOP/s" if g["plain_median"] else "(not measured)")
        + f"; the step's matmuls alone, in numpy at the same shapes (batch {g['batch']}, fastest epoch), at "
        f"{g['attainable'] / 1e9:.1f} GFLOP/s. (No GFLOP/s target any more: the matmul-only figure leaves out "
        f"everything a training step must also do, Adam above all; the targets are the ratios to PyTorch, "
        f"scikit-learn and plain numpy.)",
        "",
        f"Where nnlib's fastest epoch ({_time(g['fastest'])}) goes, from the fastest runs of each part alone: "
        f"the matmuls {_time(g['matmul'])}, nnlib's Adam updates {_time(g['adam'])} (over {g['params']:,} "
        f"parameters per step, {g['adam'] / g['matmul'] * 100:.0f} % of the matmul time), the rest (gathering "
        f"the batch, bias, ReLU, loss, accuracy, and cache misses between them) "
        f"{_time(max(g['fastest'] - g['matmul'] - g['adam'], 0))}.",
    ]
    return lines


def _targets(settings):
    one = next((s for s in settings if s["threads"] == "1"), None)
    if one is None:
        return []
    lines = ["## Targets (float32, 1 thread)", "",
             "nnlib's median epoch time over the other library's, from the tables below "
             "(one run: every library takes turns in the same rounds, so load hits them alike).", "",
             "| workload | against | nnlib / other | target | met |", "|---|---|---:|---:|---|"]
    for key in one["workloads"]:
        rows = _stats(one, key)
        if "nnlib" not in rows:
            continue
        for other in ("torch", "sklearn"):
            if other in rows:
                ratio = rows["nnlib"]["median"] / rows[other]["median"]
                target = TARGETS[(key, other)]
                lines.append(f"| {key} | {LABELS[other]} | {ratio:.2f} | <= {target} | "
                             f"{'yes' if ratio <= target else '**no**'} |")
        others = [o for o in ("torch", "sklearn") if o in rows]
        if others:
            gap = max(abs(rows["nnlib"]["accuracy"] - rows[o]["accuracy"]) for o in others)
            lines.append(f"| {key} | training accuracy | {gap * 100:.2f} pp apart | <= 1 pp | "
                         f"{'yes' if gap <= ACCURACY_TOLERANCE else '**no**'} |")
        plain = one["workloads"][key]["epochs"].get("plain numpy")
        if plain:
            ratio = rows["nnlib"]["median"] / _median(plain)
            lines.append(f"| {key} | hand-written plain numpy | {ratio:.2f} | <= {PLAIN_TARGET} | "
                         f"{'yes' if ratio <= PLAIN_TARGET else '**no**'} |")
        inlined = one["workloads"][key]["epochs"].get("plain inlined")
        if plain and inlined:
            lines.append(f"| {key} | plain numpy, nnlib's arithmetic (no layer objects) | "
                         f"{rows['nnlib']['median'] / _median(inlined):.2f} | (information) | |")
            lines.append(f"| {key} | (plain numpy, nnlib's arithmetic / plain numpy) | "
                         f"{_median(inlined) / _median(plain):.2f} | (information) | |")
        before = one["workloads"][key]["epochs"].get("nnlib before")
        if before:
            lines.append(f"| {key} | nnlib before the change (same run) | {rows['nnlib']['median'] / _median(before):.2f} "
                         f"| (information) | |")
    lines.append("")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="small sizes, 2 rounds, no notebooks: a smoke run")
    parser.add_argument("--threads", choices=["1", "default", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per workload (default: 7, 7, 5 at 1 thread; 5, 5, 3 at default threads)")
    parser.add_argument("--frameworks", default="nnlib,torch,sklearn",
                        help="which libraries besides the plain-numpy trainer (always run), e.g. nnlib alone")
    parser.add_argument("--workloads", default="W1,W2,W3", help="which workloads, e.g. W1,W2")
    parser.add_argument("--out", default=None, help="where to write the markdown (default: benchmarks/RESULTS.md; "
                                                    "with --tiny: print it)")
    parser.add_argument("--no-notebooks", action="store_true", help="skip the nbval timings")
    parser.add_argument("--calm", type=float, default=0, metavar="SECONDS",
                        help="before each workload, wait up to this long for the load average to fall below 1")
    parser.add_argument("--before", default=None, metavar="DIR",
                        help="also time another copy of nnlib, the package DIR/nnlib_before (e.g. the code before a "
                             "change: git archive HEAD~1 nnlib | tar -x -C DIR && mv DIR/nnlib DIR/nnlib_before)")
    parser.add_argument("--no-instructions", action="store_true", help="skip the instruction counts (valgrind)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.worker:
        return run_worker(args)
    if args.count_worker:
        return run_count_worker(args)

    settings = [run_setting(args, t) for t in (["1", "default"] if args.threads == "both" else [args.threads])]
    imports = import_time(3 if args.tiny else 11)
    notebooks = None if (args.tiny or args.no_notebooks) else notebook_times()
    counts = None if (args.tiny or args.no_instructions) else instruction_counts()
    text = report(args, settings, imports, notebooks, counts)
    out = args.out or (None if args.tiny else str(HERE / "RESULTS.md"))
    if out:
        Path(out).write_text(text + "\n")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()

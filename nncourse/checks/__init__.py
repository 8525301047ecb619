"""Self-checks for the exercise notebooks.

A check cell calls one function, e.g. ``check.predict(predict)``. It prints one
verdict in plain words and returns a :class:`CheckResult`:

    ✅ predict: all 4 cases match.
    ❌ predict: for case 2 your output at index 3 is 1.37, expected 1.0 (max difference 0.37).
    ⏳ predict: not done yet: replace `raise NotImplementedError` with your code.

A check never crashes the notebook: not-done, wrong answers and errors in the
student's code are all reported as messages. For autograding with nbgrader,
set the environment variable ``NNLIB_CHECKS_STRICT=1``: a check that does not
pass then raises :class:`CheckFailed` (an AssertionError) with the same message.

Chapter modules (``nncourse.checks.ch01`` ...) define their checks with the
:func:`check` decorator and the ``expect_*`` helpers below; the decorator turns a
raised :class:`Mismatch` into a clear "❌" line.
"""
from __future__ import annotations

import functools
import os
import traceback

import numpy as np

__all__ = [
    "CheckResult", "CheckFailed", "Mismatch", "check", "strict",
    "progress", "expect", "expect_close", "expect_shape", "expect_callable", "expect_tuple", "as_array", "is_close",
]

SYMBOLS = {"passed": "✅", "failed": "❌", "not done": "⏳", "error": "❌"}

# The last verdict of each check run in this kernel, by check name (for progress()).
RESULTS: dict[str, str] = {}


class CheckFailed(AssertionError):
    """Raised in strict mode (NNLIB_CHECKS_STRICT=1) when a check does not pass."""


class Mismatch(Exception):
    """Raised inside a check body: the student's answer is wrong; the text says how."""


class CheckResult:
    """The verdict of one check: status is "passed", "failed", "not done" or "error"."""

    def __init__(self, name, status, message):
        self.name = name
        self.status = status
        self.message = message

    @property
    def passed(self):
        return self.status == "passed"

    def __bool__(self):
        return self.passed

    def __str__(self):
        return f"{SYMBOLS[self.status]} {self.name}: {self.message}"

    def __repr__(self):
        return f"CheckResult({self.name!r}, {self.status!r})"

    def _ipython_display_(self):
        # The verdict was printed when the check ran; showing the object again
        # as the cell's value would only repeat it.
        pass


def strict():
    """True when checks should raise on failure (for autograders)."""
    return os.environ.get("NNLIB_CHECKS_STRICT", "") not in ("", "0", "false", "no")


def _package_dir(module):
    return os.path.dirname(os.path.abspath(module.__file__)).replace("\\", "/") + "/"


import nnlib as _nnlib  # noqa: E402  (for the folders whose frames are not the student's)

# Frames in these folders are the course's, not the student's (matched by the packages' own folders,
# not by a name in the path: a course checked out under /work/nnlib/ is still the student's code).
_LIBRARY_DIRS = (_package_dir(_nnlib), os.path.dirname(os.path.abspath(__file__)).replace("\\", "/") + "/")


def _student_frame(exc):
    """'line 3 of your predict' for the deepest frame that is the student's code."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = frame.filename.replace("\\", "/")
        if path.startswith(_LIBRARY_DIRS) or "site-packages" in path or "/numpy/" in path:
            continue
        return f" (in {frame.name}, line {frame.lineno}: `{(frame.line or '').strip()}`)"
    return ""


def check(name):
    """Decorator for a check body: the body raises Mismatch or returns a success message."""

    def wrap(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            try:
                message = body(*args, **kwargs) or "correct."
                result = CheckResult(name, "passed", message)
            except NotImplementedError:
                result = CheckResult(name, "not done", "not done yet: replace `raise NotImplementedError` with your code.")
            except Mismatch as exc:
                result = CheckResult(name, "failed", str(exc))
            except Exception as exc:  # the student's code crashed: say where and how
                result = CheckResult(
                    name, "error", f"your code raised {type(exc).__name__}: {exc}{_student_frame(exc)}"
                )
            RESULTS[name] = result.status
            print(result, flush=True)
            if strict() and not result.passed:
                raise CheckFailed(str(result))
            return result

        run.check_name = name
        return run

    return wrap


def progress(points):
    """Print the learner's running total from the self-checks run so far in this kernel.

    points: {check name: points} for the exercise's graded questions (a chapter module's
    ``POINTS``). Never raises: it only reads what the checks recorded.

        ✅ 6/10 so far: 3 of 4 questions pass. ⏳ not run or not done: fit_linear
    """
    total = sum(points.values())
    got = sum(p for name, p in points.items() if RESULTS.get(name) == "passed")
    passed = [n for n in points if RESULTS.get(n) == "passed"]
    wrong = [n for n in points if RESULTS.get(n) in ("failed", "error")]
    todo = [n for n in points if RESULTS.get(n) not in ("passed", "failed", "error")]
    symbol = "✅" if got == total else ("❌" if wrong else "⏳")
    line = f"{symbol} {got}/{total} so far: {len(passed)} of {len(points)} questions pass."
    if wrong:
        line += f" ❌ to fix: {', '.join(wrong)}."
    if todo:
        line += f" ⏳ not run or not done: {', '.join(todo)}."
    print(line, flush=True)
    return got, total


def two_numbers(raw):
    """(a, b) as floats from a prediction of two numbers; ValueError for any other count."""
    values = [float(x) for x in raw]
    if len(values) != 2:
        raise ValueError(f"got {len(values)} values")
    return values


def read_prediction(fn, parse, form, where="above"):
    """The learner's prediction for a predict-then-verify experiment, or None after saying why.

    fn: the learner's function returning the prediction; parse turns what it returns into the
    value the experiment compares (raising if it cannot); form says what was expected ("a number").
    An experiment calls this BEFORE it measures anything: the measurement printed first could
    simply be copied into the answer, and there would be nothing left to predict.
    """
    try:
        raw = fn()
    except NotImplementedError:
        print(f"⏳ make your prediction {where} first, then run this cell again: the experiment runs once "
              "there is a prediction for it to test.")
        return None
    except Exception as exc:   # noqa: BLE001 - any mistake in the learner's function is reported, never raised
        print(f"❌ your prediction raised {type(exc).__name__}: {exc}")
        return None
    try:
        return parse(raw)
    except Exception as exc:   # noqa: BLE001
        print(f"❌ your prediction could not be read as {form} ({type(exc).__name__}: {exc}).")
        return None


# --- helpers for check bodies ----------------------------------------------------

def expect(condition, message):
    """Raise Mismatch(message) unless condition holds."""
    if not condition:
        raise Mismatch(message)


def expect_callable(obj, name):
    expect(callable(obj), f"`{name}` should be a function, got {type(obj).__name__}.")


def _fmt(v):
    v = np.asarray(v)
    if v.ndim == 0:
        return f"{float(v):.6g}"
    return np.array2string(v, precision=4, separator=", ", threshold=12)


def expect_shape(got, shape, what):
    got = np.asarray(got)
    expect(got.shape == tuple(shape), f"{what} has shape {got.shape}, expected {tuple(shape)}.")


def as_array(got, what):
    """The student's answer as a float array, or a Mismatch saying why it cannot be one."""
    if got is None:
        raise Mismatch(f"{what} is None: did you forget to `return` it?")
    try:
        return np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(f"{what} should be a number or an array of numbers, got {type(got).__name__}.") from None


def is_close(got, expected, *, atol=1e-6, rtol=1e-5):
    """True when got is an array of expected's shape and close to it (never raises: for telling mistakes apart)."""
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == np.shape(expected) and bool(np.allclose(got, expected, atol=atol, rtol=rtol))


def expect_tuple(result, names, fn_name):
    """Check that a function returned len(names) values (a tuple or list); return them."""
    expect(result is not None, f"{fn_name} returned None: did you forget to `return` it?")
    expect(isinstance(result, (tuple, list)) and len(result) == len(names),
           f"{fn_name} should return {len(names)} values ({', '.join(names)}), got {type(result).__name__}"
           + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    return result


def expect_close(got, expected, what, *, atol=1e-6, rtol=1e-5):
    """Compare a student's array (or number) with the expected one, explaining the first difference."""
    got_arr = as_array(got, what)
    exp_arr = np.asarray(expected, dtype=np.float64)
    if got_arr.shape != exp_arr.shape:
        if got_arr.size == exp_arr.size and got_arr.size > 1:
            hint = " (same numbers of entries: check your reshape or transpose)"
        else:
            hint = ""
        raise Mismatch(f"{what} has shape {got_arr.shape}, expected {exp_arr.shape}{hint}.")
    if not np.isfinite(got_arr).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(got_arr))[0])
        where = f" at index {idx if len(idx) > 1 else idx[0]}" if idx else ""
        raise Mismatch(f"{what} contains {got_arr[idx] if idx else got_arr}{where}: look for an overflow or a division by zero.")
    close = np.isclose(got_arr, exp_arr, atol=atol, rtol=rtol)
    if not close.all():
        if got_arr.ndim == 0:
            raise Mismatch(f"{what} is {_fmt(got_arr)}, expected {_fmt(exp_arr)}.")
        idx = tuple(int(i) for i in np.argwhere(~close)[0])
        where = idx if len(idx) > 1 else idx[0]
        worst = float(np.max(np.abs(got_arr - exp_arr)))
        raise Mismatch(
            f"{what} at index {where} is {_fmt(got_arr[idx])}, expected {_fmt(exp_arr[idx])} "
            f"({int((~close).sum())} of {close.size} entries differ; largest difference {worst:.3g})."
        )

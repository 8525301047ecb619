"""Input checking shared by the library: clear errors instead of numpy tracebacks.

Every public function that takes user data passes it through here, so a wrong
shape, a NaN or a misspelt option is reported in the caller's terms
("Dense(3 -> 4) got input of shape (10, 5): expected (batch, 3)").
"""
from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)


def as_generator(seed, name="seed"):
    """Return a numpy Generator from an int seed, a Generator, or None (seed 0).

    The library never touches numpy's global random state: all randomness comes
    from a Generator made here, so the same seed gives the same numbers.
    (A layer made with rng=None starts from seed 0; in a Sequential, the k-th such
    layer gets a stream of its own, see ``default_stream``.)
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng(0)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{name} must be an int or a numpy.random.Generator, got {type(seed).__name__}"
    )


def default_stream(k):
    """The random stream of the k-th layer (k = 0, 1, ...) of a model that was made with rng=None.

    k = 0 is seed 0 itself (``default_rng([0]) == default_rng(0)``); k >= 1 is
    ``default_rng([0, k])``, a stream no integer seed gives. So two ``Dense(8, 8)``
    in one model start from different weights, and the model is the same at every run.
    """
    return np.random.default_rng([0, k] if k else [0])


def check_dtype(dtype, where="dtype"):
    """Return np.float32 or np.float64 for a dtype-like value, or raise."""
    try:
        dt = np.dtype(dtype).type
    except TypeError:
        dt = None
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{where}: dtype must be float32 or float64, got {dtype!r}")
    return dt


def as_float_array(x, name, *, dtype=None, ndim=None, finite=True):
    """Convert x to a floating numpy array, checking kind, dimensions and values.

    name is used in messages ("Sequential.fit: X ..."). With dtype=None the
    array keeps a float32/float64 dtype and anything else becomes float64.
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        arr = x
    elif isinstance(x, np.ndarray) and x.dtype.kind == "c" or np.iscomplexobj(x):
        raise TypeError(f"{name} must hold real numbers, got complex values (dtype {np.asarray(x).dtype})")
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}: {exc}") from None
        if arr.dtype.kind not in "fiub":
            raise TypeError(
                f"{name} must be numeric, got an array of dtype {arr.dtype} "
                f"(first element {arr.ravel()[0]!r})" if arr.size else f"{name} must be numeric, got dtype {arr.dtype}"
            )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.type not in FLOAT_DTYPES:
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if finite and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad)
        raise ValueError(
            f"{name} contains NaN or inf (first at index {where if arr.ndim > 1 else where[0]}: "
            f"{arr[tuple(bad)]}); clean or impute the data first"
        )
    return arr


def check_choice(value, options, name):
    """Raise a ValueError naming the options when value is not one of them."""
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return value


def check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        if value is None or isinstance(value, (bool, numbers.Number)):
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    return int(value)


def check_number(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """Check a real number lies in [low, high] (open ends on request)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return float(value)

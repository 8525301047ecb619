"""Values as plain data, for the trip between the grader and the student's kernel.

The grader never unpickles anything that comes from a student's kernel: what the
kernel sends back is JSON, and :func:`decode` turns it only into plain values

* ``None``, bools, ints, floats, complex numbers, strings, bytes;
* lists, tuples, dicts, sets, slices;
* numpy arrays and scalars of numeric, bool or string dtype (never ``object``);
* a numpy ``Generator`` rebuilt from its bit generator's state;
* instances of nnlib's own classes (``nnlib.layers.Dense``, ``nnlib.Sequential`` ...)
  rebuilt from their attributes, and nnlib / numpy functions named by module and name;
* whatever ``ref`` returns for a handle on an object that stays in the kernel (the
  grader's :class:`~nncourse.grading.remote.RemoteObject`).

So a student's code can send the grader numbers, never code: a class of its own, a
float subclass with a fake ``__eq__`` or a pickle does not survive the trip.

Each encoded value is JSON: a number, a string, ``null``, a list (a Python list) or a
dict tagged with ``"$"``: ``{"$": "nd", "dtype": "<f8", "shape": [2, 3], "b64": ...}``.
"""
from __future__ import annotations

import base64
import importlib
import math
import re
import sys

import numpy as np

__all__ = ["encode", "decode", "NotData", "BadData", "merge_into"]

MAX_DEPTH = 100
SAFE_DTYPE_KINDS = "biufcUS"   # bool, int, uint, float, complex, str, bytes: never object
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_QUALNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


class NotData(TypeError):
    """A value that has no plain-data form (and no ``other`` hook took it)."""


class BadData(ValueError):
    """Encoded data that does not follow the format (or asks for something not allowed)."""


# --- which modules' classes and functions travel by name ----------------------------

def _trusted_module(name):
    """nnlib's modules (not its checks or this grader) and numpy's."""
    if not isinstance(name, str) or not _MODULE.match(name):
        return False
    if name == "numpy" or name.startswith("numpy."):
        return True
    if name.startswith("nnlib."):
        return not (name.startswith("nncourse.checks") or name.startswith("nncourse.grading"))
    return False


def _lookup(module, qualname):
    """The object module.qualname, without importing anything not already loaded for numpy."""
    if not _trusted_module(module) or not isinstance(qualname, str) or not _QUALNAME.match(qualname):
        raise BadData(f"{module}.{qualname} is not an nnlib or numpy name")
    mod = sys.modules.get(module)
    if mod is None:
        if not module.startswith("nnlib."):
            raise BadData(f"module {module} is not loaded")
        mod = importlib.import_module(module)
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _named(obj):
    """(module, qualname) if obj is a trusted function or class reachable by that name."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if isinstance(obj, np.ufunc):
        module, qualname = "numpy", obj.__name__
    if not (_trusted_module(module) and isinstance(qualname, str) and _QUALNAME.match(qualname)):
        return None
    try:
        return (module, qualname) if _lookup(module, qualname) is obj else None
    except Exception:
        return None


# --- encoding ------------------------------------------------------------------------

def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _array(a, depth, other):
    a = np.asarray(a)
    if a.dtype.kind in SAFE_DTYPE_KINDS and a.dtype.fields is None:
        return {"$": "nd", "dtype": a.dtype.str, "shape": list(a.shape),
                "b64": _b64(np.ascontiguousarray(a).tobytes())}
    if a.dtype.kind == "O":
        return {"$": "ndo", "shape": list(a.shape),
                "items": [encode(x, other, depth + 1) for x in a.ravel().tolist()]}
    raise NotData(f"numpy array of dtype {a.dtype}")


def encode(value, other=None, depth=0):
    """Encode value as JSON-ready data; objects that are not data go to other(value)."""
    if depth > MAX_DEPTH:
        raise NotData("nested too deeply")
    t = type(value)
    if value is None or t in (bool, int, str):
        return value
    if t is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        if value.dtype.kind in SAFE_DTYPE_KINDS:
            return {"$": "np", "dtype": value.dtype.str, "b64": _b64(np.asarray(value).tobytes())}
    if isinstance(value, np.ndarray):
        return _array(value, depth, other)
    if t is complex:
        return {"$": "complex", "re": encode(value.real), "im": encode(value.imag)}
    if t is bytes:
        return {"$": "bytes", "b64": _b64(value)}
    if t is list:
        return [encode(x, other, depth + 1) for x in value]
    if t is tuple:
        return {"$": "tuple", "items": [encode(x, other, depth + 1) for x in value]}
    if t is dict:
        return {"$": "dict", "items": [[encode(k, other, depth + 1), encode(v, other, depth + 1)]
                                       for k, v in value.items()]}
    if t in (set, frozenset):
        return {"$": t.__name__, "items": [encode(x, other, depth + 1) for x in value]}
    if t is slice:
        return {"$": "slice", "items": [encode(x, other, depth + 1) for x in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"$": "ellipsis"}
    if t is np.random.Generator:
        bitgen = type(value.bit_generator).__name__
        if bitgen in BIT_GENERATORS:
            return {"$": "rng", "bitgen": bitgen, "state": encode(value.bit_generator.state, None, depth + 1)}
    named = _named(value) if (callable(value) or isinstance(value, type)) else None
    if named:
        return {"$": "fn", "module": named[0], "name": named[1]}
    if _trusted_module(getattr(t, "__module__", None)) and _named(t) and hasattr(value, "__dict__") \
            and not hasattr(t, "__slots__"):
        try:   # an nnlib object travels as its attributes if they are all data
            state = encode(vars(value), None, depth + 1)
        except NotData:
            pass
        else:
            module, qualname = _named(t)
            return {"$": "obj", "module": module, "name": qualname, "state": state}
    if other is not None:
        return other(value)
    raise NotData(f"a {t.__name__} object")


# --- decoding ------------------------------------------------------------------------

def _need(cond, what):
    if not cond:
        raise BadData(what)


def _dtype(s):
    _need(isinstance(s, str) and len(s) < 16, "bad dtype")
    try:
        dt = np.dtype(s)
    except TypeError:
        raise BadData(f"bad dtype {s!r}") from None
    _need(dt.kind in SAFE_DTYPE_KINDS and dt.fields is None and not dt.hasobject, f"dtype {s!r} not allowed")
    return dt


def _bytes(s):
    _need(isinstance(s, str), "bad bytes")
    try:
        return base64.b64decode(s.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise BadData("bad base64") from None


def _shape(shape):
    _need(isinstance(shape, list) and len(shape) <= 32
          and all(type(n) is int and n >= 0 for n in shape), "bad shape")
    return tuple(shape)


def decode(data, ref=None, cb=None, unpickle=False, depth=0):
    """Turn encoded data back into values.

    ref(d) turns a {"$": "ref"} handle into an object, cb(d) a {"$": "cb"} callback;
    unpickle=True (the kernel's side only: what the grader sends it) accepts pickles.
    """
    _need(depth <= MAX_DEPTH, "nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(x, ref, cb, unpickle, depth + 1) for x in data]
    _need(type(data) is dict and isinstance(data.get("$"), str), f"unexpected {type(data).__name__}")
    tag = data["$"]

    def items():
        seq = data.get("items")
        _need(type(seq) is list, f"{tag} without items")
        return [decode(x, ref, cb, unpickle, depth + 1) for x in seq]

    if tag == "float":
        _need(data.get("v") in ("nan", "inf", "-inf"), "bad float")
        return float(data["v"])
    if tag == "nd":
        dt, shape, raw = _dtype(data.get("dtype")), _shape(data.get("shape")), _bytes(data.get("b64"))
        _need(len(raw) == math.prod(shape) * dt.itemsize, "array data does not match its shape")
        return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
    if tag == "ndo":
        shape, values = _shape(data.get("shape")), items()
        _need(len(values) == math.prod(shape), "array data does not match its shape")
        out = np.empty(len(values), dtype=object)
        out[:] = values if values else out
        return out.reshape(shape)
    if tag == "np":
        dt, raw = _dtype(data.get("dtype")), _bytes(data.get("b64"))
        _need(len(raw) == dt.itemsize, "scalar data does not match its dtype")
        return np.frombuffer(raw, dtype=dt)[0]
    if tag == "complex":
        re_, im = decode(data.get("re"), depth=depth + 1), decode(data.get("im"), depth=depth + 1)
        _need(type(re_) is float and type(im) is float, "bad complex")
        return complex(re_, im)
    if tag == "bytes":
        return _bytes(data.get("b64"))
    if tag == "tuple":
        return tuple(items())
    if tag == "dict":
        pairs = items()
        _need(all(type(p) is list and len(p) == 2 for p in pairs), "bad dict")
        try:
            return {k: v for k, v in pairs}
        except TypeError:
            raise BadData("unhashable dict key") from None
    if tag in ("set", "frozenset"):
        try:
            return (set if tag == "set" else frozenset)(items())
        except TypeError:
            raise BadData("unhashable set item") from None
    if tag == "slice":
        parts = items()
        _need(len(parts) == 3, "bad slice")
        return slice(*parts)
    if tag == "ellipsis":
        return Ellipsis
    if tag == "rng":
        _need(data.get("bitgen") in BIT_GENERATORS, "unknown bit generator")
        gen = np.random.Generator(getattr(np.random, data["bitgen"])())
        try:
            gen.bit_generator.state = decode(data.get("state"), depth=depth + 1)
        except (TypeError, ValueError, KeyError) as exc:
            raise BadData(f"bad generator state: {exc}") from None
        return gen
    if tag == "fn":
        try:
            obj = _lookup(data.get("module"), data.get("name"))
        except (AttributeError, ImportError):
            raise BadData("no such function") from None
        _need(callable(obj), "not a function")
        return obj
    if tag == "obj":
        try:
            cls = _lookup(data.get("module"), data.get("name"))
        except (AttributeError, ImportError):
            raise BadData("no such class") from None
        _need(isinstance(cls, type) and not issubclass(cls, BaseException), "not a class")
        # Only data inside (no handles, no callbacks): nnlib's own methods then work on numbers.
        state = decode(data.get("state"), None, None, unpickle, depth + 1)
        _need(type(state) is dict and all(type(k) is str for k in state), "bad object state")
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        return obj
    if tag == "ref":
        _need(ref is not None and type(data.get("id")) is int, "unexpected handle")
        return ref(data)
    if tag == "cb":
        _need(cb is not None and type(data.get("id")) is int, "unexpected callback")
        return cb(data)
    if tag == "pickle" and unpickle:
        import pickle
        return pickle.loads(_bytes(data.get("b64")))
    raise BadData(f"unknown tag {tag!r}")


# --- arguments a student's function changed in place -----------------------------------

def merge_into(orig, new, depth=0):
    """Copy new's content into orig in place (arrays, lists, dicts, objects, generators).

    Returns False where orig cannot take new in place (then orig is left as it was).
    """
    if depth > MAX_DEPTH:
        return False
    if isinstance(orig, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == orig.shape and orig.flags.writeable:
            try:
                orig[...] = new
                return True
            except (TypeError, ValueError):
                return False
        return False
    if type(orig) is list and type(new) is list:
        for i, (a, b) in enumerate(zip(orig, new)):
            if a is not b and not merge_into(a, b, depth + 1):
                orig[i] = b
        del orig[len(new):]
        orig.extend(new[len(orig):])
        return True
    if type(orig) is dict and type(new) is dict:
        for k in [k for k in orig if k not in new]:
            del orig[k]
        for k, v in new.items():
            if k not in orig or not merge_into(orig[k], v, depth + 1):
                orig[k] = v
        return True
    if type(orig) is np.random.Generator and type(new) is np.random.Generator:
        if type(orig.bit_generator) is type(new.bit_generator):
            orig.bit_generator.state = new.bit_generator.state
            return True
        return False
    if type(new) is type(orig) and hasattr(orig, "__dict__") and _trusted_module(type(orig).__module__):
        return merge_into(orig.__dict__, dict(new.__dict__), depth + 1)
    return False

"""What travels between the grader and a student's sandbox: plain data, in capped messages.

This file is used on both sides (the sandbox gets a copy of it and nothing else of
nncourse), so it imports only the standard library and numpy.

A message is an 8-byte length then that many bytes of UTF-8 JSON, at most
:data:`MAX_MESSAGE` bytes; :func:`receive` checks the deadline while it reads. A value is

* ``None``, a bool, an int, a float (``{"$": "float", "v": "nan"}`` for nan / inf), a str;
* a list, ``{"$": "tuple", "items": [...]}``, ``{"$": "dict", "items": [[key, value], ...]}``;
* ``{"$": "nd", "dtype": "<f8", "shape": [...], "b64": ...}``: a numpy array or scalar
  (``"scalar": true``) of a bool / int / uint / float / complex dtype, never ``object``;
* ``{"$": "rng", "bitgen": "PCG64", "state": {...}}``: a numpy Generator by its state,
  for the bit generators of :data:`BIT_GENERATORS` only;
* ``{"$": "ref", "id": 3, "type": "Dropout", "callable": false}``: a handle on an object
  that stays in the sandbox (an instance of the student's class, a function); the grader
  can only ask the sandbox to call it, or read or set its attributes, again with data.

Decoding never resolves a name (no module, class or function is looked up from what a
message says), never rebuilds an object from its attributes and never unpickles: a
student's code can send numbers, never code.
"""
from __future__ import annotations

import base64
import json
import math
import socket
import struct
import time

import numpy as np

MAX_MESSAGE = 16 << 20          # bytes per message (an array of 1.5 M float64 fits)
MAX_DEPTH = 64                  # nesting of lists, tuples and dicts
ARRAY_KINDS = "biufc"           # bool, int, uint, float, complex
BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "MT19937": np.random.MT19937,
                  "Philox": np.random.Philox, "SFC64": np.random.SFC64}
_HEADER = struct.Struct("!Q")


class NotData(TypeError):
    """A value that has no plain-data form (and no hook to make a handle for it)."""


class BadData(ValueError):
    """A message that does not follow the format, or asks for something not allowed."""


class Closed(EOFError):
    """The other end closed the channel (the sandbox ended)."""


class Timeout(Exception):                 # not an OSError: callers tell it from a broken channel
    """No complete message before the deadline."""


# --- messages --------------------------------------------------------------------------

def send(sock, message, deadline=None):
    """Send one message (a JSON-ready dict); BadData if it is too large, Timeout if the other
    end does not take it before the deadline."""
    data = json.dumps(message, ensure_ascii=True, allow_nan=False).encode("ascii")
    if len(data) > MAX_MESSAGE:
        raise BadData(f"a message of {len(data) >> 20} MB is more than the {MAX_MESSAGE >> 20} MB allowed")
    left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
    sock.settimeout(left)
    try:
        sock.sendall(_HEADER.pack(len(data)) + data)
    except socket.timeout:
        raise Timeout() from None


def _read(sock, n, deadline):
    chunks, got = [], 0
    while got < n:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise Timeout()
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(n - got, 1 << 20))
        except socket.timeout:
            raise Timeout() from None
        except (ConnectionError, OSError) as exc:
            raise Closed(str(exc)) from None
        if not chunk:
            raise Closed("end of stream")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(sock, deadline=None):
    """The next message as a dict (deadline: time.monotonic() value, None = wait)."""
    (size,) = _HEADER.unpack(_read(sock, _HEADER.size, deadline))
    if size > MAX_MESSAGE:
        raise BadData(f"a message of {size} bytes is more than the {MAX_MESSAGE} allowed")
    raw = _read(sock, size, deadline)
    try:
        message = json.loads(raw.decode("ascii"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadData(f"not a message: {type(exc).__name__}") from None
    if type(message) is not dict:
        raise BadData("not a message: not a JSON object")
    return message


# --- values ----------------------------------------------------------------------------

def _b64(data):
    return base64.b64encode(data).decode("ascii")


def encode(value, handle=None, depth=0):
    """value as JSON-ready data; handle(value) encodes what is not data (else NotData)."""
    if depth > MAX_DEPTH:
        raise NotData("nested too deeply")
    t = type(value)
    if value is None or t is bool or t is int or t is str:
        return value
    if t is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if t is list:
        return [encode(x, handle, depth + 1) for x in value]
    if t is tuple:
        return {"$": "tuple", "items": [encode(x, handle, depth + 1) for x in value]}
    if t is dict:
        return {"$": "dict", "items": [[encode(k, None, depth + 1), encode(v, handle, depth + 1)]
                                       for k, v in value.items()]}
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in ARRAY_KINDS and value.dtype.fields is None:
        a = np.asarray(value)
        a = a if a.flags.c_contiguous else np.ascontiguousarray(a)     # (ascontiguousarray makes 0-d 1-d)
        if a.nbytes > MAX_MESSAGE:
            raise NotData(f"an array of {a.nbytes >> 20} MB (more than {MAX_MESSAGE >> 20} MB)")
        d = {"$": "nd", "dtype": a.dtype.str, "shape": list(a.shape), "b64": _b64(a.tobytes())}
        if isinstance(value, np.generic):
            d["scalar"] = True
        return d
    if t is np.random.Generator and type(value.bit_generator).__name__ in BIT_GENERATORS \
            and type(value.bit_generator) is BIT_GENERATORS[type(value.bit_generator).__name__]:
        return {"$": "rng", "bitgen": type(value.bit_generator).__name__,
                "state": encode(value.bit_generator.state, None, depth + 1)}
    if handle is not None:
        return handle(value)
    raise NotData(f"a {t.__name__} is not data (numbers, strings, lists, tuples, dicts, numpy arrays)")


def _need(cond, what):
    if not cond:
        raise BadData(what)


def _dtype(s):
    _need(type(s) is str and len(s) <= 8, "bad dtype")
    try:
        dt = np.dtype(s)
    except TypeError:
        raise BadData(f"bad dtype {s!r}") from None
    _need(dt.kind in ARRAY_KINDS and dt.fields is None and not dt.hasobject, f"dtype {s!r} is not allowed")
    return dt


def decode(data, ref=None, depth=0):
    """Plain values from encoded data; ref(id) gives the object for a handle (None: refused)."""
    _need(depth <= MAX_DEPTH, "nested too deeply")
    t = type(data)
    if data is None or t is bool or t is int or t is float or t is str:
        return data
    if t is list:
        return [decode(x, ref, depth + 1) for x in data]
    _need(t is dict and type(data.get("$")) is str, f"unexpected {t.__name__}")
    tag = data["$"]
    if tag == "float":
        _need(data.get("v") in ("nan", "inf", "-inf"), "bad float")
        return float(data["v"])
    if tag in ("tuple", "dict"):
        items = data.get("items")
        _need(type(items) is list, f"{tag} without items")
        if tag == "tuple":
            return tuple(decode(x, ref, depth + 1) for x in items)
        out = {}
        for pair in items:
            _need(type(pair) is list and len(pair) == 2, "bad dict")
            key = decode(pair[0], None, depth + 1)
            _need(key is None or type(key) in (bool, int, float, str, tuple), "bad dict key")
            try:
                out[key] = decode(pair[1], ref, depth + 1)
            except TypeError:
                raise BadData("unhashable dict key") from None
        return out
    if tag == "nd":
        dt = _dtype(data.get("dtype"))
        shape = data.get("shape")
        _need(type(shape) is list and len(shape) <= 32 and all(type(n) is int and 0 <= n < 1 << 40 for n in shape),
              "bad shape")
        raw = data.get("b64")
        _need(type(raw) is str and len(raw) <= MAX_MESSAGE, "bad array data")
        try:
            raw = base64.b64decode(raw.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise BadData("bad base64") from None
        _need(len(raw) == math.prod(shape) * dt.itemsize, "array data does not match its shape")
        a = np.frombuffer(raw, dtype=dt).reshape(shape).copy()      # its own memory, writeable
        if data.get("scalar") is True:
            _need(a.ndim == 0, "bad scalar")
            return a[()]
        return a
    if tag == "rng":
        cls = BIT_GENERATORS.get(data.get("bitgen")) if type(data.get("bitgen")) is str else None
        _need(cls is not None, "unknown bit generator")
        state = decode(data.get("state"), None, depth + 1)
        _need(type(state) is dict, "bad generator state")
        bitgen = cls()
        try:
            bitgen.state = state
        except Exception as exc:   # noqa: BLE001 - numpy checks the state; any refusal is bad data
            raise BadData(f"bad generator state ({type(exc).__name__})") from None
        return np.random.Generator(bitgen)
    if tag == "ref":
        _need(ref is not None and type(data.get("id")) is int, "unexpected handle")
        return ref(data)
    raise BadData(f"unknown tag {tag!r}")


def merge_into(orig, new, depth=0):
    """Copy new's content into orig in place (what a student's function changed in an argument).

    Arrays of the same shape, lists, dicts and Generators are updated in place (so a check's
    aliases see the change); returns False where orig cannot take new (orig is then unchanged).
    """
    if depth > MAX_DEPTH:
        return False
    if type(orig) is np.ndarray:
        if type(new) is np.ndarray and new.shape == orig.shape and orig.flags.writeable:
            try:
                orig[...] = new
                return True
            except (TypeError, ValueError):
                return False
        return False
    if type(orig) is list and type(new) is list:
        for i, (a, b) in enumerate(zip(orig, new)):
            if not merge_into(a, b, depth + 1):
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
    if type(orig) is np.random.Generator and type(new) is np.random.Generator \
            and type(orig.bit_generator) is type(new.bit_generator):
        orig.bit_generator.state = new.bit_generator.state
        return True
    return False

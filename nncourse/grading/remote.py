"""The grader's side of the student's kernel: names, calls and objects that live there.

The instructor's check code runs in the grader's own process, in a
:class:`CheckerNamespace`. A name that the solution's answer cells define (``predict``)
is looked up in the student's kernel each time the check uses it: data comes back as
data (decoded by :mod:`nncourse.grading.codec`), anything else as a :class:`RemoteObject`
whose calls, attributes and items are requests to the kernel. The verdict is whatever
the instructor's code decides from that data; nothing the kernel prints, patches or
redefines reaches this process.

Comparisons (``==``, ``<``, ``in``, hashing) of a remote object are never delegated
to the student's code: a check compares data, which the remote object gives as
``np.asarray(obj)``, ``float(obj)``, ``list(obj)`` or its items.
"""
from __future__ import annotations

import builtins
import itertools
import json
import re
import time

from . import agent
from .codec import BadData, NotData, _lookup, decode, encode, merge_into

__all__ = ["Channel", "RemoteObject", "StudentError", "CheckerNamespace"]


class StudentError(Exception):
    """An exception raised by the student's code that is not one of Python's own."""


_error_types = {}


def _student_exception(err):
    """An exception to raise in the check for the error the kernel reported."""
    if type(err) is not dict:
        return StudentError("the grader could not read your kernel's answer")
    name = str(err.get("type", "Exception"))
    name = name if re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$", name) else "Exception"
    message = f"{err.get('message', '')}{err.get('where', '')}"
    if name == "SystemExit":
        message = f"sys.exit() or exit() was called{err.get('where', '')}"
    cls = getattr(builtins, name, None)
    if err.get("builtin") and isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except TypeError:
            pass
    if name not in _error_types:   # same name as the student's exception, so messages read naturally
        _error_types[name] = type(name, (StudentError,), {"__module__": "student"})
    return _error_types[name](message)


class Channel:
    """Requests to the agent in the student's kernel, within the current check's deadline."""

    def __init__(self, session, timeout):
        self.session = session
        self.timeout = timeout
        self.deadline = None          # set for each cell the checker runs
        # Functions of the check sent with the current request, callable by the kernel only
        # until that request returns: a student's code cannot keep one and hand it back
        # later as its own answer (the check's reference lambda as the student's relu, say).
        self._callbacks = {}
        self._next_callback = itertools.count(1)
        self._in_callback = False
        self._types = {}

    # encoding what the check sends
    def _other(self, value):
        if isinstance(value, RemoteObject):
            return {"$": "ref", "id": object.__getattribute__(value, "_id")}
        try:
            import pickle
            data = pickle.dumps(value)
        except Exception:
            data = None
        if data is not None and not callable(value):
            import base64
            return {"$": "pickle", "b64": base64.b64encode(data).decode("ascii")}
        if callable(value):
            cid = next(self._next_callback)
            self._callbacks[cid] = value
            return {"$": "cb", "id": cid}
        raise NotData(f"cannot send a {type(value).__name__} to the student's code")

    def _ref(self, d):
        type_name = str(d.get("type", "object"))
        type_name = type_name if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", type_name) else "object"
        # What isinstance() sees: a class of the student's is a `type`; an instance of a
        # subclass of an nnlib class is an instance of that nnlib class.
        seen_as = type if d.get("kind") == "class" else None
        if seen_as is None and type(d.get("base")) is list and len(d["base"]) == 2:
            try:
                seen_as = _lookup(*d["base"])
            except Exception:
                seen_as = None
            seen_as = seen_as if isinstance(seen_as, type) else None
        key = (type_name, bool(d.get("callable")), seen_as)
        if key not in self._types:
            base = RemoteCallable if key[1] else RemoteObject
            attrs = {"__slots__": (), "__module__": "student"}
            if seen_as is not None:
                attrs["__class__"] = property(lambda self, c=seen_as: c)
            self._types[key] = type(type_name, (base,), attrs)
        obj = object.__new__(self._types[key])
        object.__setattr__(obj, "_channel", self)
        object.__setattr__(obj, "_id", d["id"])
        return obj

    def decode(self, data):
        return decode(data, ref=self._ref)    # no callbacks come back: see __init__

    def encode(self, value):
        """Encode a value the check sends; callbacks registered so far die if this fails."""
        try:
            return encode(value, self._other)
        except BaseException:
            self._callbacks.clear()
            raise

    # the kernel calling one of the check's functions
    def _on_input(self, prompt):
        if not prompt.startswith(agent.PROMPT):
            return ""          # the student's own input(): an empty answer
        self._in_callback = True
        try:
            req = json.loads(prompt[len(agent.PROMPT):])
            fn = self._callbacks.get(req.get("cb"))
            if fn is None:
                raise LookupError("this function of the check can only be called during the call it was passed to")
            args = self.decode(req.get("args", []))
            kwargs = self.decode(req.get("kwargs", {"$": "dict", "items": []}))
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise BadData("bad callback request")
            reply = {"ok": True, "value": encode(fn(*args, **kwargs), self._other)}
        except Exception as exc:
            reply = {"ok": False, "error": {"type": type(exc).__name__, "message": str(exc)[:500]}}
        finally:
            self._in_callback = False
        try:
            return json.dumps(reply)
        except (TypeError, ValueError):
            return json.dumps({"ok": False, "error": {"type": "TypeError", "message": "unsendable result"}})

    def request(self, req, with_extra=False):
        """Send one request; return the decoded value (raise the student's error)."""
        if self._in_callback:
            raise RuntimeError("a function of the check called the student's code back: not supported")
        deadline = self.deadline if self.deadline is not None else time.monotonic() + self.timeout
        code = f'__import__("nncourse.grading.agent", fromlist=["serve"]).serve({json.dumps(req)!r})'
        try:
            result = self.session.execute(code, self.timeout, record=False, on_input=self._on_input,
                                          deadline=deadline)
        finally:
            self._callbacks.clear()
        if not result.data:
            why = f": {result.error}" if result.error else ""
            raise StudentError(f"the grader could not get an answer from your kernel{why}")
        try:
            reply = json.loads(result.data[-1])
        except ValueError:
            reply = None
        if type(reply) is not dict:
            raise StudentError("the grader could not read your kernel's answer")
        if not reply.get("ok"):
            raise _student_exception(reply.get("error"))
        try:
            value = self.decode(reply.get("value"))
        except (BadData, ValueError, TypeError, RecursionError) as exc:
            raise StudentError(f"your code returned something the grader cannot read ({exc})") from None
        if with_extra:
            return value, reply
        return value

    def get(self, name):
        return self.request({"op": "get", "name": name})

    def call(self, ref_id, args, kwargs):
        enc_args = [self.encode(a) for a in args]
        enc_kwargs = {"$": "dict", "items": [[k, self.encode(v)] for k, v in kwargs.items()]}
        value, reply = self.request({"op": "call", "ref": {"$": "ref", "id": ref_id},
                                     "args": enc_args, "kwargs": enc_kwargs}, with_extra=True)
        mutated = reply.get("mutated")
        if type(mutated) is dict:   # the student's function changed arguments in place
            for i, enc in mutated.get("args") or []:
                if type(i) is int and 0 <= i < len(args):
                    _merge(args[i], self.decode(enc))
            for k, enc in mutated.get("kwargs") or []:
                if k in kwargs:
                    _merge(kwargs[k], self.decode(enc))
        return value


def _merge(orig, new):
    try:
        merge_into(orig, new)
    except Exception:
        pass


class RemoteObject:
    """An object that lives in the student's kernel (its class name is the student's)."""

    __slots__ = ("_channel", "_id")

    def _req(self, op, **kw):
        ch = object.__getattribute__(self, "_channel")
        return ch.request({"op": op, "ref": {"$": "ref", "id": object.__getattribute__(self, "_id")}, **kw})

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._req("getattr", name=name)

    def __setattr__(self, name, value):
        ch = object.__getattribute__(self, "_channel")
        self._req("setattr", name=name, value=ch.encode(value))

    def __getitem__(self, key):
        ch = object.__getattribute__(self, "_channel")
        return self._req("getitem", key=ch.encode(key))

    def __setitem__(self, key, value):
        ch = object.__getattribute__(self, "_channel")
        self._req("setitem", key=ch.encode(key), value=ch.encode(value))

    def __len__(self):
        n = self._req("len")
        if type(n) is not int or n < 0:
            raise TypeError("len() of your object is not a non-negative int")
        return n

    def __iter__(self):
        ch = object.__getattribute__(self, "_channel")
        it = self._req("iter")
        if not isinstance(it, RemoteObject):
            yield from iter(it)
            return
        it_id = object.__getattribute__(it, "_id")
        while True:
            value, reply = ch.request({"op": "next", "ref": {"$": "ref", "id": it_id}}, with_extra=True)
            if reply.get("stop"):
                return
            yield value

    def __bool__(self):
        return bool(self._req("bool") is True)

    def __float__(self):
        value = self._req("float")
        if type(value) is not float:
            raise TypeError("float() of your object did not give a float")
        return value

    def __int__(self):
        value = self._req("int")
        if type(value) is not int:
            raise TypeError("int() of your object did not give an int")
        return value

    def __array__(self, dtype=None, copy=None):
        import numpy as np
        value = self._req("array")
        if not isinstance(value, np.ndarray):
            raise TypeError("np.asarray() of your object did not give an array")
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        text = self._req("repr")
        return text if type(text) is str else "<object>"

    def __str__(self):
        text = self._req("str")
        return text if type(text) is str else "<object>"

    __eq__ = object.__eq__
    __hash__ = object.__hash__


class RemoteCallable(RemoteObject):
    """A function (or class, or callable object) of the student's."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        ch = object.__getattribute__(self, "_channel")
        return ch.call(object.__getattribute__(self, "_id"), args, kwargs)


class CheckerNamespace(dict):
    """Globals for the instructor's code: names in ``remote`` are looked up in the kernel."""

    def __init__(self, channel):
        super().__init__()
        self.channel = channel
        self.remote = set()

    def __missing__(self, name):
        if name in self.remote:
            return self.channel.get(name)
        raise KeyError(name)


class _FakeShell:
    """get_ipython() for the instructor's code in the checker: magics do nothing there."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic

    def __getattr__(self, name):
        return self.run_line_magic


def fake_get_ipython():
    return _FakeShell()


__all__.append("fake_get_ipython")
__all__.append("CellTimeout")

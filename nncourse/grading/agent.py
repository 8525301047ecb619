"""The grader's helper inside the student's kernel: it runs the calls the checks make.

The grader runs the instructor's check code in its own process. When a check calls the
student's ``predict(X, w, b)``, the grader sends the request to the kernel as code,
``__import__("nncourse.grading.agent", fromlist=["serve"]).serve('<json>')``; this module
decodes the arguments, calls the student's function, and publishes the result as
plain data (a display message of type :data:`MIME`). Objects that are not data stay
here and the grader gets a handle on them. A function the check passes as an
argument (a lambda, say) becomes a stub that asks the grader to run it, through the
kernel's stdin channel (an input request whose prompt starts with :data:`PROMPT`).

Nothing here is trusted by the grader: a student's code can replace this module, and
the grader then receives whatever it sends, as data, and judges it as an answer.
"""
from __future__ import annotations

import builtins
import json
import traceback

from .codec import NotData, _named, decode, encode

MIME = "application/x-nnlib-grading+json"
PROMPT = "\x00nnlib-grading-callback:"
MAX_MESSAGE = 1000

_objects = {}     # handle id -> object kept alive for the grader
_handles = {}     # id(object) -> handle id


def _ref(obj):
    key = id(obj)
    hid = _handles.get(key)
    if hid is None or _objects.get(hid) is not obj:
        hid = len(_objects) + 1
        _objects[hid] = obj
        _handles[key] = hid
    d = {"$": "ref", "id": hid, "type": "object", "callable": False}
    try:
        d.update(type=str(type(obj).__name__)[:80], callable=bool(callable(obj)))
        if isinstance(obj, type):
            d["kind"] = "class"
        else:   # the nnlib class it derives from, if any, so that isinstance(obj, Layer) holds
            base = next((c for c in type(obj).__mro__[1:] if _named(c)), None)
            if base is not None:
                d["base"] = list(_named(base))
    except BaseException:   # a hostile __class__ or __mro__; the grader does not care
        pass
    return d


def _object(d):
    try:
        return _objects[d["id"]]
    except KeyError:
        raise LookupError("the grader asked for an object that no longer exists") from None


class _Callback:
    """Stands for a function of the check: calling it asks the grader to run it."""

    def __init__(self, cid):
        self._cid = cid

    def __call__(self, *args, **kwargs):
        from IPython import get_ipython
        request = {"cb": self._cid, "args": encode(list(args), _ref),
                   "kwargs": encode(dict(kwargs), _ref)}
        answer = get_ipython().kernel.raw_input(PROMPT + json.dumps(request))
        reply = json.loads(answer)
        if reply.get("ok"):
            return decode(reply.get("value"), ref=_object, cb=_callback)
        err = reply.get("error") or {}
        exc_type = getattr(builtins, str(err.get("type")), None)
        message = f"the check's function raised {err.get('type')}: {err.get('message')}"
        if isinstance(exc_type, type) and issubclass(exc_type, Exception):
            try:
                raise exc_type(message)
            except TypeError:
                pass
        raise RuntimeError(message)

    def __repr__(self):
        return f"<function of the check #{self._cid}>"


def _callback(d):
    return _Callback(d["id"])


def _where(exc):
    """'in predict, line 2: `return X @ w.T`' for the deepest frame of the student's code."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = frame.filename.replace("\\", "/")
        if "/nnlib/" in path or "/nncourse/" in path or "site-packages" in path or "/numpy/" in path or "/lib/python" in path:
            continue
        name = "your cell" if frame.name == "<module>" else frame.name
        return f" (in {name}, line {frame.lineno}: `{(frame.line or '').strip()}`)"
    return ""


def _describe(exc):
    try:
        cls = type(exc)
        message = str(exc)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + " ..."
        return {"type": str(cls.__name__)[:80], "builtin": getattr(builtins, cls.__name__, None) is cls,
                "message": message, "where": _where(exc)}
    except BaseException:
        return {"type": "Exception", "builtin": False, "message": "(an exception that cannot be shown)", "where": ""}


def _encode_arg(value):
    try:
        return json.dumps(encode(value, _ref), sort_keys=True)
    except (NotData, TypeError, ValueError):
        return None


def _call(req):
    fn = _object(req["ref"])
    args = decode(req.get("args", []), ref=_object, cb=_callback, unpickle=True)
    kwargs = decode(req.get("kwargs", {"$": "dict", "items": []}), ref=_object, cb=_callback, unpickle=True)
    _need_args(args, kwargs)
    before = {i: _encode_arg(a) for i, a in enumerate(args) if not isinstance(a, (int, float, str))}
    before_kw = {k: _encode_arg(a) for k, a in kwargs.items() if not isinstance(a, (int, float, str))}
    result = fn(*args, **kwargs)
    # Arguments the student's function changed in place go back, so that the check sees
    # the change as it would in the notebook (an optimizer step updating w, say).
    changed = [[i, _encode_arg(args[i])] for i, enc in before.items() if enc is not None]
    changed_kw = [[k, _encode_arg(kwargs[k])] for k, enc in before_kw.items() if enc is not None]
    changed = [[i, after] for i, after in changed if after is not None and after != before[i]]
    changed_kw = [[k, after] for k, after in changed_kw if after is not None and after != before_kw[k]]
    extra = {}
    if changed or changed_kw:
        extra["mutated"] = {"args": [[i, json.loads(a)] for i, a in changed],
                            "kwargs": [[k, json.loads(a)] for k, a in changed_kw]}
    return result, extra


def _need_args(args, kwargs):
    if type(args) is not list or type(kwargs) is not dict:
        raise TypeError("bad call request")


def _dispatch(req):
    op = req["op"]
    if op == "get":
        from IPython import get_ipython
        ns = get_ipython().user_ns
        if req["name"] not in ns:
            raise NameError(f"name {req['name']!r} is not defined")
        return ns[req["name"]], None
    if op == "call":
        return _call(req)
    obj = _object(req["ref"])
    if op == "getattr":
        return getattr(obj, req["name"]), None
    if op == "setattr":
        setattr(obj, req["name"], decode(req["value"], ref=_object, cb=_callback, unpickle=True))
        return None, None
    if op == "getitem":
        return obj[decode(req["key"], ref=_object, cb=_callback, unpickle=True)], None
    if op == "setitem":
        obj[decode(req["key"], ref=_object, unpickle=True)] = decode(req["value"], ref=_object, cb=_callback, unpickle=True)
        return None, None
    if op == "iter":
        return iter(obj), None
    if op == "next":
        try:
            return next(obj), {"stop": False}
        except StopIteration:
            return None, {"stop": True}
    if op == "len":
        return len(obj), None
    if op == "bool":
        return bool(obj), None
    if op == "float":
        return float(obj), None
    if op == "int":
        return int(obj), None
    if op == "array":
        import numpy as np
        return np.asarray(obj), None
    if op in ("repr", "str"):
        text = repr(obj) if op == "repr" else str(obj)
        return str(text)[:10000], None
    raise ValueError(f"unknown operation {op!r}")


def serve(request_json):
    """Run one request of the grader and publish the reply (never raises)."""
    try:
        req = json.loads(request_json)
        value, extra = _dispatch(req)
        reply = {"ok": True, "value": encode(value, _ref)}
        reply.update(extra or {})
    except BaseException as exc:   # SystemExit and KeyboardInterrupt too: the reply says so
        reply = {"ok": False, "error": _describe(exc)}
    try:
        text = json.dumps(reply)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"ok": False, "error": _describe(exc)})
    from IPython.display import display
    display({MIME: text}, raw=True)

"""The student's side: runs inside the sandbox, as ``python student.py FD``.

It is copied into the sandbox with :mod:`wire` next to it and nothing else of nncourse
(nnlib, numpy and IPython come from the read-only site-packages). It answers the
grader's requests on the inherited socket FD, one at a time:

* ``run``: run a cell with IPython (magics work), output captured and capped;
* ``get``: the value of a name the cells defined;
* ``call`` / ``getattr`` / ``setattr`` / ``array`` / ``len`` / ``repr`` on a handle.

Values go back as data (:mod:`wire`); anything else stays here and the grader gets a
handle on it. Nothing here is trusted: the student's code runs in this process and can
replace all of it; the grader then gets whatever it sends, as data, judged as an answer.
"""
import importlib.machinery
import contextlib
import io
import os
import resource
import socket
import sys
import traceback
import types

import wire

MAX_OUTPUT = 20_000        # characters of printed output kept per request
MAX_TEXT = 2_000           # characters of an error message

_objects = {}              # handle id -> object the grader holds a handle on


class _Capped(io.TextIOBase):
    """A stdout that keeps the first MAX_OUTPUT characters (an output flood costs nothing)."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = MAX_OUTPUT - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self):
        out = "".join(self.parts)
        return out + (f"\n... ({self.dropped} more characters not shown)" if self.dropped else "")


def _handle(obj):
    hid = len(_objects) + 1
    _objects[hid] = obj
    name = type(obj).__name__
    try:                                    # a function's own name, for messages ("your `fit(...)` timed out")
        own = obj.__name__ if callable(obj) else None
    except Exception:                       # noqa: BLE001 - any object may be passed here
        own = None
    return {"$": "ref", "id": hid, "type": name if isinstance(name, str) else "object", "callable": callable(obj),
            "class": isinstance(obj, type), "name": own if isinstance(own, str) else None}


def _object(d):
    try:
        return _objects[d["id"]]
    except KeyError:
        raise LookupError("the grader asked for an object that no longer exists") from None


def _where(exc, code=None):
    """' (in predict, line 2: `return X @ w`)' for the deepest frame of a notebook cell."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("<ipython-input") or frame.filename.startswith("<cell"):
            name = "your cell" if frame.name == "<module>" else frame.name
            return f" (in {name}, line {frame.lineno}: `{(frame.line or '').strip()[:200]}`)"
    if isinstance(exc, SyntaxError) and exc.lineno and code:
        lines = code.splitlines()
        if 0 < exc.lineno <= len(lines):
            return f" (line {exc.lineno}: `{lines[exc.lineno - 1].strip()[:200]}`)"
    return ""


def _error(exc, code=None):
    try:
        message = str(exc.msg if isinstance(exc, SyntaxError) and exc.msg else exc)
    except BaseException:   # noqa: BLE001 - a hostile __str__
        message = "(a message that cannot be shown)"
    return {"type": str(type(exc).__name__)[:80], "message": message[:MAX_TEXT], "where": _where(exc, code)}


class _NoChecks(types.ModuleType):
    """nncourse.checks here: the real checks run in the grader; a student's own call of
    `check.predict(predict)` in an answer cell does nothing, and its import does not fail."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _NoChecks(f"{self.__name__}.{name}")

    def __call__(self, *args, **kwargs):
        return None


class _NoChecksFinder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "nncourse" or name.startswith("nncourse."):
            return importlib.machinery.ModuleSpec(name, _NoChecksFinder, is_package=True)
        return None

    @staticmethod
    def create_module(spec):
        module = _NoChecks(spec.name)
        module.__path__ = []
        return module

    @staticmethod
    def exec_module(module):
        pass


class Shell:
    def __init__(self):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
        config = Config()
        config.HistoryManager.enabled = False          # no sqlite file, no history thread
        self.ip = InteractiveShell.instance(config=config)
        self.ip.showtraceback = lambda *a, **k: None   # errors go back as data instead
        self.ip.showsyntaxerror = lambda *a, **k: None
        # IPython 9 records every write to stdout in its history (InteractiveShell._tee), unbounded:
        # an output flood would fill the sandbox's memory although _Capped drops it. Not wanted here.
        self.ip._tee = lambda channel: contextlib.nullcontext()
        sys.meta_path.insert(0, _NoChecksFinder)
        self.ip.user_ns["check"] = _NoChecks("check")

    def run(self, code):
        out = _Capped()
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            result = self.ip.run_cell(code, store_history=False)
        finally:
            sys.stdout, sys.stderr = old
        exc = result.error_before_exec or result.error_in_exec
        reply = {"status": "ok" if exc is None else "error", "output": out.value()}
        if exc is not None:
            reply["error"] = _error(exc, code)
        return reply

    def dispatch(self, req):
        op = req.get("op")
        if op == "run":
            return self.run(req["code"]), None
        if op == "get":
            ns = self.ip.user_ns
            if req["name"] not in ns:
                raise NameError(f"name {req['name']!r} is not defined")
            return ns[req["name"]], None
        obj = _object(req["ref"])
        if op == "call":
            return self.call(obj, req)
        if op == "getattr":
            return getattr(obj, req["name"]), None
        if op == "setattr":
            setattr(obj, req["name"], wire.decode(req["value"], _object))
            return None, None
        if op == "getitem":
            return obj[wire.decode(req["key"], _object)], None
        if op == "array":
            import numpy as np
            return np.asarray(obj), None
        if op == "len":
            return len(obj), None
        if op == "repr":
            return str(repr(obj))[:MAX_TEXT], None
        raise ValueError(f"unknown request {op!r}")

    def call(self, fn, req):
        args = wire.decode(req["args"], _object)
        kwargs = wire.decode(req["kwargs"], _object)
        before = {i: _snapshot(a) for i, a in enumerate(args)}
        before_kw = {k: _snapshot(a) for k, a in kwargs.items()}
        out = _Capped()
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            value = fn(*args, **kwargs)
        finally:
            sys.stdout, sys.stderr = old
        # Arguments the function changed in place go back (an optimizer updating w, say).
        changed = [[i, after] for i, after in ((i, _snapshot(args[i])) for i in before) if after and after != before[i]]
        changed_kw = [[k, after] for k, after in ((k, _snapshot(kwargs[k])) for k in before_kw)
                      if after and after != before_kw[k]]
        extra = {"output": out.value()}
        if changed or changed_kw:
            import json
            extra["mutated"] = {"args": [[i, json.loads(a)] for i, a in changed],
                                "kwargs": [[k, json.loads(a)] for k, a in changed_kw]}
        return value, extra


def _snapshot(value):
    """The encoded value as text, for mutable data only ("" otherwise)."""
    if type(value).__name__ not in ("ndarray", "list", "dict", "Generator"):
        return ""
    try:
        import json
        return json.dumps(wire.encode(value), sort_keys=True)
    except (wire.NotData, TypeError, ValueError):
        return ""


def _limits(memory_mb, processes, file_mb):
    for name, value in (("RLIMIT_AS", memory_mb << 20 if memory_mb else None), ("RLIMIT_NPROC", processes),
                        ("RLIMIT_FSIZE", file_mb << 20), ("RLIMIT_CORE", 0), ("RLIMIT_NOFILE", 256)):
        if value is not None and hasattr(resource, name):
            resource.setrlimit(getattr(resource, name), (value, value))


def main():
    fd, memory_mb, processes, file_mb, uid = (int(x) for x in sys.argv[1:6])
    sock = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    _limits(memory_mb, processes, file_mb)      # Python, numpy and IPython count too
    shell = Shell()
    if uid >= 0 and os.getuid() == 0:          # run as root: become a user of our own (its process cap holds)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    wire.send(sock, {"ready": True})
    while True:
        try:
            req = wire.receive(sock)
        except (wire.Closed, wire.BadData):
            os._exit(0)
        except KeyboardInterrupt:
            continue
        seq = req.get("seq")
        try:
            value, extra = shell.dispatch(req)
            reply = dict(extra or {})
            reply.update(ok=True, value=wire.encode(value, _handle))
        except BaseException as exc:   # noqa: BLE001 - SystemExit and KeyboardInterrupt too: the reply says so
            reply = {"ok": False, "error": _error(exc)}
        reply["seq"] = seq
        try:
            wire.send(sock, reply)
        except (wire.BadData, wire.NotData, ValueError, TypeError) as exc:
            wire.send(sock, {"ok": False, "seq": seq, "error": {"type": "ValueError", "where": "",
                                                               "message": f"the answer cannot be sent: {exc}"}})
        except OSError:
            os._exit(0)


if __name__ == "__main__":
    main()

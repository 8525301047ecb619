"""The student's process: started in a bubblewrap sandbox, driven over an inherited socket.

:class:`Sandbox` starts ``student.py`` (with :mod:`wire` and nothing else of nncourse)
under ``bwrap``: its own PID, network, IPC and UTS namespaces (it can signal nothing
outside, reach no network, not even the host's loopback), a read-only view of the Python
installation, its site-packages and the ``nnlib`` package only, an empty private ``/tmp``
(capped), and nothing else: not the course folder (``nncourse``, ``solutions/``), not the
submissions, not the grader's temporary files, not ``--out``. The channel is one end of a
socket pair it inherits: there is no path it could redirect.

Limits for the whole submission: every process of it has an address-space limit of
``memory_mb`` and together they are at most ``processes`` (RLIMIT_NPROC, enforced on a
user of its own: a uid the sandbox runs as when the grader is root, the sandbox's user
namespace otherwise), so its memory is at most ``processes x memory_mb`` plus its ``/tmp``
(``TMP_MB``). When its first process (PID 1 of its namespace) ends, the kernel ends all
the others, and it ends when the grading process ends: bwrap's ``--die-with-parent``.

That chain must hold against the student's code, so the student's process is not PID 1:
bwrap's own init is, as root. The parent-death signal is sent with the rights of the
parent that died, so a child that dropped to another user never gets it (and could
clear it); bwrap's init, the same user as bwrap, always does, and takes the namespace
with it. As a second line, every sandbox writes its PIDs to the file named by
``$NNCOURSE_SANDBOX_PIDS`` when that is set: the grader's main process kills them by PID
(:func:`kill_recorded`) whenever a grading process ends or is stopped.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from . import wire

HERE = Path(__file__).resolve().parent
TMP_MB = 256
FILE_MB = 256
PROCESSES = 32
INTERRUPT_GRACE = 1.0     # seconds a timed-out request gets to stop after SIGINT before the sandbox is killed
START_TIMEOUT = 60.0
PIDS_ENV = "NNCOURSE_SANDBOX_PIDS"


def _stat(pid):
    """The fields of /proc/PID/stat after the command name (the state first), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _start_time(pid):
    """The process's start time (clock ticks since boot, field 22 of /proc/PID/stat), or None if it is gone."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _children(pid):
    """The PIDs whose parent is pid."""
    return [int(entry) for entry in os.listdir("/proc")
            if entry.isdigit() and (fields := _stat(entry)) and int(fields[1]) == pid]


def _record(pids):
    """Append "pid start-time" lines to $NNCOURSE_SANDBOX_PIDS (the grader's record of what to kill)."""
    path = os.environ.get(PIDS_ENV)
    if not path:
        return
    lines = "".join(f"{pid} {start}\n" for pid in pids if (start := _start_time(pid)) is not None)
    try:
        with open(path, "a") as f:
            f.write(lines)
    except OSError:
        pass


def kill_recorded(path):
    """SIGKILL every process recorded in the file that is still the same process (same start
    time: a PID used again by another process is left alone). Returns the PIDs killed."""
    try:
        with open(path) as f:
            rows = [line.split() for line in f]
    except OSError:
        return []
    killed = []
    for row in rows:
        try:
            pid, start = int(row[0]), int(row[1])
        except (ValueError, IndexError):
            continue
        if _start_time(pid) == start:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
    return killed


class Unavailable(RuntimeError):
    """No sandbox on this machine (bubblewrap missing or not allowed to create namespaces)."""


class Died(Exception):
    """The student's process ended; reason says how."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class Timeout(Exception):
    def __init__(self, where=""):
        super().__init__(where)
        self.where = where          # " (in fit, line 3: `while True:`)": where Ctrl-C found the code, if it said


def _interrupted_at(reply):
    """Where the student's code was when Ctrl-C stopped it, from its reply (plain text or "")."""
    try:
        err = reply.get("error")
        if type(err) is not dict:   # a cell run reports its error inside the value
            value = wire.decode(reply.get("value"), lambda d: None)
            err = value.get("error") if type(value) is dict else None
        where = err.get("where") if type(err) is dict else None
    except (wire.BadData, AttributeError, TypeError, ValueError, RecursionError):
        return ""
    return where[:300] if type(where) is str else ""


def describe_exit(code):
    if code is None:
        return "your code stopped answering"
    if code > 128:                              # bwrap reports a child killed by signal N as 128 + N
        code = -(code - 128)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"your code's process was killed ({name})"
        if -code == signal.SIGSEGV:
            return f"your code's process crashed ({name})"
        return f"your code's process was stopped by {name}"
    return f"your code's process exited with code {code} (os._exit, exit() in a thread, or a crash)"


def _python_roots():
    """Folders Python needs to run with numpy, IPython and nnlib: prefixes and site-packages."""
    import numpy
    import IPython
    import nnlib
    roots = {Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).parent}
    for module in (numpy, IPython):
        roots.add(Path(module.__file__).resolve().parent.parent)     # their site-packages
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    return sorted(roots), Path(nnlib.__file__).resolve().parent


def _hidden_under(roots):
    """Paths under the bound folders the sandbox must not see: nncourse wherever it is installed."""
    import nncourse
    hidden = [Path(nncourse.__file__).resolve().parent]
    return [h for h in hidden if any(r == h or r in h.parents for r in roots)]


def command(fd, info_fd, memory_mb, processes, uid, hide=()):
    """The bwrap command line that runs student.py with the socket fd."""
    roots, nnlib_dir = _python_roots()
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--info-fd", str(info_fd),
            "--size", str(TMP_MB << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    if os.getuid() != 0:
        args += ["--unshare-user", "--disable-userns"]
    else:                                       # student.py drops to `uid` itself, after the limits
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    for system in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(system):
            args += ["--symlink", os.readlink(system), system]
        elif os.path.isdir(system):
            args += ["--ro-bind", system, system]
    for etc in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime", "/etc/fonts"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    binds = [r for r in roots if r.is_dir() and not str(r).startswith(("/usr", "/bin", "/lib"))] + [nnlib_dir]
    parents = sorted({p for b in binds for p in b.parents if p != Path("/") and p not in binds}, key=lambda p: len(p.parts))
    for parent in parents:                      # bwrap would make them 0700: the student's user could not pass
        args += ["--perms", "0755", "--dir", str(parent)]
    for root in binds:
        args += ["--ro-bind", str(root), str(root)]
    for path in list(_hidden_under(roots)) + [Path(p) for p in hide]:
        if any(r == path or r in path.parents for r in roots + [nnlib_dir]) and path.is_dir():
            args += ["--tmpfs", str(path)]      # an empty folder over it
    args += ["--proc", "/proc", "--dev", "/dev", "--dir", "/run/grader", "--ro-bind", str(HERE / "student.py"), "/run/grader/student.py",
             "--ro-bind", str(HERE / "wire.py"), "/run/grader/wire.py", "--chdir", "/tmp", "--",
             sys.executable, "-s", "-B", "/run/grader/student.py",
             str(fd), str(int(memory_mb or 0)), str(processes), str(FILE_MB), str(uid)]
    return args, nnlib_dir


def _env(nnlib_dir):
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/.matplotlib", "PYTHONPATH": str(nnlib_dir.parent), "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "IPYTHONDIR": "/tmp/.ipython", "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "")}


def check_available():
    """None if bubblewrap can make a sandbox here, else why not (Unavailable's message)."""
    if not sys.platform.startswith("linux"):
        return f"there is no sandbox on {sys.platform}: bubblewrap needs Linux"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"
    probe = ["bwrap", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    if os.getuid() != 0:
        probe.insert(1, "--unshare-user")
    try:
        proc = subprocess.run(probe + ["true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap does not run: {exc}"
    if proc.returncode:
        return f"bubblewrap cannot make a sandbox here ({proc.stderr.strip()[:200]}): user namespaces disabled?"
    return None


class Sandbox:
    """One submission's process. execute() runs a cell, request() any other request."""

    def __init__(self, *, memory_mb, processes=PROCESSES, isolated=True, hide=()):
        self.memory_mb, self.processes, self.isolated, self.hide = memory_mb, processes, isolated, hide
        self.proc = self.sock = None
        self.pid = None            # the student's process (PID 2 of the sandbox), as the grader sees it
        self.init_pid = None       # bwrap's init (PID 1 of the sandbox): when it ends, everything in it ends
        self.seq = 0
        self.restarts = 0
        self.exit_code = None
        self.stopped = False

    # --- life cycle -------------------------------------------------------------------
    def start(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        info_r, info_w = os.pipe()
        uid = 2_000_000 + os.getpid() % 1_000_000 if os.getuid() == 0 else -1
        try:
            if self.isolated:
                argv, nnlib_dir = command(theirs.fileno(), info_w, self.memory_mb, self.processes, uid, self.hide)
                env = _env(nnlib_dir)
                pass_fds = (theirs.fileno(), info_w)
            else:
                _, nnlib_dir = _python_roots()
                env = dict(_env(nnlib_dir), HOME=os.environ.get("HOME", "/tmp"))
                env.pop("MPLCONFIGDIR"), env.pop("IPYTHONDIR")
                argv = [sys.executable, "-s", "-B", str(HERE / "student.py"), str(theirs.fileno()),
                        str(int(self.memory_mb or 0)), str(self.processes), str(FILE_MB), "-1"]
                pass_fds = (theirs.fileno(),)
            self.proc = subprocess.Popen(argv, env=env, pass_fds=pass_fds, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True, cwd="/tmp" if self.isolated else None)
        finally:
            theirs.close()
            os.close(info_w)
        self.sock = ours
        self.pid = self.proc.pid
        if self.isolated:
            with os.fdopen(info_r, "rb") as info:
                raw = info.read(4096)        # bwrap writes it, then closes its end
            try:
                self.init_pid = int(json.loads(raw.decode())["child-pid"])
            except (ValueError, KeyError, TypeError):
                pass
        else:
            os.close(info_r)
        _record({self.init_pid, self.proc.pid} - {None})
        try:
            hello = wire.receive(self.sock, time.monotonic() + START_TIMEOUT)
        except (wire.Closed, wire.Timeout, wire.BadData):
            hello = None
        if hello and self.init_pid is not None:
            children = _children(self.init_pid)     # the student's process has started: it said so
            if len(children) == 1:
                self.pid = children[0]
                _record({self.pid})
            else:
                hello = None
        if not (hello or {}).get("ready"):
            why = self._stderr_tail()
            self.kill()
            raise Died(f"the sandbox did not start{': ' + why if why else ''}")

    def _stderr_tail(self):
        try:
            self.proc.wait(timeout=5)
            return self.proc.stderr.read(4000).decode("utf-8", "backslashreplace").strip().splitlines()[-1][:300]
        except (subprocess.TimeoutExpired, IndexError, OSError, ValueError):
            return ""

    def kill(self):
        """End the sandbox and everything in it (its PID 1 going takes all the others)."""
        for pid in {self.init_pid, self.pid, getattr(self.proc, "pid", None)} - {None}:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.exit_code = self.proc.returncode
            if self.proc.stderr:
                self.proc.stderr.close()
        if self.sock is not None:
            self.sock.close()
        self.proc = self.sock = None

    def restart(self):
        self.kill()
        self.restarts += 1
        self.stopped = False
        self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # --- requests ---------------------------------------------------------------------
    def request(self, req, deadline):
        """Send req, wait for its reply until deadline (time.monotonic()); Timeout or Died."""
        if self.proc is None:
            raise Died("your code's process is gone")
        self.seq += 1
        seq = req["seq"] = self.seq
        try:
            try:
                wire.send(self.sock, req, deadline)
            except OSError:
                raise self._died() from None
            return self._reply(seq, deadline)
        except wire.Timeout:
            raise Timeout(self._interrupt(seq)) from None

    def _reply(self, seq, deadline):
        while True:
            try:
                reply = wire.receive(self.sock, deadline)
            except wire.Closed:
                raise self._died() from None
            except wire.BadData as exc:
                self.kill()
                raise Died(f"your code broke the channel to the grader ({exc})") from None
            except OSError:
                raise self._died() from None
            if reply.get("seq") == seq:
                return reply
            # a reply to an earlier request that was interrupted, or one the student's code made up: ignored

    def _died(self):
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        return Died(describe_exit(code))

    def _interrupt(self, seq):
        """Ctrl-C the student's code; kill the sandbox if it does not answer within INTERRUPT_GRACE."""
        try:
            os.kill(self.pid, signal.SIGINT)
            return _interrupted_at(self._reply(seq, time.monotonic() + INTERRUPT_GRACE))
        except (wire.Timeout, ProcessLookupError, Died, OSError):
            self.kill()
            self.stopped = True         # by the grader, after a timeout: start again and replay
            return ""


# --- the grader's view of the student's values ----------------------------------------------

class StudentError(Exception):
    """An exception of the student's code that is not one of the Python ones below."""


# The exceptions a check may tell apart, by the name the sandbox reports (a fixed table:
# nothing is looked up by a name that comes from the sandbox).
EXCEPTIONS = {cls.__name__: cls for cls in (
    NotImplementedError, ValueError, TypeError, IndexError, KeyError, AttributeError, NameError,
    ZeroDivisionError, ArithmeticError, OverflowError, FloatingPointError, LookupError, RuntimeError,
    RecursionError, MemoryError, AssertionError, UnboundLocalError, ImportError, ModuleNotFoundError, OSError,
    FileNotFoundError, PermissionError, StopIteration)}
_student_types = {}


def student_exception(err):
    """The exception to raise in the check for the error the sandbox reported."""
    if type(err) is not dict:
        return StudentError("the grader could not read your code's answer")
    name = err.get("type") if type(err.get("type")) is str else "Exception"
    name = name if name.isidentifier() and len(name) <= 80 else "Exception"
    message = f"{err.get('message', '')}{err.get('where', '')}" if type(err.get("message")) is str else ""
    if name == "SystemExit":
        return StudentError(f"sys.exit() or exit() was called{err.get('where', '')}")
    if name == "KeyboardInterrupt":
        return StudentError("your code was interrupted")
    if name in EXCEPTIONS:
        return EXCEPTIONS[name](message)
    if name not in _student_types:      # a class named like the student's, so that messages read naturally
        _student_types[name] = type(name, (StudentError,), {"__module__": "student"})
    return _student_types[name](message)


class Remote:
    """Values of the student's code for the instructor's checks: data, or handles on its objects.

    get(name) and calls return data (decoded by :mod:`wire`) or a :class:`RemoteObject`.
    Each request has the deadline of the cell being checked (``self.deadline``).
    """

    def __init__(self, sandbox, timeout):
        self.sandbox = sandbox
        self.timeout = timeout
        self.deadline = None
        self.calling = []           # names of the student's functions being called now (innermost last)

    def _handle(self, d):
        cls = RemoteClass if d.get("class") is True else RemoteCallable if d.get("callable") is True else RemoteObject
        obj = object.__new__(cls)
        name = d.get("type") if type(d.get("type")) is str and d["type"].isidentifier() else "object"
        object.__setattr__(obj, "_remote", self)
        object.__setattr__(obj, "_id", d["id"])
        object.__setattr__(obj, "_type", name[:80])
        own = d.get("name")         # the student's process says it: only an identifier is kept, never shown raw
        object.__setattr__(obj, "_name", own if type(own) is str and own.isidentifier() and len(own) <= 80 else None)
        return obj

    def encode(self, value):
        def handle(v):
            if isinstance(v, RemoteObject):
                return {"$": "ref", "id": object.__getattribute__(v, "_id")}
            raise wire.NotData(f"the check passes a {type(v).__name__} to your code: the grader carries data only "
                               "(numbers, strings, lists, dicts, numpy arrays, random generators)")
        return wire.encode(value, handle)

    def request(self, req):
        deadline = self.deadline if self.deadline is not None else time.monotonic() + self.timeout
        reply = self.sandbox.request(req, deadline)
        if reply.get("ok") is not True:
            raise student_exception(reply.get("error"))
        try:
            return wire.decode(reply.get("value"), self._handle), reply
        except (wire.BadData, RecursionError, ValueError, TypeError, MemoryError) as exc:
            raise StudentError(f"your code returned something the grader cannot read ({exc})") from None

    def get(self, name):
        return self.request({"op": "get", "name": name})[0]

    def call(self, ref, args, kwargs, name=None):
        req = {"op": "call", "ref": {"$": "ref", "id": ref}, "args": self.encode(list(args)),
               "kwargs": self.encode(dict(kwargs))}
        self.calling.append(name)
        try:
            value, reply = self.request(req)
        finally:
            self.calling.pop()
        mutated = reply.get("mutated")
        if type(mutated) is dict:       # arguments the student's function changed in place
            for key, enc, where in [(i, e, args) for i, e in _pairs(mutated.get("args"))] + \
                                   [(k, e, kwargs) for k, e in _pairs(mutated.get("kwargs"))]:
                try:
                    if (type(key) is int and 0 <= key < len(where)) or (type(key) is str and key in where):
                        wire.merge_into(where[key], wire.decode(enc, self._handle))
                except (wire.BadData, ValueError, TypeError, RecursionError):
                    pass
        return value


def _pairs(seq):
    return [p for p in seq if type(p) is list and len(p) == 2] if type(seq) is list else []


class RemoteObject:
    """An object that stays in the sandbox. Its methods and attributes are requests; comparisons,
    hashing and every other special method are the grader's own, never the student's."""

    __slots__ = ("_remote", "_id", "_type", "_name")

    def _req(self, op, **kw):
        remote = object.__getattribute__(self, "_remote")
        return remote.request({"op": op, "ref": {"$": "ref", "id": object.__getattribute__(self, "_id")}, **kw})[0]

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._req("getattr", name=name)

    def __setattr__(self, name, value):
        self._req("setattr", name=name, value=object.__getattribute__(self, "_remote").encode(value))

    def __getitem__(self, key):
        return self._req("getitem", key=object.__getattribute__(self, "_remote").encode(key))

    def __len__(self):
        n = self._req("len")
        if type(n) is not int or n < 0:
            raise TypeError("len() of your object is not a non-negative int")
        return n

    def __array__(self, dtype=None, copy=None):
        import numpy as np
        value = self._req("array")
        if type(value) is not np.ndarray:
            raise TypeError("np.asarray() of your object did not give an array")
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        text = self._req("repr")
        return text if type(text) is str else f"<{object.__getattribute__(self, '_type')} object>"

    __str__ = __repr__
    __eq__ = object.__eq__
    __hash__ = object.__hash__


class RemoteCallable(RemoteObject):
    """A function, class or callable object of the student's."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        remote = object.__getattribute__(self, "_remote")
        return remote.call(object.__getattribute__(self, "_id"), args, kwargs, object.__getattribute__(self, "_name"))


class RemoteClass(RemoteCallable):
    """A class of the student's: isinstance(it, type) holds, as for the class itself."""

    __slots__ = ()

    @property
    def __class__(self):
        return type

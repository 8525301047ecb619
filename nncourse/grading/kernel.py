"""A student's kernel, driven with a time limit: run code, interrupt it, notice its death.

:class:`KernelSession` starts a fresh ipykernel (in a working directory of its own,
with a memory limit, one BLAS thread), runs code with a deadline, and reports what
happened. A cell that runs past its deadline raises :class:`CellTimeout` after the
kernel was interrupted (or, if the interrupt does not stop it, restarted and the
cells so far replayed); a kernel process that ends raises :class:`KernelDied` with
the reason.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NNLIB_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTERRUPT_GRACE = 5.0
MAX_RESTARTS = 3


class GradingInterrupt(BaseException):
    """Stops a check (a BaseException, so that no `except Exception` in a check catches it)."""


class CellTimeout(GradingInterrupt):
    def __init__(self, seconds):
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class KernelDied(GradingInterrupt):
    """The kernel process ended; reason says how (exit code, signal, memory)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def describe_exit(code):
    if code is None:
        return "the kernel stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"the kernel was killed ({name}), most often for using too much memory"
        if -code == signal.SIGSEGV:
            return f"the kernel crashed ({name})"
        return f"the kernel was stopped by {name}"
    return f"the kernel process exited with code {code} (os._exit, exit() or a crash)"


@dataclass
class Execution:
    """What running one piece of code gave: status "ok" or "error", the error, the data sent."""

    status: str = "ok"
    ename: str = ""
    evalue: str = ""
    where: str = ""
    data: list = field(default_factory=list)      # payloads of display messages with our MIME type

    @property
    def error(self):
        return f"{self.ename}: {self.evalue}{self.where}" if self.status == "error" else ""


class _OneSpec(KernelSpecManager):
    def __init__(self, spec, **kw):
        super().__init__(**kw)
        self._spec = spec

    def get_kernel_spec(self, kernel_name):
        return self._spec


class KernelSession:
    """One student's kernel. Use as a context manager; see :meth:`execute`."""

    def __init__(self, cwd, memory_mb=4096, startup_timeout=60.0, mime=None):
        self.cwd = str(cwd)
        self.memory_mb = memory_mb
        self.startup_timeout = startup_timeout
        self.mime = mime
        self.history = []        # code that ran to the end (with or without error): replayed after a restart
        self.restarts = 0
        self.km = self.kc = None
        self._busy = None        # msg_id of a request we stopped waiting for

    # --- life cycle ---------------------------------------------------------------
    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NNLIB_CHECKS_STRICT", "JPY_", "NNLIB_GRADING"))}
        env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   NNLIB_GRADING_MEMORY_MB=str(int(self.memory_mb or 0)), PYDEVD_DISABLE_FILE_VALIDATION="1")
        # The kernel imports the same nnlib as the grader (its working directory is an empty
        # folder, so without this a course run from its folder without `pip install -e .`
        # has no nnlib in the kernel, and an installed copy elsewhere would be a different one).
        env["PYTHONPATH"] = os.pathsep.join([NNLIB_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        return env

    def _why_not_started(self):
        """The last line of what `import nncourse.grading.launcher, ipykernel` says in the kernel's setting."""
        try:
            proc = subprocess.run([sys.executable, "-c", "import nncourse.grading.launcher, ipykernel"], cwd=self.cwd,
                                  env=self._env(), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return ""
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        return lines[-1].strip()[:300] if proc.returncode and lines else ""

    def start(self):
        spec = KernelSpec(argv=[sys.executable, "-m", "nncourse.grading.launcher", "-f", "{connection_file}"],
                          display_name="nnlib grading", language="python")
        self.km = KernelManager(kernel_name="nnlib-grading", kernel_spec_manager=_OneSpec(spec))
        # The kernel's own stdout / stderr go nowhere (what the student prints comes as messages).
        self.km.start_kernel(cwd=self.cwd, env=self._env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._connect()

    def _connect(self):
        self.kc = self.km.client()
        self.kc.allow_stdin = True
        self.kc.start_channels()
        try:
            self.kc.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError:
            reason = describe_exit(self.exit_code()) if not self.km.is_alive() else "the kernel did not start"
            why = self._why_not_started() if self.restarts == 0 else ""
            raise KernelDied(f"{reason} ({why})" if why else reason) from None
        self._busy = None

    def shutdown(self):
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:
                pass
        self.kc = self.km = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()

    def exit_code(self):
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        return None if proc is None else proc.poll()

    def alive(self):
        return self.km is not None and self.km.is_alive()

    # --- running code -------------------------------------------------------------
    def execute(self, code, timeout, *, record=True, on_input=None, deadline=None):
        """Run code; return an :class:`Execution`. Raises CellTimeout or KernelDied.

        record=True keeps the code for replay after a restart. on_input(prompt) answers
        the kernel's input requests (the default answers "").
        """
        if self._busy is not None:
            self._recover()
        if not self.alive():
            raise KernelDied(describe_exit(self.exit_code()))
        deadline = time.monotonic() + timeout if deadline is None else deadline
        msg_id = self.kc.execute(code, silent=False, store_history=record, allow_stdin=True, stop_on_error=False)
        self._busy = msg_id
        result = Execution()
        try:
            self._wait(msg_id, deadline, result, on_input, timeout)
        except CellTimeout:
            self._recover()
            raise
        self._busy = None
        if record:
            self.history.append(code)
        return result

    def _wait(self, msg_id, deadline, result, on_input, seconds):
        poller = zmq.Poller()
        channels = {self.kc.iopub_channel.socket: self._on_iopub,
                    self.kc.shell_channel.socket: self._on_shell,
                    self.kc.stdin_channel.socket: self._on_stdin}
        for sock in channels:
            poller.register(sock, zmq.POLLIN)
        state = {"reply": False, "idle": False}
        while not (state["reply"] and state["idle"]):
            left = deadline - time.monotonic()
            if left <= 0:
                raise CellTimeout(seconds)
            events = dict(poller.poll(int(min(left, 0.25) * 1000) + 1))
            if not events:
                if not self.alive():
                    self._busy = None
                    raise KernelDied(describe_exit(self.exit_code()))
                continue
            for sock, handler in channels.items():
                if sock in events:
                    handler(msg_id, result, state, on_input)

    def _on_iopub(self, msg_id, result, state, on_input):
        while self.kc.iopub_channel.msg_ready():
            msg = self.kc.get_iopub_msg(timeout=0)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                state["idle"] = True
            elif kind == "error":
                result.status = "error"
                result.ename = str(content.get("ename", ""))[:200]
                result.evalue = _clean(str(content.get("evalue", "")))[:2000]
                result.where = _where(content.get("traceback") or [])
            elif kind == "display_data" and self.mime and self.mime in content.get("data", {}):
                result.data.append(content["data"][self.mime])

    def _on_shell(self, msg_id, result, state, on_input):
        while self.kc.shell_channel.msg_ready():
            msg = self.kc.get_shell_msg(timeout=0)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            state["reply"] = True
            content = msg["content"]
            if content.get("status") == "error" and result.status != "error":
                result.status = "error"
                result.ename = str(content.get("ename", ""))[:200]
                result.evalue = _clean(str(content.get("evalue", "")))[:2000]

    def _on_stdin(self, msg_id, result, state, on_input):
        while self.kc.stdin_channel.msg_ready():
            msg = self.kc.get_stdin_msg(timeout=0)
            if msg["msg_type"] != "input_request":
                continue
            prompt = str(msg["content"].get("prompt", ""))
            answer = on_input(prompt) if on_input is not None else ""
            self.kc.input(answer)

    # --- recovering from a timeout ------------------------------------------------
    def _recover(self):
        """Interrupt the busy kernel; restart it (and replay history) if that does not work."""
        msg_id, self._busy = self._busy, None
        if msg_id is None or not self.alive():
            return
        self.km.interrupt_kernel()
        try:
            self._wait(msg_id, time.monotonic() + INTERRUPT_GRACE, Execution(), None, INTERRUPT_GRACE)
            return
        except CellTimeout:
            pass
        except KernelDied:
            raise
        self.restart()

    def restart(self):
        """A new kernel process with the cells so far run again (KernelDied if that fails)."""
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise KernelDied(f"the kernel had to be restarted {MAX_RESTARTS} times after timeouts; grading stopped")
        self.kc.stop_channels()
        self.km.restart_kernel(now=True)
        self._connect()
        history, self.history = self.history, []
        for code in history:
            try:
                self.execute(code, self.replay_timeout)
            except CellTimeout:
                raise KernelDied("the kernel was restarted after a timeout, and running your cells again timed out") from None

    replay_timeout = 60.0


def _clean(text):
    text = ANSI.sub("", text)
    return re.sub(r"\((?:/tmp/ipykernel_\d+/)?\d+\.py, line (\d+)\)", r"(line \1)", text)


def _where(traceback_lines):
    """'line 2: `return X @ w`': the failing line of the deepest frame in a cell of the notebook.

    IPython sends one string per frame; a cell's frame is headed "Cell In[3], line 2" (or
    names an ipykernel temporary file), a library's frame names its file.
    """
    frames = [_clean(str(t)) for t in traceback_lines]
    cells = [f for f in frames if "Cell In[" in f or "ipykernel_" in f] or frames
    for frame in reversed(cells):
        hits = re.findall(r"^-*> ?(\d+)\s(.*)$", frame, flags=re.M)
        if hits:
            lineno, line = hits[-1]
            return f" (line {lineno}: `{line.strip()[:200]}`)"
    return ""

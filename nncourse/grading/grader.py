"""Grade one submission, as nbgrader's pipeline does: sanitize -> execute -> collect -> grade.

    grade(path, solutions_dir, timeout=30)      # the API: a dict, see grade()
    python -m nncourse.grading.grader           # a worker of `python -m nncourse.grading`:
                                                # a job (JSON) on stdin, the result on stdout

1. **sanitize** (:func:`sanitize`): the submission's bytes as a notebook (nbformat 4, cells
   with string ids and sources), its chapter (``metadata.nnlib.chapter``), and the *plan*:
   the instructor's ``solutions/<chapter>.ipynb`` with only its **answer cells**
   (``nbgrader.solution``) taken from the submission (by cell id, else grade_id; of
   duplicates, the last). The submission's other cells are not used.
2. **execute** (:func:`execute`): the setup and answer cells run in the student's
   sandbox (:mod:`.sandbox`), each within the time limit; the check cells (hidden tests
   included) run here, in this process, where the names the answer cells define are
   looked up in the sandbox each time and come back as data (:mod:`.wire`).
3. **collect / grade**: a check cell that runs to its end earns its points; otherwise its
   question gets a status ("failed", "not done", "timed out", "kernel died") and message.
"""
from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .. import release
from . import sandbox as sb

DEFAULT_TIMEOUT = 30.0
DEFAULT_SUBMISSION_TIMEOUT = 600.0
DEFAULT_MEMORY_MB = 2048
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_RESTARTS = 3


class SubmissionError(ValueError):
    """The submission cannot be graded at all; the message is for the student."""


# --- 1. sanitize -------------------------------------------------------------------------

def _source(cell):
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def _nbgrader(cell):
    meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    nbg = meta.get("nbgrader")
    return nbg if isinstance(nbg, dict) else {}


def _key(value):
    """A cell id or grade_id if it is a usable one (a short string), else None."""
    return value if isinstance(value, str) and 0 < len(value) <= 256 else None


def parse_notebook(raw):
    """The notebook in raw (bytes) as a dict; SubmissionError says, for the student, why it is not one."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"the file is {len(raw) >> 20} MB, more than the {MAX_NOTEBOOK_BYTES >> 20} MB a "
                              "notebook may have: clear its outputs (Edit > Clear Outputs of All Cells) and save")
    try:
        nb = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook: the file is not text (UTF-8)") from None
    except RecursionError:
        raise SubmissionError("not a notebook: its JSON is nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"not a notebook: invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(nb, dict):
        raise SubmissionError("not a notebook: JSON without a list of cells")
    if nb.get("nbformat", 4) != 4:
        raise SubmissionError(f"notebook format {nb.get('nbformat')!r} is not supported (the course's notebooks are "
                              "format 4): open it in JupyterLab 4 or Notebook 7, save it, and hand it in again")
    if not isinstance(nb.get("cells"), list) or not all(isinstance(c, dict) for c in nb["cells"]):
        raise SubmissionError("not a notebook: JSON without a list of cells")
    for i, cell in enumerate(nb["cells"], 1):
        if "id" in cell and _key(cell["id"]) is None:
            raise SubmissionError(f"cell {i} of the notebook has a malformed id ({type(cell['id']).__name__} "
                                  f"{str(cell['id'])[:40]!r}): was the file edited by hand? Hand in the file "
                                  "JupyterLab saved")
    return nb


def find_chapter(nb, solutions_dir):
    """(chapter, note): from metadata.nnlib.chapter, else from the answer cells' ids."""
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    nnlib_meta = meta.get("nnlib") if isinstance(meta.get("nnlib"), dict) else {}
    chapter = nnlib_meta.get("chapter")
    if chapter is None:
        return _chapter_from_ids(nb, solutions_dir)
    if not isinstance(chapter, str) or not release.CHAPTER_RE.match(chapter):
        raise SubmissionError(f"unknown chapter {str(chapter)[:80]!r} in the notebook's metadata")
    if not (Path(solutions_dir) / f"{chapter}.ipynb").is_file():
        raise SubmissionError(f"unknown chapter {chapter!r}: there is no {Path(solutions_dir) / (chapter + '.ipynb')}")
    return chapter, ""


def _chapter_from_ids(nb, solutions_dir):
    """A notebook without nnlib metadata (a solution, or cells copied into a new notebook)."""
    ids = {_key(c.get("id")) for c in nb["cells"]} | {_key(_nbgrader(c).get("grade_id")) for c in nb["cells"]}
    best, best_count = None, 0
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        try:
            sol = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        answers = {c.get("id") for c in sol.get("cells", []) if _nbgrader(c).get("solution")}
        if len(answers & ids) > best_count:
            best, best_count = path.stem, len(answers & ids)
    if best is None:
        raise SubmissionError("not an exercise notebook: no metadata.nnlib.chapter and no answer cell of "
                              "any chapter (was it made from exercises/, or is it a chapter notebook?)")
    return best, f"the notebook's metadata names no chapter: graded as {best}, whose answer cells it has."


@dataclass
class Step:
    kind: str                 # "setup" (sandbox + checker), "answer" (sandbox), "check" (checker)
    cell_id: str
    source: str
    question: str | None = None
    names: tuple = ()         # answer: names the solution's cell defines (looked up in the sandbox)
    imports: str = ""         # answer: the solution's import lines (run in the checker too)
    note: str = ""            # answer: why the submission's cell was not used as it is (shown with its question)


@dataclass
class Plan:
    chapter: str
    steps: list
    questions: list           # {"id", "points", "manual"}
    notes: list = field(default_factory=list)
    error: str = ""


def answer_names(source):
    """(names the code binds at top level, its import statements as code)."""
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return (), ""
    names, imports = [], []

    def visit(node):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(node))
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in tree.body:
        visit(stmt)
    return tuple(dict.fromkeys(names)), "\n".join(imports)


def _python(source):
    """IPython syntax (%magics, !shell) as plain Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:   # noqa: BLE001 - the source is then compiled as it is, and its error shown
        return source


def build_plan(solution, submission, chapter):
    """Steps from the solution notebook, answer cells taken from the submission by cell id."""
    stubs = {c["id"]: _source(c) for c in release.release_notebook(solution, chapter)["cells"]}
    mine, not_code = {}, {}          # answer id -> the submission's code cells for it, in notebook order
    for cell in submission["cells"]:
        keys = {k for k in (_key(cell.get("id")), _key(_nbgrader(cell).get("grade_id"))) if k}
        for key in keys:
            if cell.get("cell_type") == "code":
                mine.setdefault(key, []).append(cell)
            else:
                not_code.setdefault(key, cell.get("cell_type"))
    steps, questions, pending, notes = [], [], [], []
    answers = matched = 0
    solution_ids = {c.get("id") for c in solution["cells"]}
    for cell in solution["cells"]:
        nbg, cid, src = _nbgrader(cell), cell.get("id"), _source(cell)
        if nbg.get("grade") and (cell.get("cell_type") != "code" or nbg.get("solution")):
            questions.append({"id": cid, "points": nbg.get("points", 0), "manual": True})
            continue
        if cell.get("cell_type") != "code":
            continue
        if nbg.get("solution"):
            answers += 1
            cells, note = mine.get(cid, []), ""
            if not cells and cid in not_code:
                note = (f"your answer cell `{cid}` is a {str(not_code[cid])[:20]} cell, so it was not run: make it a "
                        "code cell again (in Jupyter: select it, press Esc, then Y) and save.")
                code = stubs[cid]
            elif not cells:
                note = f"answer cell `{cid}` is not in your notebook (deleted?): graded as not done."
                code = stubs[cid]
            else:
                matched += 1
                code = _source(cells[-1])
                if len(cells) > 1:
                    note = (f"your notebook has {len(cells)} cells for answer `{cid}` (a copy of the cell?): the last "
                            "one was graded, as Jupyter would run it last. Delete the others.")
            names, imports = answer_names(src)
            pending.append(Step("answer", cid, code, names=names, imports=imports, note=note))
        elif nbg.get("grade"):
            for step in pending:
                step.question = cid
            steps.extend(pending)
            pending = []
            steps.append(Step("check", cid, src, question=cid))
            questions.append({"id": cid, "points": nbg.get("points", 0), "manual": False})
        else:
            steps.extend(pending)
            pending = []
            steps.append(Step("setup", cid, src))
    steps.extend(pending)
    notes.extend(step.note for step in pending if step.note)     # answer cells after the last check
    extra = [c for c in submission["cells"] if c.get("cell_type") == "code" and _source(c).strip()
             and _key(c.get("id")) not in solution_ids and _key(_nbgrader(c).get("grade_id")) not in solution_ids]
    if extra:
        notes.append(f"{len(extra)} code cell(s) you added were not run: only the answer cells are graded, "
                     "so put all your code in them.")
    plan = Plan(chapter, steps, questions, notes)
    if answers and not matched:
        plan.error = (f"none of the {answers} answer cells of {chapter} is in this notebook "
                      "(cells are matched by id): is it the right file?")
    return plan


def sandbox_source(step):
    """What of a setup cell runs in the sandbox: not its imports of nncourse (the sandbox has no
    nncourse), and nothing if it uses the checks (`check.train_relu_net(3.0)`)."""
    try:
        tree = ast.parse(step.source)
    except SyntaxError:
        return step.source
    body = [node for node in tree.body if not (
        isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nncourse"
        or isinstance(node, ast.Import) and any(a.name.split(".")[0] == "nncourse" for a in node.names))]
    if any(isinstance(n, ast.Name) and n.id == "check" for node in body for n in ast.walk(node)):
        return ""
    return ast.unparse(ast.Module(body=body, type_ignores=[])) if len(body) < len(tree.body) else step.source


# --- 2. execute: the student's cells in the sandbox, the checks here ---------------------------

class _Alarm:
    """A backstop for the checker's own code: raise sb.Timeout after seconds (main thread only)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def _fire(self, signum, frame):
        raise CellTimeout()

    def __enter__(self):
        if self.active:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


class GradingInterrupt(BaseException):
    """Stops a check (a BaseException, so that no `except Exception` in a check catches it)."""


class CellTimeout(GradingInterrupt):
    def __init__(self, function=None, where=""):
        super().__init__(function)
        self.function = function        # the student's function that was running, when a check called one
        self.where = where              # " (in fit, line 3: `...`)" when the interrupted code said where it was


class SandboxDied(GradingInterrupt):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class _Guarded(sb.Remote):
    """sb.Remote whose timeouts and deaths stop the check (BaseExceptions, not caught by checks)."""

    def request(self, req):
        try:
            return super().request(req)
        except sb.Timeout as exc:
            raise CellTimeout(next((n for n in reversed(self.calling) if n), None), exc.where) from None
        except sb.Died as exc:
            raise SandboxDied(exc.reason) from None


class CheckerNamespace(dict):
    """Globals for the instructor's code: names in ``remote`` are looked up in the sandbox."""

    def __init__(self, remote):
        super().__init__()
        self.remote_values = remote
        self.remote = set()

    def __missing__(self, name):
        if name in self.remote:
            return self.remote_values.get(name)
        raise KeyError(name)


class _FakeShell:
    """get_ipython() for the instructor's code in the checker: magics do nothing there."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic

    def __getattr__(self, name):
        return self.run_line_magic


class Session:
    """The sandbox of one submission, with the cells it ran (replayed after a restart)."""

    def __init__(self, timeout, deadline, memory_mb, isolated):
        self.timeout, self.deadline = timeout, deadline
        self.box = sb.Sandbox(memory_mb=memory_mb, isolated=isolated)
        self.history = []
        self.remote = _Guarded(self.box, timeout)

    def cell_deadline(self):
        return min(time.monotonic() + self.timeout, self.deadline)

    def run(self, code, record=True):
        """Run a cell in the sandbox: the reply's value {"status", "output", "error"}; CellTimeout / SandboxDied."""
        self.remote.deadline = self.cell_deadline()
        try:
            value, _ = self.remote.request({"op": "run", "code": code})
        finally:
            self.remote.deadline = None
        if record:
            self.history.append(code)
        return value if type(value) is dict else {"status": "error", "error": {"type": "Error", "message": "?"}}

    def ensure(self):
        """A new sandbox if the last one was stopped after a timeout."""
        if self.box.stopped:
            self.recover()

    def recover(self):
        """After a timeout that killed the sandbox: a new one with the cells so far run again."""
        if self.box.restarts >= MAX_RESTARTS:
            raise SandboxDied(f"your code had to be stopped {MAX_RESTARTS} times (timeouts): grading stopped")
        try:
            self.box.restart()
        except sb.Died as exc:
            raise SandboxDied(exc.reason) from None
        history, self.history = self.history, []
        for code in history:
            try:
                self.run(code)
            except CellTimeout:
                raise SandboxDied("your code was restarted after a timeout, and running your cells again "
                                  "timed out") from None


def _run_checker(ns, source, cell_id, session):
    """Run instructor code here; return (printed text, exception or None, filename)."""
    out = io.StringIO()
    filename = f"<cell {cell_id}>"
    session.remote.deadline = session.cell_deadline()
    try:
        code = compile(_python(source), filename, "exec")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), _Alarm(session.timeout + 10):
            exec(code, ns)
        exc = None
    except GradingInterrupt as e:
        exc = e
    except Exception as e:   # noqa: BLE001 - every failure of the check code is a verdict
        exc = e
    finally:
        session.remote.deadline = None
    return out.getvalue(), exc, filename


def execute(plan, questions, result, *, timeout, deadline, memory_mb, isolated=True):
    """Run the plan: setup and answer cells in a sandbox, checks here; fill in questions and result."""
    strict_before = os.environ.get("NNLIB_CHECKS_STRICT")
    os.environ["NNLIB_CHECKS_STRICT"] = "1"     # here: a failing check raises
    session = Session(timeout, deadline, memory_mb, isolated)
    lost = ""                                   # why the sandbox is gone, once it is
    try:
        session.box.start()
    except sb.Died as exc:
        # A problem of the grading setup, not of the notebook: grade it again on the next run.
        lost = f"the sandbox did not start (a problem of the grading setup, not of your notebook): {exc.reason}"
        result["retry"] = True
    ns = CheckerNamespace(session.remote)
    ns.update(get_ipython=_FakeShell, __name__="__main__")
    try:
        for step in plan.steps:
            q = questions.get(step.question) if step.question else None
            if not lost and time.monotonic() >= deadline:
                lost = f"the time limit for the whole notebook ({result['submission_timeout']:g} s) was reached"
            if lost:
                if q is not None and q["status"] in ("not graded", "timed out"):
                    q.update(status="kernel died", message=lost, points=0)
                continue
            try:
                session.ensure()
                _step(step, q, ns, session, result, timeout)
            except SandboxDied as exc:
                lost = exc.reason + (f", while running cell `{step.cell_id}`" if step.kind != "check" else "")
                if q is not None:
                    q.update(status="kernel died", message=lost, points=0)
    finally:
        if session.box.restarts:
            result["notes"].append(f"your code was stopped and started again {session.box.restarts} time(s) after "
                                   "a timeout (Ctrl-C did not stop it); the cells before were run again.")
        session.box.kill()
        if strict_before is None:
            os.environ.pop("NNLIB_CHECKS_STRICT", None)
        else:
            os.environ["NNLIB_CHECKS_STRICT"] = strict_before
    if lost and not result["error"]:
        result["error"] = lost


def _step(step, q, ns, session, result, timeout):
    whose = f"your answer cell `{step.cell_id}`" if step.kind == "answer" else f"cell `{step.cell_id}`"
    if step.kind in ("setup", "answer"):
        code = step.source if step.kind == "answer" else sandbox_source(step)
        if code.strip():
            try:
                run = session.run(code)
            except CellTimeout as exc:
                note = f"{whose} timed out after {timeout:g} s{exc.where} (an endless loop?)."
                if q is not None and step.kind == "answer":
                    q.update(status="timed out", message=note)
                else:
                    result["notes"].append(note)
                run = None
            except Exception as exc:   # noqa: BLE001 - the student's process failed the cell itself (MemoryError...)
                run = {"status": "error", "error": {"type": type(exc).__name__, "message": str(exc)}}
            if run and run.get("status") == "error":
                (q["notes"] if q is not None else result["notes"]).append(f"{whose} raised {_explain(run.get('error'))}")
    if step.kind == "answer":
        # From here on the check's `predict` is the student's, looked up in the sandbox.
        for name in step.names:
            ns.pop(name, None)
            ns.remote.add(name)
        if step.imports:
            _run_checker(ns, step.imports, step.cell_id, session)
    elif step.kind == "setup":
        _, exc, _ = _run_checker(ns, step.source, step.cell_id, session)
        if isinstance(exc, SandboxDied):
            raise exc
    elif step.kind == "check" and q["status"] != "timed out":      # not if its answer cell timed out
        printed, exc, filename = _run_checker(ns, step.source, step.cell_id, session)
        status, message = _verdict(step, printed, exc, filename, timeout, ns)
        q.update(status=status, message=message, points=q["max"] if status == "passed" else 0)
        if isinstance(exc, SandboxDied):
            raise exc


def _explain(err):
    """The student's error as 'ValueError: ... (line 2: `...`)', with a word on missing modules."""
    err = err if type(err) is dict else {}
    text = f"{err.get('type', 'an error')}: {err.get('message', '')}{err.get('where', '')}"
    if err.get("type") == "ModuleNotFoundError":
        text += " (the grader has only the course's packages: numpy, nnlib and what they need)"
    return text


# --- 3. collect and grade: a verdict for each question ----------------------------------------

def _failing_line(exc, filename, source):
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename:
            lines = source.splitlines()
            line = lines[frame.lineno - 1].strip() if 0 < frame.lineno <= len(lines) else ""
            return frame.lineno, line
    return None, ""


def _verdict(step, printed, exc, filename, timeout, ns):
    from ..checks import CheckFailed
    printed = printed.strip()
    if len(printed) > 3000:
        printed = printed[:3000] + " ..."
    before = printed + "\n" if printed else ""
    if exc is None:
        return "passed", printed or "passed."
    if isinstance(exc, CellTimeout):
        running = f"your `{exc.function}(...)`" if exc.function else "your code"
        return "timed out", before + f"timed out after {timeout:g} s: {running} was still running{exc.where} (an endless loop?)."
    if isinstance(exc, SandboxDied):
        return "kernel died", exc.reason
    if isinstance(exc, CheckFailed):
        text = printed or str(exc)
        return ("not done" if "⏳" in text else "failed"), text
    if isinstance(exc, NotImplementedError):
        return "not done", before + "not done yet: `raise NotImplementedError` is still there."
    undefined = re.match(r"name '(\w+)' is not defined", str(exc)) if isinstance(exc, NameError) else None
    if undefined and undefined.group(1) in ns.remote:
        return "failed", before + f"`{undefined.group(1)}` is not defined: your answer cell did not define it."
    lineno, line = _failing_line(exc, filename, step.source)
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    where = f" at line {lineno} of the check: `{line}`" if lineno else ""
    if isinstance(exc, AssertionError):
        lead = "the visible check passed, but a hidden test failed" if "✅" in printed else "a test failed"
        text = f"{lead}{where}" + (f": {exc}" if str(exc) else ".")
    else:
        text = f"the check stopped with {what}{where}"
    return "failed", before + text


def _used_names(source):
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _note_failed_dependencies(plan, questions):
    """A failed answer that calls the function of an earlier question that failed says so:
    its own code may be right (chapter 1's ridge_gradients calls predict)."""
    defined_by, answers = {}, {}
    for step in plan.steps:
        if step.kind == "answer" and step.question:
            for name in step.names:
                defined_by.setdefault(name, step.question)
            answers.setdefault(step.question, []).append(step.source)
    for qid, q in questions.items():
        if q["status"] not in ("failed", "timed out"):
            continue
        used = set().union(*(_used_names(src) for src in answers.get(qid, [])))
        earlier = sorted({(defined_by[n], n) for n in used if n in defined_by and defined_by[n] != qid
                          and questions.get(defined_by[n], {}).get("status") not in (None, "passed")})
        if earlier:
            names = ", ".join(f"`{n}` ({questions[d]['status']})" if n == d else
                              f"`{n}` (question {d}: {questions[d]['status']})" for d, n in earlier)
            q["notes"].append(f"your answer uses {names}, from an earlier question: fix that first, "
                              "then this answer may pass too.")


def _num(x):
    return int(x) if float(x).is_integer() else float(x)


def grade(path, solutions_dir, *, timeout=DEFAULT_TIMEOUT, memory_mb=DEFAULT_MEMORY_MB,
          submission_timeout=DEFAULT_SUBMISSION_TIMEOUT, sandbox=True, raw=None):
    """Grade the submission at path (or its bytes raw); return a dict (see report.py for how it is written).

    {"chapter", "questions": [{"id", "points", "max", "status", "message", "notes"}],
     "total", "max", "error", "notes", "seconds", "sandbox"}

    sandbox=True runs the student's code under bubblewrap (sb.Unavailable if there is none);
    False runs it in a plain process, and the result says so.
    """
    start = time.monotonic()
    if sandbox:
        why = sb.check_available()
        if why:
            raise sb.Unavailable(why)
    result = {"chapter": "", "questions": [], "total": 0, "max": "", "error": "", "notes": [], "seconds": 0.0,
              "sandbox": "bubblewrap" if sandbox else "OFF (--no-sandbox)", "submission_timeout": submission_timeout}
    if not sandbox:
        result["notes"].append("this notebook was graded WITHOUT a sandbox (--no-sandbox): its code could read "
                               "and change files of the grader.")
    try:
        if raw is None:
            raw = read_submission(path)
        nb = parse_notebook(raw)
        chapter, chapter_note = find_chapter(nb, solutions_dir)
        result["chapter"] = chapter
        solution = json.loads((Path(solutions_dir) / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        plan = build_plan(solution, nb, chapter)
    except SubmissionError as exc:
        result["error"] = str(exc)
        result["seconds"] = round(time.monotonic() - start, 2)
        result.pop("submission_timeout")
        return result
    result["error"] = plan.error
    result["notes"] += [n for n in [chapter_note] + plan.notes if n]
    questions = {q["id"]: {"id": q["id"], "points": 0, "max": q["points"],
                           "status": "manual" if q["manual"] else "not graded", "message": "", "notes": []}
                 for q in plan.questions}
    for q in questions.values():
        if q["status"] == "manual":
            q["points"], q["message"] = "", "graded by hand."
    for step in plan.steps:
        if step.note and step.question in questions:
            questions[step.question]["notes"].append(step.note)
    execute(plan, questions, result, timeout=timeout, deadline=start + submission_timeout,
            memory_mb=memory_mb, isolated=sandbox)
    _note_failed_dependencies(plan, questions)
    auto = [q for q in questions.values() if q["status"] != "manual"]
    result["questions"] = list(questions.values())
    result["total"] = _num(sum(q["points"] for q in auto))
    result["max"] = _num(sum(q["max"] for q in auto))
    result["seconds"] = round(time.monotonic() - start, 2)
    result.pop("submission_timeout")
    return result


def read_submission(path):
    """The bytes of the regular file at path: never a FIFO, a device or a symbolic link (SubmissionError)."""
    import stat
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise SubmissionError("the submission is a symbolic link, not a file: hand in the notebook itself") from None
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError("the submission is not a regular file (a FIFO, a device or a folder?)")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(f"the file is {info.st_size >> 20} MB, more than the {MAX_NOTEBOOK_BYTES >> 20} MB "
                                  "a notebook may have: clear its outputs and save")
        chunks, size = [], 0
        while size <= MAX_NOTEBOOK_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


# --- the worker process ------------------------------------------------------------------------

def _die_with_parent(parent):
    """End with the grader (SIGKILLed too), and so end the sandbox: bwrap dies with this process."""
    if not sys.platform.startswith("linux") or parent is None:
        return
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:          # it had already gone before that was set
        os._exit(1)


def worker():
    """Grade the job on stdin (JSON, with the submission's bytes); write the result to stdout.

    The result channel is the pipe on fd 1, moved aside first: whatever the instructor's code
    prints goes to stderr. Any failure is still a result ("grader error", graded again next run).
    """
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="backslashreplace")
    os.dup2(2, 1)
    job = json.loads(sys.stdin.read())
    _die_with_parent(job.get("parent"))
    try:
        result = grade(job["name"], job["solutions"], timeout=job["timeout"], memory_mb=job["memory_mb"],
                       submission_timeout=job["submission_timeout"], sandbox=job["sandbox"],
                       raw=base64.b64decode(job["raw"]))
    except Exception as exc:   # noqa: BLE001 - a grader bug must still give a row
        result = {"chapter": "", "questions": [], "total": 0, "max": "", "notes": [], "seconds": 0.0,
                  "error": f"grader error: {type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                  "retry": True}
    channel.write(json.dumps(result, ensure_ascii=True))
    channel.close()


if __name__ == "__main__":
    worker()

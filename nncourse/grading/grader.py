"""Grade one submission: the instructor's notebook, the student's answer cells, a fresh kernel.

    python -m nncourse.grading.grader JOB.json     # used by ``python -m nncourse.grading``

How one submission is graded (see docs/instructors.md for the why):

1. The chapter comes from the submission's ``metadata.nnlib.chapter`` (written by
   ``nncourse.release``); the source is ``solutions/<chapter>.ipynb``.
2. The graded notebook is the solution notebook with only the **answer cells**
   (``nbgrader.solution = true``) replaced by the submission's cells of the same id.
   A missing answer cell counts as unsolved (the exercise's stub); the submission's
   other cells (its copies of the checks, cells it added) are not used.
3. The instructor's setup cells and the student's answer cells run in order in a
   fresh kernel, each within the time limit. The check cells (with their hidden
   tests) run in this process instead, where the names the answer cells define are
   handles on the kernel's objects (:mod:`nncourse.grading.remote`). A check cell that
   runs to its end earns its points.
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .. import release

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MB = 4096


class SubmissionError(ValueError):
    """The submission cannot be graded at all (not a notebook, unknown chapter...)."""


# --- reading the files ---------------------------------------------------------------

def _source(cell):
    src = cell.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def load_notebook(path):
    """The notebook at path as a dict; SubmissionError says why it is not one."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        nb = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook: the file is not text (UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"not a notebook: invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError("not a notebook: JSON without a list of cells")
    if not all(isinstance(c, dict) for c in nb["cells"]):
        raise SubmissionError("not a notebook: a cell is not a JSON object")
    if nb.get("nbformat", 4) != 4:
        raise SubmissionError(f"notebook format {nb.get('nbformat')} is not supported: open and save it in Jupyter")
    return nb


def find_chapter(nb, solutions_dir):
    """(chapter, note): from metadata.nnlib.chapter, else from the answer cells' ids."""
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    nnlib_meta = meta.get("nnlib") if isinstance(meta.get("nnlib"), dict) else {}
    chapter = nnlib_meta.get("chapter")
    if chapter is None:
        return _chapter_from_ids(nb, solutions_dir)
    if not isinstance(chapter, str) or not release.CHAPTER_RE.match(chapter):
        raise SubmissionError(f"unknown chapter {chapter!r} in the notebook's metadata")
    if not (Path(solutions_dir) / f"{chapter}.ipynb").exists():
        raise SubmissionError(f"unknown chapter {chapter!r}: there is no {Path(solutions_dir) / (chapter + '.ipynb')}")
    return chapter, ""


def _chapter_from_ids(nb, solutions_dir):
    """A notebook without nnlib metadata (a solution, or cells copied into a new notebook)."""
    ids = {c.get("id") for c in nb["cells"]} | {_nbgrader(c).get("grade_id") for c in nb["cells"]}
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


# --- the plan: which code runs where ---------------------------------------------------

@dataclass
class Step:
    kind: str                 # "setup" (kernel + checker), "answer" (kernel), "check" (checker)
    cell_id: str
    source: str
    question: str | None = None
    names: tuple = ()         # answer: names the solution's cell defines (looked up in the kernel)
    imports: str = ""         # answer: the solution's import lines (run in the checker too)
    note: str = ""            # answer: why the submission's cell was not used (shown with its question)


@dataclass
class Plan:
    chapter: str
    steps: list
    questions: list           # {"id", "points", "manual"}
    notes: list = field(default_factory=list)
    error: str = ""


def _nbgrader(cell):
    meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    nbg = meta.get("nbgrader")
    return nbg if isinstance(nbg, dict) else {}


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
    except Exception:
        return source


def build_plan(solution, submission, chapter):
    """Steps from the solution notebook, answer cells taken from the submission by cell id."""
    stubs = {c["id"]: _source(c) for c in release.release_notebook(solution, chapter)["cells"]}
    by_id, by_grade_id, not_code = {}, {}, {}
    for cell in submission["cells"]:
        if cell.get("cell_type") != "code":
            for key in (cell.get("id"), _nbgrader(cell).get("grade_id")):
                if isinstance(key, str):
                    not_code.setdefault(key, cell.get("cell_type"))
            continue
        if isinstance(cell.get("id"), str):
            by_id.setdefault(cell["id"], cell)
        gid = _nbgrader(cell).get("grade_id")
        if isinstance(gid, str):
            by_grade_id.setdefault(gid, cell)
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
            mine = by_id.get(cid) or by_grade_id.get(cid)
            note = ""
            if mine is None and cid in not_code:
                note = (f"your answer cell `{cid}` is a {not_code[cid]} cell, so it was not run: make it a "
                        "code cell again (in Jupyter: select it, press Esc, then Y) and save.")
                code = stubs[cid]
            elif mine is None:
                note = f"answer cell `{cid}` is not in your notebook (deleted?): graded as not done."
                code = stubs[cid]
            else:
                matched += 1
                code = _source(mine)
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
             and c.get("id") not in solution_ids and _nbgrader(c).get("grade_id") not in solution_ids]
    if extra:
        notes.append(f"{len(extra)} code cell(s) you added were not run: only the answer cells are graded, "
                     "so put all your code in them.")
    plan = Plan(chapter, steps, questions, notes)
    if answers and not matched:
        plan.error = (f"none of the {answers} answer cells of {chapter} is in this notebook "
                      "(cells are matched by id): is it the right file?")
    return plan


# --- what must not reach the feedback ----------------------------------------------------

class Redactor:
    """Removes the solution notebook's hidden tests and solutions from text the student's code made.

    A submission's code runs as the instructor and can read ``solutions/``; what it raises
    or returns can end up in the feedback. This removes verbatim copies: the hidden tests'
    lines (as code and as they are written in the .ipynb file), the solution lines as they
    are written in the file, and the markers. It does not stop a student who encodes the
    text first (see the threat model in docs/instructors.md); ``found`` tells the instructor.
    """

    MIN_LENGTH = 12        # shorter lines (`return s`) are too common to be a quotation

    def __init__(self, solution):
        secrets = {release.BEGIN_HIDDEN, release.END_HIDDEN, release.BEGIN_SOLUTION, release.END_SOLUTION}
        for cell in solution.get("cells", []):
            block = None
            for line in _source(cell).split("\n"):
                stripped = line.strip()
                if stripped in (release.BEGIN_HIDDEN, release.BEGIN_SOLUTION):
                    block = stripped
                elif stripped in (release.END_HIDDEN, release.END_SOLUTION):
                    block = None
                elif block and len(stripped) >= self.MIN_LENGTH:
                    in_file = json.dumps(line + "\n", ensure_ascii=False)[1:-1]
                    secrets.add(in_file)
                    secrets.add(json.dumps(line, ensure_ascii=False)[1:-1])
                    if block == release.BEGIN_HIDDEN:
                        secrets.add(stripped)
                        secrets.add(json.dumps(stripped, ensure_ascii=False)[1:-1])
        self.secrets = sorted(secrets, key=len, reverse=True)
        self.found = False

    def __call__(self, text):
        if not text:
            return text
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[…]")
                self.found = True
        return text


# --- running it ----------------------------------------------------------------------------

class _Alarm:
    """A backstop for the checker's own code: raise CellTimeout after seconds (main thread only)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.active = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def _fire(self, signum, frame):
        from .kernel import CellTimeout
        raise CellTimeout(self.seconds)

    def __enter__(self):
        if self.active:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


def _failing_line(exc, filename, source):
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename:
            lines = source.splitlines()
            line = lines[frame.lineno - 1].strip() if 0 < frame.lineno <= len(lines) else ""
            return frame.lineno, line
    return None, ""


def _run_checker(ns, step, channel, timeout):
    """Run instructor code in the checker; return (printed text, exception or None)."""
    from .kernel import GradingInterrupt
    out = io.StringIO()
    filename = f"<cell {step.cell_id}>"
    channel.deadline = time.monotonic() + timeout
    try:
        code = compile(_python(step.source), filename, "exec")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), _Alarm(timeout + 10):
            exec(code, ns)
        exc = None
    except GradingInterrupt as e:
        exc = e
    except Exception as e:   # noqa: BLE001 - every failure of the check code is a verdict
        exc = e
    finally:
        channel.deadline = None
    return out.getvalue(), exc, filename


def _verdict(step, printed, exc, filename, timeout, ns, redact=lambda text: text):
    from ..checks import CheckFailed
    from .kernel import CellTimeout, KernelDied
    printed = redact(printed.strip())
    if len(printed) > 3000:
        printed = printed[:3000] + " ..."
    if exc is None:
        return "passed", printed or "passed."
    if isinstance(exc, CellTimeout):
        return "timed out", (printed + "\n" if printed else "") + \
            f"timed out after {timeout:g} s: your code was still running (an endless loop?)."
    if isinstance(exc, KernelDied):
        return "kernel died", exc.reason
    if isinstance(exc, CheckFailed):
        text = printed or redact(str(exc))
        return ("not done" if "⏳" in text else "failed"), text
    if isinstance(exc, NotImplementedError):
        return "not done", (printed + "\n" if printed else "") + "not done yet: `raise NotImplementedError` is still there."
    undefined = re.match(r"name '(\w+)' is not defined", str(exc)) if isinstance(exc, NameError) else None
    if undefined and undefined.group(1) in ns.remote:
        return "failed", (printed + "\n" if printed else "") + \
            f"`{undefined.group(1)}` is not defined: your answer cell did not define it."
    lineno, line = _failing_line(exc, filename, step.source)
    what = redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    where = f" at line {lineno} of the check: `{line}`" if lineno else ""
    if isinstance(exc, AssertionError):
        lead = "the visible check passed, but a hidden test failed" if "✅" in printed else "a test failed"
        text = f"{lead}{where}" + (f": {redact(str(exc))}" if str(exc) else ".")
    else:
        text = f"the check stopped with {what}{where}"
    return "failed", (printed + "\n" if printed else "") + text


def grade(path, solutions_dir, *, timeout=DEFAULT_TIMEOUT, memory_mb=DEFAULT_MEMORY_MB):
    """Grade the submission at path; return a dict (see report.py for how it is written).

    {"chapter", "questions": [{"id", "points", "max", "status", "message", "notes"}],
     "total", "max", "error", "notes", "seconds"}
    """
    start = time.monotonic()
    result = {"chapter": "", "questions": [], "total": 0, "max": "", "error": "", "notes": [], "seconds": 0.0}
    try:
        nb = load_notebook(path)
        chapter, chapter_note = find_chapter(nb, solutions_dir)
        result["chapter"] = chapter
        solution = json.loads((Path(solutions_dir) / f"{chapter}.ipynb").read_text(encoding="utf-8"))
        plan = build_plan(solution, nb, chapter)
    except SubmissionError as exc:
        result["error"] = str(exc)
        result["seconds"] = round(time.monotonic() - start, 2)
        return result
    result["error"], result["notes"] = plan.error, [n for n in [chapter_note] + plan.notes if n]
    questions = {q["id"]: {"id": q["id"], "points": 0, "max": q["points"],
                           "status": "manual" if q["manual"] else "not graded", "message": "", "notes": []}
                 for q in plan.questions}
    for q in questions.values():
        if q["status"] == "manual":
            q["points"], q["message"] = "", "graded by hand."
    for step in plan.steps:
        if step.note and step.question in questions:
            questions[step.question]["notes"].append(step.note)
    redact = Redactor(solution)
    run_plan(plan, questions, result, timeout=timeout, memory_mb=memory_mb, redact=redact)
    if redact.found:
        result["notes"].append("text of the instructor's solution notebook (hidden tests or solutions) "
                               "that your code printed or raised was removed from this feedback.")
        if not result["error"]:
            result["error"] = ("the submission's messages quoted the solution notebook (removed from the "
                               "feedback): its code may read solutions/, look at it")
    _note_failed_dependencies(plan, questions)
    auto = [q for q in questions.values() if q["status"] != "manual"]
    result["questions"] = list(questions.values())
    result["total"] = _num(sum(q["points"] for q in auto))
    result["max"] = _num(sum(q["max"] for q in auto))
    result["seconds"] = round(time.monotonic() - start, 2)
    return result


def _used_names(source):
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _note_failed_dependencies(plan, questions):
    """A failed answer that calls the function of an earlier question that failed says so:
    its own code may be right (chapter 1's mse_gradients calls predict)."""
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


def _kernel_step(session, step, q, result, timeout, redact=lambda text: text):
    """Run a setup or answer cell in the kernel; return why the kernel died ("" if it lives)."""
    from .kernel import CellTimeout, KernelDied
    whose = f"your answer cell `{step.cell_id}`" if step.kind == "answer" else f"cell `{step.cell_id}`"
    notes = q["notes"] if q is not None else result["notes"]
    try:
        run = session.execute(step.source, timeout)
    except CellTimeout:
        note = f"{whose} timed out after {timeout:g} s (an endless loop?)."
        if q is not None and step.kind == "answer":
            q.update(status="timed out", message=note)
        else:
            notes.append(note)
        return ""
    except KernelDied as exc:
        return f"{exc.reason}, while running {whose}."
    if run.status == "error":
        notes.append(f"{whose} raised {redact(_explain(run, step.source))}")
    return ""


def _explain(run, source):
    """The kernel's error, with the offending line of a syntax error (IPython names only its
    number) and a word on modules the grading environment does not have."""
    text = run.error
    hit = re.search(r"\(line (\d+)\)$", run.evalue) if run.ename in ("SyntaxError", "IndentationError", "TabError") else None
    lines = source.splitlines()
    if hit and not run.where and 0 < int(hit.group(1)) <= len(lines):
        text = f"{text[:-1]}: `{lines[int(hit.group(1)) - 1].strip()[:200]}`)"
    if run.ename == "ModuleNotFoundError":
        text += " (the grader has only the course's packages: numpy, nnlib and what they need)"
    return text


def run_plan(plan, questions, result, *, timeout, memory_mb, redact=None):
    """Run the plan's steps: setup and answer cells in a fresh kernel, checks here."""
    from .agent import MIME
    from .kernel import KernelDied, KernelSession
    from .remote import Channel, CheckerNamespace, fake_get_ipython

    redact = redact or (lambda text: text)
    strict_before = os.environ.get("NNLIB_CHECKS_STRICT")
    os.environ["NNLIB_CHECKS_STRICT"] = "1"     # in this process: a failing check raises
    lost = ""                                   # why the kernel is gone, once it is
    with tempfile.TemporaryDirectory(prefix="nnlib-grading-") as cwd:
        session = KernelSession(cwd, memory_mb=memory_mb, mime=MIME)
        session.replay_timeout = timeout
        try:
            session.start()
        except KernelDied as exc:
            # A problem of the grading setup, not of the notebook: grade it again on the next run.
            lost = f"the kernel did not start (a problem of the grading setup, not of your notebook): {exc.reason}"
            result["retry"] = True
        channel = Channel(session, timeout)
        ns = CheckerNamespace(channel)
        ns.update(get_ipython=fake_get_ipython, __name__="__main__")
        try:
            for step in plan.steps:
                q = questions.get(step.question) if step.question else None
                if not lost and step.kind in ("setup", "answer"):
                    lost = _kernel_step(session, step, q, result, timeout, redact)
                if lost:
                    if q is not None and q["status"] in ("not graded", "timed out"):
                        q.update(status="kernel died", message=lost, points=0)
                    continue
                if step.kind == "answer":
                    # From here on the check's `predict` is the student's, looked up in the kernel.
                    for name in step.names:
                        ns.pop(name, None)
                        ns.remote.add(name)
                    if step.imports:
                        _run_checker(ns, Step("setup", step.cell_id, step.imports), channel, timeout)
                elif step.kind == "setup":
                    _, exc, _ = _run_checker(ns, step, channel, timeout)
                    if isinstance(exc, KernelDied):
                        lost = f"{exc.reason}, while running cell `{step.cell_id}`."
                elif step.kind == "check" and q["status"] != "timed out":   # not if its answer cell timed out
                    printed, exc, filename = _run_checker(ns, step, channel, timeout)
                    status, message = _verdict(step, printed, exc, filename, timeout, ns, redact)
                    q.update(status=status, message=message, points=q["max"] if status == "passed" else 0)
                    if isinstance(exc, KernelDied):
                        lost = f"{exc.reason}, while checking `{step.cell_id}`."
                        q["message"] = lost
        finally:
            if session.restarts:
                result["notes"].append(f"the kernel was restarted {session.restarts} time(s) after a timeout "
                                       "(Ctrl-C did not stop your code); the cells before were run again.")
            session.shutdown()
            if strict_before is None:
                os.environ.pop("NNLIB_CHECKS_STRICT", None)
            else:
                os.environ["NNLIB_CHECKS_STRICT"] = strict_before
    if lost and not result["error"]:
        result["error"] = lost


# --- the worker process ------------------------------------------------------------------

def worker(job_path):
    """Grade the job described in job_path (JSON) and write its result file atomically."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    try:
        result = grade(job["path"], job["solutions"], timeout=job["timeout"], memory_mb=job["memory_mb"])
    except Exception as exc:   # noqa: BLE001 - a grader bug must still give a row
        result = {"chapter": "", "questions": [], "total": 0, "max": "", "notes": [], "seconds": 0.0,
                  "error": f"grader error: {type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(), "retry": True}
    out = Path(job["result"])
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp, out)


if __name__ == "__main__":
    worker(sys.argv[1])

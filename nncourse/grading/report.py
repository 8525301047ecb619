"""What grading writes: grades.csv (atomically, keeping earlier rows), feedback files, a summary.

grades.csv has one row per submission: ``submission, chapter, <question ids...>, total,
max, error``. Rows graded earlier stay (re-running grades only what is new or changed,
unless --force); the file is replaced in one step (write a temporary file, then rename),
so it is never half-written.
"""
from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import re
from pathlib import Path

FIRST = ["submission", "chapter"]
LAST = ["total", "max", "error", "sandbox"]
MAX_RETRIES = 2          # a submission the grader itself failed on is graded again at most this many times
STATE = ".grading-state.json"
STATUS_WORDS = {"passed": "passed", "failed": "failed", "not done": "not done", "timed out": "timed out",
                "kernel died": "kernel died", "manual": "graded by hand", "not graded": "not graded"}


def atomic_write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def file_hash(data):
    """The SHA-256 of bytes (the ones graded), or of the file at a path ("" if unreadable)."""
    if isinstance(data, (bytes, bytearray)):
        return hashlib.sha256(data).hexdigest()
    try:
        return hashlib.sha256(Path(data).read_bytes()).hexdigest()
    except OSError:
        return ""


def display_name(text):
    """A file name as text that can always be written: bytes that are not UTF-8 become \\xNN."""
    try:
        data = text.encode("utf-8", "surrogateescape")      # what os.listdir made of undecodable bytes
    except UnicodeEncodeError:
        data = text.encode("utf-8", "backslashreplace")
    return data.decode("utf-8", "backslashreplace")


# --- grades.csv ------------------------------------------------------------------------

def read_grades(path):
    """(question columns in file order, {submission: row dict}) of an existing grades.csv."""
    path = Path(path)
    if not path.exists():
        return [], {}
    with open(path, encoding="utf-8", errors="backslashreplace", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        rows = {row["submission"]: row for row in reader if row.get("submission")}
    questions = [c for c in header if c not in FIRST + LAST]
    return questions, rows


def grades_text(questions, rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIRST + list(questions) + LAST, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for name in sorted(rows):
        writer.writerow({k: rows[name].get(k, "") for k in writer.fieldnames})
    return out.getvalue()


def row_for(name, result):
    row = {"submission": name, "chapter": result.get("chapter", ""), "total": result.get("total", 0),
           "max": result.get("max", ""), "error": _one_line(result.get("error", "")),
           "sandbox": result.get("sandbox", "")}
    for q in result.get("questions", []):
        row[q["id"]] = q["points"]
    return row


def _one_line(text):
    return re.sub(r"\s+", " ", str(text or "")).strip()


class Grades:
    """grades.csv and the record of what was graded, kept in step on disk.

    The record (``.grading-state.json``) holds, for each submission, the hash of its file
    and of the chapter's solution notebook and checks module when it was graded, and the
    folder the names are relative to (so that a late submission graded alone keeps its name).
    """

    def __init__(self, out_dir):
        self.out = Path(out_dir)
        self.csv = self.out / "grades.csv"
        self.questions, self.rows = read_grades(self.csv)
        try:
            state = json.loads((self.out / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        if isinstance(state, dict) and isinstance(state.get("files"), dict):
            self.root, self.state = state.get("root"), state["files"]
        else:                                   # the first format: {name: {"sha256": ...}}
            self.root, self.state = None, state if isinstance(state, dict) else {}

    def status(self, name, digest, source=None):
        """"new", "graded" (same file, same solution and checks as last time), "changed" (the
        file), "source changed" (the chapter's solution notebook or checks) or "retry" (the
        grader itself failed last time)."""
        if name not in self.rows:
            return "new"
        recorded = self.state.get(name, {})
        if recorded.get("retry") and recorded.get("attempts", 1) <= MAX_RETRIES:
            return "retry"
        if recorded.get("sha256") not in (None, digest):
            return "changed"
        if source is not None and recorded.get("source") not in (None, source):
            return "source changed"
        return "graded"

    def add(self, name, result, digest, source=None):
        for q in result.get("questions", []):
            if q["id"] not in self.questions:
                self.questions.append(q["id"])
        self.rows[name] = row_for(name, result)
        before = self.state.get(name, {})
        self.state[name] = {"sha256": digest}
        if source:
            self.state[name]["source"] = source
        if result.get("retry"):                 # graded again next time, but not forever
            self.state[name]["retry"] = True
            same = before.get("retry") and before.get("sha256") == digest
            self.state[name]["attempts"] = before.get("attempts", 1) + 1 if same else 1
        atomic_write(self.csv, grades_text(self.questions, self.rows))
        state = {"root": self.root, "files": self.state}
        atomic_write(self.out / STATE, json.dumps(state, indent=1, sort_keys=True) + "\n")


def source_hash(solutions_dir, chapter):
    """The hash of what grades a chapter: its solution notebook and its checks module ("" if unknown)."""
    if not chapter:
        return ""
    from .. import checks
    parts = [Path(solutions_dir) / f"{chapter}.ipynb", Path(checks.__file__).parent / f"ch{chapter[:2]}.py"]
    return hashlib.sha256("".join(file_hash(p) for p in parts).encode()).hexdigest()


# --- feedback ----------------------------------------------------------------------------

def feedback_path(out_dir, name, fmt="md"):
    """DIR/feedback/<name without .ipynb>.<fmt>, keeping sub-folders and letters of any script.

    A part of the name that had to change (a character no file system takes, a name too long)
    gets a short hash of the whole name, so that two submissions never share a feedback file.
    """
    stem = name[:-len(".ipynb")] if name.endswith(".ipynb") else name
    parts = [p for p in stem.replace("\\", "/").split("/") if p not in ("", ".", "..")] or ["submission"]
    safe = [re.sub(r"[^\w.\- ]", "_", p, flags=re.UNICODE).lstrip(".") or "_" for p in parts]
    safe = [p if len(p.encode("utf-8", "backslashreplace")) <= 120 else p[:40] for p in safe]
    if safe != parts or "/".join(parts) != stem:
        safe[-1] += "-" + hashlib.sha256(name.encode("utf-8", "backslashreplace")).hexdigest()[:8]
    safe[-1] += f".{fmt}"
    return Path(out_dir, "feedback", *safe)


def _fence(text):
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _score(points, maximum):
    return f"{points} / {maximum}" if points != "" else f"– / {maximum}"


def feedback_markdown(name, result):
    lines = [f"# Feedback: {name}", ""]
    if result.get("chapter"):
        lines.append(f"Exercise **{result['chapter']}** · **{_score(result.get('total', 0), result.get('max', ''))} points**")
        lines.append("")
    if result.get("sandbox", "").startswith("OFF"):
        lines += ["**Isolation was off:** this notebook was graded without a sandbox (--no-sandbox).", ""]
    if result.get("error"):
        lines += ["**Problem:**", "", _fence(str(result["error"])), ""]
    questions = result.get("questions", [])
    if questions:
        lines += ["| question | points | result |", "|---|---|---|"]
        for q in questions:
            lines.append(f"| {q['id']} | {_score(q['points'], q['max'])} | {STATUS_WORDS.get(q['status'], q['status'])} |")
        lines.append("")
    for q in questions:
        lines += [f"## {q['id']}: {_score(q['points'], q['max'])} ({STATUS_WORDS.get(q['status'], q['status'])})", ""]
        for note in q.get("notes", []):
            lines += [_fence(note), ""]
        if q.get("message"):
            lines += [_fence(q["message"]), ""]
    if result.get("notes"):
        lines += ["## Notes", ""] + [f"- {_one_line(n)}" for n in result["notes"]] + [""]
    return "\n".join(lines)


def feedback_html(name, result):
    e = html.escape
    parts = [f"<!doctype html><meta charset='utf-8'><title>Feedback: {e(name)}</title>",
             "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}pre{background:#f4f4f4;"
             "padding:.6em;white-space:pre-wrap}td,th{padding:.2em .8em;text-align:left}</style>",
             f"<h1>Feedback: {e(name)}</h1>"]
    if result.get("chapter"):
        parts.append(f"<p>Exercise <b>{e(result['chapter'])}</b> · "
                     f"<b>{e(_score(result.get('total', 0), result.get('max', '')))} points</b></p>")
    if result.get("sandbox", "").startswith("OFF"):
        parts.append("<p><b>Isolation was off:</b> this notebook was graded without a sandbox (--no-sandbox).</p>")
    if result.get("error"):
        parts.append(f"<p><b>Problem:</b></p><pre>{e(str(result['error']))}</pre>")
    questions = result.get("questions", [])
    if questions:
        parts.append("<table><tr><th>question</th><th>points</th><th>result</th></tr>")
        for q in questions:
            parts.append(f"<tr><td>{e(q['id'])}</td><td>{e(_score(q['points'], q['max']))}</td>"
                         f"<td>{e(STATUS_WORDS.get(q['status'], q['status']))}</td></tr>")
        parts.append("</table>")
    for q in questions:
        parts.append(f"<h2>{e(q['id'])}: {e(_score(q['points'], q['max']))} "
                     f"({e(STATUS_WORDS.get(q['status'], q['status']))})</h2>")
        for text in q.get("notes", []) + ([q["message"]] if q.get("message") else []):
            parts.append(f"<pre>{e(text)}</pre>")
    if result.get("notes"):
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in result["notes"]) + "</ul>")
    return "\n".join(parts) + "\n"


def write_feedback(out_dir, name, result, fmt="md"):
    path = feedback_path(out_dir, name, fmt)
    atomic_write(path, feedback_markdown(name, result) if fmt == "md" else feedback_html(name, result))
    return path


# --- the summary at the end --------------------------------------------------------------

def summary_table(rows):
    """A plain-text table of (name, result) pairs: score and the first problem of each."""
    table = [("submission", "chapter", "score", "problems")]
    for name, result in rows:
        score = f"{result.get('total', 0)}/{result['max']}" if result.get("max") != "" else "-"
        problems = [result["error"]] if result.get("error") else []
        problems += [f"{q['id']}: {q['status']}" for q in result.get("questions", [])
                     if q["status"] in ("timed out", "kernel died") and not result.get("error")]
        text = _one_line("; ".join(problems))
        table.append((name, result.get("chapter") or "-", score, text[:70] + ("..." if len(text) > 70 else "")))
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip() for r in table)

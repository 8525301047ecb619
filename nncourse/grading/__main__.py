"""Grade exercise notebooks: ``python -m nncourse.grading SUBMISSION.ipynb [...] --out DIR``.

Writes DIR/grades.csv (one row per submission: submission, chapter, one column per
question with the points earned, total, max, error) and DIR/feedback/<name>.md.
Each submission is graded in a process of its own with a fresh kernel; -j N grades
N at once. Submissions already in grades.csv are skipped unless their file changed
or --force is given. See docs/instructors.md.
"""
from __future__ import annotations

import argparse
import base64
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import sandbox
from .grader import (DEFAULT_MEMORY_MB, DEFAULT_SUBMISSION_TIMEOUT, DEFAULT_TIMEOUT, SubmissionError,
                     read_submission)
from .report import Grades, display_name, feedback_path, file_hash, source_hash, summary_table, write_feedback


def _parser():
    p = argparse.ArgumentParser(
        prog="nnlib-grade" if Path(sys.argv[0]).name == "nnlib-grade" else "python -m nncourse.grading",
        description="Grade exercise notebooks against the instructor's solutions (hidden tests included).",
        epilog="Example: python -m nncourse.grading submissions/ --out grades -j 2 (a folder: every .ipynb in it and its sub-folders)")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="notebooks to grade (files, folders of .ipynb files, or glob patterns)")
    p.add_argument("--out", default="grades", metavar="DIR",
                   help="where grades.csv and feedback/ go (default: grades)")
    p.add_argument("--solutions", metavar="DIR", default=None,
                   help="folder of the solution notebooks (default: ./solutions, the course folder it is run in)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"time limit per cell (default {DEFAULT_TIMEOUT:g} s)")
    p.add_argument("--submission-timeout", type=float, default=DEFAULT_SUBMISSION_TIMEOUT, metavar="SECONDS",
                   help=f"time limit for a whole notebook (default {DEFAULT_SUBMISSION_TIMEOUT:g} s)")
    p.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                   help=f"address-space limit of each process of a student's code (default {DEFAULT_MEMORY_MB} MB; "
                        f"at most {sandbox.PROCESSES} processes; 0 = none)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run students' code without bubblewrap (where there is none, e.g. macOS): it can then read "
                        "and change your files; every feedback file and grades.csv say so")
    p.add_argument("--force", action="store_true", help="grade again submissions already in grades.csv")
    p.add_argument("--feedback", choices=("md", "html"), default="md", help="feedback format (default md)")
    p.add_argument("--root", metavar="DIR", default=None,
                   help="submission names are paths relative to DIR (default: the folder the submissions share)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _expand(args):
    """(existing files, arguments that matched nothing)."""
    files, missing = [], []
    for arg in args:
        path = Path(arg)
        if path.is_dir() and not path.is_symlink():
            files += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.exists() or path.is_symlink():
            files.append(path)
        elif any(c in arg for c in "*?[") and glob.glob(arg):
            files += sorted(Path(p) for p in glob.glob(arg) if Path(p).is_file())
        else:
            missing.append(arg)
    # Absolute, not resolved: a submission is named after the path given, never a link's target.
    unique = list(dict.fromkeys(Path(os.path.abspath(p)) for p in files))
    return unique, missing


def _root(files, root, recorded=None):
    """The folder submission names are relative to: --root, else the one recorded in the
    output folder by an earlier run if it holds every file (a late submission graded alone
    keeps its `student/chapter.ipynb` name), else the folder the submissions share."""
    if root is not None:
        return Path(os.path.abspath(root))
    if recorded and files and all(Path(recorded) in f.parents for f in files):
        return Path(recorded)
    return Path(os.path.commonpath([str(f.parent) for f in files]) if files else os.path.abspath("."))


def _names(files, root):
    """Each file's name in grades.csv: its path relative to root, as text (bytes that are not
    UTF-8 shown as \\xNN, so that the name can always be written)."""
    names = {}
    for f in files:
        try:
            rel = f.relative_to(root).as_posix()
        except ValueError:
            rel = f.as_posix().lstrip("/")
        names[f] = display_name(rel)
    return names


def _read(path):
    """(bytes, problem): a FIFO, a device, a link or a file too large is its own row, with why."""
    try:
        return read_submission(path), ""
    except SubmissionError as exc:
        return b"", str(exc)


def _find_solutions(arg):
    """--solutions, else ./solutions of the folder the grader is run in; (path, error)."""
    path = Path(arg) if arg else Path("solutions")
    if not path.is_dir() or not any(path.glob("*.ipynb")):
        if arg:
            return path, f"error: no solution notebooks (*.ipynb) in {path}"
        return path, ("error: no solutions/ folder here: run the grader in the course folder (the one with "
                      "solutions/), or say where the solution notebooks are with --solutions DIR")
    return path, None


class _Workers:
    """Runs one grading process per submission (job on its stdin, result on its stdout); kills
    them all, with their sandboxes, on Ctrl-C."""

    def __init__(self, args, solutions):
        self.args, self.solutions = args, solutions
        self.procs = set()
        self.lock = threading.Lock()
        self.stopping = False

    def run(self, name, raw):
        job = {"name": name, "raw": base64.b64encode(raw).decode("ascii"), "solutions": str(self.solutions),
               "timeout": self.args.timeout, "memory_mb": self.args.memory, "sandbox": not self.args.no_sandbox,
               "submission_timeout": self.args.submission_timeout, "parent": os.getpid()}
        limit = self.args.submission_timeout + 120          # a backstop: the worker stops itself before
        with tempfile.TemporaryFile() as log, tempfile.NamedTemporaryFile(prefix="nncourse-pids-") as pids:
            env = dict(os.environ, **{sandbox.PIDS_ENV: pids.name})  # its sandboxes write their PIDs there
            with self.lock:
                if self.stopping:
                    return None
                proc = subprocess.Popen([sys.executable, "-m", "nncourse.grading.grader"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=log, start_new_session=True, env=env)
                proc.pids_file = pids.name
                self.procs.add(proc)
            try:
                out, _ = proc.communicate(json.dumps(job).encode("ascii"), timeout=limit)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                self.kill(proc)
                out, code = b"", None
            finally:
                with self.lock:
                    self.procs.discard(proc)
                sandbox.kill_recorded(pids.name)        # none is left once the worker has ended
            try:
                result = json.loads(out.decode("utf-8", "backslashreplace"))
                if type(result) is dict:
                    return result
            except (ValueError, RecursionError):
                pass
            why = (f"took longer than {limit:g} s and was stopped" if code is None
                   else f"ended unexpectedly (exit code {code})")
            log.seek(0)
            tail = log.read()[-2000:].decode("utf-8", "backslashreplace")
            return {"chapter": "", "questions": [], "total": 0, "max": "", "notes": [tail] if tail.strip() else [],
                    "error": f"the grading process {why}", "retry": True}

    @staticmethod
    def kill(*procs):
        """SIGKILL the workers' process groups, then their sandboxes by the PIDs these recorded:
        a sandbox is in a session of its own, and the student's code may have cleared its
        parent-death signal."""
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for proc in procs:
            try:
                proc.wait(timeout=10)          # a dead worker starts no new sandbox
            except subprocess.TimeoutExpired:
                pass
            sandbox.kill_recorded(proc.pids_file)

    def stop(self):
        with self.lock:
            self.stopping = True
            self.kill(*self.procs)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    for stream in (sys.stdout, sys.stderr):     # a name or message that is not UTF-8 never stops the run
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # `kill`, `timeout`, a cancelled job: stop like Ctrl-C (keep the rows, stop the workers'
        # process groups with their kernels) instead of leaving them running.
        signal.signal(signal.SIGTERM, _interrupt)
    if args.jobs < 1 or args.timeout <= 0:
        print("error: -j and --timeout must be positive", file=sys.stderr)
        return 2
    if args.submission_timeout <= 0:
        print("error: --submission-timeout must be positive", file=sys.stderr)
        return 2
    solutions, problem = _find_solutions(args.solutions)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if not args.no_sandbox:
        why = sandbox.check_available()
        if why:
            print(f"error: no sandbox for the students' code: {why}.\n"
                  "Students' code could then read the solutions and change your files. Install bubblewrap, or "
                  "run with --no-sandbox to grade without one (every feedback file and grades.csv will say so).",
                  file=sys.stderr)
            return 2
    else:
        print("warning: --no-sandbox: students' code runs with your rights (it can read the solutions and change "
              "files); every feedback file and grades.csv say so", file=sys.stderr)
    files, missing = _expand(args.submissions)
    for m in missing:
        if any(c in m for c in "*?["):
            print(f"warning: no file matches {m} (a folder, such as submissions/, means every notebook in it "
                  "and in its sub-folders)", file=sys.stderr)
        else:
            print(f"warning: {m}: no such file", file=sys.stderr)
    if not files:
        print("error: no submissions to grade", file=sys.stderr)
        return 2
    grades = Grades(args.out)
    root = _root(files, args.root, grades.root)
    if grades.root is None or args.root is not None:
        grades.root = str(root)
    names = _names(files, root)
    todo, skipped, done = [], [], []
    why = {"changed": "its file changed since it was graded",
           "source changed": "the chapter's solution notebook or checks changed since it was graded",
           "retry": "the grader itself failed on it last time",
           "no feedback": f"it has no {args.feedback} feedback file in {Path(args.out) / 'feedback'}"}
    for f in files:
        digest = file_hash(_read(f)[0])
        chapter = grades.rows.get(names[f], {}).get("chapter", "")
        state = grades.status(names[f], digest, source_hash(solutions, chapter) if chapter else None)
        if state == "graded" and not feedback_path(args.out, names[f], args.feedback).exists():
            state = "no feedback"     # deleted, or another --feedback format than last time
        if state == "graded" and not args.force:
            skipped.append(names[f])
            continue
        if state in why and not args.force:
            print(f"{names[f]}: grading it again ({why[state]})", file=sys.stderr)
        todo.append((names[f], f))

    start = time.monotonic()
    workers = _Workers(args, solutions.resolve())
    bar = None
    if todo and not args.no_progress:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), unit="notebook", file=sys.stderr, dynamic_ncols=True,
                   disable=None)   # None: only on a terminal

    def grade_one(name, path):
        """(result, hash of the bytes graded): the file is read once, here, and those bytes graded."""
        raw, problem = _read(path)
        if problem:
            return {"chapter": "", "questions": [], "total": 0, "max": "", "notes": [], "error": problem,
                    "sandbox": "OFF (--no-sandbox)" if args.no_sandbox else "bubblewrap"}, file_hash(raw)
        return workers.run(name, raw), file_hash(raw)

    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = {pool.submit(grade_one, name, path): name for name, path in todo}
        for fut in as_completed(futures):
            name = futures[fut]
            result, digest = fut.result()
            if result is None:
                continue
            try:
                grades.add(name, result, digest, source_hash(solutions, result.get("chapter")))
                write_feedback(args.out, name, result, args.feedback)
            except OSError as exc:      # the output folder itself: nothing more can be recorded
                print(f"error: cannot write to {args.out}: {exc}", file=sys.stderr)
                workers.stop()
                pool.shutdown(wait=True, cancel_futures=True)
                return 1
            done.append((name, result))
            if bar is not None:
                bar.set_postfix_str(name[-30:], refresh=False)
                bar.update(1)
    except KeyboardInterrupt:
        workers.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
        print(f"\nstopped: {len(done)} graded so far are in {grades.csv}", file=sys.stderr)
        return 130
    pool.shutdown(wait=True)
    if bar is not None:
        bar.close()

    if done:
        print(summary_table(sorted(done, key=lambda d: d[0])))
    errors = sum(1 for _, r in done if r.get("error"))
    line = f"graded {len(done)} in {time.monotonic() - start:.0f} s"
    if errors:
        line += f" ({errors} with a problem: see the error column)"
    if skipped:
        line += f"; skipped {len(skipped)} already graded (--force grades them again)"
    print(f"{line}; grades: {grades.csv}; feedback: {Path(args.out) / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

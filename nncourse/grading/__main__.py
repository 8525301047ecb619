"""Grade exercise notebooks: ``python -m nncourse.grading SUBMISSION.ipynb [...] --out DIR``.

Writes DIR/grades.csv (one row per submission: submission, chapter, one column per
question with the points earned, total, max, error) and DIR/feedback/<name>.md.
Each submission is graded in a process of its own with a fresh kernel; -j N grades
N at once. Submissions already in grades.csv are skipped unless their file changed
or --force is given. See docs/instructors.md.
"""
from __future__ import annotations

import argparse
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

from .grader import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from .report import Grades, feedback_path, file_hash, source_hash, summary_table, write_feedback

REPO_SOLUTIONS = Path(__file__).resolve().parent.parent.parent / "solutions"


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
                   help="folder of solution notebooks (default: ./solutions, else the course's solutions/)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"time limit per cell (default {DEFAULT_TIMEOUT:g} s)")
    p.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                   help=f"memory limit of each student's kernel (default {DEFAULT_MEMORY_MB} MB; 0 = none)")
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
        if path.is_dir():
            files += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            files.append(path)
        elif any(c in arg for c in "*?[") and glob.glob(arg):
            files += sorted(Path(p) for p in glob.glob(arg) if Path(p).is_file())
        else:
            missing.append(arg)
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, missing


def _root(files, root, recorded=None):
    """The folder submission names are relative to: --root, else the one recorded in the
    output folder by an earlier run if it holds every file (a late submission graded alone
    keeps its `student/chapter.ipynb` name), else the folder the submissions share."""
    if root is not None:
        return Path(root).resolve()
    if recorded and files and all(Path(recorded) in f.parents for f in files):
        return Path(recorded)
    return Path(os.path.commonpath([str(f.parent) for f in files]) if files else ".").resolve()


def _names(files, root):
    root = Path(root).resolve()
    names = {}
    for f in files:
        try:
            names[f] = f.relative_to(root).as_posix()
        except ValueError:
            names[f] = f.as_posix().lstrip("/")
    return names


class _Workers:
    """Runs one grading process per submission; kills them all on Ctrl-C."""

    def __init__(self, tmp, args, solutions):
        self.tmp, self.args, self.solutions = tmp, args, solutions
        self.procs = set()
        self.lock = threading.Lock()
        self.stopping = False

    def run(self, index, path):
        job = {"path": str(path), "solutions": str(self.solutions), "timeout": self.args.timeout,
               "memory_mb": self.args.memory, "result": str(Path(self.tmp) / f"result-{index}.json")}
        job_path = Path(self.tmp) / f"job-{index}.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        log_path = Path(self.tmp) / f"log-{index}.txt"
        limit = 300 + 40 * self.args.timeout
        with open(log_path, "wb") as log:
            with self.lock:
                if self.stopping:
                    return None
                proc = subprocess.Popen([sys.executable, "-m", "nncourse.grading.grader", str(job_path)],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
                self.procs.add(proc)
            try:
                code = proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                self.kill(proc)
                code = None
            finally:
                with self.lock:
                    self.procs.discard(proc)
        try:
            return json.loads(Path(job["result"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            why = (f"took longer than {limit:g} s and was stopped" if code is None
                   else f"ended unexpectedly (exit code {code})")
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            return {"chapter": "", "questions": [], "total": 0, "max": "", "notes": [tail] if tail.strip() else [],
                    "error": f"the grading process {why}"}

    @staticmethod
    def kill(proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self):
        with self.lock:
            self.stopping = True
            for proc in list(self.procs):
                self.kill(proc)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = _parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        # `kill`, `timeout`, a cancelled job: stop like Ctrl-C (keep the rows, stop the workers'
        # process groups with their kernels) instead of leaving them running.
        signal.signal(signal.SIGTERM, _interrupt)
    if args.jobs < 1 or args.timeout <= 0:
        print("error: -j and --timeout must be positive", file=sys.stderr)
        return 2
    solutions = Path(args.solutions) if args.solutions else (Path("solutions") if Path("solutions").is_dir() else REPO_SOLUTIONS)
    if not solutions.is_dir() or not any(solutions.glob("*.ipynb")):
        print(f"error: no solution notebooks in {solutions} (use --solutions DIR)", file=sys.stderr)
        return 2
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
    todo, skipped = [], []
    why = {"changed": "its file changed since it was graded",
           "source changed": "the chapter's solution notebook or checks changed since it was graded",
           "retry": "the grader itself failed on it last time",
           "no feedback": f"it has no {args.feedback} feedback file in {Path(args.out) / 'feedback'}"}
    for f in files:
        digest = file_hash(f)
        chapter = grades.rows.get(names[f], {}).get("chapter", "")
        state = grades.status(names[f], digest, source_hash(solutions, chapter) if chapter else None)
        if state == "graded" and not feedback_path(args.out, names[f], args.feedback).exists():
            state = "no feedback"     # deleted, or another --feedback format than last time
        if state == "graded" and not args.force:
            skipped.append(names[f])
            continue
        if state in why and not args.force:
            print(f"{names[f]}: grading it again ({why[state]})", file=sys.stderr)
        todo.append((f, digest))

    done = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nnlib-grade-") as tmp:
        workers = _Workers(tmp, args, solutions.resolve())
        bar = None
        if todo and not args.no_progress:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), unit="notebook", file=sys.stderr, dynamic_ncols=True,
                       disable=None)   # None: only on a terminal
        pool = ThreadPoolExecutor(max_workers=args.jobs)
        try:
            futures = {pool.submit(workers.run, i, f): (f, digest) for i, (f, digest) in enumerate(todo)}
            for fut in as_completed(futures):
                f, digest = futures[fut]
                result = fut.result()
                if result is None:
                    continue
                grades.add(names[f], result, digest, source_hash(solutions, result.get("chapter")))
                write_feedback(args.out, names[f], result, args.feedback)
                done.append((names[f], result))
                if bar is not None:
                    bar.set_postfix_str(names[f][-30:], refresh=False)
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
        print(summary_table(sorted(done)))
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

"""The red team's cases (issue 12), each a test: hostile or unlucky submissions, graded as an
instructor would (the command line, -j 2), against a copy of the course's solutions.

Fixtures are built on the fly from chapter 01; every run has a time bound; every process a
submission starts must be gone when the grader is (checked).
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from conftest import ROOT
from fixtures import grading_cases
from test_grading import read_csv, wait_gone

TIMEOUT = "10"
PREDICT = grading_cases.solution_source("predict-answer")
FULL = {"predict": 2, "predicted_refit": 2, "ridge_gradients": 4, "fit_linear": 3}
TOTAL = str(sum(FULL.values()))        # chapter 1 in full


def run_cli(*args, env=None, timeout=600):
    cmd = [sys.executable, "-m", "nncourse.grading", *map(str, args), "--no-progress"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def source_copy(folder):
    """The project's files, copied (pip building in place would leave build/ in the course folder)."""
    dest = folder / "src"
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                              ".ipynb_checkpoints", "grades", "test-artifacts"))
    return dest


def with_predict(prefix="", predict=PREDICT, **more):
    """The solved notebook with code run before the (correct, unless given) predict."""
    return grading_cases.solved(**{"predict-answer": prefix + "\n" + predict}, **more)


@pytest.fixture(scope="module")
def attack(tmp_path_factory):
    base = tmp_path_factory.mktemp("attack")
    solutions, subs, out = base / "solutions", base / "subs", base / "out"
    shutil.copytree(ROOT / "solutions", solutions)
    subs.mkdir()
    site = sysconfig.get_paths()["purelib"]
    checks = ROOT / "nncourse" / "checks" / "ch01.py"
    sol = solutions / "01_linear_model.ipynb"
    classmate = subs / "classmate.ipynb"
    targets = [out / "grades.csv", out / ".grading-state.json", sol, checks, classmate, Path(site) / "evil.pth"]
    # Write everywhere it should not, then leave a process behind to try again after the grader ends.
    vandal = (
        "import os, subprocess, sys\n"
        f"targets = {[str(t) for t in targets]!r}\n"
        "for t in targets:\n"
        "    try:\n"
        "        with open(t, 'w') as f:\n"
        "            f.write('import os; os.system(\"touch /tmp/pwned\")\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        "try:\n"
        "    os.mkfifo('/tmp/result-0.tmp')\n"
        "except OSError:\n"
        "    pass\n"
        "code = 'import time\\ntime.sleep(2)\\nfor t in %r:\\n    try:\\n        open(t, \"w\").write(\"hacked\")\\n"
        "    except OSError:\\n        pass\\n' % (targets,)\n"
        "subprocess.Popen([sys.executable, '-c', code, 'nnlib-lingering'], start_new_session=True)\n")
    snoop = (
        f"for p in {[str(sol), str(checks), str(classmate), str(out), str(base)]!r}:\n"
        "    if __import__('os').path.exists(p):\n"
        "        raise RuntimeError('SAW ' + p)\n")
    # Every PID but its own: bwrap's init (PID 1, root) included, which would end the sandbox.
    killer = ("import os, signal\nfor pid in set(range(1, 5000)) - {os.getpid()}:\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
              "    except OSError:\n        pass\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n")
    # More processes than the cap: if more than 32 start, predict is never defined.
    fork_bomb = ("import subprocess\nstarted = []\nfor i in range(100):\n    try:\n"
                 "        started.append(subprocess.Popen(['sleep', '61.25']))\n    except OSError:\n        break\n"
                 "assert len(started) < 40, f'{len(started)} processes: no process cap'\n")
    memory = ("import numpy as np\ntry:\n    big = np.ones(3 << 27)\nexcept MemoryError:\n    big = None\n"
              "assert big is None, 'no memory limit'\n")
    flood = "print('x' * (50 << 20))\n"
    surrogate = {"predicted_refit-answer": "def predicted_refit():\n    raise ValueError('bad \\ud800 surrogate \\udcff')\n"}
    evil_array = ("class Evil:\n    __array_interface__ = {'data': (8, False), 'shape': (4,), 'typestr': '<f8', 'version': 3}\n\n"
                  "def predict(X, w, b):\n    return Evil()\n")
    endless_flood = {"predicted_refit-answer": "def predicted_refit():\n    while True:\n        print('flood ' * 1000)\n"}
    cases = {
        "vandal.ipynb": (with_predict(vandal), FULL),
        "snoop.ipynb": (with_predict(snoop), FULL),
        "killer.ipynb": (with_predict(killer), FULL),
        "fork_bomb.ipynb": (with_predict(fork_bomb), FULL),
        "memory.ipynb": (with_predict(memory), FULL),
        "flood.ipynb": (with_predict(flood), FULL),
        "surrogate.ipynb": (grading_cases.solved(**surrogate), {**FULL, "predicted_refit": 0}),
        "evil_array.ipynb": (with_predict(predict=evil_array), None),
        "endless_flood.ipynb": (grading_cases.solved(**endless_flood), {**FULL, "predicted_refit": 0}),
        "classmate.ipynb": (grading_cases.solved(), FULL),
        # an honest student who imports the checks and runs one in an answer cell
        "self_check.ipynb": (with_predict("from nncourse.checks import ch01 as check",
                                          PREDICT + "\ncheck.predict(predict)\n"), FULL),
    }
    # A copy of the answer cell (same grade_id, new id) holds the real answer: the last one counts.
    dup = grading_cases.solved(**{"predict-answer": "def predict(X, w, b):\n    return None\n"})
    copy = json.loads(json.dumps(next(c for c in dup["cells"] if c["id"] == "predict-answer")))
    copy.update(id="copy-of-predict", source=PREDICT)
    index = next(i for i, c in enumerate(dup["cells"]) if c["id"] == "predict-answer")
    dup["cells"].insert(index + 1, copy)
    cases["duplicated_cell.ipynb"] = (dup, FULL)
    # Names in other scripts and accents (NFC and NFD): each its own feedback file.
    for name in ("José.ipynb", "Jose\u0301.ipynb", "Иван Петров.ipynb", "李华.ipynb", "Jose.ipynb"):
        cases[name] = (grading_cases.solved(), FULL)
    # Student problems, not grader errors.
    v3 = {"nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": []}], "metadata": {}}
    bad_id = grading_cases.solved()
    bad_id["cells"][1]["id"] = ["not", "a", "string"]
    cases["nbformat3.ipynb"] = (v3, None)
    cases["bad_cell_id.ipynb"] = (bad_id, None)
    cases["deep.ipynb"] = ("[" * 100000 + "]" * 100000, None)
    for name, (content, _) in cases.items():
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        (subs / name).write_text(text, encoding="utf-8")
    # Files that are not files: a FIFO, links to the solution and to /dev/zero, a name that is not UTF-8.
    os.mkfifo(subs / "fifo.ipynb")
    os.symlink(sol, subs / "link_to_solution.ipynb")
    os.symlink("/dev/zero", subs / "dev_zero.ipynb")
    raw_name = os.fsencode(subs) + b"/\xff\xfe latin1 \xe9.ipynb"
    with open(raw_name, "w", encoding="utf-8") as f:
        f.write(json.dumps(grading_cases.solved()))
    before = {str(t): (sha(t) if os.path.exists(t) else None) for t in targets if out not in t.parents}
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "nncourse.grading", str(subs), "--out", str(out), "--solutions",
                             str(solutions), "-j", "2", "--timeout", TIMEOUT, "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        proc.kill()
    seconds = time.monotonic() - start
    assert proc.returncode == 0, stderr
    lingering = [int(p) for p in filter(str.isdigit, os.listdir("/proc"))
                 if "nnlib-lingering" in _cmd(p) or "sleep\0" "61.25" in _cmd(p)]
    gone = wait_gone(lingering, 10)
    time.sleep(3)                    # what a lingering process would have done by now
    header, rows = read_csv(out / "grades.csv")
    return {"rows": rows, "out": out, "subs": subs, "cases": cases, "targets": targets, "before": before,
            "gone": gone, "stdout": stdout, "stderr": stderr, "seconds": seconds, "site": site, "solutions": solutions}


def _cmd(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def feedback_of(attack, name):
    from nncourse.grading import report
    return report.feedback_path(attack["out"], name).read_text(encoding="utf-8")


def test_every_hostile_case_gets_its_stated_grade(attack):
    wrong = {}
    for name, (_, expected) in attack["cases"].items():
        row = attack["rows"][name]
        if expected is None:
            if not (row["error"] and row["total"] == "0"):
                wrong[name] = row
        elif {q: row[q] for q in expected} != {q: str(v) for q, v in expected.items()}:
            wrong[name] = (row, feedback_of(attack, name))
    assert not wrong, wrong


def test_nothing_outside_the_sandbox_was_written_during_or_after_the_run(attack):
    """Forged grades without a trace: grades.csv, the state file, the solutions, the checks, a
    classmate's file and a .pth in site-packages, written during the run and by a process left
    behind for after it."""
    assert attack["gone"], "a process the student's code started outlived the grader"
    for target, digest in attack["before"].items():
        assert (sha(target) if os.path.exists(target) else None) == digest, target
    assert not os.path.exists(os.path.join(attack["site"], "evil.pth"))
    assert not os.path.exists("/tmp/pwned")
    text = (attack["out"] / "grades.csv").read_text()
    assert "hacked" not in text and "os.system" not in text
    json.loads((attack["out"] / ".grading-state.json").read_text())


def test_the_sandbox_sees_no_solutions_checks_classmates_or_output(attack):
    assert attack["rows"]["snoop.ipynb"]["total"] == TOTAL, feedback_of(attack, "snoop.ipynb")
    assert "SAW" not in feedback_of(attack, "snoop.ipynb")


def test_a_student_cannot_signal_the_grader_or_classmates(attack):
    assert attack["rows"]["killer.ipynb"]["total"] == TOTAL
    assert all(attack["rows"][n]["error"] == "" for n in ("classmate.ipynb", "José.ipynb", "flood.ipynb"))


def test_processes_and_memory_are_capped(attack):
    assert attack["rows"]["fork_bomb.ipynb"]["total"] == TOTAL, feedback_of(attack, "fork_bomb.ipynb")
    assert attack["rows"]["memory.ipynb"]["total"] == TOTAL, feedback_of(attack, "memory.ipynb")


def test_output_floods_cost_nothing_and_timeouts_stay_timeouts(attack):
    assert attack["rows"]["flood.ipynb"]["total"] == TOTAL
    text = feedback_of(attack, "endless_flood.ipynb")
    assert "## predicted_refit: 0 / 2 (timed out)" in text and len(text) < 20000
    assert "your `predicted_refit(...)` was still running" in text, text      # the looping function, named


def test_text_that_is_not_utf8_never_stops_the_run(attack):
    assert "## predicted_refit: 0 / 2 (failed)" in feedback_of(attack, "surrogate.ipynb")
    name = "\\xff\\xfe latin1 \\xe9.ipynb"
    assert attack["rows"][name]["total"] == TOTAL, attack["rows"].keys()


def test_a_crash_inside_the_sandbox_is_the_students_row(attack):
    """A rebuilt object whose __array_interface__ points at address 8 segfaulted the grader; now
    np.asarray runs in the sandbox, which crashes alone."""
    row = attack["rows"]["evil_array.ipynb"]
    assert "crashed (SIGSEGV)" in row["error"] and row["predict"] == "0", row


def test_files_that_are_not_regular_files_are_refused_under_their_own_names(attack):
    rows = attack["rows"]
    assert "not a regular file" in rows["fifo.ipynb"]["error"]
    assert "symbolic link" in rows["link_to_solution.ipynb"]["error"] and rows["link_to_solution.ipynb"]["total"] == "0"
    assert "symbolic link" in rows["dev_zero.ipynb"]["error"]
    assert not any("solutions" in name for name in rows), "named after the path given, never a link's target"


def test_a_duplicated_answer_cell_grades_the_last_with_a_note(attack):
    assert "the last one was graded" in feedback_of(attack, "duplicated_cell.ipynb")


def test_feedback_names_are_unique_and_keep_their_letters(attack):
    from nncourse.grading import report
    names = [n for n in attack["rows"]]
    paths = [report.feedback_path(attack["out"], n) for n in names]
    assert len(set(paths)) == len(paths)
    assert all(p.exists() for p in paths)
    files = {p.name for p in (attack["out"] / "feedback").iterdir()}
    assert {"José.md", "Jose.md", "Иван Петров.md", "李华.md"} <= files, files
    assert "# Feedback: Jose\u0301.ipynb" in feedback_of(attack, "Jose\u0301.ipynb")


def test_malformed_notebooks_are_the_students_problem_and_not_retried(attack, tmp_path):
    rows = attack["rows"]
    assert "format 3" in rows["nbformat3.ipynb"]["error"]
    assert "malformed id" in rows["bad_cell_id.ipynb"]["error"]
    assert "nested too deeply" in rows["deep.ipynb"]["error"]
    assert not any("grader error" in r["error"] for r in rows.values())
    out = tmp_path / "out"
    shutil.copytree(attack["out"], out)
    names = ["nbformat3.ipynb", "bad_cell_id.ipynb", "deep.ipynb", "fifo.ipynb"]
    proc = run_cli(*[attack["subs"] / n for n in names], "--out", out, "--solutions", attack["solutions"],
                   "--root", attack["subs"])
    assert "skipped 4 already graded" in proc.stdout, proc.stdout + proc.stderr


def test_the_hash_recorded_is_of_the_bytes_graded(attack):
    state = json.loads((attack["out"] / ".grading-state.json").read_text())["files"]
    assert state["classmate.ipynb"]["sha256"] == sha(attack["subs"] / "classmate.ipynb")


# --- no sandbox: refuse, or say so everywhere ---------------------------------------------------

def test_without_bubblewrap_the_grader_refuses_unless_told_no_sandbox(tmp_path):
    sub = tmp_path / "s.ipynb"
    sub.write_text(json.dumps(grading_cases.solved()))
    env = dict(os.environ, PATH=str(tmp_path))            # no bwrap on PATH
    proc = run_cli(sub, "--out", tmp_path / "out", env=env)
    assert proc.returncode == 2 and "bubblewrap is not installed" in proc.stderr and "--no-sandbox" in proc.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    proc = run_cli(sub, "--out", tmp_path / "out", "--no-sandbox", env=env)
    assert proc.returncode == 0, proc.stderr
    _, rows = read_csv(tmp_path / "out" / "grades.csv")
    assert rows["s.ipynb"]["total"] == TOTAL and rows["s.ipynb"]["sandbox"] == "OFF (--no-sandbox)"
    text = (tmp_path / "out" / "feedback" / "s.md").read_text()
    assert "Isolation was off" in text and "WITHOUT a sandbox" in text


def test_the_grader_says_where_the_solutions_are_missing(tmp_path):
    sub = tmp_path / "s.ipynb"
    sub.write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "nncourse.grading", str(sub), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "no solutions/ folder here" in proc.stderr and "--solutions" in proc.stderr


def test_a_whole_notebook_has_a_time_limit(tmp_path):
    slow = "import time\ntime.sleep(6)\n"     # the first answer ends at about 6.5 s, the second would at 12.5 s
    sub = tmp_path / "slow.ipynb"
    sub.write_text(json.dumps(grading_cases.solved(**{
        a: slow + grading_cases.solution_source(a) for a in ("predict-answer", "predicted_refit-answer", "ridge_gradients-answer",
                                                            "fit_linear-answer")})))
    proc = run_cli(sub, "--out", tmp_path / "out", "--submission-timeout", "10", "--timeout", "30")
    _, rows = read_csv(tmp_path / "out" / "grades.csv")
    assert "time limit for the whole notebook (10 s)" in rows["slow.ipynb"]["error"], proc.stdout
    assert rows["slow.ipynb"]["predict"] == "2" and rows["slow.ipynb"]["fit_linear"] == "0"


# --- pip install .[grade] in a fresh venv ----------------------------------------------------------

def test_pip_install_grade_gives_a_working_nnlib_grade(tmp_path):
    """A plain install (not editable): nnlib-grade finds --solutions, grades a solved and an unsolved
    notebook, and the sandbox sees the installed nnlib but not the installed nncourse."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"{source_copy(tmp_path)}[grade]"],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    course = tmp_path / "course"
    (course / "subs").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copy(grading_cases.SOLUTION, course / "subs" / "solved.ipynb")
    peek = grading_cases.solved(**{"predict-answer": "import importlib.util\n"
                                   "assert importlib.util.find_spec('nnlib') is not None\n"
                                   "import os, nnlib\n"
                                   "_d = os.path.join(os.path.dirname(os.path.dirname(nnlib.__file__)), 'nncourse')\n"
                                   "if os.path.exists(_d) and os.listdir(_d):\n"
                                   "    raise RuntimeError('the sandbox sees the installed nncourse: ' + _d)\n"
                                   "import nncourse.checks\n"      # a stand-in that does nothing: the real one is not there
                                   "if '__file__' in vars(nncourse.checks) or nncourse.checks.expect(False, 'x') is not None:\n"
                                   "    raise RuntimeError('the sandbox sees nncourse.checks')\n" + PREDICT})
    (course / "subs" / "peek.ipynb").write_text(json.dumps(peek))
    (course / "subs" / "unsolved.ipynb").write_text(grading_cases.EXERCISE.read_text())
    proc = subprocess.run([str(venv / "bin" / "nnlib-grade"), "--solutions", "solutions", "subs/", "--no-progress"],
                          capture_output=True, text=True, cwd=course, timeout=600)
    assert proc.returncode == 0, proc.stderr
    _, rows = read_csv(course / "grades" / "grades.csv")
    assert rows["solved.ipynb"]["total"] == TOTAL and rows["unsolved.ipynb"]["total"] == "0", rows
    assert rows["peek.ipynb"]["total"] == TOTAL, (course / "grades" / "feedback" / "peek.md").read_text()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv") or not os.access("/usr/bin/python3", os.X_OK),
                    reason="needs root (to become another user), setpriv and a system /usr/bin/python3")
def test_an_unprivileged_instructor_gets_the_same_sandbox_and_process_cap(tmp_path_factory):
    """Not root: bubblewrap makes a user namespace, and the process cap holds inside it."""
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="nnlib-unprivileged-"))
    try:
        os.chmod(base, 0o755)
        venv, course = base / "venv", base / "course"
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=120)
        pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"{source_copy(base)}[grade]"],
                             capture_output=True, text=True, timeout=600)
        assert pip.returncode == 0, pip.stderr[-2000:]
        (course / "subs").mkdir(parents=True)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        bomb = ("import subprocess\nstarted = []\nfor i in range(100):\n    try:\n"
                "        started.append(subprocess.Popen(['sleep', '61.75']))\n    except OSError:\n        break\n"
                "assert len(started) < 40, f'{len(started)} processes: no process cap'\n")
        (course / "subs" / "bomb.ipynb").write_text(json.dumps(with_predict(bomb)))
        (course / "subs" / "unsolved.ipynb").write_text(grading_cases.EXERCISE.read_text())
        uid = 2_500_000 + os.getpid() % 100_000
        subprocess.run(["chown", "-R", f"{uid}:{uid}", str(course)], check=True)
        proc = subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups", "env",
                               f"HOME={course}", str(venv / "bin" / "nnlib-grade"), "subs", "--no-progress"],
                              capture_output=True, text=True, cwd=course, timeout=600)
        assert proc.returncode == 0, proc.stderr
        _, rows = read_csv(course / "grades" / "grades.csv")
        assert rows["bomb.ipynb"]["total"] == TOTAL, (course / "grades" / "feedback" / "bomb.md").read_text()
        assert rows["unsolved.ipynb"]["total"] == "0" and rows["bomb.ipynb"]["sandbox"] == "bubblewrap"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_student_that_stops_reading_cannot_block_the_grader():
    """The student's code makes its process stop reading requests (and ignore Ctrl-C): a large
    request then fills the socket; the send, like every read, has the cell's deadline."""
    import numpy as np
    from nncourse.grading import sandbox
    box = sandbox.Sandbox(memory_mb=2048)
    box.start()
    try:
        remote = sandbox.Remote(box, 3)
        remote.request({"op": "run", "code": "def f(x):\n    return 0\n"})
        f = remote.get("f")
        remote.request({"op": "run", "code": "import signal, sys, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                             "sys.modules['wire'].receive = lambda *a, **k: time.sleep(3600)\n"})
        start = time.monotonic()
        with pytest.raises(sandbox.Timeout):
            f(np.zeros(1 << 20))                       # 8 MB to a process that reads nothing
        assert time.monotonic() - start < 60
        assert not box.alive() and box.stopped, "killed, to be started again"
        box.restart()
        assert remote.request({"op": "run", "code": "x = 1"})[0]["status"] == "ok"
    finally:
        box.kill()

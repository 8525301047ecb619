"""The grader: every case of tests/fixtures/grading_cases.py graded as stated, and its parts.

The chapter-01 cases are graded once, through the command line, with -j 2 (module-scoped
fixture `graded`); the tests then read grades.csv and the feedback files.
"""
import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT
from fixtures import grading_cases
from nncourse import release
from nncourse.grading import grader, report, wire

TIMEOUT = "10"   # seconds per cell: the endless loops cost this much; less is flaky on a loaded machine


def run_cli(*args, cwd=None):
    cmd = [sys.executable, "-m", "nncourse.grading", *map(str, args), "--no-progress"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT, timeout=900)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, {row["submission"]: row for row in reader}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades")
    expected = grading_cases.write_cases(subs)
    start = time.monotonic()
    proc = run_cli(*sorted(subs.glob("*.ipynb")), "--out", out, "-j", "2", "--timeout", TIMEOUT)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(out / "grades.csv")
    return {"subs": subs, "out": out, "expected": expected, "header": header, "rows": rows,
            "stdout": proc.stdout, "seconds": seconds}


CASES = list(grading_cases.cases())


@pytest.mark.parametrize("name", CASES)
def test_each_case_is_graded_as_stated(graded, name):
    row, expected = graded["rows"][name], graded["expected"][name]
    if expected is None:
        assert row["error"], f"{name} should have an error"
        assert row["total"] == "0"
        return
    got = {q: int(row[q]) for q in expected}
    assert got == expected, f"{name}: {row}\n{feedback(graded, name)}"
    assert int(row["total"]) == sum(expected.values())
    assert int(row["max"]) == json.loads(grading_cases.EXERCISE.read_text())["metadata"]["nnlib"]["max_points"]


def test_grades_csv_has_the_stated_columns(graded):
    questions = [q["id"] for q in json.loads(grading_cases.EXERCISE.read_text())["metadata"]["nnlib"]["questions"]]
    assert graded["header"] == ["submission", "chapter", *questions, "total", "max", "error", "sandbox"]
    assert {row["sandbox"] for row in graded["rows"].values()} == {"bubblewrap"}
    assert set(graded["rows"]) == set(CASES)
    assert graded["rows"]["solved.ipynb"]["chapter"] == grading_cases.CHAPTER
    assert graded["rows"]["solved.ipynb"]["error"] == ""


def test_errors_say_what_is_wrong(graded):
    rows = graded["rows"]
    assert "invalid JSON" in rows["not_json.ipynb"]["error"]
    assert "not a notebook" in rows["not_a_notebook.ipynb"]["error"]
    assert "99_no_such_chapter" in rows["wrong_chapter.ipynb"]["error"]
    assert "not an exercise notebook" in rows["chapter_notebook_not_exercise.ipynb"]["error"]
    assert "exited with code 3" in rows["os_exit.ipynb"]["error"]
    assert rows["sys_exit.ipynb"]["error"] == "", "sys.exit does not kill the kernel"


def feedback(graded, name):
    return (graded["out"] / "feedback" / name.replace(".ipynb", ".md")).read_text(encoding="utf-8")


def test_feedback_gives_each_question_its_points_and_the_checks_message(graded):
    text = feedback(graded, "partly_solved.ipynb")
    assert "**4 / 11 points**" in text
    assert "## predict: 2 / 2 (passed)" in text and "✅ predict:" in text
    assert "## ridge_gradients: 0 / 4 (failed)" in text and "❌ ridge_gradients: ridge_gradients returned None" in text
    assert "## fit_linear: 0 / 3 (not done)" in text and "⏳ fit_linear: not done yet" in text


def test_feedback_explains_timeouts_exits_and_dead_kernels(graded):
    looped = feedback(graded, "endless_loop.ipynb")
    # The loop ran inside a cell that calls the function: the note says where Ctrl-C found it.
    assert f"timed out after {TIMEOUT} s (in predicted_refit, line 2" in looped, looped
    stubborn = feedback(graded, "endless_loop_no_interrupt.ipynb")
    assert "timed out" in stubborn and "started again 1 time" in stubborn
    assert "SystemExit" in feedback(graded, "sys_exit.ipynb")
    died = feedback(graded, "os_exit.ipynb")
    assert "## fit_linear: 0 / 3 (kernel died)" in died and "exited with code 3" in died


def test_fake_output_and_patches_in_the_kernel_do_not_reach_the_verdict(graded):
    for name in ("fake_printed_results.ipynb", "patched_checks_and_numpy.ipynb", "forged_grader_replies.ipynb"):
        assert graded["rows"][name]["total"] == "0"
    text = feedback(graded, "patched_checks_and_numpy.ipynb")
    assert "predict(X, w, b) is None" in text, f"the real check should have run, with the real numpy:\n{text}"


def test_every_submission_gets_a_feedback_file(graded):
    for name in CASES:
        assert (graded["out"] / "feedback" / name.replace(".ipynb", ".md")).exists()
    assert not list(graded["out"].glob(".*tmp*")), "no temporary files left behind"


def test_summary_table_is_printed(graded):
    out = graded["stdout"]
    assert out.splitlines()[0].split() == ["submission", "chapter", "score", "problems"]
    assert "solved.ipynb" in out and "11/11" in out and f"graded {len(CASES)}" in out


def test_rerun_skips_graded_files_keeps_rows_and_regrades_changed_ones(graded, tmp_path):
    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    before = (out / "grades.csv").read_text()
    proc = run_cli(*sorted(graded["subs"].glob("*.ipynb")), "--out", out)
    assert proc.returncode == 0 and f"skipped {len(CASES)} already graded" in proc.stdout
    assert (out / "grades.csv").read_text() == before
    # a submission graded alone keeps every other row
    changed = tmp_path / "not_json.ipynb"
    changed.write_text("still not JSON", encoding="utf-8")
    proc = run_cli(changed, "--out", out)
    assert proc.returncode == 0 and "graded 1" in proc.stdout
    _, rows = read_csv(out / "grades.csv")
    assert set(rows) == set(CASES) and "invalid JSON" in rows["not_json.ipynb"]["error"]
    # --force grades again what was already graded
    proc = run_cli(graded["subs"] / "not_a_notebook.ipynb", "--out", out, "--force")
    assert "graded 1" in proc.stdout and "skipped" not in proc.stdout


def test_grades_csv_is_replaced_atomically(tmp_path, monkeypatch):
    grades = report.Grades(tmp_path)
    grades.add("a.ipynb", {"chapter": "x", "questions": [{"id": "q", "points": 1}], "total": 1, "max": 1}, "h1")
    before = (tmp_path / "grades.csv").read_text()

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        grades.add("b.ipynb", {"chapter": "x", "questions": [], "total": 0, "max": 1}, "h2")
    assert (tmp_path / "grades.csv").read_text() == before


def test_grading_one_submission_takes_seconds():
    start = time.monotonic()
    result = grader.grade(ROOT / "solutions" / f"{grading_cases.CHAPTER}.ipynb", ROOT / "solutions", timeout=30)
    seconds = time.monotonic() - start
    assert result["total"] == result["max"] and result["error"] == ""
    assert seconds < 30, f"grading the solution took {seconds:.1f} s"


def test_usage_errors_exit_2(tmp_path):
    proc = run_cli(tmp_path / "nothing-*.ipynb", "--out", tmp_path)
    assert proc.returncode == 2 and "no file matches" in proc.stderr and "a folder" in proc.stderr
    assert run_cli(grading_cases.EXERCISE, "--out", tmp_path, "--solutions", tmp_path).returncode == 2


# --- a chapter of its own: what other chapters' checks do ------------------------------------

def _cell(cid, src, kind="code", **nbgrader):
    c = {"cell_type": kind, "id": cid, "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "source": src}
    if kind == "code":
        c.update(outputs=[], execution_count=None)
    return c


def _answer(cid, header, body):
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return _cell(cid, f"{header}\n    ### BEGIN SOLUTION\n{lines}    ### END SOLUTION\n",
                 solution=True, grade=False, grade_id=cid)


def _graded(cid, src):
    return _cell(cid, src, solution=False, grade=True, grade_id=cid, points=1)


SYNTHETIC = "99_grading_fixture"
SYNTHETIC_CELLS = [
    _cell("setup", "import numpy as np\nfrom nnlib import Dense, Identity\n"),
    _answer("relu-answer", "def relu(z):", "return np.maximum(z, 0)"),
    _graded("relu", "assert np.allclose(relu(np.array([-1.0, 2.0])), [0, 2])\n"),
    # a Generator goes in, and its advanced state comes back
    _answer("shuffled-answer", "def shuffled(n, rng):", "return rng.permutation(n)"),
    _graded("shuffled", "rng, ref = np.random.default_rng(0), np.random.default_rng(0)\n"
                        "assert np.array_equal(shuffled(5, rng), ref.permutation(5))\n"
                        "assert rng.random() == ref.random()\n"),
    # arguments changed in place come back into the check's own arrays
    _answer("sgd_step-answer", "def sgd_step(params, grads, lr):", "for k in params:\n    params[k] -= lr * grads[k]"),
    _graded("sgd_step", "p = {'w': np.ones(2)}\nw = p['w']\nassert sgd_step(p, {'w': np.ones(2)}, 0.5) is None\n"
                        "assert np.allclose(w, 0.5)\n"),
    # a class of the student's: instances stay in the sandbox, methods are called there
    _cell("counter-answer", "class Counter:\n    def __init__(self):\n        self.n = 0\n\n    def inc(self):\n"
                            "        ### BEGIN SOLUTION\n        self.n += 1\n        return self.n\n"
                            "        ### END SOLUTION\n", solution=True, grade=False, grade_id="counter-answer"),
    _graded("counter", "assert isinstance(Counter, type)\nc = Counter()\nc.inc()\n"
                       "assert c.inc() == 2 and c.n == 2 and 'Counter' in repr(c)\n"),
    # a subclass of an nnlib class: its methods run in the sandbox
    _cell("double-answer", "class Double(Identity):\n    def forward(self, x, training=False):\n"
                           "        ### BEGIN SOLUTION\n        return 2 * x\n        ### END SOLUTION\n",
          solution=True, grade=False, grade_id="double-answer"),
    _graded("double", "d = Double()\nassert np.allclose(d.forward(np.ones(2)), 2)\n"),
    # an nnlib object the student's code returns is a handle too: never rebuilt here
    _answer("layer-answer", "def make_layer():", "return Dense(2, 3, rng=0)"),
    _graded("layer", "layer = make_layer()\nassert not isinstance(layer, Dense) and layer.W.shape == (2, 3)\n"
                     "assert np.allclose(layer.forward(np.ones((1, 2))), np.ones((1, 2)) @ layer.W + layer.b)\n"),
    _answer("half-answer", "def half(x):", "return x / 2"),
    _graded("half", "assert half(4.0) == 2.0\nassert not (half(3.0) == 2.0)\n"),
]
ALWAYS_EQUAL = ("class Yes(float):\n    def __eq__(self, other):\n        return True\n"
                "    __hash__ = float.__hash__\n\ndef half(x):\n    return Yes(0)\n")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A made-up chapter graded in one run with chapter 01 (several chapters at once)."""
    solutions, subs, out = (tmp_path_factory.mktemp(n) for n in ("solutions", "subs", "out"))
    solution = {"cells": SYNTHETIC_CELLS, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (solutions / f"{SYNTHETIC}.ipynb").write_text(release.dumps(solution))
    shutil.copy(grading_cases.SOLUTION, solutions)
    exercise = release.release_notebook(solution, SYNTHETIC)
    (subs / "unsolved.ipynb").write_text(release.dumps(exercise))
    solved = json.loads(release.dumps(exercise))
    answers = {c["id"]: c["source"] for c in SYNTHETIC_CELLS}
    for c in solved["cells"]:
        if c["metadata"].get("nbgrader", {}).get("solution"):
            c["source"] = answers[c["id"]]
    (subs / "solved.ipynb").write_text(release.dumps(solved))
    for c in solved["cells"]:
        if c["id"] == "half-answer":
            c["source"] = ALWAYS_EQUAL
    (subs / "always_equal.ipynb").write_text(release.dumps(solved))
    (subs / "ch01.ipynb").write_text(json.dumps(grading_cases.solved()))
    proc = run_cli(subs, "--out", out, "--solutions", solutions, "-j", "2", "--timeout", TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return read_csv(out / "grades.csv")


def test_checks_can_pass_generators_and_mutable_arguments_and_use_the_students_objects(synthetic):
    header, rows = synthetic
    assert rows["solved.ipynb"]["total"] == rows["solved.ipynb"]["max"] == str(len(SYNTHETIC_CELLS) // 2)
    assert rows["unsolved.ipynb"]["total"] == "0"


def test_an_object_that_equals_everything_does_not_pass(synthetic):
    _, rows = synthetic
    assert rows["always_equal.ipynb"]["half"] == "0"
    assert rows["always_equal.ipynb"]["relu"] == "1"


def test_several_chapters_in_one_run_share_one_csv(synthetic):
    header, rows = synthetic
    assert rows["ch01.ipynb"]["chapter"] == grading_cases.CHAPTER and rows["ch01.ipynb"]["total"] == "11"
    assert "relu" in header and "predict" in header
    assert rows["ch01.ipynb"]["relu"] == "" and rows["solved.ipynb"]["predict"] == ""


# --- the plan: what comes from where -----------------------------------------------------------

def test_only_answer_cells_come_from_the_submission():
    solution = json.loads(grading_cases.SOLUTION.read_text())
    sub = grading_cases.solved()
    for c in sub["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade"):
            c["source"] = "print('hacked')"
    sub["cells"].append({"cell_type": "code", "id": "mine", "metadata": {}, "source": "x = 1", "outputs": [],
                         "execution_count": None})
    plan = grader.build_plan(solution, sub, grading_cases.CHAPTER)
    checks = {s.cell_id: s.source for s in plan.steps if s.kind == "check"}
    originals = {c["id"]: "".join(c["source"]) for c in solution["cells"]}
    assert checks and all(src == originals[cid] for cid, src in checks.items())
    assert "BEGIN HIDDEN TESTS" in "".join(checks.values()), "hidden tests are graded"
    assert not any("hacked" in s.source or s.cell_id == "mine" for s in plan.steps)
    assert any("you added were not run" in n for n in plan.notes)


def test_a_deleted_answer_cell_counts_as_not_done():
    solution = json.loads(grading_cases.SOLUTION.read_text())
    sub = grading_cases.solved()
    first_answer = next(c["id"] for c in sub["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    sub["cells"] = [c for c in sub["cells"] if c["id"] != first_answer]
    plan = grader.build_plan(solution, sub, grading_cases.CHAPTER)
    step = next(s for s in plan.steps if s.cell_id == first_answer)
    assert "raise NotImplementedError" in step.source
    assert first_answer in step.note and "deleted?" in step.note, "shown with its question"


def test_an_answer_cell_turned_into_markdown_is_named_with_its_question(tmp_path):
    """A student who changed the answer cell's type by mistake was told 'not in your notebook'
    in the notes and 'not done yet' under the question; now the question says what to do."""
    sub = grading_cases.solved()
    cell = next(c for c in sub["cells"] if c["id"] == "predicted_refit-answer")
    cell["cell_type"] = "markdown"
    del cell["outputs"], cell["execution_count"]
    path = tmp_path / "s.ipynb"
    path.write_text(json.dumps(sub))
    result = grader.grade(path, ROOT / "solutions", timeout=30)
    q = {q["id"]: q for q in result["questions"]}
    assert q["predicted_refit"]["points"] == 0 and q["predict"]["points"] == 2
    assert any("is a markdown cell" in n and "code cell again" in n for n in q["predicted_refit"]["notes"]), q["predicted_refit"]
    assert "## predicted_refit: 0 / 2" in report.feedback_markdown("s.ipynb", result).split("is a markdown cell")[0]


def test_answer_names_are_the_definitions_not_the_imports():
    names, imports = grader.answer_names("import numpy as np\nfrom math import pi\ndef f(x):\n    y = 2\n"
                                         "    return y\nclass K:\n    pass\nw, b = 1, 2\nfor i in range(2):\n    pass\n")
    assert names == ("f", "K", "w", "b", "i")
    assert imports == "import numpy as np\nfrom math import pi"


# --- values as data --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    None, True, 3, 2.5, float("inf"), "text", [1, [2.0]], (1, "a"), {"a": 1, 2: (3,)},
    np.arange(6.0).reshape(2, 3), np.array([True, False]), np.float32(1.5), np.int64(7), np.zeros((0, 3)),
    np.array([1 + 2j]),
])
def test_plain_values_survive_the_trip(value):
    back = wire.decode(json.loads(json.dumps(wire.encode(value))))
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value) and back.flags.writeable
    else:
        assert type(back) is type(value) and back == value


def test_generators_travel_by_state():
    rng = np.random.default_rng(3)
    rng.random()
    back = wire.decode(json.loads(json.dumps(wire.encode(rng))))
    assert back.random() == rng.random()


@pytest.mark.parametrize("value", [np.tanh, lambda x: x, object(), {1, 2}, b"raw", np.array(["a"]),
                                   np.array([None], dtype=object), np.random.Generator(np.random.PCG64()).bit_generator])
def test_what_is_not_data_is_not_encoded(value):
    with pytest.raises(wire.NotData):
        wire.encode(value)


@pytest.mark.parametrize("data", [
    {"$": "fn", "module": "nnlib.saving", "name": "os.system"},              # the red team's forged reply
    {"$": "obj", "module": "nnlib.layers", "name": "Dense", "state": {"$": "dict", "items": []}},
    {"$": "pickle", "b64": "gASVBAAAAAAAAACMAWGULg=="},                      # never unpickled
    {"$": "nd", "dtype": "|O", "shape": [1], "b64": "AAAAAAAAAAA="},         # object arrays
    {"$": "nd", "dtype": "<U1", "shape": [1], "b64": "AAAAAA=="},            # strings are not numbers
    {"$": "nd", "dtype": "<f8", "shape": [1000000], "b64": "AAAAAAAAAAA="},  # size does not match
    {"$": "nd", "dtype": "<f8", "shape": [-1], "b64": ""},
    {"$": "rng", "bitgen": "os.system", "state": {"$": "dict", "items": []}},
    {"$": "rng", "bitgen": "PCG64", "state": {"$": "dict", "items": [["bit_generator", "MT19937"]]}},
    {"$": "ref", "id": 1},                                                  # no handles expected here
    {"$": "tuple"},
    {"$": "dict", "items": [[[1], 2]]},                                     # unhashable key
])
def test_decoding_refuses_code_and_malformed_data(data):
    with pytest.raises(wire.BadData):
        wire.decode(data)


def test_decoding_never_follows_an_array_interface():
    """The red team's rebuilt Dense whose __array_interface__ points at address 8 segfaulted the
    grader: decoded data is built by numpy from bytes only, and a handle's array is asked for."""
    import socket
    a, b = socket.socketpair()
    with a, b:
        wire.send(a, {"value": {"$": "nd", "dtype": "<f8", "shape": [2], "b64": "AAAAAAAAAAAAAAAAAAAAAA==",
                                "__array_interface__": {"data": [8, False], "shape": [2], "typestr": "<f8"}}})
        back = wire.decode(wire.receive(b, time.monotonic() + 5)["value"])
    assert np.array_equal(back, [0.0, 0.0])


def test_messages_are_capped_and_the_deadline_is_checked_per_message():
    import socket
    import struct
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("!Q", wire.MAX_MESSAGE + 1))
        with pytest.raises(wire.BadData):
            wire.receive(b, time.monotonic() + 5)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack("!Q", 100) + b"{")          # a message that never ends
        start = time.monotonic()
        with pytest.raises(wire.Timeout):
            wire.receive(b, time.monotonic() + 0.5)
        assert time.monotonic() - start < 30
    a, b = socket.socketpair()
    with a, b:
        nested = b"[" * 100000 + b"]" * 100000
        a.sendall(struct.pack("!Q", len(nested)) + nested)
        with pytest.raises(wire.BadData):
            wire.receive(b, time.monotonic() + 5)


def test_merge_into_keeps_aliases():
    w = np.ones(2)
    params = {"w": w, "gone": 1}
    assert wire.merge_into(params, {"w": np.zeros(2), "new": 2})
    assert params["w"] is w and np.all(w == 0) and params == {"w": w, "new": 2}


# --- every chapter: the solution gets full marks, the unsolved exercise none ------------------

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
# Checks that pass objects INTO the student's code, which the sandbox's data-only channel cannot
# carry (being rewritten to pass data only; the lead removes these skips after the merge).
NOT_DATA_ONLY = {
    "02_hidden_layers": "nncourse/checks/ch02.py two_layer_forward passes activation=<function> into the student's code",
    "06_training_failures": "nncourse/checks/ch06.py gradient_norms passes a Sequential model and pick_learning_rate "
                            "a training callback into the student's code",
}


@pytest.fixture(scope="module")
def every_chapter(tmp_path_factory):
    """Each solutions/ and exercises/ notebook graded in one run (so new chapters are covered)."""
    out = tmp_path_factory.mktemp("every_chapter")
    proc = run_cli("solutions", "exercises", "--out", out, "-j", "2", "--timeout", "60", "--root", ROOT)
    assert proc.returncode == 0, proc.stderr
    return read_csv(out / "grades.csv")[1], out


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_scores_full_marks_and_exercise_zero(every_chapter, path):
    rows, out = every_chapter
    if path.stem in NOT_DATA_ONLY and rows[f"solutions/{path.name}"]["total"] != rows[f"solutions/{path.name}"]["max"]:
        pytest.skip(f"check not data-only yet: {NOT_DATA_ONLY[path.stem]}")
    solved, unsolved = rows[f"solutions/{path.name}"], rows[f"exercises/{path.name}"]
    text = (out / "feedback" / "solutions" / f"{path.stem}.md").read_text(encoding="utf-8")
    assert solved["error"] == "" and solved["total"] == solved["max"], f"the solution does not grade fully:\n{text}"
    assert unsolved["error"] == "" and unsolved["total"] == "0" and unsolved["max"] == solved["max"]
    text = (out / "feedback" / "exercises" / f"{path.stem}.md").read_text(encoding="utf-8")
    assert "(failed)" not in text and "(passed)" not in text, f"unsolved should be 'not done':\n{text}"


# --- found by grading a made-up class as an instructor (regressions) ------------------------------

def test_the_kernel_imports_the_graders_nnlib(tmp_path):
    """A course run from its folder without `pip install -e .` (or next to another installed
    copy): the kernel, started in an empty folder, must import the grader's nnlib, not none
    (every student got 0: 'the kernel did not start') nor another one."""
    course = tmp_path / "course"
    for package in ("nnlib", "nncourse"):
        shutil.copytree(ROOT / package, course / package, ignore=shutil.ignore_patterns("__pycache__"))
    solutions, subs, out = (tmp_path / n for n in ("solutions", "subs", "out"))
    solutions.mkdir(), subs.mkdir()
    cells = [_cell("setup", "import numpy as np\n"),
             _answer("where-answer", "def where():", "import nnlib\nreturn nnlib.__file__"),
             _graded("where", "import nnlib\nassert where() == nnlib.__file__, (where(), nnlib.__file__)\n")]
    solution = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (solutions / f"{SYNTHETIC}.ipynb").write_text(release.dumps(solution))
    (subs / "s.ipynb").write_text(release.dumps(solution))
    proc = run_cli(subs, "--out", out, "--solutions", solutions, "--timeout", TIMEOUT, cwd=course)
    assert proc.returncode == 0, proc.stderr
    _, rows = read_csv(out / "grades.csv")
    assert rows["s.ipynb"]["error"] == "" and rows["s.ipynb"]["total"] == "1", \
        (out / "feedback" / "s.md").read_text()


def test_a_late_submission_graded_alone_keeps_its_name(tmp_path):
    """One folder per student: grading one late file with the same --out names it
    `carol/01_linear_model.ipynb`, not `01_linear_model.ipynb` (as the docs promise)."""
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    for student in ("alice", "bob", "carol"):
        (subs / student).mkdir(parents=True)
        (subs / student / "01_linear_model.ipynb").write_text("not JSON")   # graded at once, no kernel
    late = subs / "carol" / "01_linear_model.ipynb"
    late.rename(tmp_path / "late")
    assert run_cli(subs, "--out", out).returncode == 0
    (tmp_path / "late").rename(late)
    proc = run_cli(late, "--out", out)
    assert proc.returncode == 0, proc.stderr
    _, rows = read_csv(out / "grades.csv")
    assert set(rows) == {f"{s}/01_linear_model.ipynb" for s in ("alice", "bob", "carol")}
    assert (out / "feedback" / "carol" / "01_linear_model.md").exists()
    # --root still decides when given
    proc = run_cli(late, "--out", out, "--root", subs / "carol")
    _, rows = read_csv(out / "grades.csv")
    assert "01_linear_model.ipynb" in rows


def test_a_rerun_grades_again_when_the_solution_or_its_checks_changed(tmp_path):
    """An instructor who fixes a hidden test and re-runs must not get the old grades back."""
    solutions, out = tmp_path / "solutions", tmp_path / "grades"
    solutions.mkdir()
    shutil.copy(grading_cases.SOLUTION, solutions)
    sub = tmp_path / "s.ipynb"
    sub.write_text(json.dumps(grading_cases.exercise()))
    assert "graded 1" in run_cli(sub, "--out", out, "--solutions", solutions).stdout
    assert "skipped 1" in run_cli(sub, "--out", out, "--solutions", solutions).stdout
    (solutions / grading_cases.SOLUTION.name).write_text(grading_cases.SOLUTION.read_text() + "\n")
    proc = run_cli(sub, "--out", out, "--solutions", solutions)
    assert "graded 1" in proc.stdout and "solution notebook or checks changed" in proc.stderr
    assert "skipped 1" in run_cli(sub, "--out", out, "--solutions", solutions).stdout


def test_a_kernel_that_does_not_start_is_the_graders_problem_and_graded_again(tmp_path):
    sub, out = tmp_path / "s.ipynb", tmp_path / "grades"
    sub.write_text(json.dumps(grading_cases.solved()))
    proc = run_cli(sub, "--out", out, "--memory", "1")          # too little for Python itself
    _, rows = read_csv(out / "grades.csv")
    assert "did not start (a problem of the grading setup" in rows["s.ipynb"]["error"], proc.stdout
    proc = run_cli(sub, "--out", out)                            # fixed: graded again, not skipped
    _, rows = read_csv(out / "grades.csv")
    assert "the grader itself failed" in proc.stderr and rows["s.ipynb"]["total"] == "11", proc.stdout


@pytest.fixture(scope="module")
def snooping(tmp_path_factory):
    """predict is wrong (ridge_gradients and fit_linear call it); predicted_refit reads the solution
    notebook and raises with its hidden tests; ridge_gradients' cell prints and raises them too."""
    read = (f"import json\nnb = json.load(open({str(grading_cases.SOLUTION)!r}))\n"
            "hidden = [line for c in nb['cells'] for line in c['source'] if 'assert' in line]\n")
    sub = grading_cases.solved(**{
        "predict-answer": "def predict(X, w, b):\n    return X @ w - b\n",
        "predicted_refit-answer": "def predicted_refit():\n" + "".join("    " + line + "\n" for line in read.splitlines())
                      + "    raise ValueError('HIDDEN ' + ' | '.join(hidden))\n",
        "ridge_gradients-answer": grading_cases.solution_source("ridge_gradients-answer") + "\n" + read
                                + "raw = open(" + repr(str(grading_cases.SOLUTION)) + ").read()\n"
                                + "raise RuntimeError(raw[raw.index('BEGIN HIDDEN') - 40:][:1500])\n"})
    path = tmp_path_factory.mktemp("snooping") / "snooping.ipynb"
    path.write_text(json.dumps(sub))
    result = grader.grade(path, ROOT / "solutions", timeout=30)
    return result, report.feedback_markdown("snooping.ipynb", result)


def test_feedback_does_not_quote_the_hidden_tests(snooping):
    result, text = snooping
    solution = json.loads(grading_cases.SOLUTION.read_text())
    hidden = {line.strip() for c in solution["cells"] for line in "".join(c["source"]).splitlines()
              if line.strip().startswith("assert")}
    assert hidden
    for line in hidden:
        assert line not in text and json.dumps(line)[1:-1] not in text, line
    assert "### BEGIN HIDDEN TESTS" not in text
    assert "FileNotFoundError" in text, "the sandbox has no solutions/ to read"


def test_a_failed_answer_that_uses_an_earlier_failed_function_says_so(snooping):
    result, text = snooping
    q = {q["id"]: q for q in result["questions"]}
    assert q["predict"]["status"] == "failed" and q["fit_linear"]["status"] == "failed"
    assert any("uses `predict` (failed), from an earlier question" in n for n in q["ridge_gradients"]["notes"])
    assert not any("from an earlier question" in n for n in q["predict"]["notes"])


# The student's code forks (so the test sees it running: the sandbox then holds two processes
# of student.py), starts a session of its own and clears its parent-death signal,
# so that nothing but a kill by PID can end it.
ESCAPING_LOOP = ("import ctypes, os\n"
                 "ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)   # PR_SET_PDEATHSIG: none\n"
                 "if os.fork() == 0:\n"
                 "    os.setsid()\n"
                 "while True:\n"
                 "    pass\n")


@contextlib.contextmanager
def _grading_escaping_loop(tmp_path):
    """A grader running ESCAPING_LOOP, once the loop runs: yields (the grader's Popen, its family
    of processes). Afterwards the grader and whatever of the family is left are killed, so that a
    failing test leaves no loop running."""
    sub = tmp_path / "loop.ipynb"
    sub.write_text(json.dumps(grading_cases.solved(**{"predict-answer": ESCAPING_LOOP})))
    proc = subprocess.Popen([sys.executable, "-m", "nncourse.grading", str(sub), "--out", str(tmp_path / "out"),
                             "--timeout", "60", "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    family = []

    def students():                                       # not bwrap, whose command line names student.py too
        return [p for p in descendants(proc.pid, "student.py") if _cmdline(p).startswith(sys.executable)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(students()) < 2:
            time.sleep(0.2)                               # until the student's code has forked
        assert len(students()) == 2, "the student's code never ran"
        family = descendants(proc.pid)
        yield proc, family
    finally:
        proc.kill()
        proc.wait()
        for pid in family:                                # still ours: a PID used again is left alone
            if any(part in _cmdline(pid) for part in ("student.py", "nncourse.grading")):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def test_sigterm_stops_the_workers_and_their_sandboxes_like_ctrl_c(tmp_path):
    """A SIGTERM (kill, timeout, a cancelled job) left the grading processes and their
    kernels running after the grader itself had gone: the student's process had dropped root,
    which clears the parent-death signal bwrap gave it, and student code can clear it too."""
    with _grading_escaping_loop(tmp_path) as (proc, family):
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and "stopped" in err, err
        assert wait_gone(family, seconds=10), "grading processes outlived the grader by 10 s"


def test_a_sigkilled_grader_leaves_nothing_running(tmp_path):
    with _grading_escaping_loop(tmp_path) as (proc, family):
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert wait_gone(family, seconds=10), "grading processes outlived a SIGKILLed grader by 10 s"


def test_a_killed_grading_process_leaves_no_sandbox_and_is_the_graders_error(tmp_path):
    with _grading_escaping_loop(tmp_path) as (proc, family):
        worker = descendants(proc.pid, "nncourse.grading.grader")
        assert len(worker) == 1, worker
        os.kill(worker[0], signal.SIGKILL)            # the OOM killer, say
        sandboxed = [p for p in family if "student.py" in _cmdline(p)]
        assert wait_gone(sandboxed, seconds=10), "a sandbox outlived its grading process by 10 s"
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
        assert "the grading process ended unexpectedly" in rows[0]["error"], rows


def test_the_students_process_dies_with_bwrap_after_dropping_root():
    """The parent-death signal is sent with the rights of the parent that died: a student's process
    that had dropped root never got bwrap's. Now bwrap's init (root) gets it and ends the namespace."""
    if os.getuid() != 0:
        pytest.skip("student.py changes uid only when the grader runs as root")
    from nncourse.grading import sandbox
    if sandbox.check_available():
        pytest.skip(sandbox.check_available())
    box = sandbox.Sandbox(memory_mb=0)
    box.start()
    try:
        assert _status_uid(box.pid) != 0
        os.kill(box.proc.pid, signal.SIGKILL)           # bwrap only, not the student's process
        assert wait_gone([box.pid], seconds=10), "the student's process outlived bwrap"
    finally:
        box.kill()


def _status_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("Uid:")).split()[1])


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root, mentioning=""):
    """Processes below root (pids), whose command line mentions the text."""
    children = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        children.setdefault(_ppid(int(pid)), []).append(int(pid))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return [p for p in found if mentioning in _cmdline(p)]


def wait_gone(pids, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not [p for p in pids if os.path.exists(f"/proc/{p}") and _state(p) != "Z"]:
            return True
        time.sleep(0.1)
    return False


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_a_syntax_error_shows_its_line_and_a_missing_module_says_what_there_is(tmp_path):
    sub = grading_cases.solved(**{"predicted_refit-answer": "def predicted_refit()\n    return 1.1, -32.6\n",
                                  "predict-answer": "import no_such_module_xyz\n"})
    path = tmp_path / "s.ipynb"
    path.write_text(json.dumps(sub))
    result = grader.grade(path, ROOT / "solutions", timeout=30)
    q = {q["id"]: q for q in result["questions"]}
    assert "SyntaxError: expected ':' (line 1: `def predicted_refit()`)" in q["predicted_refit"]["notes"][0], q["predicted_refit"]
    assert "the grader has only the course's packages" in q["predict"]["notes"][0], q["predict"]


def test_a_rerun_in_another_feedback_format_writes_that_feedback(tmp_path):
    """`--feedback html` after a run in md skipped everything and wrote no html."""
    sub, out = tmp_path / "s.ipynb", tmp_path / "grades"
    sub.write_text("not JSON")
    assert "graded 1" in run_cli(sub, "--out", out).stdout
    assert "skipped 1" in run_cli(sub, "--out", out).stdout
    proc = run_cli(sub, "--out", out, "--feedback", "html")
    assert "graded 1" in proc.stdout and "no html feedback file" in proc.stderr
    assert (out / "feedback" / "s.html").exists()


def test_kill_recorded_kills_what_was_recorded_and_not_a_reused_pid(tmp_path, monkeypatch):
    from nncourse.grading import sandbox
    record = tmp_path / "pids"
    monkeypatch.setenv(sandbox.PIDS_ENV, str(record))
    ours = subprocess.Popen(["sleep", "60"], start_new_session=True)
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        sandbox._record([ours.pid])
        with record.open("a") as f:
            f.write(f"{other.pid} {sandbox._start_time(other.pid) + 1}\n")    # the PID now names another process
            f.write("not a line\n")
        assert sandbox.kill_recorded(record) == [ours.pid]
        assert ours.wait(timeout=10) == -9
        assert other.poll() is None
        assert sandbox.kill_recorded(tmp_path / "missing") == []
    finally:
        ours.kill(), other.kill(), ours.wait(), other.wait()

"""nbgrader 0.9.6 generates and autogrades every exercise (issue 15: the exercises must keep working
with nbgrader). It runs in `.venv-nbgrader` (tests/nbgrader/requirements.txt plus the course,
made by `make nbgrader-env`, which `make test` runs), since its Jupyter pins are not JupyterLab 4's.

One nbgrader course holds all eleven exercises and three students: a solved submission scores full
marks on every question, the released (unsolved) notebook 0, and a submission carrying the first
catalogued wrong answer of every question (tests/test_wrong_answers_ch01_05.py,
tests/wrong_answers_ch06_11.py) 0 as well. NNLIB_CHECKS_STRICT=1, as docs/instructors.md says.
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT
from test_wrong_answers_ch01_05 import CATALOGUE as CATALOGUE_01_05
from wrong_answers_ch06_11 import CATALOGUE as CATALOGUE_06_11

NBGRADER_PY = ROOT / ".venv-nbgrader" / "bin" / "python"
# {chapter: {question: the first catalogued wrong answer's cell source}}
WRONG = {**{ch: {q: entries[0][1] for q, entries in qs.items()} for ch, qs in CATALOGUE_01_05.items()},
         **{ch: {q: entries[0][0] for q, entries in qs.items()} for ch, qs in CATALOGUE_06_11.items()}}
CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
STUDENTS = ("solved", "unsolved", "wrong")

# Run in .venv-nbgrader: every submission's score per graded cell, as JSON.
SCORES = """
import json, sys
from nbgrader.api import Gradebook
with Gradebook(f"sqlite:///{sys.argv[1]}") as gb:
    print(json.dumps({s: [[nb.name, g.name, g.auto_score, g.max_score]
                          for nb in gb.find_submission("ex", s).notebooks for g in nb.grades]
                      for s in sys.argv[2:]}))
"""


def _python():
    if not NBGRADER_PY.exists():
        if os.environ.get("CI"):
            pytest.fail("no .venv-nbgrader: `make test` makes it (make nbgrader-env)")
        pytest.skip("no .venv-nbgrader: run `make nbgrader-env` (make test does)")
    return str(NBGRADER_PY)


def _run(course, *args, timeout=1200):
    python = _python()
    # nbgrader calls alembic by name: its venv's bin on PATH; the checks raise when strict.
    env = dict(os.environ, PATH=f"{NBGRADER_PY.parent}{os.pathsep}{os.environ.get('PATH', '')}",
               NNLIB_CHECKS_STRICT="1")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([python, *args], cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def build_gradebook(course, chapters, wrong):
    """Generate the chapters' assignment with nbgrader, autograde the three students, return their scores.

    wrong: {chapter: {question: answer cell source}}, the "wrong" student's answers. Returns
    {student: {(notebook, grade id): (score, max)}}.
    """
    (course / "source" / "ex").mkdir(parents=True)
    for chapter in chapters:
        shutil.copy(ROOT / "solutions" / f"{chapter}.ipynb", course / "source" / "ex")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'nn'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.db_assignments = [dict(name='ex')]\n"
        f"c.CourseDirectory.db_students = {[dict(id=s) for s in STUDENTS]!r}\n"
        "c.ExecutePreprocessor.timeout = 120\n")
    print(f"nbgrader generate_assignment: {len(chapters)} exercises", flush=True)
    _run(course, "-m", "nbgrader", "generate_assignment", "ex", "--force")
    for student in STUDENTS:
        (course / "submitted" / student / "ex").mkdir(parents=True)
    for chapter in chapters:
        name = f"{chapter}.ipynb"
        shutil.copy(course / "source" / "ex" / name, course / "submitted" / "solved" / "ex")
        shutil.copy(course / "release" / "ex" / name, course / "submitted" / "unsolved" / "ex")
        nb = json.loads((course / "release" / "ex" / name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            for question, source in wrong.get(chapter, {}).items():
                if grade_id == f"{question}-answer":
                    cell["source"] = source
        (course / "submitted" / "wrong" / "ex" / name).write_text(json.dumps(nb), encoding="utf-8")
    print(f"nbgrader autograde: {len(STUDENTS)} students x {len(chapters)} exercises", flush=True)
    _run(course, "-m", "nbgrader", "autograde", "ex", "--force")
    scores = json.loads(_run(course, "-c", SCORES, str(course / "gradebook.db"), *STUDENTS))
    return {s: {(nb, g): (score, top) for nb, g, score, top in rows} for s, rows in scores.items()}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    return build_gradebook(tmp_path_factory.mktemp("nbgrader_course"), CHAPTERS, WRONG)


def test_every_exercise_has_a_catalogued_wrong_answer_for_each_question():
    assert set(WRONG) == set(CHAPTERS)


def test_nbgrader_finds_every_question_of_every_exercise(gradebook):
    # generate_assignment ran; the graded cells it found are the catalogued questions of every chapter
    questions = {(chapter, q) for chapter in CHAPTERS for q in WRONG.get(chapter, {})}
    assert set(gradebook["solved"]) == questions


def test_nbgrader_gives_the_solution_full_marks(gradebook):
    for key, (score, max_score) in gradebook["solved"].items():
        assert score == max_score > 0, key


@pytest.mark.parametrize("student", ["unsolved", "wrong"])
def test_nbgrader_gives_unsolved_and_wrong_answers_zero(gradebook, student):
    for key, (score, _) in gradebook[student].items():
        assert score == 0, (student, key)

"""nbgrader 0.9 generates and autogrades exercises 01-05 (issue 15: the exercises must keep working
with nbgrader). Skipped where nbgrader is not installed (`pip install nbgrader==0.9.6`); it needs
its environment's bin on PATH for alembic, which this test puts there.

A solved submission scores full marks on every question, the released (unsolved) notebook 0, and a
submission carrying the first catalogued wrong answer of every question 0 as well.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

nbgrader = pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402

from test_wrong_answers_ch01_05 import CATALOGUE  # noqa: E402

CHAPTERS = sorted(CATALOGUE)


def _nbgrader(course, *args):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               NNLIB_CHECKS_STRICT="1")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def build_gradebook(course, chapters, wrong):
    """Generate the chapters' assignment with nbgrader, autograde three students, return their scores.

    wrong: {chapter: {question: answer cell source}}, the "wrong" student's answers (the solution's
    answer cells are left unsolved elsewhere). Returns {student: {(notebook, grade id): (score, max)}}.
    """
    (course / "source" / "ex").mkdir(parents=True)
    for chapter in chapters:
        shutil.copy(ROOT / "solutions" / f"{chapter}.ipynb", course / "source" / "ex")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'nn'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.db_assignments = [dict(name='ex')]\n"
        "c.CourseDirectory.db_students = [dict(id='solved'), dict(id='unsolved'), dict(id='wrong')]\n"
        "c.ExecutePreprocessor.timeout = 120\n")
    _nbgrader(course, "generate_assignment", "ex", "--force")
    for student in ("solved", "unsolved", "wrong"):
        (course / "submitted" / student / "ex").mkdir(parents=True)
    for chapter in chapters:
        name = f"{chapter}.ipynb"
        shutil.copy(course / "source" / "ex" / name, course / "submitted" / "solved" / "ex")
        shutil.copy(course / "release" / "ex" / name, course / "submitted" / "unsolved" / "ex")
        nb = json.loads((course / "release" / "ex" / name).read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            for question, source in wrong[chapter].items():
                if grade_id == f"{question}-answer":
                    cell["source"] = source
        (course / "submitted" / "wrong" / "ex" / name).write_text(json.dumps(nb), encoding="utf-8")
    _nbgrader(course, "autograde", "ex", "--force")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {student: {(nb.name, grade.name): (grade.auto_score, grade.max_score)
                          for nb in gb.find_submission("ex", student).notebooks for grade in nb.grades}
                for student in ("solved", "unsolved", "wrong")}


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    wrong = {chapter: {q: entries[0][1] for q, entries in CATALOGUE[chapter].items()} for chapter in CHAPTERS}
    return build_gradebook(tmp_path_factory.mktemp("nbgrader_course"), CHAPTERS, wrong)


def test_nbgrader_finds_every_question_of_exercises_1_to_5(gradebook):
    # generate_assignment ran; the graded cells it found are the questions of every chapter
    questions = {(chapter, q) for chapter in CHAPTERS for q in CATALOGUE[chapter]}
    assert {key for key in gradebook["solved"]} == questions


def test_nbgrader_gives_the_solution_full_marks(gradebook):
    for key, (score, max_score) in gradebook["solved"].items():
        assert score == max_score > 0, key


@pytest.mark.parametrize("student", ["unsolved", "wrong"])
def test_nbgrader_gives_unsolved_and_wrong_answers_zero(gradebook, student):
    for key, (score, _) in gradebook[student].items():
        assert score == 0, (student, key)

"""nbgrader 0.9 generates and autogrades exercises 10 and 11 (issue 15: the exercises must keep
working with nbgrader). Skipped where nbgrader is not installed (`pip install nbgrader==0.9.6`);
it needs its environment's bin on PATH for alembic, which this test puts there.

A solved submission scores full marks on every question, the released (unsolved) notebook 0, and
submissions carrying the catalogued wrong answers 0 on the questions they answer wrongly (the k-th
wrong submission holds the k-th wrong answer of every question, as in test_wrong_answers_ch06_11).
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

from wrong_answers_ch10_11 import CATALOGUE_10_11 as CATALOGUE  # noqa: E402

CHAPTERS = sorted(CATALOGUE)
WRONG = [f"wrong{k}" for k in range(max(len(a) for qs in CATALOGUE.values() for a in qs.values()))]


def _nbgrader(course, *args):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               NNLIB_CHECKS_STRICT="1")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader_course")
    (course / "source" / "ex").mkdir(parents=True)
    for chapter in CHAPTERS:
        shutil.copy(ROOT / "solutions" / f"{chapter}.ipynb", course / "source" / "ex")
    students = ["solved", "unsolved", *WRONG]
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'nn'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.db_assignments = [dict(name='ex')]\n"
        f"c.CourseDirectory.db_students = {[dict(id=s) for s in students]!r}\n"
        "c.ExecutePreprocessor.timeout = 120\n")
    _nbgrader(course, "generate_assignment", "ex", "--force")
    for student in students:
        (course / "submitted" / student / "ex").mkdir(parents=True)
    wrong_questions = {}
    for chapter in CHAPTERS:
        name = f"{chapter}.ipynb"
        shutil.copy(course / "source" / "ex" / name, course / "submitted" / "solved" / "ex")
        shutil.copy(course / "release" / "ex" / name, course / "submitted" / "unsolved" / "ex")
        for k, student in enumerate(WRONG):
            nb = json.loads((course / "source" / "ex" / name).read_text(encoding="utf-8"))   # solved, then k-th wrong
            for cell in nb["cells"]:
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
                for question, answers in CATALOGUE[chapter].items():
                    if grade_id == f"{question}-answer" and k < len(answers):
                        cell["source"] = answers[k][0]
                        wrong_questions.setdefault(student, set()).add((chapter, question))
            (course / "submitted" / student / "ex" / name).write_text(json.dumps(nb), encoding="utf-8")
    _nbgrader(course, "autograde", "ex", "--force")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {student: {(nb.name, grade.name): (grade.auto_score, grade.max_score)
                            for nb in gb.find_submission("ex", student).notebooks for grade in nb.grades}
                  for student in students}
    yield scores, wrong_questions


def test_nbgrader_finds_every_question_of_exercises_10_and_11(gradebook):
    scores, _ = gradebook
    assert set(scores["solved"]) == {(chapter, q) for chapter in CHAPTERS for q in CATALOGUE[chapter]}


def test_nbgrader_gives_the_solution_full_marks_and_the_unsolved_exercise_zero(gradebook):
    scores, _ = gradebook
    for key, (score, max_score) in scores["solved"].items():
        assert score == max_score > 0, key
    for key, (score, _) in scores["unsolved"].items():
        assert score == 0, key


@pytest.mark.parametrize("student", WRONG)
def test_nbgrader_gives_each_catalogued_wrong_answer_zero(gradebook, student):
    scores, wrong_questions = gradebook
    for key, (score, max_score) in scores[student].items():
        assert score == (0 if key in wrong_questions[student] else max_score), (student, key, score)

"""nbgrader 0.9 generates and autogrades exercises 07 and 09 (issue 15: the exercises must keep working
with nbgrader). Skipped where nbgrader is not installed (`pip install nbgrader==0.9.6`); the course
set-up is test_nbgrader_ch01_05.build_gradebook.

A solved submission scores full marks on every question, the released (unsolved) notebook 0, and a
submission carrying the first catalogued wrong answer of every question 0 as well.
"""
import pytest

pytest.importorskip("nbgrader")
from test_nbgrader_ch01_05 import build_gradebook  # noqa: E402
from wrong_answers_ch07_09 import CATALOGUE_07_09  # noqa: E402

CHAPTERS = sorted(CATALOGUE_07_09)


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    wrong = {chapter: {q: entries[0][0] for q, entries in CATALOGUE_07_09[chapter].items()} for chapter in CHAPTERS}
    return build_gradebook(tmp_path_factory.mktemp("nbgrader_course"), CHAPTERS, wrong)


def test_nbgrader_finds_every_question_of_exercises_7_and_9(gradebook):
    questions = {(chapter, q) for chapter in CHAPTERS for q in CATALOGUE_07_09[chapter]}
    assert set(gradebook["solved"]) == questions


def test_nbgrader_gives_the_solution_full_marks(gradebook):
    for key, (score, max_score) in gradebook["solved"].items():
        assert score == max_score > 0, key


@pytest.mark.parametrize("student", ["unsolved", "wrong"])
def test_nbgrader_gives_unsolved_and_wrong_answers_zero(gradebook, student):
    for key, (score, _) in gradebook[student].items():
        assert score == 0, (student, key)

"""Wrong answers to exercises 06-11: each gets ❌ from the self-check with a message naming the
mistake, and 0 points for that question from the grader (self-check = grader).

`pytest -k wrong_answer` selects these tests. The catalogue is in wrong_answers_ch06_11.py.
For the grader, submission k of a chapter carries the k-th wrong answer of every question
(the solution's answer where a question has fewer), so a handful of gradings covers every case.
"""
import importlib
import json

import nbformat
import pytest

from nncourse import grading, release
from nncourse.checks import RESULTS
from wrong_answers_ch06_11 import CATALOGUE

from conftest import ROOT

SOLUTIONS = ROOT / "solutions"


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.delenv("NNLIB_CHECKS_STRICT", raising=False)


def _solution(chapter):
    return json.loads((SOLUTIONS / f"{chapter}.ipynb").read_text())


def _src(cell):
    return "".join(cell["source"])


def _check_call(chapter, question):
    """The check cell's visible call (what the learner runs), without its hidden tests."""
    for cell in _solution(chapter)["cells"]:
        if cell.get("id") == question:
            return _src(cell).split(release.BEGIN_HIDDEN)[0].strip()
    raise KeyError(question)


def _imports(chapter):
    return next(_src(c) for c in _solution(chapter)["cells"]
                if c["cell_type"] == "code" and not str(c.get("id", "")).startswith("colab-"))   # not the Colab cell


CASES = [(ch, q, i, src, words) for ch, questions in CATALOGUE.items() for q, answers in questions.items()
         for i, (src, words) in enumerate(answers)]


def test_wrong_answer_catalogue_has_three_per_graded_question():
    for chapter, questions in CATALOGUE.items():
        module = importlib.import_module(f"nncourse.checks.ch{chapter[:2]}")
        assert set(questions) == set(module.POINTS), chapter
        for q, answers in questions.items():
            assert len(answers) >= 3, (chapter, q)


@pytest.mark.parametrize("chapter, question, k, source, words", CASES,
                         ids=[f"{c[0][:2]}-{c[1]}-{c[2]}" for c in CASES])
def test_wrong_answer_gets_a_specific_message_from_the_self_check(chapter, question, k, source, words, capsys):
    ns = {}
    exec(_imports(chapter), ns)
    exec(source, ns)
    result = eval(_check_call(chapter, question), ns)
    assert result.status in ("failed", "error") and words in result.message, result.message


def _submission(chapter, k, tmp_path):
    """The released exercise with the k-th wrong answer of every question in its answer cells."""
    solution = _solution(chapter)
    nb = release.release_notebook(solution, chapter)
    sources = {f"{q}-answer": answers[k][0] for q, answers in CATALOGUE[chapter].items() if k < len(answers)}
    solved = {c["id"]: _src(c) for c in solution["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        if cell.get("id") in solved:
            cell["source"] = sources.get(cell["id"], solved[cell["id"]]).splitlines(keepends=True)
    path = tmp_path / f"{chapter}-wrong-{k}.ipynb"
    path.write_text(release.dumps(nb))
    return path, {cid[:-len("-answer")] for cid in sources}


SUBMISSIONS = [(ch, k) for ch, questions in CATALOGUE.items() for k in range(max(map(len, questions.values())))]


@pytest.mark.parametrize("chapter, k", SUBMISSIONS, ids=[f"{ch[:2]}-{k}" for ch, k in SUBMISSIONS])
def test_wrong_answer_scores_zero_in_the_grader(chapter, k, tmp_path):
    path, wrong = _submission(chapter, k, tmp_path)
    result = grading.grade(path, SOLUTIONS, timeout=60)
    assert not result["error"], result["error"]
    by_id = {q["id"]: q for q in result["questions"]}
    for q in wrong:
        assert by_id[q]["points"] == 0, (q, by_id[q])
    for q in set(by_id) - wrong:        # the solution's answers where this submission has no wrong one
        assert by_id[q]["points"] == by_id[q]["max"], (q, by_id[q])


@pytest.mark.parametrize("chapter", sorted(CATALOGUE))
def test_points_equal_the_nbgrader_points(chapter):
    module = importlib.import_module(f"nncourse.checks.ch{chapter[:2]}")
    points = {c["id"]: c["metadata"]["nbgrader"]["points"] for c in _solution(chapter)["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade")}
    assert module.POINTS == points


@pytest.mark.parametrize("chapter", sorted(CATALOGUE))
def test_last_cell_shows_the_running_total(chapter):
    cells = [c for c in _solution(chapter)["cells"] if c["cell_type"] == "code"]
    assert _src(cells[-1]).strip() == "check.progress()"

"""The exercise generator: nbgrader's markers, kept ids and metadata, clear errors."""
import json

import pytest

from nncourse.release import ReleaseError, dumps, release_all, release_notebook


def nb(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def cell(cid, src, kind="code", **nbgrader):
    c = {"cell_type": kind, "id": cid, "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "source": src}
    if kind == "code":
        c.update(outputs=[{"output_type": "stream", "name": "stdout", "text": "hi"}], execution_count=3)
    return c


ANSWER = dict(solution=True, grade=False, grade_id="f-answer")
GRADED = dict(solution=False, grade=True, grade_id="f", points=2)


def student(*cells):
    return release_notebook(nb(*cells), "01_linear_model")


def test_solution_becomes_stub_at_its_indentation():
    out = student(cell("f-answer", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n", **ANSWER),
                  cell("f", "check.f(f)", **GRADED))
    src = "".join(out["cells"][0]["source"])
    assert src == 'def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError("replace this line with your code")\n'
    assert "2 * x" not in src


def test_hidden_tests_are_removed_and_visible_check_kept():
    out = student(cell("f", "check.f(f)\n### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS\nprint('done')", **GRADED))
    assert "".join(out["cells"][0]["source"]) == "check.f(f)\nprint('done')"


def test_markdown_answer_becomes_your_answer_here():
    out = student(cell("why", "Because:\n### BEGIN SOLUTION\nthe bias shifts the line\n### END SOLUTION", kind="markdown",
                       solution=True, grade=False, grade_id="why"),
                  cell("f", "check.f(f)", **GRADED))
    assert "".join(out["cells"][0]["source"]) == "Because:\nYOUR ANSWER HERE"


def test_outputs_cleared_ids_and_nbgrader_metadata_kept():
    out = student(cell("f", "check.f(f)", **GRADED))
    c = out["cells"][0]
    assert c["outputs"] == [] and c["execution_count"] is None
    assert c["id"] == "f" and c["metadata"]["nbgrader"]["points"] == 2
    assert out["metadata"]["nnlib"] == {"chapter": "01_linear_model", "kind": "exercise",
                                        "source": "solutions/01_linear_model.ipynb",
                                        "questions": [{"id": "f", "points": 2}], "max_points": 2}


@pytest.mark.parametrize("cells, match", [
    ([cell("a", "### BEGIN SOLUTION\nx = 1\n", **ANSWER)], "never closed"),
    ([cell("a", "x = 1\n### END SOLUTION\n", **ANSWER)], "without '### BEGIN SOLUTION'"),
    ([cell("a", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION")], "no metadata nbgrader.solution"),
    ([cell("f", "check()", solution=False, grade=True, grade_id="f")], "positive nbgrader.points"),
    ([cell("f", "check()", solution=False, grade=True, grade_id="g", points=1)], "grade_id must equal the cell id"),
    ([cell("x", "1"), cell("x", "2")], "duplicate cell id"),
    ([cell("x", "1")], "no graded cell"),
])
def test_malformed_solutions_are_refused_with_the_cell_named(cells, match):
    with pytest.raises(ReleaseError, match=match):
        student(*cells)


def test_release_all_writes_then_check_passes_then_detects_edits(tmp_path):
    src, dst = tmp_path / "solutions", tmp_path / "exercises"
    src.mkdir()
    (src / "01_linear_model.ipynb").write_text(dumps(nb(cell("f", "check.f(f)", **GRADED))))
    assert release_all(src, dst) == []
    assert release_all(src, dst, check=True) == []
    target = dst / "01_linear_model.ipynb"
    target.write_text(target.read_text().replace("check.f(f)", "print('hacked')"))
    assert any("differs" in p for p in release_all(src, dst, check=True))
    (dst / "99_extra.ipynb").write_text("{}")
    assert any("no source" in p for p in release_all(src, dst, check=True))


def test_release_all_reports_invalid_json(tmp_path):
    (tmp_path / "01_linear_model.ipynb").write_text("{not json")
    with pytest.raises(ReleaseError, match="is not valid JSON"):
        release_all(tmp_path, tmp_path / "out")


def test_output_is_deterministic_json():
    a = dumps(student(cell("f", "check.f(f)", **GRADED)))
    assert a == dumps(json.loads(a)) and a.endswith("\n")


# --- a release never overwrites somebody's work (issue 12) --------------------------------------
def _course(tmp_path, answer="check.f(f)"):
    src, dst = tmp_path / "solutions", tmp_path / "exercises"
    src.mkdir(exist_ok=True)
    (src / "01_linear_model.ipynb").write_text(dumps(nb(cell("f", answer, **GRADED))))
    return src, dst


def test_release_refuses_to_overwrite_an_edited_exercise_and_names_it(tmp_path, capsys):
    from nncourse.release import EditedExercises, main

    src, dst = _course(tmp_path)
    assert release_all(src, dst) == []
    target = dst / "01_linear_model.ipynb"
    answered = target.read_text().replace("check.f(f)", "check.f(f)  # my answer")
    target.write_text(answered)
    _course(tmp_path, answer="check.f(f)\nprint('new in the course')")     # the course changes the chapter
    with pytest.raises(EditedExercises) as err:
        release_all(src, dst)
    assert err.value.paths == [target] and "--force" in str(err.value) and ".replaced" in str(err.value)
    assert target.read_text() == answered                                  # nothing written
    assert main([str(src), str(dst)]) == 3
    msg = capsys.readouterr().err
    assert str(target) in msg and "FORCE=1" in msg
    assert target.read_text() == answered


def test_release_replaces_what_it_generated_itself(tmp_path):
    src, dst = _course(tmp_path)
    release_all(src, dst)
    _course(tmp_path, answer="check.f(f)\nprint('v2')")
    assert release_all(src, dst) == []                  # unchanged since written: replaced without a word
    assert "v2" in (dst / "01_linear_model.ipynb").read_text()


def test_force_moves_the_edited_exercise_aside_before_replacing_it(tmp_path):
    src, dst = _course(tmp_path)
    release_all(src, dst)
    target = dst / "01_linear_model.ipynb"
    target.write_text(target.read_text().replace("check.f(f)", "my answer"))
    saved = target.read_text()
    problems = release_all(src, dst, force=True)
    backups = list((dst / ".replaced").glob("01_linear_model-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_text() == saved
    assert any("moved to" in p for p in problems)
    assert "my answer" not in target.read_text()
    assert release_all(src, dst, check=True) == []       # .replaced/ is not an extra exercise


def test_committed_generation_counts_as_generated_without_a_manifest(tmp_path):
    """A fresh clone has no manifest: the exercise committed with its solution is still replaceable."""
    import subprocess

    src, dst = _course(tmp_path)
    release_all(src, dst)
    (dst / ".release-manifest.json").unlink()
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")
    _course(tmp_path, answer="check.f(f)\nprint('v2')")    # the author edits the solution
    assert release_all(src, dst) == []
    assert "v2" in (dst / "01_linear_model.ipynb").read_text()

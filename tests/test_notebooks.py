"""The notebooks as files: names, no committed outputs, exercises in sync and runnable unsolved.

(nbval executes notebooks/ and solutions/ cell by cell; see pyproject.toml.)
"""
import json
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import CHAPTERS, ROOT, committed_text, notebooks_in
from nncourse import release

ALL_NOTEBOOKS = notebooks_in("notebooks") + notebooks_in("solutions") + notebooks_in("exercises")
NAME = re.compile(r"^(\d\d_[a-z0-9_]+|playground)\.ipynb$")


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_without_outputs(path):
    # the committed version: outputs a reader's JupyterLab saved into the working copy are theirs
    nb = json.loads(committed_text(path) or path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_nbformat_with_cell_ids(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert all(c.get("id") for c in nb.cells)


def test_chapter_names_are_the_agreed_ones():
    allowed = set(CHAPTERS) | {"00_index", "playground"}
    for folder in ("notebooks", "exercises", "solutions"):
        for path in notebooks_in(folder):
            assert NAME.match(path.name), path
            assert path.stem in allowed, f"{folder}/{path.name} is not one of the chapter names"
    # every exercise has a solution and every solution a chapter notebook
    for path in notebooks_in("solutions"):
        assert (ROOT / "notebooks" / path.name).exists(), f"solutions/{path.name} has no chapter notebook"


def test_index_lists_every_chapter_notebook():
    index = (ROOT / "notebooks" / "00_index.ipynb").read_text(encoding="utf-8")
    for path in notebooks_in("notebooks"):
        if path.stem != "00_index":
            assert path.name in index, f"00_index.ipynb does not link {path.name}"


def _sync_problems():
    """Each exercise must be what its solution generates, in the working copy or as committed.

    (A student's answers in exercises/ change the working copy: then the committed file must match.)
    """
    problems = []
    for src in notebooks_in("solutions"):
        dst = ROOT / "exercises" / src.name
        expected = release.student_version(src)
        versions = [dst.read_text(encoding="utf-8") if dst.exists() else None, committed_text(dst)]
        if expected not in versions:
            problems.append(f"exercises/{src.name} differs from what solutions/{src.name} generates")
    extra = {p.name for p in notebooks_in("exercises")} - {p.name for p in notebooks_in("solutions")}
    return problems + [f"exercises/{name} has no source in solutions/" for name in sorted(extra)]


def test_exercises_are_in_sync_with_solutions():
    problems = _sync_problems()
    assert not problems, "\n".join(problems) + "\nrun `make exercises`"


def test_a_students_answers_in_place_do_not_fail_the_tests():
    """A student solves exercise 01 in the working copy: the sync check still passes, and it
    still fails for a stale exercise that is committed."""
    path = ROOT / "exercises" / "01_linear_model.ipynb"
    if committed_text(path) is None:
        pytest.skip("not a git checkout")
    original = path.read_bytes()
    try:
        path.write_text(original.decode("utf-8").replace("raise NotImplementedError", "return 42  #"), encoding="utf-8")
        assert not _sync_problems()
    finally:
        path.write_bytes(original)
    assert path.read_bytes() == original


def test_every_chapter_with_a_solution_has_three_graded_questions():
    for path in notebooks_in("exercises"):
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]["nnlib"]
        assert meta["chapter"] == path.stem
        assert len(meta["questions"]) >= 3, f"{path.name} has {len(meta['questions'])} graded questions"


@pytest.mark.parametrize("path", notebooks_in("exercises"), ids=lambda p: p.name)
def test_unsolved_exercise_runs_to_the_end_and_says_not_done(path):
    # the notebook as released (generated from its solution), not a student's working copy
    nb = nbformat.reads(release.student_version(ROOT / "solutions" / path.name), as_version=4)
    env_strict = os.environ.pop("NNLIB_CHECKS_STRICT", None)   # a student's kernel is not strict
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if env_strict is not None:
            os.environ["NNLIB_CHECKS_STRICT"] = env_strict
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    for cell in graded:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "not done yet" in text, f"check cell {cell.id} printed {text!r}"
        assert "✅" not in text

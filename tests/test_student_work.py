"""Student work is never lost (issue 12): a student reads a chapter (JupyterLab saves its outputs),
answers an exercise, then `git pull`s a course update that changes that chapter and that exercise.

Real git repositories in tmp: an "upstream" course and a student's clone, set up with the project's
own files (.gitattributes, .gitignore, the Makefile's `git-filter` and `work` targets, nbstripout).
"""
import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import ROOT

CH = "01_linear_model.ipynb"
OTHER = "02_hidden_layers.ipynb"
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1", HOME=os.environ.get("HOME", "/tmp"))


def git(cwd, *args, check=True):
    r = subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=GIT_ENV,
                       capture_output=True, text=True, timeout=60)
    if check and r.returncode:
        raise AssertionError(f"git {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def make(cwd, *targets):
    venv = ROOT / ".venv"
    r = subprocess.run(["make", "--no-print-directory", "-o", str(venv / ".lab-installed"), *targets,
                        f"VENV={venv}"], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"make {targets}: {r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.fixture
def course(tmp_path):
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("needs the course's .venv: run with `make test`")
    pytest.importorskip("nbstripout")
    upstream = tmp_path / "upstream"
    for rel in ("Makefile", ".gitattributes", ".gitignore", f"notebooks/{CH}", f"notebooks/{OTHER}",
                f"exercises/{CH}", f"exercises/{OTHER}", f"solutions/{CH}"):
        (upstream / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, upstream / rel)
    git(upstream, "init", "-q")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-qm", "the course")
    student = tmp_path / "student"
    git(tmp_path, "clone", "-q", str(upstream), str(student))
    return upstream, student


def _answer_exercise(path):
    """Write the solution's code into every answer cell, as a student would, and save."""
    solution = {c.id: c for c in nbformat.read(ROOT / "solutions" / CH, as_version=4).cells}
    nb = nbformat.read(path, as_version=4)
    answered = 0
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            cell.source = "\n".join(line for line in solution[cell.id].source.split("\n")
                                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            answered += 1
    assert answered
    nbformat.write(nb, path)
    return answered


def _autosave_with_outputs(path):
    """What JupyterLab writes after the reader runs every cell: outputs, counts, widget state."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                             "version_minor": 0}}
    nbformat.write(nb, path)
    assert sum(len(c.get("outputs", [])) for c in nb.cells) > 0


def _course_update(upstream):
    """The course changes the chapter and both exercises (text the student has not touched)."""
    for rel in (f"notebooks/{CH}", f"exercises/{CH}", f"exercises/{OTHER}"):
        nb = json.loads((upstream / rel).read_text())
        nb["cells"].insert(1, {"cell_type": "markdown", "id": "course-update", "metadata": {},
                               "source": ["A paragraph added by a course update.\n"]})
        (upstream / rel).write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    git(upstream, "commit", "-qam", "course update: chapter 1 and exercises 1-2")


def test_read_answer_pull_nothing_lost_no_conflict(course):
    upstream, student = course
    out = make(student, "git-filter", "work")
    assert "filter.nbstripout set" in out and (student / "work" / CH).exists()
    assert git(student, "check-attr", "filter", f"notebooks/{CH}").stdout.strip().endswith("nbstripout")

    _autosave_with_outputs(student / "notebooks" / CH)           # reading chapter 1
    _answer_exercise(student / "work" / CH)                        # answering exercise 1 in work/
    answers = (student / "work" / CH).read_bytes()
    untouched = (student / "work" / OTHER).read_bytes()
    assert git(student, "diff", "--stat").stdout == ""             # outputs are no change (nbstripout)
    assert git(student, "status", "--porcelain", "--", "work").stdout == ""   # work/ is ignored

    _course_update(upstream)
    out = make(student, "update")                                  # git add -u notebooks; git pull; make work
    assert "CONFLICT" not in out and "Fast-forward" in out, out
    assert "course-update" in (student / "notebooks" / CH).read_text()   # the chapter has the update
    assert "course-update" in (student / "exercises" / CH).read_text()
    assert (student / "work" / CH).read_bytes() == answers              # the answers are untouched

    assert (student / "work" / CH).read_bytes() == answers              # still: never overwritten
    assert f"work/{CH}: kept as you left it" in out and "newer version" in out
    assert f"work/{OTHER}: updated" in out                               # untouched copy takes the update
    assert (student / "work" / OTHER).read_bytes() != untouched
    assert "course-update" in (student / "work" / OTHER).read_text()
    assert git(student, "status", "--porcelain").stdout == ""
    # and the answered copy still passes its checks: the answers work after the update
    from nbclient import NotebookClient
    nb = nbformat.read(student / "work" / CH, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(student / "work")}}
                   ).execute()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    assert "✅" in text and "⏳" not in text and "❌" not in text, text[-2000:]


@pytest.mark.parametrize("filtered", [False, True], ids=["no-filter", "filter-but-not-staged"])
def test_the_control_a_plain_pull_is_refused(course, filtered):
    """The control: without the filter, or with it but without `git add` (git takes a file whose size
    changed as modified until it is staged), saved outputs block a plain `git pull`; nothing is lost."""
    upstream, student = course
    if filtered:
        make(student, "git-filter")
    _autosave_with_outputs(student / "notebooks" / CH)
    assert git(student, "status", "--porcelain").stdout.strip() == f"M notebooks/{CH}"
    _course_update(upstream)
    pull = git(student, "pull", "--no-rebase", "--no-edit", check=False)
    assert pull.returncode != 0 and "would be overwritten" in pull.stderr


def test_workspace_copies_updates_untouched_and_never_overwrites_or_deletes(tmp_path):
    from nncourse.workspace import sync

    src, dst = tmp_path / "exercises", tmp_path / "work"
    src.mkdir()
    (src / "a.ipynb").write_text("a1")
    (src / "b.ipynb").write_text("b1")
    assert [r[0] for r in sync(src, dst)] == ["copied", "copied"]
    assert sync(src, dst) == []                                   # nothing new: nothing said
    (dst / "a.ipynb").write_text("my answer")                     # the student answers a
    (src / "a.ipynb").write_text("a2")                            # the course updates both
    (src / "b.ipynb").write_text("b2")
    report = {name: action for action, name, _ in sync(src, dst)}
    assert report == {"a.ipynb": "kept", "b.ipynb": "updated"}
    assert (dst / "a.ipynb").read_text() == "my answer" and (dst / "b.ipynb").read_text() == "b2"
    (src / "b.ipynb").unlink()                                    # the course drops b: the copy stays
    (src / "a.ipynb").write_text("a3")
    sync(src, dst)
    assert (dst / "b.ipynb").read_text() == "b2" and (dst / "a.ipynb").read_text() == "my answer"


def test_workspace_never_writes_through_a_link(tmp_path):
    from nncourse.workspace import sync

    src, dst = tmp_path / "exercises", tmp_path / "work"
    src.mkdir()
    dst.mkdir()
    (src / "a.ipynb").write_text("course")
    target = tmp_path / "elsewhere.txt"
    target.write_text("not yours to overwrite")
    (dst / "a.ipynb").symlink_to(target)
    assert sync(src, dst)[0][0] == "kept"
    assert target.read_text() == "not yours to overwrite"

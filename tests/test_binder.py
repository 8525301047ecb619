"""Binder (issue 17): binder/ parses, names the same runtime dependencies as pyproject.toml, and a
fresh venv built from it (requirements.txt, then postBuild, as repo2docker does) runs chapter 1.

Not tested here: repo2docker itself and mybinder.org (no Docker, no network beyond PyPI).
"""
import os
import re
import subprocess
import sys

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from packaging.requirements import Requirement

from conftest import ROOT

BINDER = ROOT / "binder"


def _binder_requirements():
    lines = [l.strip() for l in (BINDER / "requirements.txt").read_text().splitlines()]
    return {Requirement(l).name.lower(): str(Requirement(l)) for l in lines if l and not l.startswith("#")}


def _expected():
    """pyproject's runtime dependencies, with the lab extra's version where it pins the same package,
    plus JupyterLab and the widgets the lab extra adds (ipyevents); nothing from the test extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lab = {Requirement(r).name.lower(): str(Requirement(r)) for r in project["optional-dependencies"]["lab"]}
    expected = {}
    for r in project["dependencies"]:
        name = Requirement(r).name.lower()
        expected[name] = lab.get(name, str(Requirement(r)))
    for name in ("jupyterlab", "ipyevents"):
        expected[name] = lab[name]
    return expected


def test_binder_files_parse():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[0-3])", runtime), f"repo2docker wants python-3.X, got {runtime!r}"
    minimum = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert int(runtime.split(".")[1]) >= int(minimum.split(".")[1])
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK) and post.read_text().startswith("#!/bin/bash")
    assert "--no-deps" in post.read_text()
    assert _binder_requirements()


def test_binder_names_the_same_dependencies_as_pyproject():
    assert _binder_requirements() == _expected()


def test_readme_has_the_binder_badge_opening_the_index():
    readme = (ROOT / "README.md").read_text()
    assert "mybinder.org/badge_logo.svg" in readme and "urlpath=lab/tree/notebooks/00_index.ipynb" in readme


def test_a_fresh_venv_from_binder_runs_chapter_1(tmp_path):
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True, timeout=120)
    for rel in ("binder", "notebooks/01_linear_model.ipynb"):        # what is being tested, even uncommitted
        subprocess.run(["cp", "-r", str(ROOT / rel), str(clone / rel)], check=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}", OPENBLAS_NUM_THREADS="1",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    env.pop("VIRTUAL_ENV", None)
    env.pop("MPLBACKEND", None)          # conftest's Agg: a Binder user's kernel draws inline figures
    r = subprocess.run(["python", "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"], cwd=clone,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(["binder/postBuild"], cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run(["jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", str(tmp_path / "out.ipynb"),
                        "--ExecutePreprocessor.timeout=120", "notebooks/01_linear_model.ipynb"], cwd=clone, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    import nbformat
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), "chapter 1 drew no figure"
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    where = subprocess.run(["python", "-c", "import nnlib; print(nnlib.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True).stdout
    assert str(clone) in where                    # the course postBuild installed, not another one

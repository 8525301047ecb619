"""Google Colab (issue 17): every notebook carries the "Open in Colab" link and the Colab-only install
cell, and every chapter, the playground and every solution runs with Colab's package versions.

Tested here: Colab's versions of ipywidgets, ipykernel, IPython, numpy and matplotlib (pinned in
tests/colab/requirements.txt, on this machine's Python 3.11; Colab runs 3.13) executing each notebook
with nbclient in `.venv-colab` (made by `make colab-env`, kept between runs); the playground's widgets
built with ipywidgets 7.7.1 and a step pressed; the install cell's Colab branch run against a local
clone with a stand-in `google.colab` module. Not tested: Colab's own front end (its widget manager,
its renderer), its Python 3.13, its network.
"""
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from conftest import ROOT
from nncourse import colab

COLAB_PY = ROOT / ".venv-colab" / "bin" / "python"
PINS = {"ipywidgets": "7.7.1", "ipykernel": "6.17.1", "ipython": "7.34.0", "numpy": "2.1.3"}
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS + EXERCISES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_notebook_has_the_colab_link_and_install_cell(path):
    cells = _cells(path)
    rel = f"{path.parent.name}/{path.name}"
    link = "".join(cells[0]["source"])
    assert cells[0]["id"] == colab.LINK_ID and "colab.research.google.com/github/" in link, rel
    assert link.rstrip(")").endswith(f"/blob/{colab.BRANCH}/{rel}"), f"{rel}: the link points elsewhere: {link}"
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert first_code["id"] == colab.SETUP_ID, f"{rel}: the Colab cell must be the first code cell"
    assert "--no-deps" in "".join(first_code["source"])


def test_the_script_is_idempotent_and_everything_is_up_to_date():
    assert colab.run(check=True) == [], "run `make colab` then `make exercises`"


def test_repository_url_from_a_github_remote(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert colab.repository_url(tmp_path) == colab.REPOSITORY
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:someone/fork.git"], check=True)
    assert colab.repository_url(tmp_path) == "https://github.com/someone/fork"


def _setup_source():
    return "".join(_cells(ROOT / "notebooks" / "01_linear_model.ipynb")[2]["source"])


def test_the_install_cell_does_nothing_outside_colab(monkeypatch):
    assert "google.colab" not in sys.modules
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"ran {a} outside Colab"))
    exec(compile(_setup_source(), "colab-setup", "exec"), {})


def _colab_venv():
    if not COLAB_PY.exists():
        if os.environ.get("CI"):
            pytest.fail("no .venv-colab: `make test` makes it (make colab-env)")
        pytest.skip("no .venv-colab: run `make colab-env` (make test does)")
    return str(COLAB_PY)


@pytest.mark.parametrize("path", CHAPTERS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs_with_colabs_versions(path):
    py = _colab_venv()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    r = subprocess.run([py, "-Xfrozen_modules=off", str(ROOT / "tests" / "colab" / "run_notebook.py"), str(path), "120"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert {k: result["versions"][k] for k in PINS} == PINS
    assert result["versions"]["matplotlib"].startswith("3.10.")
    assert result["error"] is None, result["error"]


def test_playground_widgets_build_and_step_with_ipywidgets_7():
    py = _colab_venv()
    r = subprocess.run([py, str(ROOT / "tests" / "colab" / "run_notebook.py"), "--playground"], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["playground"]["widgets_version"] == "7.7.1"
    assert result["playground"]["stepped"] == 1
    assert all(size > 1000 for size in result["playground"]["images"].values())    # PNGs drawn
    # The course installs no ipyevents in Colab: no clicks on the network picture, the neuron menu instead
    # (x1, x2 and the bias of layer 1's first neuron); where ipyevents is there, a click selects too.
    assert result["playground"]["menu_weight_boxes"] == 3
    assert result["playground"]["clicked"] in (None, [2, 1])
    assert result["playground"]["click_events"] == (result["playground"]["clicked"] is not None)


def test_the_install_cell_in_a_stand_in_colab(tmp_path):
    """The Colab branch, run for real: clone (from a local copy of this repo), pip install --no-deps
    into a venv that sees Colab's packages, import the course; Colab's packages are unchanged."""
    py = _colab_venv()
    upstream = tmp_path / "upstream"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(upstream)], check=True, timeout=120)
    venv = tmp_path / "colab-runtime"
    subprocess.run([py, "-m", "venv", str(venv)], check=True, timeout=300)
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True,
                          text=True, check=True).stdout.strip()
    new_site = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    Path(new_site, "colab-packages.pth").write_text(site + "\n")     # Colab's packages, as if preinstalled
    base_py = Path(py)
    freeze = lambda: subprocess.run([str(base_py), "-m", "pip", "freeze", "--exclude-editable"],  # noqa: E731
                                    capture_output=True, text=True).stdout
    before = freeze()
    fake = tmp_path / "fake"
    (fake / "google").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab.py").write_text("")
    source = _setup_source().replace(colab.repository_url(), f"file://{upstream}").replace(
        colab.COURSE_DIR, str(tmp_path / "content" / "nn-course"))
    script = (f"import sys; sys.path.insert(0, {str(fake)!r}); import google.colab\n" + source +
              "\nimport nnlib, nncourse.checks; print(nnlib.__file__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert str(venv) in r.stdout, r.stdout      # imported from what the cell installed
    assert freeze() == before                    # Colab's own packages untouched

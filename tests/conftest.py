"""Test-wide settings.

* Notebooks run under nbval (see pyproject.toml: --nbval-lax --nbval-current-env).
  Their kernels inherit this process's environment, so:
  - NNLIB_CHECKS_STRICT=1 makes every self-check in solutions/ raise when it does
    not pass: a solution notebook whose checks fail is a failing test.
  - MPLBACKEND=Agg draws figures without a display.
* Helpers shared by the test modules live here as fixtures.
"""
import os
import sys
from pathlib import Path

# One BLAS thread (before numpy loads): the course's small matrices run faster, and the
# notebooks' kernels inherit it. `make test` sets the same; an explicit setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest

os.environ["NNLIB_CHECKS_STRICT"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = [
    "01_linear_model", "02_hidden_layers", "03_activation_functions",
    "04_loss_and_gradient_descent", "05_backpropagation", "06_training_failures",
    "07_dropout", "08_optimizers", "09_multiclass", "10_convolution",
    "11_complete_project",
]

# Notebooks used as test data (grading fixtures) are not course notebooks to execute.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def root():
    return ROOT


def committed_text(path):
    """The file's text as committed (git HEAD), or None outside a git checkout or for a new file.

    Readers run and edit the course's notebooks in place (JupyterLab saves outputs into them,
    students write their answers into exercises/): tests about the files as *shipped* read the
    committed version, so a reader's own work never makes `make test` fail. On a clean clone
    (CI) the two are the same.
    """
    import subprocess

    rel = Path(path).resolve().relative_to(ROOT).as_posix()
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{rel}"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.decode("utf-8") if out.returncode == 0 else None


def notebooks_in(folder):
    return sorted((ROOT / folder).glob("*.ipynb"))


sys.path.insert(0, str(Path(__file__).parent))

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


def notebooks_in(folder):
    return sorted((ROOT / folder).glob("*.ipynb"))


sys.path.insert(0, str(Path(__file__).parent))

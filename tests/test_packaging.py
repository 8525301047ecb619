"""Set-up: the two commands, the CI script, and dependency lists that do not drift."""
import re
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from conftest import ROOT


def _names(reqs):
    return {re.split(r"[<>=!~ \[]", r.strip())[0].lower() for r in reqs if r.strip()}


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _names(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared |= _names(extra)
    conda = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"^\s+- ([A-Za-z0-9_.\-]+)", line)
        if m and m.group(1) not in ("python", "pip", "-e"):
            conda.add(m.group(1).lower())
    assert declared == conda, f"only in pyproject: {declared - conda}; only in environment.yml: {conda - declared}"


def test_readme_gives_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "make lab" in first_screen and "make test" in first_screen


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_import_is_light():
    """nnlib must not import matplotlib or ipywidgets until something draws."""
    code = "import sys, nnlib; print(sorted(m for m in ('matplotlib', 'ipywidgets', 'tqdm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_names_exist():
    import nnlib
    from nnlib import data, gradcheck, layers, losses, optim
    for name in ["Dense", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU"]:
        assert hasattr(layers, name)
    for name in ["MSE", "BinaryCrossEntropy", "CrossEntropy"]:
        assert hasattr(losses, name)
    for name in ["SGD", "Momentum", "Adam"]:
        assert hasattr(optim, name)
    for name in ["xor", "circles", "blobs", "moons", "spirals", "linear", "plane",
                 "train_test_split", "one_hot", "standardize"]:
        assert hasattr(data, name)
    assert hasattr(gradcheck, "check_layer") and hasattr(gradcheck, "check_loss")
    import nncourse.checks
    assert nnlib.Sequential and nncourse.checks.CheckResult and nnlib.plot.decision_boundary


def test_nnlib_imports_nothing_from_the_course_tooling():
    """The library a learner reads does not depend on the course's tooling (nncourse)."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parent.parent / "nnlib"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py") if "nncourse" in p.read_text()]
    assert offenders == []

"""Grading a class's exercise notebooks, offline, with the course's own environment.

    python -m nncourse.grading submissions/ --out grades [-j 2] [--timeout 30] [--force]

Writes ``grades/grades.csv`` (one row per submission) and ``grades/feedback/<name>.md``.
Tests come from the instructor's ``solutions/`` (hidden tests included), matched by
cell id; only the answer cells come from the submission; the verdict is computed in
the grader's process, not in the student's kernel. See docs/instructors.md.

Modules: ``grader`` (one submission), ``kernel`` (the student's kernel, time limits),
``remote`` and ``agent`` (the two ends of the calls the checks make), ``codec`` (values
as data), ``report`` (grades.csv, feedback, summary), ``__main__`` (the command).
"""


def grade(path, solutions_dir, **kwargs):
    """Grade one submission notebook; see :func:`nncourse.grading.grader.grade`."""
    from .grader import grade as _grade
    return _grade(path, solutions_dir, **kwargs)


def main(argv=None):
    """The command line; see ``python -m nncourse.grading --help``."""
    from .__main__ import main as _main
    return _main(argv)

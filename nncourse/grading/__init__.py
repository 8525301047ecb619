"""Grading a class's exercise notebooks, offline, with the course's own environment.

    python -m nncourse.grading submissions/ --out grades [-j 2] [--timeout 30] [--force]

Writes ``grades/grades.csv`` (one row per submission) and ``grades/feedback/<name>.md``.
Tests come from the instructor's ``solutions/`` (hidden tests included), matched by
cell id; only the answer cells come from the submission. The student's code runs in a
bubblewrap sandbox; the verdict is computed in the grader's process from the data it
sends back. See docs/instructors.md (threat model).

Modules, in the order a submission goes through them: ``__main__`` (the command: which
files, reading them safely, one worker process each), ``grader`` (one submission:
sanitize -> execute -> collect -> grade), ``sandbox`` (bubblewrap, limits, the student's
values as data or handles), ``wire`` (the data-only codec, used on both sides),
``student`` (runs inside the sandbox), ``report`` (grades.csv, feedback, summary).
"""


def grade(path, solutions_dir, **kwargs):
    """Grade one submission notebook; see :func:`nncourse.grading.grader.grade`."""
    from .grader import grade as _grade
    return _grade(path, solutions_dir, **kwargs)


def main(argv=None):
    """The command line; see ``python -m nncourse.grading --help``."""
    from .__main__ import main as _main
    return _main(argv)

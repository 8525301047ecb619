"""nncourse: the course's tooling, kept apart from the library the chapters teach.

nncourse.checks    the self-checks that exercise notebooks call (``nncourse.checks.ch01`` ...).
nncourse.release   solutions/ -> exercises/ (nbgrader's markers).
nncourse.grading   the grader: ``python -m nncourse.grading`` / ``nnlib-grade``.

nnlib imports nothing from here: a learner reading ``nnlib/`` reads only the library.
"""

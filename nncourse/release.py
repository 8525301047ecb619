"""Make the student version of each exercise notebook from its solution.

    python -m nncourse.release solutions exercises           # (re)generate exercises/
    python -m nncourse.release solutions exercises --check   # exit 1 if exercises/ is stale
    python -m nncourse.release solutions exercises --force   # also replace exercises someone edited

An exercise file is replaced only if it is exactly what the release generated: what it wrote last
time on this machine (``exercises/.release-manifest.json``, not committed) or what the committed
solution (git ``HEAD``) generates. Anything else (a student's answers, outputs saved by Jupyter, an
edit) is never overwritten: the release stops, writes nothing, and names the files. With
``--force`` each such file is first moved to ``exercises/.replaced/NAME-<time>.ipynb``.

``solutions/NN_name.ipynb`` is the only source. The markers are nbgrader's:

* In a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``
  become ``# YOUR CODE HERE`` and ``raise NotImplementedError(...)`` at the same
  indentation. Put them inside a function body, so that the unsolved notebook
  still runs to the end (its checks then say "not done yet").
* In a markdown cell the same markers become "YOUR ANSWER HERE".
* Lines from ``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS`` are removed.
* Outputs and execution counts are cleared. Cell ids and the ``nbgrader`` cell
  metadata are kept, so graders match cells by id and nbgrader can use the files.

Graded cells carry ``metadata.nbgrader = {"grade": true, "grade_id": ..., "points": ...}``;
cells with an answer carry ``{"solution": true, "grade_id": ...}``. The exercise
notebook's metadata records its chapter and questions under ``"nnlib"``.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CHAPTER_RE = re.compile(r"^(\d\d_[a-z0-9_]+|playground)$")
MANIFEST = ".release-manifest.json"     # in the exercises folder: sha256 of each file the release wrote
REPLACED = ".replaced"                  # where --force moves an edited exercise before replacing it
# The "Open in Colab" cell (nncourse.colab) links to the notebook's own path: exercises/, not solutions/.
COLAB_LINK_ID = "colab-link"


class ReleaseError(ValueError):
    """A solution notebook is malformed (unbalanced markers, missing metadata...)."""


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _replace_blocks(text, begin, end, replacement, where):
    """Replace each begin..end block (marker lines included) with replacement(indent)."""
    out, inside, indent = [], False, ""
    for lineno, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise ReleaseError(f"{where}: line {lineno}: '{begin}' inside another block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            continue
        if stripped == end:
            if not inside:
                raise ReleaseError(f"{where}: line {lineno}: '{end}' without '{begin}'")
            inside = False
            out.extend(replacement(indent))
            continue
        if not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: '{begin}' is never closed by '{end}'")
    return "\n".join(out)


def release_notebook(nb, chapter, where="notebook"):
    """Return the student version (a new dict) of the solution notebook nb."""
    nb = copy.deepcopy(nb)
    questions, ids = [], set()
    for i, cell in enumerate(nb.get("cells", [])):
        cid = cell.get("id")
        here = f"{where}, cell {i} (id {cid!r})"
        if not cid:
            raise ReleaseError(f"{here}: every cell needs an id (nbformat 4.5)")
        if cid in ids:
            raise ReleaseError(f"{here}: duplicate cell id")
        ids.add(cid)
        text = _source(cell)
        meta = cell.setdefault("metadata", {}).get("nbgrader", {})
        has_solution = BEGIN_SOLUTION in text
        if has_solution and not meta.get("solution"):
            raise ReleaseError(f"{here}: has '{BEGIN_SOLUTION}' but no metadata nbgrader.solution = true")
        if meta.get("grade"):
            if not isinstance(meta.get("points"), (int, float)) or meta["points"] <= 0:
                raise ReleaseError(f"{here}: graded cell needs positive nbgrader.points")
            if meta.get("grade_id") != cid:
                raise ReleaseError(f"{here}: nbgrader.grade_id must equal the cell id")
            questions.append({"id": cid, "points": meta["points"]})
        if cell["cell_type"] == "code":
            text = _replace_blocks(text, BEGIN_HIDDEN, END_HIDDEN, lambda indent: [], here)
            text = _replace_blocks(
                text, BEGIN_SOLUTION, END_SOLUTION,
                lambda indent: [f"{indent}# YOUR CODE HERE",
                                f'{indent}raise NotImplementedError("replace this line with your code")'],
                here,
            )
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell["cell_type"] == "markdown":
            text = _replace_blocks(text, BEGIN_SOLUTION, END_SOLUTION, lambda indent: ["YOUR ANSWER HERE"], here)
        if cid == COLAB_LINK_ID:
            text = text.replace("/solutions/", "/exercises/")
        cell["source"] = text.splitlines(keepends=True)   # stored as lines, as Jupyter does
    if not questions:
        raise ReleaseError(f"{where}: no graded cell (nbgrader.grade = true)")
    nb.setdefault("metadata", {})["nnlib"] = {
        "chapter": chapter,
        "kind": "exercise",
        "source": f"solutions/{chapter}.ipynb",
        "questions": questions,
        "max_points": sum(q["points"] for q in questions),
    }
    return nb


def dumps(nb):
    """Serialise like Jupyter does (indent 1, sorted keys, trailing newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def student_version(src):
    """The text of the exercise notebook that the solution notebook at path src generates."""
    src = Path(src)
    try:
        nb = json.loads(src.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{src} is not valid JSON: {exc}") from None
    return dumps(release_notebook(nb, src.stem, where=str(src)))


class EditedExercises(ReleaseError):
    """Exercise files differ from anything the release generated: somebody's work, never overwritten."""

    def __init__(self, paths):
        self.paths = paths
        names = "\n".join(f"  {p}" for p in paths)
        super().__init__(
            f"not overwritten: {len(paths)} exercise file(s) differ from what the release generated "
            f"(answers, saved outputs or edits):\n{names}\nNothing was written. Keep a copy of any answers "
            f"you want (`make lab` works on personal copies in work/, which no release touches), then run "
            f"`make exercises FORCE=1` (python -m nncourse.release ... --force): each file above is first "
            f"moved to {paths[0].parent / REPLACED}/NAME-<time>.ipynb.")


def _sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_manifest(dst_dir):
    try:
        data = json.loads((dst_dir / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _committed_solution(src):
    """The text of src as committed in git (HEAD), or None outside a git checkout / for a new file."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=src.parent, capture_output=True,
                             text=True, timeout=30)
        if top.returncode:
            return None
        rel = src.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
        out = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=top.stdout.strip(), capture_output=True,
                             timeout=30)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None


def _generated_before(src, dst_dir, manifest):
    """sha256 of the texts the release is known to have generated for src's exercise."""
    known = set()
    if manifest.get(src.name):
        known.add(manifest[src.name])
    committed = _committed_solution(src)
    if committed is not None:
        try:
            known.add(_sha(dumps(release_notebook(json.loads(committed), src.stem, where=f"HEAD:{src}"))))
        except (ValueError, ReleaseError):
            pass
    return known


def release_all(src_dir, dst_dir, check=False, force=False):
    """Generate dst_dir/X.ipynb from each src_dir/X.ipynb; with check=True, only compare.

    Returns the list of problems (stale or missing files, extra files); empty when in sync.
    Raises EditedExercises (and writes nothing) when an exercise to replace is not one the release
    generated, unless force=True (then that file is moved to dst_dir/.replaced/ first).
    """
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    problems = []
    sources = sorted(src_dir.glob("*.ipynb"))
    if not sources:
        raise ReleaseError(f"no solution notebooks in {src_dir}")
    manifest = _read_manifest(dst_dir)
    to_write, edited = [], []
    for src in sources:
        if not CHAPTER_RE.match(src.stem):
            raise ReleaseError(f"{src}: name must look like NN_name.ipynb")
        text = student_version(src)
        dst = dst_dir / src.name
        current = dst.read_text(encoding="utf-8") if dst.exists() else None
        if check:
            if current is None:
                problems.append(f"{dst} is missing")
            elif current != text:
                problems.append(f"{dst} differs from what {src} generates")
            continue
        if current == text:
            manifest[src.name] = _sha(text)
            continue
        if current is not None and _sha(current) not in _generated_before(src, dst_dir, manifest):
            edited.append(dst)
        to_write.append((src, dst, text))
    if edited and not force:
        raise EditedExercises(edited)
    if not check:
        dst_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for src, dst, text in to_write:
            if dst in edited:
                backup = dst_dir / REPLACED / f"{dst.stem}-{stamp}.ipynb"
                backup.parent.mkdir(exist_ok=True)
                dst.replace(backup)
                problems.append(f"{dst} was edited: moved to {backup}")
            tmp = dst.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(dst)
            manifest[src.name] = _sha(text)
        (dst_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    extra = sorted({p.name for p in dst_dir.glob("*.ipynb")} - {p.name for p in sources})
    problems.extend(f"{dst_dir / name} has no source in {src_dir}" for name in extra)
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nncourse.release", description=__doc__.split("\n\n")[0])
    parser.add_argument("solutions", help="folder of solution notebooks (the source)")
    parser.add_argument("exercises", help="folder for the generated student notebooks")
    parser.add_argument("--check", action="store_true", help="only check that exercises/ is up to date")
    parser.add_argument("--force", action="store_true",
                        help="also replace exercises that were edited (each is moved to .replaced/ first)")
    args = parser.parse_args(argv)
    try:
        problems = release_all(args.solutions, args.exercises, check=args.check, force=args.force)
    except EditedExercises as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(p, file=sys.stderr)
    extra = [p for p in problems if "has no source" in p]
    if args.check:
        print("exercises are up to date" if not problems else
              "exercises are stale: run `make exercises`", file=sys.stderr)
    elif extra:
        print("(not deleted: remove them by hand if they are obsolete)", file=sys.stderr)
    return 1 if (problems if args.check else extra) else 0


if __name__ == "__main__":
    sys.exit(main())

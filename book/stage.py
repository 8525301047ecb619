"""Stage the course's notebooks as the book's and the decks' sources, in build/book-src/.

The notebooks in notebooks/ and exercises/ are never changed. The staged copies differ from them in
three ways, all added here so that the chapters' authors have nothing to maintain:

* every notebook of notebooks/ starts with a hidden code cell (tag ``remove-cell``, slide type
  ``skip``) that makes each matplotlib figure carry a text alternative (its titles and axis labels)
  in the PNG's ``Description`` field; the book turns it into the image's ``alt`` text;
* every chapter ends with a link to its exercise (a skipped slide in the decks);
* every exercise starts with a note saying how to run it; exercises are rendered, not executed.

A file is rewritten only when its content changes, so Sphinx re-reads only changed pages, and the
execution cache (keyed on the code cells' content) re-executes only notebooks whose code changed.
Usage: python book/stage.py [BUILD_DIR]
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

ALT_TEXT_CELL = '''\
# Added by book/stage.py for the rendered book only: every figure carries a text alternative.
def _book_alt_text():
    import matplotlib.pyplot  # noqa: F401  (activates the inline backend before we override its PNG formatter)
    from IPython import get_ipython
    from IPython.core import pylabtools

    def describe(fig):
        titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
        labels = []
        for ax in fig.axes:
            title = " ".join(t for t in (ax.get_title("left"), ax.get_title(), ax.get_title("right")) if t)
            if title:
                titles.append(title)
            xy = [label for label in (ax.get_xlabel(), ax.get_ylabel()) if label]
            if xy and " against ".join(xy) not in labels:
                labels.append(" against ".join(xy))
        text = "; ".join(t.strip() for t in titles if t.strip())
        if labels:
            text += (". " if text else "") + "Axes: " + "; ".join(labels)
        panels = len(fig.axes)
        return "Figure" + (f" ({panels} panels)" if panels > 1 else "") + (": " + text if text else "")

    original = pylabtools.print_figure

    def print_figure(fig, fmt="png", *args, **kwargs):
        if fmt == "png":
            kwargs.setdefault("metadata", {"Description": describe(fig)})
        return original(fig, fmt, *args, **kwargs)

    # The inline backend (re)registers its formatters with pylabtools.print_figure, sometimes only at
    # the first figure: patch the function it uses, and re-register now in case it already did.
    pylabtools.print_figure = print_figure
    pylabtools.select_figure_formats(get_ipython(), {"png"}, bbox_inches="tight")


_book_alt_text()
del _book_alt_text
'''

RUN_EXERCISE = """\
```{{note}}
**This is the exercise as a student gets it: unsolved, without the hidden tests.** To do it, run it
in Jupyter, not here: from a clone of the repository, `make lab`, then open
`exercises/{name}.ipynb`, write your code where it says `# YOUR CODE HERE` and run the check cell
under each question (✅ / ❌ / ⏳, and the running total at the end). The chapter it practises:
[{chapter_title}](../notebooks/{name}.ipynb).
```
"""

TO_EXERCISE = """\
---

**Practise this chapter:** [{exercise_title}](../exercises/{name}.ipynb): the same ideas written by
you, with instant self-checks (open it in JupyterLab with `make lab` to run it).
"""


def title(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M)
            if match:
                return match.group(1).strip()
    raise ValueError("the notebook has no '# title' in a markdown cell")


def _without_colab(nb):
    """The book is read in a browser, not run: the "Open in Colab" badge (an image from another host)
    and the Colab-only install cell (nncourse.colab) are left out of its pages."""
    nb["cells"] = [c for c in nb["cells"] if not str(c.get("id", "")).startswith("colab-")]
    return nb


def _cell(kind, source, cell_id, **metadata):
    cell = {"cell_type": kind, "id": cell_id, "metadata": metadata, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _write(path, text):
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def stage(build=ROOT / "build"):
    """Write the book's sources into BUILD/book-src and return the list of files written."""
    src = build / "book-src"
    wanted = {}
    exercises = {p.stem for p in (ROOT / "exercises").glob("*.ipynb")}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = _without_colab(json.loads(path.read_text(encoding="utf-8")))
        nb["cells"].insert(0, _cell("code", ALT_TEXT_CELL, "book-alt-text", tags=["remove-cell"],
                                    slideshow={"slide_type": "skip"}))
        if path.stem in exercises:
            ex = json.loads((ROOT / "exercises" / path.name).read_text(encoding="utf-8"))
            nb["cells"].append(_cell("markdown", TO_EXERCISE.format(exercise_title=title(ex), name=path.stem), "book-to-exercise",
                                     slideshow={"slide_type": "skip"}))
        wanted[src / "notebooks" / path.name] = nb
    for path in sorted((ROOT / "exercises").glob("*.ipynb")):
        nb = _without_colab(json.loads(path.read_text(encoding="utf-8")))
        chapter = json.loads((ROOT / "notebooks" / path.name).read_text(encoding="utf-8"))
        note = _cell("markdown", RUN_EXERCISE.format(name=path.stem, chapter_title=title(chapter)), "book-run-exercise")
        first_md = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown")
        nb["cells"].insert(first_md + 1, note)
        wanted[src / "exercises" / path.name] = nb
    for path, nb in wanted.items():
        _write(path, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    _write(src / "index.md", (BOOK / "index.md").read_text(encoding="utf-8"))
    for stale in src.rglob("*.ipynb"):              # a notebook removed from the course leaves the book
        if stale not in wanted:
            stale.unlink()
    return sorted(wanted)


if __name__ == "__main__":
    build = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT / "build"
    files = stage(build)
    print(f"staged {len(files)} notebooks in {build / 'book-src'}")

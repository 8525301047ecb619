"""`make slides`: one reveal.js deck per chapter and the playground in build/slides/.

Each deck is `jupyter nbconvert --to slides` of the executed notebook, with every asset served from
build/slides/assets/ (reveal.js, MathJax 2 as nbconvert's template expects it, require.js, jQuery and
the widgets' html-manager, all from book/node_modules, installed by `npm ci --prefix book`), so a deck
works offline and shows the saved state of its widgets. The notebooks are the same staged copies as
the book's and share its execution cache: after `make book` nothing is executed again.

Slides come from the cells' `slideshow.slide_type` metadata (slide, subslide, fragment, skip,
notes); a code cell tagged `hide-input` shows only its output (as in the book, where its code is
folded), and so does one tagged `slides-hide-input`, in the decks only: the book and the live notebook
keep showing its code (a figure whose code would not fit on the same slide). One tagged `slides-split`
shows its code on its own screen and its output (a figure, printed numbers) full size on the next, a
subslide below it: a long cell whose code matters and whose figure would otherwise be zoomed out until
its labels were too small to read (tests/test_publish.py measures every figure's scale). A notebook
with no slide metadata gets a warning here (its deck would be one cell per slide, and
tests/test_publish.py fails for it).
Usage: python book/slides.py [BUILD_DIR] [--timeout SECONDS]
"""
import argparse
import base64
import copy
import io
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.cache.main import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from nbconvert import SlidesExporter
from traitlets.config import Config

BOOK = Path(__file__).resolve().parent
sys.path.insert(0, str(BOOK))
from stage import stage  # noqa: E402

NODE_MODULES = BOOK / "node_modules"
ASSETS = {  # under the deck's assets/ : under node_modules/
    "reveal.js/dist": "reveal.js/dist",
    "reveal.js/plugin": "reveal.js/plugin",
    "mathjax2": "mathjax2",
    "require.min.js": "requirejs/require.js",
    "jquery.min.js": "jquery/dist/jquery.min.js",
    "html-manager": "@jupyter-widgets/html-manager/dist",
}
WIDTH, HEIGHT = 1280, 720
# Kernels started here inherit this: the playground leaves out ipyevents' click events, whose JavaScript
# a deck does not serve (as book/conf.py does for the book; nnlib/playground/app.py, STATIC_PAGE_ENV).
os.environ.setdefault("NNLIB_STATIC_PAGE", "1")


def slide_cells(nb):
    """How many of the notebook's own cells carry slide metadata (the ones stage.py adds excluded)."""
    return sum(1 for cell in nb.cells if cell.metadata.get("slideshow", {}).get("slide_type")
               and "remove-cell" not in cell.metadata.get("tags", []) and not cell.source.startswith("---\n\n**Practise"))


def executed(path, cache, timeout):
    """The notebook with outputs and widget state: from the book's cache, else executed now (and cached)."""
    nb = nbformat.read(path, as_version=4)
    try:
        _, merged = cache.merge_match_into_notebook(nb)
        return merged, "from the cache"
    except KeyError:
        pass
    start = time.time()
    result = single_nb_execution(nb, cwd=str(path.parent), timeout=timeout, allow_errors=False)
    if result.err is not None:
        raise SystemExit(f"{path.name}: executing it failed:\n{result.exc_string}")
    cache.cache_notebook_bundle(CacheBundleIn(nb, str(path)), check_validity=False, overwrite=True)
    return nb, f"executed in {time.time() - start:.0f} s"


def split_cells(nb):
    """Each code cell tagged `slides-split` becomes two: its code (no output) where it was, then its
    output without the code on a subslide of its own. The notebook is changed in place; returns it."""
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code" or "slides-split" not in cell.metadata.get("tags", []) or not cell.outputs:
            continue
        output = copy.deepcopy(cell)
        cell.outputs = []
        output.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"
        output.metadata["tags"] = [t for t in output.metadata["tags"] if t != "slides-split"] + ["slides-hide-input"]
        if "id" in cell:                           # ids are unique in a notebook
            output["id"] = (cell["id"][:58] + "-split")
        cells.append(output)
    nb.cells = cells
    return nb


def alt_texts(nb):
    """Each PNG figure's text alternative (the Description book/stage.py writes into the PNG: its
    titles and axis labels) into its output's metadata, where the deck's template finds it."""
    from PIL import Image

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                text = Image.open(io.BytesIO(base64.b64decode(png))).info.get("Description")
                if text:
                    output.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = text
    return nb


def exporter():
    c = Config()
    c.SlidesExporter.reveal_url_prefix = "assets/reveal.js"
    c.SlidesExporter.reveal_width = str(WIDTH)
    c.SlidesExporter.reveal_height = str(HEIGHT)
    c.SlidesExporter.reveal_scroll = False
    c.SlidesExporter.reveal_theme = "white"     # its fonts ship with reveal.js (some themes load Google's)
    c.SlidesExporter.mathjax_url = "assets/mathjax2/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    c.SlidesExporter.require_js_url = "assets/require.min.js"
    c.SlidesExporter.jquery_url = "assets/jquery.min.js"
    c.SlidesExporter.widget_renderer_url = "assets/html-manager/embed-amd.js"
    c.SlidesExporter.jupyter_widgets_base_url = "./"    # third-party widget modules: the deck folder, never a CDN
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    # on a slide: the figure, not its code (`slides-hide-input`: in the decks only, the book shows the code)
    c.TagRemovePreprocessor.remove_input_tags = {"hide-input", "remove-input", "slides-hide-input"}
    c.TagRemovePreprocessor.enabled = True
    c.SlidesExporter.extra_template_basedirs = [str(BOOK / "templates")]
    c.SlidesExporter.template_name = "nncourse_reveal"
    return SlidesExporter(config=c)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", default=str(BOOK.parent / "build"))
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("BOOK_CELL_TIMEOUT", "60")),
                        help="seconds per cell before execution fails (default 60)")
    args = parser.parse_args(argv)
    build = Path(args.build).resolve()
    missing = [src for src in ASSETS.values() if not (NODE_MODULES / src).exists()]
    if missing:
        raise SystemExit(f"the decks' browser assets are not installed ({', '.join(missing)}): "
                         "run `npm ci --prefix book` (or `make slides`, which does)")
    staged = [p for p in stage(build) if p.parent.name == "notebooks" and p.stem != "00_index"]
    out = build / "slides"
    out.mkdir(parents=True, exist_ok=True)
    for dest, src in ASSETS.items():
        src, dest = NODE_MODULES / src, out / "assets" / dest
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
                "*.map", "*.LICENSE.txt", "libembed-amd.js", "unpacked", "test", "docs", "*.md"))
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    # the book's script that gives a figure drawn by a widget's saved output its text alternative
    shutil.copyfile(BOOK / "_static" / "alt-text.js", out / "assets" / "alt-text.js")
    # the html-manager's webpack chunks fetch its icon fonts from <deck folder>/@jupyter-widgets/
    (out / "@jupyter-widgets").mkdir(exist_ok=True)
    for font in (NODE_MODULES / ASSETS["html-manager"]).iterdir():
        if font.suffix in (".woff", ".woff2", ".ttf", ".eot", ".svg"):
            shutil.copyfile(font, out / "@jupyter-widgets" / font.name)
    cache = get_cache(os.environ.get("BOOK_CACHE", str(build / ".jupyter_cache")))
    export = exporter()
    for i, path in enumerate(staged, 1):
        nb, how = executed(path, cache, args.timeout)
        split_cells(alt_texts(nb))
        body, _ = export.from_notebook_node(nb, resources={"metadata": {"name": path.stem, "path": str(path.parent)}})
        (out / f"{path.stem}.slides.html").write_text(body, encoding="utf-8")
        slides = body.count("<section")
        warn = "" if slide_cells(nb) else "  WARNING: no cell has slide metadata (slideshow.slide_type)"
        print(f"[{i}/{len(staged)}] {path.stem}: {how}, {slides} sections{warn}", flush=True)
    print(f"decks in {out}: open {out / '01_linear_model.slides.html'}")


if __name__ == "__main__":
    main()

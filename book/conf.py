"""Sphinx configuration of the rendered book (`make book`). Sources are staged by book/stage.py
into build/book-src/; this folder holds only the configuration, the book's extension (_ext/) and the
npm manifest of the browser assets it serves itself (package.json, package-lock.json)."""
import os
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent
sys.path.insert(0, str(BOOK / "_ext"))

project = "Neural networks from first principles"
author = "the course's authors"
copyright = "the course's authors, MIT licence"
root_doc = "index"
language = "en"

extensions = ["myst_nb", "nncourse_book"]
exclude_patterns = ["**.ipynb_checkpoints", "jupyter_execute"]

# Execution: at build time, cached on the code cells' content (a chapter whose code did not change
# is not re-executed), a short per-cell timeout so a stuck cell fails the build and names the cell,
# and any error fails it too. Exercises are shown as shipped (unsolved), never executed.
nb_execution_mode = "cache"
nb_execution_cache_path = os.environ.get("BOOK_CACHE", str(BOOK.parent / "build" / ".jupyter_cache"))
nb_execution_timeout = int(os.environ.get("BOOK_CELL_TIMEOUT", "60"))
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_excludepatterns = ["exercises/*"]
# The kernels the build starts inherit this: the playground then leaves out ipyevents' click events,
# whose JavaScript the pages do not serve (nnlib/playground/app.py, STATIC_PAGE_ENV).
os.environ.setdefault("NNLIB_STATIC_PAGE", "1")
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# Everything the pages load comes from the site itself: MathJax 3, require.js and the widgets'
# html-manager are copied from book/node_modules (npm ci) into _static by the nncourse_book extension.
mathjax_path = "mathjax/tex-chtml-full.js"
nb_ipywidgets_js = {
    "require.min.js": {},
    "html-manager/embed-amd.js": {
        # third-party widget modules would be fetched from here: the site itself, never a CDN
        "data-jupyter-widgets-cdn": "_static/html-manager/",
        "data-jupyter-widgets-cdn-only": "",
    },
}

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = [str(BOOK / "_static")]
html_js_files = ["alt-text.js"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "navigation_with_keys": True,
}
html_last_updated_fmt = None
html_copy_source = False

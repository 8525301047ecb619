"""The book's Sphinx extension.

* Copies the browser assets the pages load (MathJax 3, require.js, @jupyter-widgets/html-manager and
  the fonts it ships) from book/node_modules, installed by `npm ci --prefix book` from the committed
  package-lock.json, into the site's _static/: no page loads anything from another host.
* Gives every image from a notebook output its text alternative: the PNG's ``Description``, which
  the hidden cell that book/stage.py adds writes from the figure's titles and axis labels. (Figures
  drawn inside a widget's saved output get theirs in the browser, by _static/alt-text.js.)
"""
import shutil
import struct
import zlib
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
ASSETS = {  # destination under _static/ : source under node_modules/
    "mathjax": "mathjax/es5",
    "require.min.js": "requirejs/require.js",
    "html-manager": "@jupyter-widgets/html-manager/dist",
}


def png_description(path):
    """The text of the PNG's Description chunk (tEXt, zTXt or iTXt), or None."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            key, _, rest = body.partition(b"\0")
            if key != b"Description":
                continue
            if kind == b"tEXt":
                return rest.decode("latin-1")
            if kind == b"zTXt":
                return zlib.decompress(rest[1:]).decode("latin-1")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")           # language tag
            _, _, text = rest.partition(b"\0")           # translated keyword
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
        if kind == b"IDAT":
            return None                                  # matplotlib writes text chunks before the image data
    return None


def check_assets(app):
    missing = [src for src in ASSETS.values() if not (NODE_MODULES / src).exists()]
    if missing:
        raise ExtensionError(f"the book's browser assets are not installed ({', '.join(missing)} missing "
                             f"in {NODE_MODULES}): run `npm ci --prefix book` (or `make book`, which does)")


def add_alt_text(app, doctree):
    source = Path(app.env.doc2path(app.env.docname)).parent
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        uri = image["uri"]
        for candidate in (Path(app.srcdir) / uri, source / uri, Path(uri)):
            if candidate.is_file():
                text = png_description(candidate)
                if text:
                    image["alt"] = text
                break


def copy_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    # The html-manager's webpack chunks fetch its icon fonts from <page folder>/@jupyter-widgets/:
    # put them there for every folder that has a page with widgets.
    fonts = [f for f in (NODE_MODULES / ASSETS["html-manager"]).iterdir() if f.suffix in (".woff", ".woff2", ".ttf", ".eot", ".svg")]
    for folder in {p.parent for p in Path(app.outdir).rglob("*.html")
                   if "widget-state+json" in p.read_text(encoding="utf-8", errors="replace")}:
        (folder / "@jupyter-widgets").mkdir(exist_ok=True)
        for font in fonts:
            shutil.copyfile(font, folder / "@jupyter-widgets" / font.name)
    for dest, src in ASSETS.items():
        src, dest = NODE_MODULES / src, static / dest
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.map", "*.LICENSE.txt", "libembed-amd.js"))
        else:
            shutil.copyfile(src, dest)


def setup(app):
    app.connect("builder-inited", check_assets)
    app.connect("doctree-read", add_alt_text)
    app.connect("build-finished", copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

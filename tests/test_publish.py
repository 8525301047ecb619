"""The published course (issue 14): `make book` and `make slides`, built from nothing and checked.

One build per test session, into a temporary folder with an empty execution cache (a cold build,
as from a fresh clone): then every page is checked as HTML (each chapter and the playground have
figures with text alternatives, math, saved widget state with their controls, a link to their
exercise; exercises are unsolved and without hidden tests; every internal link resolves; nothing is
loaded from another host), and in a real browser (Debian's Chromium via Playwright) serving the
book from 127.0.0.1 with every request to another host blocked and counted as a failure: three
chapters, then the decks, each slide of which must fit 1280x720 without scrolling.
"""
import html.parser
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import CHAPTERS, ROOT
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, _require_browser

sys.path.insert(0, str(ROOT / "book"))
import lecturing  # noqa: E402  (book/lecturing.py: the slide counts of docs/lecturing.md)

DECKS = CHAPTERS + ["playground"]
PAGES = ["00_index"] + CHAPTERS + ["playground"]


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """`make book slides` into a fresh folder (no cache): the folder, with the build's output."""
    if os.environ.get("PUBLISH_BUILD"):        # reuse a build while working on these tests
        return Path(os.environ["PUBLISH_BUILD"]).resolve()
    out = tmp_path_factory.mktemp("publish")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    venv = Path(sys.prefix)
    result = subprocess.run(["make", "-C", str(ROOT), "book", "slides", f"BUILD={out}", f"VENV={venv}"],
                            capture_output=True, text=True, env=env)
    (out / "make.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"make book slides failed:\n{(result.stdout + result.stderr)[-6000:]}"
    return out


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.links, self.ids, self.scripts = [], [], set(), []
        self._script = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a)
        for key in ("href", "src"):
            if a.get(key) is not None:
                self.links.append((tag, a[key]))
        if tag == "script":
            self._script = [a.get("type", ""), ""]

    def handle_data(self, data):
        if self._script is not None:
            self._script[1] += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append(tuple(self._script))
            self._script = None


def parse(path):
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _interact_chapters():
    out = []
    for name in CHAPTERS:
        nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        if any("interact(" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"):
            out.append(name)
    return out


@pytest.mark.parametrize("name", PAGES)
def test_book_page_has_figures_with_alt_text_and_math(build, name):
    path = build / "book" / "notebooks" / f"{name}.html"
    assert path.exists(), f"the book has no page for notebooks/{name}.ipynb: the build skipped it"
    page = parse(path)
    figures = [img for img in page.imgs if "_images/" in img.get("src", "")]
    assert figures, f"{name}: no figure on the page (was the notebook executed?)"
    for img in figures:
        alt = img.get("alt", "")
        assert alt and not alt.endswith(".png"), f"{name}: figure {img['src']} has no text alternative"
    text = path.read_text(encoding="utf-8")
    source = (ROOT / "notebooks" / f"{name}.ipynb").read_text()
    if "$" in source:
        assert 'class="math' in text, f"{name}: the notebook has math but the page has no math element"


@pytest.mark.parametrize("name", _interact_chapters() + ["playground"])
def test_book_page_shows_saved_widget_state_with_a_control(build, name):
    page = parse(build / "book" / "notebooks" / f"{name}.html")
    states = [json.loads(body) for kind, body in page.scripts if kind == "application/vnd.jupyter.widget-state+json"]
    views = [json.loads(body) for kind, body in page.scripts if kind == "application/vnd.jupyter.widget-view+json"]
    assert states and views, f"{name}: no saved widget state on the page"
    models = states[0]["state"]
    controls = [m["model_name"] for m in models.values()
                if re.search(r"Slider|Dropdown|Button|ToggleButtons|Checkbox|Play", m["model_name"])]
    assert controls, f"{name}: the saved widget state has no control"
    assert all(v["model_id"] in models for v in views), f"{name}: a widget view refers to a model not saved"
    # the pages serve only ipywidgets' own JavaScript (the playground's ipyevents is left out by the build)
    modules = {m["model_module"] for m in models.values()}
    assert modules <= {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}, \
        f"{name}: saved widgets whose JavaScript the page does not serve: {modules}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_links_to_its_exercise_rendered_unsolved(build, name):
    page = parse(build / "book" / "notebooks" / f"{name}.html")
    assert ("a", f"../exercises/{name}.html") in page.links, f"{name}: no link to its exercise"
    exercise = re.sub(r"<[^>]+>", "", (build / "book" / "exercises" / f"{name}.html").read_text(encoding="utf-8"))
    assert "YOUR CODE HERE" in exercise and "make lab" in exercise
    assert "BEGIN HIDDEN TESTS" not in exercise and "### BEGIN SOLUTION" not in exercise


def test_every_internal_link_resolves_and_nothing_comes_from_another_host(build):
    site = build / "book"
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)  # the theme's jinja macros
    assert len(pages) >= len(PAGES) + len(CHAPTERS)
    parsed = {p: parse(p) for p in pages}
    broken, external = [], []
    for path, page in parsed.items():
        for tag, link in page.links:
            url = urlparse(link)
            if url.scheme in ("http", "https") or link.startswith("//"):
                if tag in ("script", "link", "img", "iframe"):
                    external.append(f"{path.relative_to(site)}: {link}")
                continue
            if url.scheme in ("mailto", "data", "javascript") or not (url.path or url.fragment):
                continue
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {link}")
            elif url.fragment and target.suffix == ".html" and target in parsed and url.fragment not in parsed[target].ids:
                broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:30])
    assert not external, "pages load from another host:\n" + "\n".join(external[:30])
    assert (site / "searchindex.js").exists() and (site / "search.html").exists()


@pytest.mark.parametrize("name", DECKS)
def test_deck_exists_and_has_slide_metadata(build, name):
    deck = build / "slides" / f"{name}.slides.html"
    assert deck.exists(), f"make slides wrote no deck for {name}"
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    typed = [c for c in nb["cells"] if c.get("metadata", {}).get("slideshow", {}).get("slide_type")]
    assert typed, (f"notebooks/{name}.ipynb has no slide metadata at all: give its cells "
                   "`slideshow.slide_type` (slide, subslide, fragment, skip, notes) so its deck tells the chapter")
    text = deck.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', text), f"{name}: the deck loads something from another host"


def test_lecturing_guide_slide_counts_are_up_to_date():
    """docs/lecturing.md's table is generated from the notebooks' slide metadata: `make lecturing`."""
    result = subprocess.run([sys.executable, str(ROOT / "book" / "lecturing.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---- in a real browser -------------------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(build):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(build)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site):
    _require_browser()
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, site):
    """A page on which every request to another host is blocked and recorded, as is every failed one."""
    pages = []
    problems = []

    def new(path, **viewport):
        page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
        host = urlparse(site).netloc

        def route(r):
            url = urlparse(r.request.url)
            if url.scheme in ("data", "blob") or url.netloc == host:
                r.continue_()
            else:
                problems.append(f"request to another host: {r.request.url}")
                r.abort()
        page.route("**/*", route)
        page.on("response", lambda resp: resp.status >= 400 and problems.append(f"{resp.status} {resp.url}"))
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.goto(f"{site}/{path}", wait_until="load")
        pages.append(page)
        return page

    yield new, problems
    for page in pages:
        page.close()


@pytest.mark.parametrize("name", ["01_linear_model", "05_backpropagation", "playground"])
def test_book_chapter_in_browser_offline(open_page, name):
    new, problems = open_page
    page = new(f"book/notebooks/{name}.html")
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 0", timeout=30000)
    page.wait_for_selector(".widget-slider, .widget-hslider, .jupyter-widgets input[type=range]", timeout=30000)
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=30000)
    broken = page.evaluate("[...document.images].filter(i => i.naturalWidth === 0).map(i => i.src.slice(0, 80))")
    no_alt = page.evaluate("[...document.querySelectorAll('article img')].filter(i => !i.alt).map(i => i.src.slice(0, 80))")
    page.screenshot(path=str(ARTIFACTS / f"book-{name}.png"), full_page=False)
    assert not problems, "\n".join(problems)
    assert not broken, f"images that did not load: {broken}"
    assert not no_alt, f"images without a text alternative: {no_alt}"


# What the audience sees: the slide's size times the zoom the deck gave it to fit (book/templates).
FIT = """() => {
  const s = Reveal.getCurrentSlide(), c = Reveal.getConfig(), z = parseFloat(s.style.zoom || "1");
  return {h: Math.round(s.scrollHeight * z), w: Math.round(s.scrollWidth * z), zoom: z,
          H: c.height, W: c.width, index: Reveal.getIndices()};
}"""
# MathJax typesets a slide's formulas after it is shown (the deck then fits the slide again): measure
# what the audience sees once it is done, not the raw TeX of the moment before.
MATHJAX_IDLE = """() => !(window.MathJax && MathJax.Hub && MathJax.Hub.queue)
                  || (MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0)"""
# A slide zoomed out below this is not readable from the back of a room (18 px text becomes < 11 px).
MIN_ZOOM = 0.6
# A figure drawn below this share of its size: its 9 pt labels (12.5 px at 100 dpi) under 8.5 px at
# 1280x720. The cure is the cell tag `slides-split` (its code on one screen, its output on the next).
MIN_FIGURE_SCALE = 0.68
# Every figure on the current slide, but those in a cell drawn small on purpose (`slides-compact`: the
# playground's whole app) and icons: its displayed size over its natural size, times the slide's zoom,
# and its text alternative (book/slides.py takes it from the PNG, as the book does).
FIGURES = """() => {
  const s = Reveal.getCurrentSlide(), z = parseFloat(s.style.zoom || "1");
  return [...s.querySelectorAll("img")].filter(i => i.naturalWidth >= 100 && !i.closest(".celltag_slides-compact"))
    .map(i => ({scale: z * i.clientWidth / i.naturalWidth, alt: (i.alt || "").slice(0, 60),
                output: !!i.closest(".jp-RenderedImage")}));
}"""


def _open_deck(new, name):
    page = new(f"slides/{name}.slides.html", width=1280, height=720)
    page.wait_for_function("window.Reveal && Reveal.isReady && Reveal.isReady()", timeout=30000)
    return page


def test_deck_steps_through_three_slides_offline(open_page):
    new, problems = open_page
    page = _open_deck(new, "playground")
    seen, widgets = [], []
    for step in range(3):                        # Space: the next slide, down into subslides too
        page.wait_for_timeout(500)
        seen.append(json.dumps(page.evaluate("Reveal.getIndices()")))
        widgets.append(page.evaluate("Reveal.getCurrentSlide().querySelectorAll('.widget-container, .widget-box').length"))
        page.screenshot(path=str(ARTIFACTS / f"deck-playground-{step + 1}.png"))
        page.keyboard.press("Space")
    assert len(set(seen)) == 3, f"the deck did not move on: {seen}"
    assert any(widgets), f"none of the three slides shows a widget from saved state ({seen})"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", DECKS)
def test_every_slide_fits_1280x720(open_page, build, name):
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    if not any(c.get("metadata", {}).get("slideshow", {}).get("slide_type") for c in nb["cells"]):
        pytest.fail(f"notebooks/{name}.ipynb has no slide metadata at all (slideshow.slide_type): nothing to fit")
    new, problems = open_page
    page = _open_deck(new, name)
    too_big, small, no_alt = [], [], []
    total = page.evaluate("Reveal.getSlides().length")
    for i in range(total):
        page.evaluate("i => { const ix = Reveal.getIndices(Reveal.getSlides()[i]); Reveal.slide(ix.h, ix.v); }", i)
        page.wait_for_timeout(150)
        page.wait_for_function(MATHJAX_IDLE, timeout=15000)
        page.wait_for_timeout(50)
        fit = page.evaluate(FIT)
        where = f"slide {fit['index']['h']}.{fit['index']['v']}"
        if fit["h"] > fit["H"] + 2 or fit["w"] > fit["W"] + 2 or fit["zoom"] < MIN_ZOOM:
            too_big.append(f"{where}: {fit['w']}x{fit['h']} at zoom {fit['zoom']:.2f}")
            page.screenshot(path=str(ARTIFACTS / f"deck-{name}-too-big-{fit['index']['h']}-{fit['index']['v']}.png"))
        for figure in page.evaluate(FIGURES):
            if figure["output"] and (not figure["alt"] or figure["alt"].startswith("No description")):
                no_alt.append(f"{where}: {figure['alt'] or 'no alt'}")   # a figure output (not a widget's image)
            if figure["scale"] < MIN_FIGURE_SCALE:
                small.append(f"{where}: at {figure['scale']:.2f} of its size ({figure['alt']}...)")
                page.screenshot(path=str(ARTIFACTS / f"deck-{name}-small-figure-{fit['index']['h']}-{fit['index']['v']}.png"))
    # book/lecturing.py counts the screens docs/lecturing.md times a lecture by: the deck has as many
    assert total == lecturing.counts(name)["screens"], f"{name}: {total} screens, docs/lecturing.md counts " \
        f"{lecturing.counts(name)['screens']}"
    assert not too_big, f"{name}: slides taller or wider than 1280x720: " + "; ".join(too_big)
    assert not no_alt, f"{name}: figures without a text alternative: " + "; ".join(no_alt)
    assert not small, (f"{name}: figures drawn too small to read on a slide (tag the cell `slides-split`): "
                       + "; ".join(small))
    assert not problems, "\n".join(problems)

"""The playground and a chapter in a real browser: JupyterLab driven by headless Chromium.

The test starts its own JupyterLab server (127.0.0.1, a free port, no token, its own
config, runtime, settings and workspace folders) serving a temporary copy of the
notebooks, so nothing the browser does can touch the repository. It drives Debian's
Chromium (``/usr/bin/chromium``) with Python Playwright, never a browser Playwright
downloads itself. Screenshots go to ``test-artifacts/``.

Without Chromium the test is skipped with a message saying how to get it; with CI=true
a missing browser fails the run instead.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
HOW_TO_GET_IT = ("the browser test needs Debian's Chromium and Python Playwright: "
                 "`sudo apt-get install -y chromium chromium-driver` and `pip install -e '.[test]'` "
                 "(never `playwright install`; the test uses /usr/bin/chromium)")


def _require_browser():
    missing = []
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright")
    if missing:
        message = f"missing {' and '.join(missing)}: {HOW_TO_GET_IT}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base, path, method="GET"):
    request = urllib.request.Request(base + path, method=method)
    with urllib.request.urlopen(request, timeout=10) as r:
        body = r.read().decode("utf-8", "replace")
    return json.loads(body) if body else None


def _write_settings(settings_dir):
    """JupyterLab user settings for the test: no autosave, no news or update checks, and every cell
    rendered (by default JupyterLab 4 leaves cells out of view unrendered)."""
    for plugin, values in {"@jupyterlab/docmanager-extension/plugin": {"autosave": False},
                           "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
                           "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                           "checkForUpdates": False}}.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server of our own, serving a copy of two notebooks; stopped (only it) at the end."""
    _require_browser()
    tmp = tmp_path_factory.mktemp("lab")
    served = tmp / "served"
    served.mkdir()
    for name in ("playground.ipynb", "01_linear_model.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, served / name)
    _write_settings(tmp / "settings")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}    # kernels draw inline, as for a reader
    env.update(JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    args = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
            "--ServerApp.password=", f"--ServerApp.root_dir={served}", "--ServerApp.open_browser=False",
            "--ServerApp.disable_check_xsrf=True"]        # lets the test shut its kernels down over the API
    if hasattr(os, "getuid") and os.getuid() == 0:
        args.append("--allow-root")
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=served, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                _api(base, "/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start on port {port}:\n{(tmp / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base
    finally:
        try:                                         # shut down the kernels this server started
            for kernel in _api(base, "/api/kernels") or []:
                _api(base, f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
        os.killpg(proc.pid, signal.SIGTERM)          # only the server this test started
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _kernel_state(base, notebook):
    """The execution state of the kernel of the notebook's session ("idle", "busy", ...), or None."""
    for session in _api(base, "/api/sessions") or []:
        if session["path"].endswith(notebook) and session.get("kernel"):
            return _api(base, f"/api/kernels/{session['kernel']['id']}")["execution_state"]
    return None


def _open_and_run_all(page, base, notebook, timeout=240):
    """Open a notebook, run all cells, and wait until every code cell has run and its kernel is idle."""
    page.goto(f"{base}/lab/tree/{notebook}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
    deadline = time.time() + 120
    while _kernel_state(base, notebook) != "idle":     # the toolbar says idle before a kernel is attached
        assert time.time() < deadline, f"no idle kernel for {notebook}"
        time.sleep(0.5)
    page.click("li.lm-MenuBar-item:has-text('Run')")
    page.click("li.lm-Menu-item[data-command='runmenu:run-all']")
    n_code = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").count()
    deadline = time.time() + timeout
    while True:
        prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        done = sum(1 for p in prompts if p.strip().startswith("[") and p.strip()[1:2].isdigit())
        if done == n_code and _kernel_state(base, notebook) == "idle":
            break
        assert time.time() < deadline, f"{notebook}: {done} of {n_code} cells ran in {timeout} s; prompts {prompts}"
        time.sleep(0.5)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    assert not [e for e in errors if "Traceback" in e or "Error" in e], errors


def _epoch(page):
    text = page.inner_text(".nnlib-pg-epoch")
    return int("".join(ch for ch in text if ch.isdigit()))


def _wait_for(condition, what, timeout=60):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _shot(locator):
    return locator.screenshot()


def _neuron_centres():
    """{(layer, unit): the centre of its square in the network picture} for the default network
    (2 features, hidden layers of 4 and 2), in the picture's pixels (the app shows it at that size)."""
    from nnlib.playground import Playground

    pg = Playground()
    pg.ui
    pictures = pg._ui.pictures
    top, left = pictures.net_origin
    centres = {}
    for layer, n in enumerate(pictures._columns()):
        for unit in range(n):
            x, y = pictures._node_xy(layer, unit, n)
            centres[layer, unit] = {"x": left + x + pictures.SQUARE / 2, "y": top + y + pictures.SQUARE / 2}
    return centres


@pytest.fixture
def pages(browser):
    """New pages; each one's last view is saved to test-artifacts/ if the test fails."""
    opened = []

    def new_page(name, **viewport):
        page = browser.new_page(viewport=viewport or {"width": 1700, "height": 1100})
        page.set_default_timeout(60_000)
        opened.append((name, page))
        return page

    yield new_page
    for name, page in opened:
        if not page.is_closed():
            page.screenshot(path=str(ARTIFACTS / f"{name}_last.png"), full_page=True)
            page.close()


def test_playground_and_a_chapter_slider_in_chromium(lab, pages):
    page = pages("playground")

    # --- the playground: run the notebook, then press its buttons -----------------------------
    _open_and_run_all(page, lab, "playground.ipynb")
    app = page.locator(".nnlib-playground")
    app.scroll_into_view_if_needed()
    page.wait_for_selector(".nnlib-playground img.nnlib-pg-output", state="visible")
    output, network = page.locator("img.nnlib-pg-output"), page.locator("img.nnlib-pg-network")
    _wait_for(lambda: output.evaluate("img => img.naturalWidth") > 0, "the output figure to load")
    page.screenshot(path=str(ARTIFACTS / "playground_0_loaded.png"), full_page=True)
    assert _epoch(page) == 0
    before = _shot(output)

    page.click(".nnlib-pg-step")
    _wait_for(lambda: _epoch(page) == 1, "the epoch counter to reach 1 after step")
    _wait_for(lambda: _shot(output) != before, "the output figure to change after step")
    app.screenshot(path=str(ARTIFACTS / "playground_1_step.png"))

    page.click(".nnlib-pg-play")
    _wait_for(lambda: _epoch(page) >= 10, "play to run 10 epochs")
    assert page.inner_text(".nnlib-pg-play").strip().lower() == "pause"
    app.screenshot(path=str(ARTIFACTS / "playground_2_playing.png"))
    playing = _shot(output)
    page.click(".nnlib-pg-play")                                  # pause
    _wait_for(lambda: page.inner_text(".nnlib-pg-play").strip().lower() == "play", "the button to say play")
    paused_at = _epoch(page)
    seen = []
    for _ in range(8):
        time.sleep(0.25)
        seen.append(_epoch(page))
    assert seen[-1] == seen[-4], f"training went on after pause: epoch {paused_at}, then {seen}"
    assert _shot(output) != before and playing != before

    network_before = _shot(network)
    page.select_option(".nnlib-pg-activation select", "relu")
    _wait_for(lambda: _epoch(page) == 0, "a new network (epoch 0) after changing the activation")
    _wait_for(lambda: _shot(network) != network_before, "the network figure to change with the activation")
    page.click(".nnlib-pg-step")
    _wait_for(lambda: _epoch(page) == 1, "a step with relu")
    app.screenshot(path=str(ARTIFACTS / "playground_3_relu.png"))

    circle = _shot(output)
    page.click(".nnlib-pg-dataset button:has-text('xor')")
    _wait_for(lambda: _epoch(page) == 0, "epoch 0 on the new data set")
    _wait_for(lambda: _shot(output) != circle, "the output figure to show the xor data")
    page.click(".nnlib-pg-play")
    _wait_for(lambda: _epoch(page) >= 5, "play on xor")
    page.click(".nnlib-pg-play")
    _wait_for(lambda: page.inner_text(".nnlib-pg-play").strip().lower() == "play", "pause on xor")
    app.screenshot(path=str(ARTIFACTS / "playground_4_xor.png"))
    page.screenshot(path=str(ARTIFACTS / "playground_5_page.png"), full_page=True)
    share = page.locator(".nnlib-pg-share input")
    _wait_for(lambda: "dataset=xor" in share.input_value(), "the share line to name the xor data set")
    # --- click a neuron in the network picture: it is enlarged, its weights show and edit ----------
    centre = _neuron_centres()
    network_before = _shot(network)
    network.click(position=centre[(1, 0)])                       # layer 1, neuron 0
    neuron_img, caption = page.locator("img.nnlib-pg-neuron-img"), page.locator(".nnlib-pg-neuron-caption")
    _wait_for(lambda: neuron_img.evaluate("img => img.naturalWidth") > 1, "the clicked neuron to be enlarged")
    _wait_for(lambda: "layer 1, neuron 0" in caption.inner_text(), "the caption to name the clicked neuron")
    weight = page.locator(".nnlib-pg-weight-0 input")
    _wait_for(lambda: weight.count() == 1 and weight.input_value() not in ("", "0"), "its weights to show")
    assert page.locator(".nnlib-pg-weight-bias input").count() == 1
    _wait_for(lambda: _shot(network) != network_before, "the clicked neuron to be framed in the network")
    assert page.locator(".nnlib-pg-neuron select").input_value() != ""     # the menu follows the click
    app.screenshot(path=str(ARTIFACTS / "playground_5_clicked_neuron.png"))
    clicked = _shot(neuron_img)
    network.hover(position=centre[(2, 1)])                       # hover: layer 2, neuron 1, a preview
    _wait_for(lambda: "layer 2, neuron 1" in caption.inner_text() and _shot(neuron_img) != clicked,
              "hovering a neuron to preview it")
    page.mouse.move(5, 5)                                        # leave the picture: the clicked one again
    _wait_for(lambda: "layer 1, neuron 0" in caption.inner_text(), "the view to go back to the clicked neuron")
    _wait_for(lambda: _shot(neuron_img) == clicked, "the clicked neuron's picture to come back")
    network_before, neuron_before = _shot(network), clicked
    page.fill(".nnlib-pg-weight-0 input", "3")
    page.press(".nnlib-pg-weight-0 input", "Enter")
    _wait_for(lambda: _shot(neuron_img) != neuron_before and _shot(network) != network_before,
              "an edited weight to change the neuron and the network pictures")

    # --- a 1400 x 900 window with the file browser open: the output panel beside the network -----
    page.set_viewport_size({"width": 1400, "height": 900})
    if not page.locator("#filebrowser").is_visible():
        page.click(".jp-SideBar.jp-mod-left li[data-id='filebrowser']")
    _wait_for(lambda: page.locator("#filebrowser").is_visible(), "the file browser to open")
    time.sleep(1.0)                                               # the notebook panel re-lays out
    app.scroll_into_view_if_needed()
    out_box, net_box = output.bounding_box(), network.bounding_box()
    page.screenshot(path=str(ARTIFACTS / "playground_6_sidebar_1400.png"))
    assert out_box["x"] >= net_box["x"] + net_box["width"] and out_box["y"] < net_box["y"] + net_box["height"], \
        f"the output panel {out_box} is not beside the network {net_box} at 1400 px with the file browser open"
    assert out_box["x"] + out_box["width"] <= 1400, f"the output panel {out_box} runs off a 1400 px window"
    page.set_viewport_size({"width": 1700, "height": 1100})

    # --- a chapter: move the "weight w" slider and see its figure change -------------------------
    page = pages("chapter01", width=1400, height=1000)
    _open_and_run_all(page, lab, "01_linear_model.ipynb")
    cell = page.locator(".jp-CodeCell").filter(has=page.locator(".widget-slider", has_text="weight w")).first
    cell.scroll_into_view_if_needed()
    figure = cell.locator(".jp-OutputArea-output img").first
    figure.wait_for(state="visible")
    src_before = figure.get_attribute("src")
    cell.screenshot(path=str(ARTIFACTS / "chapter01_0_slider.png"))
    readout = cell.locator(".widget-slider", has_text="weight w").locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("3.5")
    page.keyboard.press("Enter")
    _wait_for(lambda: "3.50" in readout.inner_text(), "the slider to read 3.50")
    _wait_for(lambda: (cell.locator(".jp-OutputArea-output img").first.get_attribute("src") or "") not in
              ("", src_before), "the chapter's figure to be redrawn for w = 3.5")
    cell.screenshot(path=str(ARTIFACTS / "chapter01_1_moved.png"))

"""`make lab` starts a JupyterLab server that answers on localhost and serves the course."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import ROOT


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode("utf-8", "replace")


def test_make_lab_serves_the_course(tmp_path):
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("`make lab` runs JupyterLab from .venv: run the suite with `make test`")
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=os.environ.get("JUPYTER_DATA_DIR", str(tmp_path / "data")))
    args = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} --ServerApp.port_retries=0 "
            f"--IdentityProvider.token= --ServerApp.open_browser=False")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(["make", "-C", str(ROOT), "lab", f"LAB_ARGS={args}"], stdout=log, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    try:
        deadline = time.time() + 90
        status = None
        while time.time() < deadline and proc.poll() is None:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/api/status")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, f"JupyterLab did not answer on port {port}:\n{(tmp_path / 'lab.log').read_text()[-3000:]}"
        status, page = _get(f"http://127.0.0.1:{port}/lab")
        assert status == 200 and "JupyterLab" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:   # opens on the index
            assert r.url.endswith("/lab/tree/notebooks/00_index.ipynb"), r.url
        status, body = _get(f"http://127.0.0.1:{port}/api/contents/notebooks/00_index.ipynb?content=0")
        assert status == 200 and json.loads(body)["name"] == "00_index.ipynb"
        # make lab says what it does and prints the URL in a box (nncourse.lab)
        url = f"http://127.0.0.1:{port}/lab/tree/notebooks/00_index.ipynb"
        # JupyterLab's own log prints the URL as well, so wait for the banner itself; it follows the
        # server's runtime file, which a loaded machine may write some seconds after the port answers.
        deadline = time.time() + 60
        while time.time() < deadline and "The course is open at" not in (tmp_path / "lab.log").read_text():
            time.sleep(0.25)
        text = (tmp_path / "lab.log").read_text()
        assert "The course is open at" in text, text[-3000:]
        banner = text.split("The course is open at", 1)[1]
        assert url in banner, banner[:500]
        assert "==> [4/4]" in text or "your own copies" in text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)      # only the server this test started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

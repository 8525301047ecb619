"""A real JupyterHub for a class (issue 17), on 127.0.0.1, with deploy/'s configuration.

What the test does: starts `jupyterhub` (from the test venv) with deploy/jupyterhub_config.py loaded
and, for the test only, the dummy authenticator (any password) and jupyterhub's
SimpleLocalProcessSpawner, which runs every student's server as the user running the test (no system
users are created; with root it passes --allow-root) with its own home folder under tmp. The proxy is
configurable-http-proxy from npm (deploy/package.json, `make hub-proxy`). Three students log in on
the hub's login page, get an API token and start their servers through the REST API; in each, over
the server's kernel websocket, chapter 1 and exercise 1 run cell by cell; each has its own
~/exercises copy; one student's answer is not visible to another (their server shows only their
home, and their token is refused by a classmate's server); a course update reaches an untouched copy
and leaves an answered one alone. Everything started is stopped.

Not tested: one system user per student (the deployment's LocalProcessSpawner; homes mode 700), TLJH's
installer, HTTPS, Zero to JupyterHub (deploy/README.md).
"""
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT

requests = pytest.importorskip("requests")
pytest.importorskip("jupyterhub")
PROXY = ROOT / "deploy" / "node_modules" / ".bin" / "configurable-http-proxy"
STUDENTS = ("ada", "grace", "alan")
CH = "01_linear_model.ipynb"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub(tmp_path):
    if not PROXY.exists():
        if os.environ.get("CI"):
            pytest.fail("configurable-http-proxy missing: `make hub-proxy` (make test does it)")
        pytest.skip("configurable-http-proxy missing: run `make hub-proxy`")
    course = tmp_path / "course"                       # the course, installed once for everybody
    for folder in ("notebooks", "exercises"):
        shutil.copytree(ROOT / folder, course / folder)
    port, api_port = _free_port(), _free_port()
    token = secrets.token_hex(16)
    homes = tmp_path / "home"
    config = tmp_path / "jupyterhub_config.py"
    args = ["--allow-root"] if os.geteuid() == 0 else []
    config.write_text(f"""
c = get_config()
load_subconfig({str(ROOT / 'deploy' / 'jupyterhub_config.py')!r})
# --- for the test only ---
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes) + '/{username}'!r}
c.Spawner.args = {args!r}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {_free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.JupyterHub.cookie_secret_file = {str(tmp_path / 'cookie_secret')!r}
c.JupyterHub.db_url = "sqlite:///{tmp_path / 'hub.sqlite'}"
c.JupyterHub.pid_file = {str(tmp_path / 'hub.pid')!r}
c.JupyterHub.services = [{{"name": "grader", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "grader", "services": ["grader"],
                             "scopes": ["admin:users", "admin:servers", "tokens", "list:users"]}}]
""")
    env = dict(os.environ, NN_COURSE_DIR=str(course), NN_COURSE_PYTHON=sys.executable,
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", OPENBLAS_NUM_THREADS="1",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "hub.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            assert proc.poll() is None, (tmp_path / "hub.log").read_text()[-4000:]
            try:
                if requests.get(f"{url}/hub/api/", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            pytest.fail("the hub did not answer:\n" + (tmp_path / "hub.log").read_text()[-4000:])
        yield {"url": url, "token": token, "course": course, "homes": homes, "log": tmp_path / "hub.log"}
    finally:
        admin = {"Authorization": f"token {token}"}
        for name in STUDENTS:
            try:
                requests.delete(f"{url}/hub/api/users/{name}/server", headers=admin, timeout=30)
            except requests.RequestException:
                pass
        os.killpg(proc.pid, signal.SIGTERM)           # the hub, its proxy and the servers it spawned
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _login(url, name):
    """Log in on the hub's login page (dummy authenticator), then ask the REST API for a token."""
    s = requests.Session()
    s.get(f"{url}/hub/login", timeout=30)
    r = s.post(f"{url}/hub/login?next=", data={"username": name, "password": "any", "_xsrf": s.cookies.get("_xsrf")},
               allow_redirects=False, timeout=60)
    assert r.status_code == 302, (r.status_code, r.text[:500])
    r = s.post(f"{url}/hub/api/users/{name}/tokens", json={"note": "test"},
               headers={"X-XSRFToken": s.cookies.get("_xsrf"), "Referer": f"{url}/hub/token"}, timeout=30)
    assert r.status_code in (200, 201), (r.status_code, r.text[:500])
    return r.json()["token"]


def _start(url, name, token):
    h = {"Authorization": f"token {token}"}
    r = requests.post(f"{url}/hub/api/users/{name}/server", headers=h, timeout=60)
    assert r.status_code in (201, 202), (r.status_code, r.text)
    deadline = time.time() + 180
    while time.time() < deadline:
        user = requests.get(f"{url}/hub/api/users/{name}", headers=h, timeout=30).json()
        server = user.get("servers", {}).get("", {})
        if server.get("ready"):
            return
        time.sleep(1)
    raise AssertionError(f"{name}'s server did not start")


async def _run_notebook(url, name, token, path):
    """Execute the code cells of the notebook at path (in the student's server) through its kernel."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    h = {"Authorization": f"token {token}"}
    base = f"{url}/user/{name}"
    nb = requests.get(f"{base}/api/contents/{path}", headers=h, timeout=30).json()["content"]
    folder = str(Path(path).parent)
    kernel = requests.post(f"{base}/api/kernels", json={"name": "python3", "path": folder}, headers=h, timeout=60)
    assert kernel.status_code == 201, kernel.text
    kid = kernel.json()["id"]
    ws = await websocket_connect(HTTPRequest(f"{base.replace('http', 'ws', 1)}/api/kernels/{kid}/channels",
                                             headers=h))
    stdout = []
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            msg_id = uuid.uuid4().hex
            await ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": name, "session": "test", "msg_type": "execute_request",
                           "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": cell["source"], "silent": False, "store_history": False,
                            "user_expressions": {}, "allow_stdin": False}}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.read_message(), 120))
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    stdout.append(msg["content"]["text"])
                if msg["msg_type"] == "execute_reply":
                    assert msg["content"]["status"] == "ok", (path, cell["source"][:300], msg["content"])
                    break
    finally:
        ws.close()
        requests.delete(f"{base}/api/kernels/{kid}", headers=h, timeout=30)
    return "".join(stdout)


def test_three_students_on_one_hub(hub):
    url = hub["url"]
    tokens = {name: _login(url, name) for name in STUDENTS}
    for name in STUDENTS:
        _start(url, name, tokens[name])
    # each student: chapter 1 and exercise 1 run in their own server, from their own copies
    for name in STUDENTS:
        asyncio.run(_run_notebook(url, name, tokens[name], f"chapters/{CH}"))
        out = asyncio.run(_run_notebook(url, name, tokens[name], f"exercises/{CH}"))
        assert "not done yet" in out                          # the unsolved exercise's checks ran
        assert (hub["homes"] / name / "exercises" / CH).is_file()
    # ada answers (saves her exercise with an answer); nobody else sees it
    h = {name: {"Authorization": f"token {tokens[name]}"} for name in STUDENTS}
    ada = f"{url}/user/ada/api/contents/exercises/{CH}"
    nb = requests.get(ada, headers=h["ada"], timeout=30).json()["content"]
    nb["cells"].append({"cell_type": "markdown", "id": "ada-answer", "metadata": {}, "source": "ada's secret answer"})
    r = requests.put(ada, json={"type": "notebook", "format": "json", "content": nb}, headers=h["ada"], timeout=30)
    assert r.status_code == 200, r.text
    for other in ("grace", "alan"):
        theirs = requests.get(f"{url}/user/{other}/api/contents/exercises/{CH}", headers=h[other], timeout=30).json()
        assert "ada's secret answer" not in json.dumps(theirs)
        listing = requests.get(f"{url}/user/{other}/api/contents/", headers=h[other], timeout=30).json()
        assert {e["name"] for e in listing["content"]} >= {"exercises", "chapters"}
        assert not any("ada" in e["path"] for e in listing["content"])
        peek = requests.get(ada, headers=h[other], timeout=30, allow_redirects=False)
        assert peek.status_code in (302, 403, 404), peek.status_code      # a classmate's server refuses them
        assert "ada's secret answer" not in peek.text
    # a course update: grace's untouched copy is updated at her next start, ada's answered one is kept
    course_ex = hub["course"] / "exercises" / CH
    updated = json.loads(course_ex.read_text())
    updated["cells"].insert(1, {"cell_type": "markdown", "id": "update", "metadata": {}, "source": ["course update\n"]})
    course_ex.write_text(json.dumps(updated, indent=1))
    for name in ("ada", "grace"):
        requests.delete(f"{url}/hub/api/users/{name}/server", headers=h[name], timeout=60)
        deadline = time.time() + 60
        while requests.get(f"{url}/hub/api/users/{name}", headers=h[name], timeout=30).json().get("servers"):
            assert time.time() < deadline, f"{name}'s server did not stop"
            time.sleep(0.5)
        _start(url, name, tokens[name])
    ada_file = (hub["homes"] / "ada" / "exercises" / CH).read_text()
    assert "ada's secret answer" in ada_file and "course update" not in ada_file
    assert "course update" in (hub["homes"] / "grace" / "exercises" / CH).read_text()

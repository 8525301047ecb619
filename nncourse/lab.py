"""`make lab`: start JupyterLab and, once it answers, print its URL where nobody can miss it.

    python -m nncourse.lab [jupyter lab options...]

JupyterLab's own log prints the URL among many lines; this waits for the server's runtime file
(``jpserver-<pid>.json``, written when the server listens), prints the URL in a box, and then
simply waits for JupyterLab (Ctrl-C stops it, as usual).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _runtime_dir():
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def _banner(info, started):
    base = info.get("url", "").rstrip("/")
    default = info.get("default_url") or "/lab"
    token = info.get("token")
    url = base + default + (f"?token={token}" if token else "")
    bar = "=" * max(60, len(url) + 4)
    return (f"\n{bar}\n  The course is open at (ready after {time.monotonic() - started:.0f} s):\n\n  {url}\n\n"
            f"  Open it in your browser if no window appeared. Stop with Ctrl-C.\n{bar}\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    started = time.monotonic()
    print("==> starting JupyterLab (the first start builds its caches: a few seconds)", flush=True)
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", *argv])
    runtime = _runtime_dir()
    info_file = runtime / f"jpserver-{proc.pid}.json"
    shown = False
    try:
        while proc.poll() is None:
            if not shown and info_file.exists():
                try:
                    info = json.loads(info_file.read_text())
                except ValueError:
                    info = None                     # being written: try again
                if info:
                    default = next((a.split("=", 1)[1] for a in argv if a.startswith("--LabApp.default_url=")),
                                   None)
                    info.setdefault("default_url", default)
                    if default:
                        info["default_url"] = default
                    print(_banner(info, started), flush=True)
                    shown = True
            time.sleep(0.2)
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)            # JupyterLab asks to confirm; a second Ctrl-C stops it
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            return proc.wait()
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())

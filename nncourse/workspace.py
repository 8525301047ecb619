"""A student's own copies of the course's notebooks, which no course update overwrites.

    python -m nncourse.workspace exercises work        # what `make lab` runs
    python -m nncourse.workspace /opt/nn-course/exercises ~/exercises   # a JupyterHub's start hook

Each ``SRC/X.ipynb`` is copied to ``DST/X.ipynb`` when that file does not exist. An existing copy
is replaced only when it is byte for byte the version copied last time (the student never changed
it: nothing is lost) and the course has a newer one; a copy the student changed is never touched,
and the command says that a newer version is in ``SRC``. ``DST/.copied.json`` records the sha256 of
the version copied for each file. Files are never deleted.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

STATE = ".copied.json"


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _write(path, data):
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sync(src_dir, dst_dir):
    """Copy new and untouched notebooks from src_dir to dst_dir. Returns (action, name, message) tuples."""
    src_dir, dst_dir = Path(src_dir), Path(dst_dir)
    sources = sorted(p for p in src_dir.glob("*.ipynb") if p.is_file())
    if not sources:
        raise FileNotFoundError(f"no notebooks in {src_dir}")
    dst_dir.mkdir(parents=True, exist_ok=True)
    try:
        state = json.loads((dst_dir / STATE).read_text(encoding="utf-8"))
        state = state if isinstance(state, dict) else {}
    except (OSError, ValueError):
        state = {}
    report = []
    for src in sources:
        data, dst = src.read_bytes(), dst_dir / src.name
        new = _sha(data)
        if dst.is_symlink() or (dst.exists() and not dst.is_file()):
            report.append(("kept", src.name, f"{dst} is not a regular file: left alone"))
            continue
        if not dst.exists():
            _write(dst, data)
            state[src.name] = new
            report.append(("copied", src.name, f"{dst}: your copy of {src}"))
            continue
        mine = _sha(dst.read_bytes())
        if mine == new:
            state[src.name] = new
        elif mine == state.get(src.name):            # untouched since copied: take the course's update
            _write(dst, data)
            state[src.name] = new
            report.append(("updated", src.name, f"{dst}: updated from {src} (you had not changed it)"))
        else:
            report.append(("kept", src.name, f"{dst}: kept as you left it; the course has a newer version in "
                                              f"{src} (to start afresh: rename yours, run again)"))
    _write(dst_dir / STATE, (json.dumps(state, indent=1, sort_keys=True) + "\n").encode())
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m nncourse.workspace", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="the course's folder (e.g. exercises)")
    parser.add_argument("dest", help="the student's folder (e.g. work)")
    parser.add_argument("-q", "--quiet", action="store_true", help="say only what changed or was kept")
    args = parser.parse_args(argv)
    try:
        report = sync(args.source, args.dest)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for action, _, message in report:
        if action != "copied" or not args.quiet:
            print(f"  {action:8s} {message}")
    copied = sum(a == "copied" for a, _, _ in report)
    if copied and args.quiet:
        print(f"  copied   {copied} notebook(s) from {args.source} into {args.dest}/ (your copies: answer there)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

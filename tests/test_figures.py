"""Every figure of every chapter is readable where a learner sees it: a JupyterLab cell.

Each notebook runs once, top to bottom, in a fresh kernel with JupyterLab's own inline
backend (`%matplotlib inline`: PNG, the figure's dpi, ``bbox_inches="tight"``). A hook in the
kernel wraps ``FigureCanvasBase.print_figure``: while a figure is saved it records every text
that matplotlib actually draws (tick labels outside the view are not drawn, so not counted)
with its box in the saved image, and the PNG's size. JupyterLab shows a PNG at its pixel size,
shrunk to the cell's width when wider (``max-width: 100%``), so on screen a text of ``s``
points in an image of ``w`` pixels at ``dpi`` is ``s * dpi / 72 * min(1, CELL_PX / w)`` CSS
pixels, that is ``s * dpi * min(1, CELL_PX / w) / 96`` points (CSS has 96 px per inch).

A figure fails when it is wider than MAX_WIDTH_IN inches, when any text on it is smaller than
MIN_SCREEN_PT on screen, or when two drawn texts' boxes overlap (empty strings ignored).
Widgets' figures count too: `interact` draws its figure once when the cell runs.
"""
import functools
import json
import os
import struct
import tempfile

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT, notebooks_in

CELL_PX = 1000          # JupyterLab's output area at a 1400 px wide window, about
MIN_SCREEN_PT = 9.0     # smallest text a reader should have to read
MAX_WIDTH_IN = 11.0     # widest figure
OVERLAP_PX = 1.5        # two boxes overlap when they share more than this in x and in y (image px)

HOOK = r'''
%matplotlib inline
import io as _io, json as _json, struct as _struct
import matplotlib as _mpl
from matplotlib.backend_bases import FigureCanvasBase as _Canvas
from matplotlib.text import Text as _Text

_FIG_LOG = {log!r}
_drawn = None
_cells_run = [-1]          # how many of the notebook's code cells have started (this one excluded)
get_ipython().events.register("pre_run_cell", lambda *_: _cells_run.__setitem__(0, _cells_run[0] + 1))
_text_draw = _Text.draw


def _recording_draw(self, renderer):
    _text_draw(self, renderer)
    if _drawn is not None and self.get_visible() and self.get_text().strip():
        try:
            box = self.get_window_extent(renderer)
        except Exception:
            return
        _drawn[id(self)] = (self.get_text(), float(self.get_fontsize()), tuple(map(float, box.extents)))


_Text.draw = _recording_draw
_print_figure = _Canvas.print_figure


def _checked_print_figure(self, filename, *args, **kwargs):
    global _drawn
    _drawn = {{}}
    try:
        return _print_figure(self, filename, *args, **kwargs)
    finally:
        texts, _drawn = list(_drawn.values()), None
        width_px = None
        if isinstance(filename, _io.BytesIO):
            head = filename.getvalue()[:24]
            if head[:8] == b"\x89PNG\r\n\x1a\n":
                width_px = _struct.unpack(">I", head[16:20])[0]
        dpi = kwargs.get("dpi") or _mpl.rcParams["savefig.dpi"]
        if dpi == "figure":
            dpi = self.figure.dpi
        record = {{"cell": _cells_run[0], "size_in": list(map(float, self.figure.get_size_inches())),
                   "dpi": float(dpi), "width_px": width_px, "texts": texts}}
        with open(_FIG_LOG, "a", encoding="utf-8") as f:
            f.write(_json.dumps(record) + "\n")


_Canvas.print_figure = _checked_print_figure

# Widgets: every interact / interactive_output the notebook builds is recorded with its controls.
from ipywidgets.widgets import interaction as _interaction
import ipywidgets as _ipw
_WIDGET_FUNCS = []
_interactive_init = _interaction.interactive.__init__


def _recording_init(self, *args, **kwargs):
    _interactive_init(self, *args, **kwargs)
    _WIDGET_FUNCS.append((self.f, {{w._kwarg: w for w in self.kwargs_widgets}}))


_interaction.interactive.__init__ = _recording_init
_interactive_output = _interaction.interactive_output


def _recording_output(f, controls):
    _WIDGET_FUNCS.append((f, dict(controls)))
    return _interactive_output(f, controls)


_interaction.interactive_output = _ipw.interactive_output = _ipw.widgets.interactive_output = _recording_output
'''

# Run after the notebook: each recorded widget function is called with one control at a time moved
# to each end of its range (each option of a menu, both states of a checkbox), the others at their
# defaults, as a reader may set them. Figures drawn here are not measured; failures are logged.
EXTREMES = r'''
import json as _json, traceback as _traceback
import matplotlib.pyplot as _plt
_Canvas.print_figure = _print_figure          # the figure check is over
_failures, _calls = [], 0


def _settings(w):
    """(label, how to set w) for the ends of w's range."""
    if isinstance(w, _ipw.FloatLogSlider):
        return [(w.base ** w.min, w.base ** w.min), (w.base ** w.max, w.base ** w.max)]
    if isinstance(w, (_ipw.IntSlider, _ipw.FloatSlider, _ipw.IntRangeSlider, _ipw.FloatRangeSlider)):
        return [(w.min, w.min), (w.max, w.max)] if not isinstance(w.value, tuple) else [((w.min, w.max), (w.min, w.max))]
    if isinstance(w, (_ipw.Checkbox, _ipw.ToggleButton)):
        return [(True, True), (False, False)]
    if isinstance(w, _ipw.widgets.widget_selection._Selection):
        return [(label, value) for label, value in zip(w._options_labels, w._options_values)]
    return []


for _f, _controls in _WIDGET_FUNCS:
    _defaults = {{n: w.value for n, w in _controls.items()}}
    for _name, _w in _controls.items():
        for _label, _value in _settings(_w):
            _kwargs = {{n: (w.get_interact_value() if hasattr(w, "get_interact_value") else w.value)
                       for n, w in _controls.items()}}
            _kwargs[_name] = _value
            _calls += 1
            try:
                _f(**_kwargs)
            except Exception as _exc:
                _where = _traceback.extract_tb(_exc.__traceback__)[-1]
                _failures.append(f"{{getattr(_f, '__name__', _f)}}({{_name}}={{_label!r}}): {{type(_exc).__name__}}: "
                                 f"{{_exc}} (at {{_where.name}}, line {{_where.lineno}}: {{(_where.line or '').strip()}})")
            finally:
                _plt.close("all")
with open({log!r}, "w", encoding="utf-8") as _out:
    _json.dump({{"functions": len(_WIDGET_FUNCS), "calls": _calls, "failures": _failures}}, _out)
'''

NOTEBOOKS = notebooks_in("notebooks")



def _problems(record, cell_index):
    where = f"cell {cell_index}"
    problems = []
    width_in = record["size_in"][0]
    if width_in > MAX_WIDTH_IN + 0.05:
        problems.append(f"{where}: figure {width_in:.1f} in wide (at most {MAX_WIDTH_IN:g})")
    scale = min(1.0, CELL_PX / record["width_px"]) if record["width_px"] else 1.0
    small = {}
    for text, size, _ in record["texts"]:
        on_screen = size * record["dpi"] * scale / 96
        if on_screen < MIN_SCREEN_PT - 0.05:
            small.setdefault(round(on_screen, 1), []).append(text)
    for pt, texts in sorted(small.items()):
        shown = ", ".join(repr(t[:30]) for t in texts[:4]) + (f" and {len(texts) - 4} more" if len(texts) > 4 else "")
        problems.append(f"{where}: text {pt} pt on screen: {shown}")
    boxes = record["texts"]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (ta, _, a), (tb, _, b) = boxes[i], boxes[j]
            dx = min(a[2], b[2]) - max(a[0], b[0])
            dy = min(a[3], b[3]) - max(a[1], b[1])
            if dx > OVERLAP_PX and dy > OVERLAP_PX:
                problems.append(f"{where}: {ta[:30]!r} overlaps {tb[:30]!r}")
    return problems


@functools.cache
def _run(path, timeout=60):
    """Run the notebook once with the hooks, then its widgets at their ends (shared by both tests)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        log, widget_log = os.path.join(tmp, "figures.jsonl"), os.path.join(tmp, "widgets.json")
        open(log, "w").close()
        nb.cells.insert(0, nbformat.v4.new_code_cell(HOOK.format(log=log)))
        nb.cells.append(nbformat.v4.new_code_cell(EXTREMES.format(log=widget_log)))
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        with open(log, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        with open(widget_log, encoding="utf-8") as f:
            widgets = json.load(f)
    return nb, records, widgets


def widget_failures(path):
    """What the notebook's widgets raised at the ends of their controls: {"functions", "calls", "failures"}."""
    return _run(path)[2]


def figure_problems(path, timeout=60):
    """Run the notebook once with the hook; every figure's problems, as readable lines."""
    nb, records, _ = _run(path, timeout)
    # the k-th code cell that ran -> its index in the notebook as committed (without the hook cell)
    ran = [i - 1 for i, c in enumerate(nb.cells[:-1]) if i and c.cell_type == "code" and c.source.strip()]
    index_of = dict(enumerate(ran))
    problems = []
    for record in records:
        problems += _problems(record, index_of.get(record["cell"], "?"))
    return records, problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_is_readable_in_a_jupyterlab_cell(path):
    records, problems = figure_problems(path)
    if path.stem != "00_index" and path.stem != "playground":
        assert records, f"{path.name}: no figure was drawn (is the hook working?)"
    assert not problems, f"{path.name}: {len(problems)} problems\n" + "\n".join(problems)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem not in ("00_index", "playground")],
                         ids=lambda p: p.stem)
def test_every_widget_runs_at_the_ends_of_its_controls(path):
    """A reader moves a slider to its end or picks any option: the chapter's function must not crash
    (chapter 6's dashboard once raised AttributeError when a run diverged before its first record)."""
    result = widget_failures(path)
    assert result["functions"] and result["calls"], f"{path.name}: no widget was recorded (is the hook working?)"
    assert not result["failures"], (f"{path.name}: {len(result['failures'])} of {result['calls']} settings failed\n"
                                    + "\n".join(result["failures"]))


def test_the_check_catches_small_overlapping_and_wide_figures():
    """The measurement itself: a figure built to break each rule breaks it, a clean one passes."""
    fine = {"cell": 1, "size_in": [6, 4], "dpi": 100, "width_px": 600,
            "texts": [["title", 12, [0, 380, 100, 395]], ["x", 10, [0, 0, 10, 12]]]}
    assert _problems(fine, 1) == []
    wide = dict(fine, size_in=[21, 4], width_px=2100)      # 10 pt shrunk to 1000/2100: 5 pt
    assert any("wide" in p for p in _problems(wide, 1))
    assert any("pt on screen" in p for p in _problems(wide, 1))
    tiny = dict(fine, texts=[["legend", 7, [0, 0, 30, 8]]])
    assert any("7.3 pt" in p for p in _problems(tiny, 1))
    clash = dict(fine, texts=[["MSE", 10, [0, 0, 30, 12]], ["loss", 10, [20, 5, 50, 17]]])
    assert any("overlaps" in p for p in _problems(clash, 1))

"""Run inside the Colab-pinned venv: execute one notebook with nbclient, or build the playground.

    .venv-colab/bin/python tests/colab/run_notebook.py NOTEBOOK [TIMEOUT]
    .venv-colab/bin/python tests/colab/run_notebook.py --playground

Prints one JSON line: the versions it ran with and, for a notebook, the first error (or null).
"""
import json
import sys
from importlib.metadata import version


def versions():
    return {name: version(name) for name in ("ipywidgets", "ipykernel", "ipython", "numpy", "matplotlib")}


def run(path, timeout):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        return str(exc)[-3000:]
    return None


def playground():
    import ipywidgets
    from nnlib.widgets import Playground

    pg = Playground()
    bundle = pg._repr_mimebundle_()                     # what Jupyter asks for when the cell shows `pg`
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == pg.ui.model_id, bundle
    ui = pg._ui
    before = pg.epoch
    ui.step_btn.click()                                  # the step button, as a reader presses it
    stepped = pg.epoch - before
    ui.controls["activation"].value = "relu"
    ui.step_btn.click()
    ui.neuron.value = (1, 0)                             # the neuron menu: enlarge layer 1's first neuron
    menu = len(ui.weight_boxes.children)
    clicked = None
    if ui.network_events:                                # ipyevents installed: a click on the picture too
        top, left = ui.pictures.net_origin
        x, y = ui.pictures._node_xy(2, 1, 2)
        ui.network_event({"type": "click", "dataX": left + x + 5, "dataY": top + y + 5})
        clicked = list(ui.selected)
    return {"widgets_version": ipywidgets.__version__, "stepped": stepped, "epoch": pg.epoch,
            "loss": pg.train_loss, "images": {k: len(getattr(ui, k + "_img").value) for k in
                                              ("loss", "output", "network", "diagnostics", "neuron")},
            "menu_weight_boxes": menu, "click_events": bool(ui.network_events), "clicked": clicked}


if __name__ == "__main__":
    if sys.argv[1] == "--playground":
        print(json.dumps({"versions": versions(), "playground": playground()}))
    else:
        timeout = int(sys.argv[2]) if len(sys.argv) > 2 else 120
        print(json.dumps({"versions": versions(), "error": run(sys.argv[1], timeout)}))

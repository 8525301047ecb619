"""The playground's app: ipywidgets controls, each calling one Playground method, and its figures.

``_PlaygroundUI(pg).box`` is the app; ``Playground.ui`` makes it on first display. The
controls call ``set``, ``step``, ``reset``, ... of the playground; ``redraw`` mirrors its
state back into the controls and shows the figures of ``pictures.py`` as PNG images.
"""
from __future__ import annotations

import os

import ipywidgets as W
import numpy as np

from .choices import (ACTIVATIONS, DATASETS, LEARNING_RATES, LOSSES, MAX_LAYERS, MAX_NEURONS, MULTICLASS,
                      OPTIMIZERS, PRESETS, REG_RATES)
from .pictures import _Pictures, _diverging, _encode_png, legend_html

try:        # clicks and hovers on the network picture (the lab extra installs it); without it: the menu
    from ipyevents import Event as _Event
except ImportError:                        # e.g. Google Colab, where the course installs no extra widgets
    _Event = None

# Set by the book's and the decks' builds (book/conf.py, book/slides.py) for the kernels they start:
# their saved pages load only ipywidgets' own JavaScript, so an ipyevents model in the saved widget
# state would be a failed request there (and it could do nothing without a kernel anyway).
STATIC_PAGE_ENV = "NNLIB_STATIC_PAGE"


# --- the widgets ----------------------------------------------------------------------------
# A slider's tooltip is `tooltip` in ipywidgets 8, `description_tooltip` in 7 (Colab's).
_TOOLTIP = "tooltip" if W.IntSlider.class_traits().get("tooltip") is not None else "description_tooltip"


class _AppBox(W.VBox):
    """The app's outer box. ipywidgets 7 (Google Colab's) displays a widget with ``_ipython_display_``
    only; ``Playground._repr_mimebundle_`` asks its box for the bundle, so give 7.x the one 8.x makes."""

    if not hasattr(W.VBox, "_repr_mimebundle_"):
        def _repr_mimebundle_(self, **kwargs):
            return {"text/plain": repr(self),
                    "application/vnd.jupyter.widget-view+json": {"version_major": 2, "version_minor": 0,
                                                                 "model_id": self._model_id}}


class _PlaygroundUI:
    """The app's widgets. Each control calls one Playground method; redraw() mirrors the state back.

    Every control carries a CSS class ``nnlib-pg-<name>`` (the browser test finds them by it).
    """

    NEURON_PX, BOX_PX = 148, 208        # the enlarged neuron and its weight boxes, side by side under the network

    def __init__(self, pg):
        self.pg, self.pictures, self._syncing, self._synced, self.saved = pg, _Pictures(pg), False, None, None
        style = {"description_width": "initial"}

        def sized(widget, width, name):
            widget.layout.width = width
            widget.add_class(f"nnlib-pg-{name}")
            return widget

        def button(description, icon, name, tooltip, width="96px", **kw):
            b = sized(W.Button(description=description, icon=icon, tooltip=tooltip, **kw), width, name)
            return b

        self.play_btn = button("play", "play", "play", "Train epoch after epoch until pause", button_style="primary")
        self.step_btn = button("step", "step-forward", "step", "Train one epoch")
        self.reset_btn = button("reset", "undo", "reset", "New weights from the seed, epoch 0")
        self.epoch = sized(W.HTML(), "170px", "epoch")
        c = self.controls = {
            "learning_rate": W.Dropdown(options=LEARNING_RATES, description="learning rate"),
            "activation": W.Dropdown(options=list(ACTIVATIONS), description="activation"),
            "regularization": W.Dropdown(options=["none", "L1", "L2"], description="regularization"),
            "reg_rate": W.Dropdown(options=REG_RATES, description="regularization rate"),
            "problem": W.Dropdown(options=list(DATASETS), description="problem type"),
            "dataset": W.ToggleButtons(options=DATASETS["classification"], style={"button_width": "104px"}),
            "classes": W.IntSlider(min=2, max=6, description="classes", continuous_update=False,
                                   **{_TOOLTIP: "Number of classes (gauss and spiral only)"}),
            "train_percent": W.IntSlider(min=10, max=90, step=10, description="training %", continuous_update=False,
                                         **{_TOOLTIP: "Share of the points used for training"}),
            "noise": W.IntSlider(min=0, max=50, step=5, description="noise", continuous_update=False),
            "batch_size": W.IntSlider(min=1, max=30, description="batch size", continuous_update=False),
            "show_test": W.Checkbox(description="show test data", indent=False),
            "discretize": W.Checkbox(description="discretize output", indent=False),
            "optimizer": W.Dropdown(options=list(OPTIMIZERS), description="optimizer"),
            "loss": W.Dropdown(options=list(LOSSES), description="loss"),
            "dropout": W.FloatSlider(min=0.0, max=0.9, step=0.05, description="dropout", continuous_update=False),
            "batch_norm": W.Checkbox(description="batch norm", indent=False),
            "seed": W.BoundedIntText(min=0, max=10 ** 6, description="seed"),
        }
        widths = {"dataset": "218px", "show_test": "140px", "discretize": "160px", "batch_norm": "110px",
                  "seed": "130px", "regularization": "190px", "reg_rate": "210px", "learning_rate": "190px",
                  "dropout": "250px"}
        sliders = ("classes", "train_percent", "noise", "batch_size")      # one label width: the tracks line up
        for key, widget in c.items():
            if hasattr(widget.style, "description_width"):
                widget.style.description_width = "72px" if key in sliders else "initial"
            sized(widget, widths.get(key, "218px" if key in sliders else "226px"), key.replace("_", "-"))
            widget.observe(lambda change, key=key: self._changed(key, change["new"]), names="value")
        self.features = {}
        for name, label in _FEATURE_LABELS.items():
            box = sized(W.Checkbox(description=label, indent=False), "64px", f"feature-{_css(name)}")
            box.observe(lambda change: self._features_changed(), names="value")
            self.features[name] = box
        self.regen_btn = button("regenerate", "refresh", "regenerate", "New points from the same data set", "120px")
        self.add_layer = button("", "plus", "add-layer", "Add a hidden layer", "36px")
        self.remove_layer = button("", "minus", "remove-layer", "Remove the last hidden layer", "36px")
        self.layers_label = W.HTML()
        self.neuron_buttons = W.HBox()
        self.loss_img = sized(W.Image(format="png"), "352px", "loss")
        self.output_img = sized(W.Image(format="png"), "352px", "output")
        self.network_img = sized(W.Image(format="png"), f"{_Pictures.NETWORK_WIDTH}px", "network")
        self.diagnostics_img = sized(W.Image(format="png"), "528px", "diagnostics")
        self.losses = sized(W.HTML(), "352px", "losses")
        self.legend = sized(W.HTML(), "352px", "legend")
        self.message = sized(W.HTML(), "100%", "message")
        self.preset = sized(W.Dropdown(options=["choose a lesson"] + list(PRESETS), description="preset",
                                       style=style), "300px", "preset")
        self.preset.observe(lambda change: self._preset(change["new"]), names="value")
        self.preset_note = sized(W.HTML(), "560px", "preset-note")
        self.export_btn = button("export code", "code", "export", "The trained network as nnlib code", "130px")
        self.save_btn = button("save state", "save", "save", "Keep the whole state (pg.saved_state)", "120px")
        self.restore_btn = button("restore", "history", "restore", "Go back to the saved state", "110px")
        self.share = sized(W.Text(description="share", style=style, disabled=False,
                                  **{_TOOLTIP: "These settings and epoch as one line: copy it to send this network"}),
                           "100%", "share")
        self.paste = sized(W.Text(placeholder="paste a share line here", description="load", style=style),
                           "420px", "paste")
        self.load_btn = button("load", "upload", "load", "Take the settings of the pasted line", "90px")
        self.neuron = sized(W.Dropdown(description="neuron", style=style, **{_TOOLTIP: "Enlarge a neuron; edit its weights"}),
                            "260px", "neuron")
        self.neuron.observe(lambda change: None if self._syncing or change["new"] is None
                            else self._call(self.select_neuron, *change["new"]), names="value")
        self.neuron_img = sized(W.Image(format="png"), f"{self.NEURON_PX}px", "neuron-img")
        self.neuron_caption = sized(W.HTML(), "100%", "neuron-caption")
        self.weight_boxes, self.selected, self.hovered = W.VBox(), None, None
        self.network_events = []
        if _Event is not None and not os.environ.get(STATIC_PAGE_ENV):
            # A click selects the neuron under the mouse; moving over the picture previews the neuron
            # under it in the enlarged view (throttled: at most one message per 100 ms), leaving it
            # goes back to the selected one. Two Event widgets, so no click is lost to the throttle.
            clicks = _Event(source=self.network_img, watched_events=["click"], xy_coordinate_system="data")
            moves = _Event(source=self.network_img, watched_events=["mousemove", "mouseleave"],
                           xy_coordinate_system="data", throttle_or_debounce="throttle", wait=100)
            for events in (clicks, moves):
                events.on_dom_event(lambda event: self._call(self.network_event, event))
            self.network_events = [clicks, moves]
        self.code = sized(W.Textarea(rows=14), "100%", "code")
        self.code.layout.display = "none"
        for btn, action in ((self.play_btn, pg.toggle), (self.step_btn, pg.step), (self.reset_btn, pg.reset),
                            (self.regen_btn, pg.regenerate), (self.add_layer, lambda: self._layers(+1)),
                            (self.remove_layer, lambda: self._layers(-1)), (self.export_btn, self._export),
                            (self.save_btn, self._save), (self.restore_btn, self._restore),
                            (self.load_btn, self._load_share)):
            btn.on_click(lambda _, action=action: self._call(action))

        head = lambda text: W.HTML(f"<b>{text}</b>")  # noqa: E731
        def row(*kids, align_items="center"):
            return W.HBox(list(kids), layout=W.Layout(flex_flow="row wrap", align_items=align_items))

        top = row(self.play_btn, self.step_btn, self.reset_btn, self.epoch, c["learning_rate"], c["activation"],
                  c["regularization"], c["reg_rate"], c["problem"])
        def column(kids, width):               # fixed widths: the figures keep their size, the row wraps instead
            return W.VBox(kids, layout=W.Layout(width=width, flex="0 0 auto", margin="0 6px 0 0"))

        # Data and features share one column: with JupyterLab's file browser open a 1400 px window leaves
        # about 1000 px for a cell's output, and data + network + output must fit in it side by side.
        data = column([head("Data"), c["dataset"], c["classes"], c["train_percent"], c["noise"], c["batch_size"],
                       self.regen_btn, head("Features"), row(*self.features.values())], "224px")
        how = ("Click a neuron in the picture (hover to preview) or pick it here" if self.network_events
               else "Pick a neuron")
        neuron_view = W.VBox([W.HTML(f"<div style='font-size: 0.9em; line-height: 1.3'>{how} to enlarge it and edit "
                                     "the weights into it.</div>"),
                              self.neuron,
                              row(self.neuron_img, W.VBox([self.neuron_caption, self.weight_boxes],
                                                          layout=W.Layout(width=f"{self.BOX_PX + 4}px")),
                                  align_items="flex-start")])
        network = column([row(head("Hidden layers"), self.add_layer, self.remove_layer, self.layers_label),
                          self.neuron_buttons, self.network_img, neuron_view], f"{_Pictures.NETWORK_WIDTH + 4}px")
        output = column([head("Output"), self.losses, self.loss_img, self.output_img, self.legend,
                         row(c["show_test"], c["discretize"])], "354px")
        beyond = W.VBox([
            head("Beyond the TensorFlow Playground"),
            row(c["optimizer"], c["loss"], c["dropout"], c["batch_norm"], c["seed"]),
            row(self.preset, self.preset_note),
            self.diagnostics_img,
            row(self.export_btn, self.save_btn, self.restore_btn), self.share, row(self.paste, self.load_btn),
            self.code])
        self.box = _AppBox([top, self.message, row(data, network, output, align_items="flex-start"),
                            beyond])
        self.box.add_class("nnlib-playground")

    # --- from the widgets to the playground ---------------------------------------------------
    def _call(self, action, *args, **kwargs):
        """Run an action; a bad setting is shown in the app instead of raising in a callback."""
        try:
            action(*args, **kwargs)
        except (ValueError, RuntimeError) as exc:
            self.pg.message = str(exc)
            self.redraw()

    def _changed(self, key, value):
        if not self._syncing:
            self._call(self.pg.set, **{key: value})

    def _features_changed(self):
        if self._syncing:
            return
        chosen = [name for name, box in self.features.items() if box.value]
        if not chosen:
            self.pg.message = "The network needs at least one input feature."
            self._synced = None
            self.redraw()
            return
        self._call(self.pg.set, features=chosen)

    def _layers(self, change):
        hidden = list(self.pg.settings["hidden"])
        if change > 0 and len(hidden) < MAX_LAYERS:
            hidden.append(2)                   # a new layer starts with two neurons, as in the Playground
        elif change < 0 and hidden:
            hidden.pop()
        self.pg.set(hidden=hidden)

    def _neurons(self, layer, change):
        hidden = list(self.pg.settings["hidden"])
        hidden[layer] = min(MAX_NEURONS, max(1, hidden[layer] + change))
        self.pg.set(hidden=hidden)

    def _preset(self, name):
        if not self._syncing and name in PRESETS:
            self._call(self.pg.load_preset, name)

    def _export(self):
        self.code.value = self.pg.to_code()
        self.code.layout.display = None

    def _save(self):
        self.saved = self.pg.saved_state = self.pg.state_dict()
        self.pg.message = f"Saved the state at epoch {self.pg.epoch} (also in pg.saved_state)."
        self.redraw()

    def _load_share(self):
        text = self.paste.value.strip()
        if not text:
            raise ValueError("Paste a share line (e.g. dataset=spiral&hidden=8,8) into the load box first.")
        self.pg.load_share(text)
        self.pg.message = ""
        self.redraw()

    def select_neuron(self, layer, unit):
        """Enlarge neuron ``unit`` (from 0) of dense layer ``layer`` (1 = first hidden, last = output) and
        show one box per incoming weight and its bias; editing a box calls ``Playground.set_weight``."""
        dense = self.pg.dense_layers
        if not (1 <= layer <= len(dense) and 0 <= unit < dense[layer - 1].W.shape[1]):
            raise ValueError(f"select_neuron: no neuron {unit} in layer {layer}")
        self.selected, self.hovered = (layer, unit), None
        n_in = dense[layer - 1].W.shape[0]
        names = list(self.pg.settings["features"]) if layer == 1 else [f"neuron {j}" for j in range(n_in)]
        boxes = []
        for j, name in [*enumerate(names), ("bias", "bias")]:
            box = W.FloatText(description=f"from {name}" if j != "bias" else "bias",
                              style={"description_width": "96px"}, layout=W.Layout(width=f"{self.BOX_PX}px"))
            box.add_class(f"nnlib-pg-weight-{j}")
            box.observe(lambda change, j=j: None if self._syncing else
                        self._call(self.pg.set_weight, *self.selected, j, float(change["new"])), names="value")
            boxes.append(box)
        for old in self.weight_boxes.children:
            old.close()
        self.weight_boxes.children = boxes
        self.redraw()

    def network_event(self, event):
        """A mouse event on the network picture (from ipyevents): a click on a neuron selects it,
        moving over one previews it in the enlarged view, leaving the picture shows the selected one.

        ``event`` is ipyevents' dict: ``type`` and ``dataX``/``dataY``, the pixel of the image
        (in its own pixels, whatever size the browser shows it at)."""
        kind = event.get("type")
        at = None
        if "dataX" in event and "dataY" in event:
            at = self.pictures.neuron_at(float(event["dataX"]), float(event["dataY"]))
        if kind == "click" and at is not None and at[0] >= 1:
            self.select_neuron(*at)
        elif kind in ("mousemove", "click"):         # a click on a feature previews it, as a hover does
            self._hover(at)
        elif kind == "mouseleave":
            self._hover(None)

    def _hover(self, at):
        if at == self.hovered:
            return
        self.hovered = at
        self._syncing = True
        try:
            self._neuron_view()
        finally:
            self._syncing = False

    def _describe(self, layer, unit):
        dense = self.pg.dense_layers
        if layer == 0:
            return f"feature {self.pg.settings['features'][unit]}"
        if layer == len(dense):
            return "the output" if dense[-1].W.shape[1] == 1 else f"output {unit} (class {unit})"
        return f"layer {layer}, neuron {unit}"

    def _neuron_png(self, layer, unit):
        """PNG of one neuron's output over the plane (layer 0: a feature), NEURON_PX pixels a side."""
        pg, dense = self.pg, self.pg.dense_layers
        if layer == 0:
            values = pg.F_grid[:, unit]
            values = values / max(abs(values).max(), 1e-12)
        else:
            hidden, out = pg.hidden_outputs(pg.F_grid)
            values = (hidden + [out])[layer - 1][:, unit]
            if layer == len(dense):
                values = pg.output_values(out) if pg.classes == 2 else values / max(abs(values).max(), 1e-12)
        img = _diverging(values.reshape(pg.grid, pg.grid)[::-1])
        img = img.repeat(self.NEURON_PX // pg.grid + 1, axis=0).repeat(self.NEURON_PX // pg.grid + 1, axis=1)
        rgba = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
        return _encode_png(np.ascontiguousarray(rgba))

    def _neuron_view(self):
        """The enlarged neuron (the one under the mouse, else the selected one) and the selected
        neuron's weights, after each change."""
        pg, dense = self.pg, self.pg.dense_layers
        options = [(f"layer {i + 1}, neuron {u}" if i + 1 < len(dense) else f"output {u}", (i + 1, u))
                   for i, d in enumerate(dense) for u in range(d.W.shape[1])]
        if [o[1] for o in self.neuron.options] != [o[1] for o in options]:
            self.neuron.options = options
            if self.selected not in [o[1] for o in options]:
                self.selected = None
                self.weight_boxes.children = []
            self.hovered = None                   # the picture under the mouse has changed shape
        self.neuron.value = self.selected
        self.pictures.highlight = self.selected
        shown = self.hovered or self.selected
        if shown is None:
            # A blank picture, not empty bytes: an <img> of nothing is a broken image in a saved page.
            self.neuron_img.value = _encode_png(np.full((1, 1, 4), 255, np.uint8))
            self.neuron_caption.value = ""
            return
        self.neuron_img.value = self._neuron_png(*shown)
        if shown == self.selected:
            caption = f"<b>{self._describe(*shown)}</b>: its output over the plane; the weights into it:"
        elif shown[0] == 0:
            caption = f"<b>{self._describe(*shown)}</b> (under the mouse): an input, no weights into it"
        else:
            caption = f"<b>{self._describe(*shown)}</b> (under the mouse): click it to edit its weights"
        self.neuron_caption.value = f"<div style='line-height: 1.3'>{caption}</div>"
        if self.selected is None:
            return
        layer, unit = self.selected
        d = dense[layer - 1]
        for box, value in zip(self.weight_boxes.children, [*d.W[:, unit], np.ravel(d.b)[unit]]):
            box.value = round(float(value), 4)

    def _restore(self):
        if self.saved is None:
            raise ValueError("Nothing saved yet: press save state first.")
        self.pg.load_state_dict(self.saved)

    # --- from the playground to the widgets ---------------------------------------------------
    def update_play_button(self):
        playing = self.pg.playing
        self.play_btn.description = "pause" if playing else "play"
        self.play_btn.icon = "pause" if playing else "play"

    def _sync(self):
        """Set every control to the playground's settings (without calling back)."""
        pg, s = self.pg, self.pg.settings
        if s == self._synced:
            return
        self._syncing = True
        try:
            c = self.controls
            if list(c["dataset"].options) != DATASETS[s["problem"]]:
                c["dataset"].options = DATASETS[s["problem"]]
            for key, widget in c.items():
                if isinstance(widget, W.Dropdown) and s[key] not in widget.options:
                    widget.options = sorted({*widget.options, s[key]})   # a rate set from code
                if widget.value != s[key]:
                    widget.value = s[key]
            for name, box in self.features.items():
                box.value = name in s["features"]
            c["classes"].disabled = s["problem"] == "regression" or s["dataset"] not in MULTICLASS
            c["loss"].disabled = s["problem"] == "regression"
            c["reg_rate"].disabled = s["regularization"] == "none"
            hidden = s["hidden"]
            self.layers_label.value = f"{len(hidden)} hidden layer{'s' * (len(hidden) != 1)}"
            self.add_layer.disabled = len(hidden) >= MAX_LAYERS
            self.remove_layer.disabled = not hidden
            if self._synced is None or self._synced["hidden"] != hidden:
                self._neuron_controls(hidden)
            self.preset_note.value = f"<i>{pg.preset_note}</i>" if pg.preset_note else ""
            self._synced = {k: (list(v) if isinstance(v, list) else v) for k, v in s.items()}
        finally:
            self._syncing = False

    def _neuron_controls(self, hidden):
        """A + and a \u2212 button above each hidden layer's column of the network picture, as in the Playground."""
        groups, x = [], 0.0
        n_columns = len(hidden) + 2
        width = min(64, _Pictures.column_step(n_columns))          # a group never wider than a column
        for i, n in enumerate(hidden):
            plus = W.Button(icon="plus", tooltip=f"Add a neuron to layer {i + 1}", disabled=n >= MAX_NEURONS,
                            layout=W.Layout(width=f"{width // 2 - 1}px", padding="0"))
            minus = W.Button(icon="minus", tooltip=f"Remove a neuron from layer {i + 1}", disabled=n <= 1,
                             layout=W.Layout(width=f"{width // 2 - 1}px", padding="0"))
            plus.add_class(f"nnlib-pg-neuron-plus-{i + 1}")
            minus.add_class(f"nnlib-pg-neuron-minus-{i + 1}")
            plus.on_click(lambda _, i=i: self._call(self._neurons, i, +1))
            minus.on_click(lambda _, i=i: self._call(self._neurons, i, -1))
            left = round(_Pictures.column_centre(i + 1, n_columns) - width / 2 - x)
            groups.append(W.HBox([plus, minus], layout=W.Layout(width=f"{width}px", flex="0 0 auto",
                                                                margin=f"0 0 0 {left}px",
                                                                justify_content="space-between")))
            x += left + width
        for old in self.neuron_buttons.children:
            old.close()
        self.neuron_buttons.children = groups

    def redraw(self):
        pg = self.pg
        self._sync()
        self._syncing = True
        try:
            self._neuron_view()             # first: it sets the neuron the network picture frames
        finally:
            self._syncing = False
        images = self.pictures.render()
        self.loss_img.value = images["loss"]
        self.output_img.value = images["output"]
        self.network_img.value = images["network"]
        self.diagnostics_img.value = images["diagnostics"]
        self.epoch.value = f"<span style='font-size: 1.3em'>Epoch <b>{pg.epoch:07,d}</b></span>"
        text = f"Test loss <b>{pg.test_loss:.3f}</b> &middot; training loss <b>{pg.train_loss:.3f}</b>"
        if pg.settings["problem"] == "classification":
            text += f" &middot; test accuracy <b>{pg.accuracy():.0%}</b>"
        self.losses.value = text
        self.message.value = f"<span style='color: #b22222'>{pg.message}</span>" if pg.message else ""
        self.share.value = pg.share()
        self.legend.value = f"<div style='font-size: 0.9em; line-height: 1.5'>{legend_html(pg)}</div>"
        self.update_play_button()


_FEATURE_LABELS = {"x1": "x\u2081", "x2": "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
                   "x1*x2": "x\u2081x\u2082", "sin(x1)": "sin x\u2081", "sin(x2)": "sin x\u2082"}


def _css(name):
    return {"x1^2": "x1sq", "x2^2": "x2sq", "x1*x2": "x1x2", "sin(x1)": "sinx1", "sin(x2)": "sinx2"}.get(name, name)

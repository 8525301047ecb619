"""The playground's pictures: the output over the plane, the loss curves, the network, the diagnostics.

``_Pictures(pg).render()`` gives the PNG bytes of the app's figures for a playground's current
state; ``plot_output(pg)`` draws a static matplotlib figure of the output (``Playground.plot_output``).
matplotlib is imported on first use.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from ..activations import softmax
from .choices import DOMAIN

# --- pictures -------------------------------------------------------------------------------
# Drawn with matplotlib's Agg canvas and sent to the browser as PNG bytes in ipywidgets.Image.
# The artists are made once per network shape and only updated per frame (set_data and friends),
# so a frame costs a few milliseconds of drawing.
_WHITE = np.array([255.0, 255.0, 255.0], dtype=np.float32)
_NEG = np.array([232.0, 116.0, 59.0])      # orange: negative, class 0 (plot.CLASS_COLORS[0])
_POS = np.array([31.0, 119.0, 180.0])      # blue: positive, class 1 (plot.CLASS_COLORS[1])
_DNEG, _DPOS = (_NEG - _WHITE).astype(np.float32), (_POS - _WHITE).astype(np.float32)
_LABELS = {"x1": "$x_1$", "x2": "$x_2$", "x1^2": "$x_1^2$", "x2^2": "$x_2^2$", "x1*x2": "$x_1 x_2$",
           "sin(x1)": r"$\sin x_1$", "sin(x2)": r"$\sin x_2$"}


def _diverging(v):
    """Values in [-1, 1] -> RGB uint8: orange below 0, white at 0, blue above."""
    t = np.clip(v, -1.0, 1.0, dtype=np.float32)[..., None]
    if not np.isfinite(t).all():
        t = np.nan_to_num(t)                             # a diverged network is drawn white
    rgb = np.where(t < 0, _WHITE - _DNEG * t, _WHITE + _DPOS * t)
    return rgb.astype(np.uint8)


NETWORK_WIDTH_INCHES = 4.6       # the network figure at 80 dpi: _Pictures.NETWORK_WIDTH pixels
SHADES = 32          # the output's colour steps (the TensorFlow Playground has 30): smaller, faster PNGs
# The output's colours go from white only SURFACE of the way to the class colours, as in the TensorFlow
# Playground: the points keep the full colours and stay visible where the network is sure and right.
SURFACE = 0.6
_LEVELS = _diverging(SURFACE * np.linspace(-1.0, 1.0, SHADES))
_ZERO = np.array([200.0, 200.0, 200.0])    # light grey: a weight of 0


def _weight_rgb(w):
    """A weight's line colour: grey at 0, towards blue (+) or orange (\u2212) with sqrt|w|, full from |w| = 1.

    As the TensorFlow Playground's continuous scale: weights that L1 holds at or near 0 fade to grey
    instead of flickering between thin blue and thin orange lines."""
    w = np.nan_to_num(np.asarray(w, dtype=float))
    t = np.sqrt(np.minimum(np.abs(w), 1.0))[:, None]
    return _ZERO + (np.where((w >= 0)[:, None], _POS, _NEG) - _ZERO) * t


def _class_rgb():
    from ..plot import CLASS_COLORS

    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in CLASS_COLORS], dtype=float)


def _tint(color, strength):
    """White blended towards color (an RGB row, or one row per pixel) by strength in [0, 1]."""
    return (_WHITE + (color - _WHITE) * np.clip(strength, 0, 1)[..., None]).astype(np.uint8)


class _Blit:
    """A figure drawn once in full, then per frame only its animated artists over the saved background.

    This is matplotlib's blitting, on the Agg canvas: axes, ticks and labels cost most of a
    full draw and change rarely; invalidate() asks for a full draw when they do.
    """

    def __init__(self, fig):
        self.fig, self.artists, self.background, self.limits = fig, [], None, None

    def animate(self, *artists):
        for artist in artists:
            artist.set_animated(True)
            self.artists.append(artist)

    def reset(self):
        self.fig.clear()
        self.artists, self.background, self.limits = [], None, None

    def set_limits(self, key, apply):
        """Call apply() (which changes axis limits) and redraw in full only when key is new."""
        if key != self.limits:
            apply()
            self.limits, self.background = key, None

    def png(self, paint=None):
        """The figure as PNG bytes. paint(buffer) may write pixels into the (height, width, 4) buffer
        before the animated artists are drawn over it."""
        canvas = self.fig.canvas
        if self.background is None:
            canvas.draw()
            self.background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self.background)
        buffer = np.asarray(canvas.buffer_rgba())
        if paint is not None:
            paint(buffer)
        for artist in self.artists:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return _encode_png(buffer)


def _encode_png(rgba):
    """RGBA uint8 (height, width, 4) -> PNG bytes: no row filters and zlib level 1, a few ms
    (Pillow's adaptive filters take four times as long; copying whole RGBA rows beats picking out RGB)."""
    h, w, _ = rgba.shape
    raw = np.zeros((h, 4 * w + 1), np.uint8)          # each row: filter byte 0, then the pixels
    raw[:, 1:].reshape(h, w, 4)[...] = rgba

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def _pixel_box(fig, ax, inset=1):
    """Rows and columns of the figure's pixel buffer inside ax (top row first), inset pixels inside the frame."""
    x0, y0, x1, y1 = ax.get_window_extent().extents
    height = int(round(fig.bbox.height))
    return (int(np.ceil(height - y1)) + inset, int(np.floor(height - y0)) - inset,
            int(np.ceil(x0)) + inset, int(np.floor(x1)) - inset)


def _resize_weights(n_out, n_in):
    """Indices and weights of linear interpolation from n_in to n_out samples: v[lo] * (1 - f) + v[hi] * f."""
    pos = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(pos).astype(int)
    return lo, np.minimum(lo + 1, n_in - 1), (pos - lo).astype(np.float32)


def _bilinear(img, rows, cols):
    """Resize an (h, w, 3) image with the weights of _resize_weights for its rows and columns.

    (Plain indexing, no matrix product: a BLAS call spends longer starting its threads on a busy machine.)
    """
    lo, hi, f = rows
    img = img[lo] * (1 - f)[:, None, None] + img[hi] * f[:, None, None]
    lo, hi, f = cols
    return img[:, lo] * (1 - f)[None, :, None] + img[:, hi] * f[None, :, None]


def _nice_ceiling(x):
    """The smallest of 1, 2, 5 times a power of ten that is >= x (for axis limits that rarely change)."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(x))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= x * (1 - 1e-12))


class _Pictures:
    """The three figures: output (loss curves and decision surface), network, diagnostics.

    The surface and the neurons' squares are numpy pixels painted straight into the figure's
    buffer; matplotlib draws the rest (axes once, points, lines and bars every frame).
    """

    SQUARE, PITCH, LEFT, TOP = 26, 33, 60, 46
    NETWORK_WIDTH = 368                        # pixels of the network figure (4.6 inches at 80 dpi)

    @classmethod
    def column_step(cls, n_columns, width=NETWORK_WIDTH - 8):
        """Pixels from one column of neurons to the next in the network's axes (width pixels wide)."""
        return min(110, (width - cls.LEFT - cls.SQUARE - 8) // (n_columns - 1))

    @classmethod
    def column_centre(cls, i, n_columns):
        """x of the centre of column i (0: the features) in pixels of the network figure (its axes start at 4)."""
        return 4 + cls.LEFT + i * cls.column_step(n_columns) + cls.SQUARE / 2

    def __init__(self, pg, dpi=80):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.pg = pg
        self.blits = {}
        for name, size in (("loss", (4.4, 1.9)), ("output", (4.4, 4.4)), ("network", (NETWORK_WIDTH_INCHES, 4.4)),
                           ("diagnostics", (6.6, 2.5))):
            fig = Figure(figsize=size, dpi=dpi)
            FigureCanvasAgg(fig)
            self.blits[name] = _Blit(fig)
        self.shape_key = self.data_key = None
        self.highlight = None                  # (layer, unit) drawn with a thick frame in the network

    # the output: the surface the network draws over the plane, and the loss curves
    def _surface_rgb(self, out):
        """(grid*grid, 3) colours of the output over the plane."""
        pg = self.pg
        values = pg.output_values(out)
        if pg.classes > 2:
            cls, conf = values
            k = pg.classes
            strength = np.ones(conf.shape) if pg.settings["discretize"] else (conf - 1 / k) / (1 - 1 / k)
            return _tint(_class_rgb()[cls], SURFACE * strength)
        return _diverging(SURFACE * (np.where(values >= 0, 1.0, -1.0) if pg.settings["discretize"] else values))

    def _point_colors(self, y):
        pg = self.pg
        if pg.settings["problem"] == "regression":
            return _diverging(y) / 255.0
        return _class_rgb()[y] / 255.0 if pg.classes > 2 else np.where((y == 1)[:, None], _POS, _NEG) / 255.0

    def _setup_output(self):
        pg, blit = self.pg, self.blits["output"]
        blit.reset()
        fig = blit.fig
        ax = fig.add_axes([0.14, 0.1, 0.82, 0.82])
        kw = dict(s=14, linewidths=0.6)
        self.train_pts = ax.scatter(pg.X_train[:, 0], pg.X_train[:, 1], c=self._point_colors(pg.y_train),
                                    edgecolors="white", **kw)
        self.test_pts = ax.scatter(pg.X_test[:, 0], pg.X_test[:, 1], c=self._point_colors(pg.y_test),
                                   edgecolors="black", **kw)
        ax.set_xlim(-DOMAIN, DOMAIN)
        ax.set_ylim(-DOMAIN, DOMAIN)
        ax.set_xlabel("$x_1$", fontsize=9)
        ax.set_ylabel("$x_2$", fontsize=9)
        ax.set_title("Output over the plane, with the data", fontsize=10)
        ax.tick_params(labelsize=8)
        fig.canvas.draw()                      # fixes the axes' place, in pixels
        self.surface_box = r0, r1, c0, c1 = _pixel_box(fig, ax)
        lo, hi, f = _resize_weights(r1 - r0, pg.grid)
        self.rows = (lo[::-1], hi[::-1], f[::-1])              # top row of pixels is the largest x2
        self.cols = _resize_weights(c1 - c0, pg.grid)
        blit.animate(self.train_pts, self.test_pts)

    def _setup_loss(self):
        blit = self.blits["loss"]
        blit.reset()
        ax = blit.fig.add_axes([0.14, 0.25, 0.82, 0.62])
        self.train_line, = ax.plot([], [], color="#888888", lw=1.5, label="training")
        self.test_line, = ax.plot([], [], color="#222222", lw=1.5, label="test")
        ax.set_xlabel("epoch", fontsize=9)
        ax.set_ylabel("loss", fontsize=9)
        ax.set_title("Loss on the training and test points", fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        ax.tick_params(labelsize=8)
        self.loss_ax = ax
        blit.animate(self.train_line, self.test_line)

    def draw_output(self, out_grid):
        pg, blit, n = self.pg, self.blits["output"], self.pg.grid
        r0, r1, c0, c1 = self.surface_box
        if pg.classes > 2:                    # class colours: interpolate the colours
            rgb = self._surface_rgb(out_grid).reshape(n, n, 3).astype(np.float32)
            surface = _bilinear(rgb, self.rows, self.cols)
        else:                                 # one number per point: interpolate it, then colour it
            values = pg.output_values(out_grid).reshape(n, n, 1).astype(np.float32)
            if pg.settings["discretize"]:
                values = np.where(values >= 0, 1.0, -1.0).astype(np.float32)
            level = _bilinear(np.nan_to_num(values), self.rows, self.cols)[..., 0]
            surface = _LEVELS[np.clip((level + 1.0) * (SHADES / 2), 0, SHADES - 1).astype(np.uint8)]
        self.test_pts.set_visible(bool(pg.settings["show_test"]))

        def paint(buffer):
            buffer[r0:r1, c0:c1, :3] = surface

        return blit.png(paint)

    def draw_loss(self):
        pg, blit = self.pg, self.blits["loss"]
        epochs = np.arange(len(pg.history["train_loss"]))
        train, test = np.asarray(pg.history["train_loss"]), np.asarray(pg.history["test_loss"])
        self.train_line.set_data(epochs, train)
        self.test_line.set_data(epochs, test)
        finite = np.concatenate([train, test])
        finite = finite[np.isfinite(finite)]
        right = max(10, int(2 ** np.ceil(np.log2(max(epochs[-1], 1)))))
        top = _nice_ceiling(float(finite.max()) if finite.size else 1.0)

        def limits():
            self.loss_ax.set_xlim(0, right)
            self.loss_ax.set_ylim(0, top)

        blit.set_limits((right, top), limits)
        return blit.png()

    # the network: every neuron's output over the plane, every weight a line
    def _columns(self):
        pg = self.pg
        return [len(pg.settings["features"])] + list(pg.settings["hidden"]) + [pg.dense_layers[-1].out_features]

    def _node_xy(self, i, j, n):
        """Top-left corner, in pixels of the network's axes, of neuron j of n in column i."""
        return (self.LEFT + i * self.column,
                self.top + self.TOP + int((self.rows_max - n) * self.PITCH / 2) + j * self.PITCH)

    def _setup_network(self):
        from matplotlib.collections import LineCollection

        pg, blit, cols, S = self.pg, self.blits["network"], self._columns(), self.SQUARE
        blit.reset()
        fig = blit.fig
        W, H = int(fig.bbox.width), int(fig.bbox.height)
        width, height = W - 8, H - 40                           # the axes, in whole pixels
        ax = fig.add_axes([4 / W, 4 / H, width / W, height / H])
        self.rows_max = max(cols)
        self.column = self.column_step(len(cols), width)
        self.top = max(0, (height - self.TOP - self.rows_max * self.PITCH) // 3)    # centre short networks
        segments = []
        for layer_i, layer in enumerate(pg.dense_layers):
            n_in, n_out = layer.W.shape
            for a in range(n_in):
                xa, ya = self._node_xy(layer_i, a, n_in)
                for b in range(n_out):
                    xb, yb = self._node_xy(layer_i + 1, b, n_out)
                    segments.append([(xa + S, ya + S / 2), (xb, yb + S / 2)])
        self.lines = LineCollection(segments)
        ax.add_collection(self.lines)
        for j, name in enumerate(pg.settings["features"]):
            x, y = self._node_xy(0, j, cols[0])
            ax.text(x - 6, y + S / 2, _LABELS[name], ha="right", va="center", fontsize=9)
        if self.column >= 56:
            heads = ["features"] + [f"layer {i + 1}\n{n} neuron{'s' * (n > 1)}" for i, n in enumerate(cols[1:-1])] \
                + ["output" if cols[-1] == 1 else f"output\n{cols[-1]} classes"]
        else:                                # narrow columns: short heads that do not run together
            heads = ["in"] + [f"L{i + 1}\n{n}" for i, n in enumerate(cols[1:-1])] \
                + ["out" if cols[-1] == 1 else f"out\n{cols[-1]}"]
        for i, head in enumerate(heads):
            ax.text(self.LEFT + i * self.column + S / 2, self.top + 4, head, ha="center", va="top", fontsize=8)
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        fig.suptitle("The network: each square is a neuron's output over the plane,\n"
                     "each line a weight (width and colour: its size; blue +, orange \u2212, grey 0)", fontsize=9, y=0.985)
        self.net_origin = (H - 4 - height, 4)                   # buffer row and column of the axes' corner
        blit.animate(self.lines)

    def neuron_at(self, x, y):
        """(layer, unit) of the neuron whose square holds pixel (x, y) of the network figure (from its
        top-left corner, as the browser reports a click on the image), or None between the squares.

        Layer 0 is the features, 1 the first hidden layer, the last the output layer; a few pixels
        around each square count as the square (half the gap to its neighbours)."""
        if self.shape_key is None:
            return None
        top, left = self.net_origin
        cols, margin = self._columns(), (self.PITCH - self.SQUARE) // 2
        for i, n in enumerate(cols):
            for j in range(n):
                nx, ny = self._node_xy(i, j, n)
                if (left + nx - margin <= x < left + nx + self.SQUARE + margin
                        and top + ny - margin <= y < top + ny + self.SQUARE + margin):
                    return i, j
        return None

    def draw_network(self, hidden, out_grid):
        pg, S, n = self.pg, self.SQUARE, self.pg.grid
        idx = np.arange(S) * n // S
        cols = self._columns()

        def square(values):                  # (grid*grid,) or (grid*grid, 3) -> (S, S[, 3]), x2 upwards
            return values.reshape(n, n, *values.shape[1:])[idx][:, idx][::-1]

        F = pg.F_grid
        maps = [[_diverging(square(F[:, j]) / max(np.abs(F[:, j]).max(), 1e-12)) for j in range(F.shape[1])]]
        maps += [[_diverging(square(h[:, j])) for j in range(h.shape[1])] for h in hidden]
        if cols[-1] == 1:
            maps.append([square(self._surface_rgb(out_grid))])
        else:
            p = softmax(out_grid if pg.settings["loss"] == "cross-entropy" else 4.0 * out_grid, axis=1)
            colors = _class_rgb()
            maps.append([square(_tint(colors[c], p[:, c])) for c in range(cols[-1])])
        w = np.concatenate([layer.W.ravel() for layer in pg.dense_layers])
        self.lines.set_linewidths(0.3 + 1.2 * np.minimum(np.abs(np.nan_to_num(w)), 3.0))
        self.lines.set_colors(_weight_rgb(w) / 255.0)
        top, left = self.net_origin

        def paint(buffer):
            for i, column in enumerate(maps):
                for j, img in enumerate(column):
                    x, y = self._node_xy(i, j, len(column))
                    r, c = top + y, left + x
                    if (i, j) == self.highlight:         # the neuron the app enlarges: a thick black frame
                        buffer[r - 3:r + S + 3, c - 3:c + S + 3, :3] = 0
                    else:
                        buffer[r - 1:r + S + 1, c - 1:c + S + 1, :3] = 190      # a thin grey frame
                    buffer[r:r + S, c:c + S, :3] = img

        return self.blits["network"].png(paint)

    # diagnostics: gradient norm per layer and dead units per hidden layer
    def _setup_diagnostics(self):
        pg, blit = self.pg, self.blits["diagnostics"]
        blit.reset()
        fig = blit.fig
        left, right = fig.subplots(1, 2, width_ratios=[1.3, 1])
        fig.subplots_adjust(left=0.11, right=0.98, top=0.86, bottom=0.2, wspace=0.32)
        n = len(pg.dense_layers)
        names = [str(i + 1) for i in range(n - 1)] + ["out"]
        self.grad_bars = left.bar(names, np.ones(n), color="#1f77b4")
        left.set_yscale("log")
        left.set_xlabel("layer (the weights into it)", fontsize=8)
        left.set_ylabel("||dL/dW||, epoch mean", fontsize=8)
        left.set_title("Gradient norm per layer", fontsize=9)
        hidden = len(pg.settings["hidden"])
        self.dead_bars = right.bar([str(i + 1) for i in range(hidden)] or ["none"], np.zeros(max(hidden, 1)),
                                   color="#e8743b")
        right.set_ylim(0, 1)
        right.set_xlabel("hidden layer", fontsize=8)
        if pg.settings["activation"] in ("sigmoid", "tanh"):
            right.set_ylabel("fraction of outputs\nwith slope < 1% of max", fontsize=7)
            right.set_title(f"Saturated {pg.settings['activation']} outputs", fontsize=9)
        else:
            right.set_ylabel("fraction of units\noutputting 0 everywhere", fontsize=7)
            right.set_title("Dead ReLU units per hidden layer", fontsize=9)
        for ax in (left, right):
            ax.tick_params(labelsize=7)
        self.grad_ax = left
        # an exact zero has no place on a log axis: say it in words instead of drawing nothing
        self.zero_labels = [left.text(bar.get_x() + bar.get_width() / 2, 0.04, "", rotation=90, fontsize=7,
                                      ha="center", va="bottom", color="#b22222", transform=left.get_xaxis_transform())
                            for bar in self.grad_bars]
        blit.animate(*self.grad_bars, *self.dead_bars, *self.zero_labels)

    def draw_diagnostics(self):
        pg, blit = self.pg, self.blits["diagnostics"]
        norms = np.maximum(np.nan_to_num(pg.grad_norms, nan=1e-12, posinf=1e12), 1e-12)
        for bar, label, value, raw in zip(self.grad_bars, self.zero_labels, norms, np.asarray(pg.grad_norms)):
            bar.set_height(value)
            label.set_text("0, no gradient" if raw == 0 and pg.epoch > 0 else "")
        low = min(1e-6, 10 ** np.floor(np.log10(norms.min())))
        high = max(10.0, 10 ** np.ceil(np.log10(norms.max())))
        blit.set_limits((low, high), lambda: self.grad_ax.set_ylim(low, high))
        for bar, value in zip(self.dead_bars, self.dead):
            bar.set_height(value)
        return blit.png()

    def render(self):
        """PNG bytes of the three figures for the current state."""
        pg = self.pg
        shape_key = (tuple(pg.settings["features"]), tuple(pg.settings["hidden"]), pg.classes, id(pg.model))
        data_key = (id(pg.X_train), pg.classes)
        if data_key != self.data_key:
            self._setup_output()
            self._setup_loss()
            self.data_key = data_key
        if shape_key != self.shape_key:
            self._setup_network()
            self._setup_diagnostics()
            self.shape_key = shape_key
        hidden, out_grid = pg.hidden_outputs(pg.F_grid)
        self.dead = pg.saturation() if pg.settings["activation"] in ("sigmoid", "tanh") else pg.dead_fraction()
        return {"loss": self.draw_loss(), "output": self.draw_output(out_grid),
                "network": self.draw_network(hidden, out_grid),
                "diagnostics": self.draw_diagnostics()}


# --- a static figure (for readers without a kernel) -----------------------------------------
def plot_output(pg, ax=None, *, title=None, show_test=None):
    """A static matplotlib figure of the output over the plane with the data (for readers without a kernel)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    pictures = _Pictures.__new__(_Pictures)       # only its colour rules, no figures
    pictures.pg = pg
    with np.errstate(over="ignore", invalid="ignore"):
        _, out = pg.hidden_outputs(pg.F_grid)
    rgb = pictures._surface_rgb(out).reshape(pg.grid, pg.grid, 3)
    ax.imshow(rgb, origin="lower", extent=(-DOMAIN, DOMAIN, -DOMAIN, DOMAIN), interpolation="bilinear")
    test = pg.settings["show_test"] if show_test is None else show_test
    sets = [(pg.X_train, pg.y_train, "white")] + ([(pg.X_test, pg.y_test, "black")] if test else [])
    for X, y, edge in sets:
        ax.scatter(X[:, 0], X[:, 1], c=pictures._point_colors(y), edgecolors=edge, s=12, linewidths=0.5)
    ax.set_xlim(-DOMAIN, DOMAIN)
    ax.set_ylim(-DOMAIN, DOMAIN)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"Epoch {pg.epoch}: test loss {pg.test_loss:.3f}")
    return ax


# --- the output's colour legend -------------------------------------------------------------
def _swatch(rgb):
    r, g, b = (int(v) for v in rgb)
    return (f"<span style='display:inline-block;width:12px;height:12px;vertical-align:middle;"
            f"border:1px solid #999;background:rgb({r},{g},{b})'></span>")


def _item(swatch, text):
    return f"<span style='white-space: nowrap'>{swatch}&nbsp;{text}</span>"


def legend_html(pg):
    """What the output's colours mean, as HTML for the app (it follows problem, loss, classes, discretize)."""
    s = pg.settings
    shade = ("discretized: only the colour of the side shown" if s["discretize"]
             else "the deeper the shade, the surer the network; white: undecided")
    if pg.classes > 2:
        colours = _class_rgb()
        items = " ".join(_item(_swatch(colours[c]), f"class&nbsp;{c}") for c in range(pg.classes))
        return f"{items}<br>the colour of the most probable class; {shade}"
    neg, pos = _swatch(_NEG), _swatch(_POS)
    if s["problem"] == "regression":
        return (f"{_item(neg, 'output &lt; 0')} &nbsp; {_item(_swatch(_WHITE), '0')} &nbsp; {_item(pos, 'output &gt; 0')}"
                f"<br>points: the target, same colours; full colour at |value| &ge; 1")
    if s["loss"] == "cross-entropy":
        middle = "p(class 1) = 0.5"
        ends = "class 0 (p &rarr; 0)", "class 1 (p &rarr; 1)"
    else:
        middle = "output 0"
        ends = "class 0 (output &lt; 0)", "class 1 (output &gt; 0)"
    return (f"{_item(neg, ends[0])} &nbsp; {_item(_swatch(_WHITE), middle)} &nbsp; {_item(pos, ends[1])}"
            f"<br>{shade}")

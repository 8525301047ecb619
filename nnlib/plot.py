"""Figures the chapters draw again and again (matplotlib, imported on use).

Every function takes an optional ``ax`` to draw into (a new figure otherwise)
and returns the Axes, so a chapter can lay several side by side.
"""
from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax

__all__ = ["draw_network", "decision_boundary", "loss_curve", "scatter", "regression_fit", "loss_surface", "CLASS_COLORS"]

CLASS_COLORS = ["#e8743b", "#1f77b4", "#19a979", "#945ecf", "#ed4a7b", "#13a4b4", "#525df4", "#bf399e"]


def _axes(ax, figsize=(5, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def scatter(X, y, ax=None, *, title=None, marker="o", alpha=0.9, s=18, edge="white"):
    """The points of a 2-D data set coloured by class."""
    ax = _axes(ax)
    X, y = np.asarray(X), np.asarray(y)
    labels = y.reshape(-1).astype(int) if y.ndim <= 1 or y.shape[-1] == 1 else y.argmax(axis=1)
    for k in np.unique(labels):
        pts = X[labels == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=s, c=CLASS_COLORS[k % len(CLASS_COLORS)], marker=marker,
                   edgecolors=edge, linewidths=0.5, alpha=alpha, label=f"class {k}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def _grid(X, resolution, margin=0.25):
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy, np.column_stack([gx.ravel(), gy.ravel()])


def decision_boundary(model, X, y, ax=None, *, title=None, resolution=150, features=None, show_points=True,
                      legend=False):
    """Shade the plane by the model's prediction and draw the data on top.

    model: a Sequential, or any function mapping (n, 2) points to outputs.
    One output column is read as a logit (shaded by its probability, boundary
    at 0.5); several columns as class scores (shaded by the predicted class).
    features: optional function turning the (n, 2) grid into the model's inputs.
    legend: True to name each class's colour ("class 0", "class 1", ...) in a legend.
    """
    from matplotlib.colors import ListedColormap, LinearSegmentedColormap

    ax = _axes(ax)
    X = np.asarray(X)
    gx, gy, pts = _grid(X, resolution)
    inputs = features(pts) if features is not None else pts
    f = model.predict if hasattr(model, "predict") else model
    out = np.asarray(f(inputs), dtype=np.float64)
    if out.ndim == 1 or out.shape[1] == 1:
        prob = sigmoid(out.reshape(-1)).reshape(gx.shape)
        cmap = LinearSegmentedColormap.from_list("two", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])
        ax.contourf(gx, gy, prob, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.6)
        ax.contour(gx, gy, prob, levels=[0.5], colors="k", linewidths=1.2)
    else:
        k = out.shape[1]
        cls = out.argmax(axis=1).reshape(gx.shape)
        conf = softmax(out, axis=1).max(axis=1).reshape(gx.shape)
        cmap = ListedColormap(CLASS_COLORS[:k])
        ax.imshow(cls, origin="lower", extent=(gx.min(), gx.max(), gy.min(), gy.max()), cmap=cmap,
                  vmin=-0.5, vmax=k - 0.5, alpha=0.15 + 0.25 * float(conf.mean()), aspect="auto",
                  interpolation="nearest")
        ax.contour(gx, gy, cls, levels=np.arange(k) + 0.5, colors="k", linewidths=0.8)
    if show_points:
        scatter(X, y, ax=ax)
        if legend:
            ax.legend(loc="upper right", fontsize=9, framealpha=0.85, handletextpad=0.2, borderpad=0.3)
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def loss_curve(history, ax=None, *, keys=None, title="Loss during training", log=False):
    """Plot per-epoch values from a History (or a dict of lists)."""
    ax = _axes(ax)
    hist = getattr(history, "history", history)
    keys = keys or [k for k in ("loss", "val_loss") if k in hist]
    for key in keys:
        values = hist[key]
        ax.plot(np.arange(1, len(values) + 1), values, label=key.replace("val_", "validation "))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" if all("loss" in k for k in keys) else "value")
    if log:
        ax.set_yscale("log")
    ax.set_title(title)
    if len(keys) > 1:
        ax.legend()
    return ax


def draw_network(layer_sizes, ax=None, *, weights=None, labels=None, title=None, node_colors=None,
                 layer_names=None, highlight=None, node_images=None):
    """Draw a network as a graph: a column of circles per layer, a line per weight.

    layer_sizes: e.g. [3, 1] for a linear model with three inputs.
    weights: optional list of (n_in, n_out) matrices; each line's width and
    colour then show its weight (blue positive, orange negative).
    labels: optional list of lists of strings written in the nodes.
    highlight: optional (layer, node) to ring in red.
    node_images: optional list (one entry per layer, None to skip a layer) of arrays of shape
    (units, rows, cols): each unit's output over the input plane, drawn inside its node as a
    small picture (as the playground does), blue positive, orange negative.
    """
    ax = _axes(ax, figsize=(1.8 * len(layer_sizes) + 1, 3.2))
    n_layers = len(layer_sizes)
    tallest = max(layer_sizes)
    pos = []
    spacing = 1.0 if tallest < 8 else 7.0 / tallest
    radius = min(0.22, 0.4 * spacing)          # neighbours never touch, however many units
    for i, n in enumerate(layer_sizes):
        ys = (np.arange(n) - (n - 1) / 2) * spacing
        pos.append([(float(i), float(y)) for y in ys[::-1]])
    wmax = max((np.abs(w).max() for w in weights), default=1.0) if weights else 1.0
    for i in range(n_layers - 1):
        for a, (x0, y0) in enumerate(pos[i]):
            for b, (x1, y1) in enumerate(pos[i + 1]):
                if weights is not None:
                    w = float(weights[i][a, b])
                    color = "#1f77b4" if w >= 0 else "#e8743b"
                    width = (0.4 + 3.5 * abs(w) / (wmax or 1.0)) * min(1.0, 6.0 / tallest)   # thinner when crowded
                else:
                    color, width = "#999999", 1.0
                ax.plot([x0, x1], [y0, y1], color=color, lw=width, zorder=1)
    default_colors = ["#9ecae1"] + ["#fdd49e"] * (n_layers - 2) + ["#a1d99b"]
    colors = node_colors or default_colors
    for i, layer in enumerate(pos):
        for j, (x, y) in enumerate(layer):
            edge = "red" if highlight == (i, j) else "#333333"
            circle = ax.add_patch(_circle((x, y), radius, colors[i % len(colors)], edge,
                                          2.5 if highlight == (i, j) else 1.0))
            if node_images is not None and i < len(node_images) and node_images[i] is not None:
                img = np.asarray(node_images[i][j], dtype=float)
                top = np.abs(img).max() or 1.0
                shown = ax.imshow(img, origin="lower", cmap=_SIGNED_CMAP, vmin=-top, vmax=top, zorder=2.5,
                                  extent=(x - radius, x + radius, y - radius, y + radius), interpolation="bilinear")
                shown.set_clip_path(circle)
            if labels is not None and labels[i] is not None and j < len(labels[i]):
                ax.text(x, y, labels[i][j], ha="center", va="center", fontsize=9, zorder=3)
    if layer_names is None:            # short names when many columns share the width
        hidden = "h{}" if n_layers > 3 else "hidden {}"
        layer_names = ["input"] + [hidden.format(k) for k in range(1, n_layers - 1)] + ["output"]
    low = min(y for layer in pos for _, y in layer)
    for i, name in enumerate(layer_names):
        ax.text(i, low - 0.55, name, ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.5, n_layers - 0.5)
    ax.set_ylim(low - 0.9, -low + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def _signed_cmap():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("signed", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])


_SIGNED_CMAP = _signed_cmap()


def _circle(xy, r, face, edge, lw):
    from matplotlib.patches import Circle

    return Circle(xy, r, facecolor=face, edgecolor=edge, lw=lw, zorder=2)


def regression_fit(X, y, w, b, ax=None, *, title=None, residuals=True):
    """1-D data with the line y' = w x + b, the residuals as thin segments, MSE in the title."""
    ax = _axes(ax)
    x = np.asarray(X).reshape(-1)
    y = np.asarray(y).reshape(-1)
    pred = w * x + b
    if residuals:
        ax.vlines(x, np.minimum(y, pred), np.maximum(y, pred), color="#d62728", lw=0.6, alpha=0.6)
    ax.scatter(x, y, s=14, c=CLASS_COLORS[1], label="data")
    grid = np.linspace(x.min() - 0.1, x.max() + 0.1, 2)
    ax.plot(grid, w * grid + b, c="k", lw=2, label=f"$\\hat y$ = {w:.2f} x + {b:.2f}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(title or f"MSE = {np.mean((pred - y) ** 2):.3f}")
    return ax


def loss_surface(loss_fn, w_range, b_range, ax=None, *, path=None, point=None, resolution=80,
                 title="Loss over the two parameters", xlabel="w", ylabel="b", log=True,
                 path_label="gradient descent"):
    """Contours of loss_fn(w, b) over a grid; optional path (list of (w, b)) and current point.

    loss_fn must accept arrays of w and b (broadcasting) or is called per grid point.
    path_label names the path in the legend (e.g. the optimizer that took it).
    """
    ax = _axes(ax)
    ws = np.linspace(*w_range, resolution)
    bs = np.linspace(*b_range, resolution)
    gw, gb = np.meshgrid(ws, bs)
    try:
        Z = np.asarray(loss_fn(gw, gb), dtype=float)
        if Z.shape != gw.shape:
            raise ValueError
    except (ValueError, TypeError):
        Z = np.vectorize(loss_fn)(gw, gb)
    levels = np.geomspace(max(Z.min(), 1e-6), Z.max(), 20) if log else 20
    cs = ax.contour(gw, gb, Z, levels=levels, cmap="viridis", linewidths=0.8)
    ax.figure.colorbar(cs, ax=ax, label="loss")
    if path is not None and len(path):
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], "-o", c="#d62728", ms=3, lw=1.2, label=path_label)
        ax.legend(loc="upper right", fontsize=9)
    if point is not None:
        ax.plot([point[0]], [point[1]], "o", c="#d62728", ms=9, mec="k")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


# --- computation graphs of nnlib.autograd Values (chapter 5) ------------------------------------

GRAPH_COLORS = {"input": "#9ecae1", "op": "#fdd49e", "root": "#a1d99b"}


def _graph_layout(order):
    """Column and row of every node: a node one column right of its last child, an input just
    left of its first use; rows ordered so that edges cross little."""
    parents = {id(v): [] for v in order}
    for v in order:
        for c in v.children:
            parents[id(c)].append(v)
    col = {}
    for v in order:                                   # children come first in topological order
        col[id(v)] = 1 + max((col[id(c)] for c in v.children), default=-1)
    for v in order:
        if not v.children and parents[id(v)]:
            col[id(v)] = min(col[id(p)] for p in parents[id(v)]) - 1
    columns = {}
    for v in order:
        columns.setdefault(col[id(v)], []).append(v)
    row = {}
    for nodes in columns.values():
        for i, v in enumerate(nodes):
            row[id(v)] = i - (len(nodes) - 1) / 2
    for _ in range(6):                                # barycentre sweeps: sort each column by its neighbours
        for c in sorted(columns):
            nodes = columns[c]
            def key(v):
                near = [row[id(u)] for u in (*v.children, *parents[id(v)])]
                return sum(near) / len(near) if near else row[id(v)]
            nodes.sort(key=key)
            for i, v in enumerate(nodes):
                row[id(v)] = i - (len(nodes) - 1) / 2
    return col, row, parents


def _number(x):
    if x is None:
        return "?"
    return f"{x:.3f}" if x == 0 or 1e-3 <= abs(x) < 1e4 else f"{x:.2e}"


def draw_graph(root, ax=None, *, data=True, grads=True, highlight=None, title=None, local_grads=False,
               fontsize=9, vertical=False):
    """Draw the computation graph of an nnlib.autograd Value: a box per Value, an arrow per use.

    Each box shows the Value's label (or the operation that made it), its data and its grad.
    data, grads: True shows v.data / v.grad, False leaves them out, and a dict {Value: number or None}
    shows those numbers instead ("?" for None or a Value missing from it), e.g. the state in the
    middle of a forward or backward pass.
    highlight: a Value, or a list of them, to ring in red (the node being computed).
    local_grads: write each arrow's local derivative d(parent)/d(child) beside it.
    Inputs are blue, operations orange, the root green. Needs only matplotlib (no graphviz).
    vertical: the forward pass runs top to bottom instead of left to right (a graph with many
    steps then stays narrow enough for a notebook cell).
    """
    from matplotlib.patches import FancyBboxPatch

    from .autograd import Value, topological_order

    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be an nnlib.autograd.Value, got {type(root).__name__}")
    order = topological_order(root)
    col, row, _ = _graph_layout(order)
    n_cols = max(col.values()) - min(col.values()) + 1
    n_rows = max(sum(1 for v in order if col[id(v)] == c) for c in set(col.values()))
    width, height = 1.05, 0.42 + 0.14 * ((data is not False) + (grads is not False))
    dx = 1.8 if local_grads else 1.45
    if vertical:
        dx, dy = 0.62 + 0.18 * (data is not False) + 0.18 * (grads is not False), 1.3
        ax = _axes(ax, figsize=(dy * n_rows + 0.6, dx * n_cols + 1.0))
    else:
        ax = _axes(ax, figsize=(dx * n_cols + 0.6, 0.62 * n_rows + 1.0))
    marked = set()
    if highlight is not None:
        marked = {id(v) for v in (highlight if isinstance(highlight, (list, tuple, set)) else [highlight])}

    def pos(v):
        if vertical:
            return (row[id(v)] * 1.3, -col[id(v)] * dx)
        return (col[id(v)] * dx, -row[id(v)])

    def shown(spec, v, attr):
        if spec is True:
            return getattr(v, attr)
        return spec.get(v) if isinstance(spec, dict) else None

    for v in order:                                   # arrows first, under the boxes
        x1, y1 = pos(v)
        for c, local in zip(v.children, v.local_grads):
            x0, y0 = pos(c)
            lit = id(v) in marked
            head, tail = ((x1, y1 + height / 2), (x0, y0 - height / 2)) if vertical else \
                ((x1 - width / 2, y1), (x0 + width / 2, y0))
            ax.annotate("", xy=head, xytext=tail, zorder=1,
                        arrowprops=dict(arrowstyle="-|>", lw=1.6 if lit else 0.8, shrinkA=0, shrinkB=0,
                                        color="#d62728" if lit else "#777777"))
            if local_grads:
                tx, ty = (tail[0] + head[0]) / 2, (tail[1] + head[1]) / 2
                ax.text(tx, ty, _number(local), fontsize=fontsize, color="#444444", ha="center",
                        va="center", zorder=4, bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.85))
    for v in order:
        x, y = pos(v)
        kind = "root" if v is root else ("op" if v.children else "input")
        lit = id(v) in marked
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0.02,rounding_size=0.08", zorder=2,
                                    facecolor=GRAPH_COLORS[kind], edgecolor="#d62728" if lit else "#333333",
                                    lw=2.5 if lit else 0.8))
        name = v.label or v.op or "input"
        if v.label and v.op:
            name = f"{v.label} [{v.op}]"
        lines = [name]
        if data is not False:
            lines.append(f"data {_number(shown(data, v, 'data'))}")
        if grads is not False:
            lines.append(f"grad {_number(shown(grads, v, 'grad'))}")
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=fontsize, zorder=3,
                fontweight="bold" if lit else "normal", linespacing=1.15)
    xs = [pos(v)[0] for v in order]
    ys = [pos(v)[1] for v in order]
    ax.set_xlim(min(xs) - width / 2 - 0.1, max(xs) + width / 2 + 0.1)
    ax.set_ylim(min(ys) - height / 2 - 0.15, max(ys) + height / 2 + 0.15)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


__all__ += ["draw_graph"]


def heatmap(fn, X, y=None, ax=None, *, title=None, resolution=100, cmap="viridis", label=None, colorbar=True):
    """Shade the plane by one number per point, with the data on top.

    fn: maps points of shape (n, 2) to values of shape (n,) or (n, 1), e.g. one
    hidden unit's activation, or a model's output before the sigmoid.
    X: (examples, 2) sets the plotted region; y: optional labels to colour the points.
    """
    ax = _axes(ax)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"heatmap: X must have shape (examples, 2), got {X.shape}")
    gx, gy, pts = _grid(X, resolution)
    values = np.asarray(fn(pts), dtype=np.float64)
    if values.shape not in ((len(pts),), (len(pts), 1)):
        raise ValueError(f"heatmap: fn must map points of shape {pts.shape} to shape ({len(pts)},) "
                         f"or ({len(pts)}, 1), got {values.shape}")
    cs = ax.contourf(gx, gy, values.reshape(gx.shape), levels=20, cmap=cmap)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label=label)
    if y is not None:
        scatter(X, y, ax=ax, s=10, alpha=0.6)
    else:
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    if title:
        ax.set_title(title)
    return ax


__all__ += ["heatmap"]


# --- training diagnostics (chapter 6): gradient norms, dead units, activations -------------

def layer_gradient_norms(norms, ax=None, *, title="Gradient norm per layer", ylabel=r"$\|\partial L / \partial W\|$"):
    """Per-layer gradient norms on a log scale, layer 1 (next to the input) on the left.

    norms: one array (one value per Dense layer), or a dict {label: array} to compare
    several networks. Non-finite values (a diverged run) are left out.
    """
    ax = _axes(ax)
    series = norms if isinstance(norms, dict) else {None: norms}
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        ax.plot(np.arange(1, len(values) + 1), shown, "o-", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if any(label is not None for label in series):
        ax.legend(fontsize=9)
    return ax


def gradient_norm_history(monitor, ax=None, *, title="Gradient norm of each layer during training"):
    """One line per Dense layer: its mean ||dL/dW|| in each epoch (from a diagnostics.Monitor)."""
    import matplotlib.pyplot as plt

    ax = _axes(ax)
    norms = monitor.grad_norms
    epochs = np.asarray(monitor.epochs)
    n = norms.shape[1] if norms.ndim == 2 else 0
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(n, 1)))
    for i in range(n):
        values = np.where(np.isfinite(norms[:, i]) & (norms[:, i] > 0), norms[:, i], np.nan)
        ax.plot(epochs, values, color=colors[i], label=f"layer {i + 1}" if i in (0, n - 1) else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(r"$\|\partial L / \partial W\|$")
    ax.set_title(title)
    if n:
        ax.legend(fontsize=9, title="input side ... output side", title_fontsize=9, framealpha=0.6)
    return ax


def dead_units_curve(monitor, ax=None, *, title="Dead ReLU units"):
    """The percentage of ReLU units dead on the probe data, epoch by epoch (from a diagnostics.Monitor)."""
    import matplotlib.pyplot as plt

    ax = _axes(ax)
    dead = monitor.dead_per_layer
    epochs = np.asarray(monitor.epochs)
    if dead.ndim == 2 and dead.shape[1]:
        n = dead.shape[1]
        colors = plt.cm.viridis(np.linspace(0, 0.9, n))
        if n > 1:
            for i in range(n):       # label every layer when there are few, else the first and the last
                label = f"ReLU layer {i + 1}" if n <= 3 or i in (0, n - 1) else None
                ax.plot(epochs, 100 * dead[:, i], color=colors[i], lw=0.9, alpha=0.8, label=label)
        ax.plot(epochs, 100 * monitor.dead_fraction, "k-", lw=2, label="all ReLU units")
        ax.legend(fontsize=9)
    elif not getattr(monitor, "relu_names", None):
        ax.text(0.5, 0.5, "no ReLU layers", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(-2, 102)
    ax.set_xlabel("epoch")
    ax.set_ylabel("dead units (%)")
    ax.set_title(title)
    return ax


def layer_histograms(values, ax=None, *, labels=None, bins=60, value_range=None, title="Values per layer",
                     xlabel="value"):
    """Overlaid histograms (as outlines), one per array in values, e.g. one per layer."""
    import matplotlib.pyplot as plt

    ax = _axes(ax)
    values = [np.asarray(v, dtype=float).ravel() for v in values]
    labels = labels or [f"layer {i}" for i in range(1, len(values) + 1)]
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(values), 1)))
    for v, label, color in zip(values, labels, colors):
        v = v[np.isfinite(v)]
        ax.hist(v, bins=bins, range=value_range, histtype="step", density=True, color=color, lw=1.4, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=9)
    return ax


def saturation_curve(monitor, ax=None, *, title="Saturated activations"):
    """The percentage of saturated units (slope below 1% of its maximum) in each activation layer, epoch by epoch."""
    import matplotlib.pyplot as plt

    ax = _axes(ax)
    sat = monitor.saturation
    epochs = np.asarray(monitor.epochs)
    n = sat.shape[1] if sat.ndim == 2 else 0
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(n, 1)))
    names = getattr(monitor, "activation_names", [f"layer {i + 1}" for i in range(n)])
    for i in range(n):
        ax.plot(epochs, 100 * sat[:, i], color=colors[i], label=names[i] if i in (0, n - 1) else None)
    if n:
        ax.legend(fontsize=9)
    ax.set_ylim(-2, 102)
    ax.set_xlabel("epoch")
    ax.set_ylabel("saturated units (%)")
    ax.set_title(title)
    return ax


def training_dashboard(monitor, history, axes=None, *, title=None):
    """Three panels from one run: gradient norm per layer and epoch, dead ReLU units, loss.

    monitor: the diagnostics.Monitor passed to fit; history: what fit returned.
    A network without ReLU layers shows its saturated activations instead of dead units.
    A run that diverged says so in the loss panel.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
        fig.subplots_adjust(wspace=0.3, top=0.8 if title else 0.9)    # cheaper than constrained layout
    grad_ax, dead_ax, loss_ax = axes
    gradient_norm_history(monitor, ax=grad_ax, title="Gradient norm per layer")
    if getattr(monitor, "relu_names", None):
        dead_units_curve(monitor, ax=dead_ax)
    else:
        saturation_curve(monitor, ax=dead_ax)
    if not monitor.epochs:
        for ax in (grad_ax, dead_ax):
            ax.text(0.5, 0.5, "no epoch completed", ha="center", va="center", transform=ax.transAxes)
    hist = getattr(history, "history", history)
    losses = np.asarray(hist.get("loss", []), dtype=float)
    if losses.size:
        spread = losses.max() / max(losses.min(), 1e-300)
        loss_curve(history, ax=loss_ax, keys=["loss"], title="Training loss", log=bool(spread > 20))
    if getattr(history, "diverged", False):
        loss_ax.set_title(f"Training loss: became NaN/inf in epoch {history.stopped_epoch}", color="#d62728")
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss")
    if title:
        grad_ax.figure.suptitle(title)
    return axes


__all__ += ["layer_gradient_norms", "gradient_norm_history", "dead_units_curve", "saturation_curve",
            "layer_histograms", "training_dashboard"]

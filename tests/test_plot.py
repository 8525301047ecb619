"""nnlib.plot: the options the chapters rely on draw what they say."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nnlib import plot  # noqa: E402


def bowl(w, b):
    return w ** 2 + 3 * b ** 2 + 0.1


def test_loss_surface_names_the_path_in_the_legend():
    fig, (a, b) = plt.subplots(1, 2)
    path = np.array([[1.0, 1.0], [0.5, 0.4], [0.1, 0.05]])
    plot.loss_surface(bowl, (-1, 1), (-1, 1), ax=a, path=path)
    plot.loss_surface(bowl, (-1, 1), (-1, 1), ax=b, path=path, path_label="path of Adam")
    assert [t.get_text() for t in a.get_legend().texts] == ["gradient descent"]
    assert [t.get_text() for t in b.get_legend().texts] == ["path of Adam"]
    drawn = b.lines[0].get_xydata()
    np.testing.assert_allclose(drawn, path)
    plt.close(fig)


def test_loss_surface_without_a_path_has_no_legend():
    fig, ax = plt.subplots()
    plot.loss_surface(bowl, (-1, 1), (-1, 1), ax=ax, point=(0.2, 0.3))
    assert ax.get_legend() is None
    assert ax.get_xlabel() == "w" and ax.get_ylabel() == "b"
    plt.close(fig)

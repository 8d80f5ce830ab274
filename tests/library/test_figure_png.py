"""show()'s PNG: the picture savefig(bbox_inches="tight") makes, drawn once on a canvas with a
margin around the figure and trimmed to what it drew; drawn by savefig itself only where the
drawing reaches past that margin."""

from __future__ import annotations

import io

import numpy as np
import pytest

from nnscratch import plotting
from nnscratch.plotting import _png

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _savefig_tight(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi * plotting.FIGURE_SCALE)
    return buffer.getvalue()


def _ink(pixels: np.ndarray, background) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels that differ from ``background``."""
    rows = np.flatnonzero((pixels != background).any(axis=(1, 2)))
    cols = np.flatnonzero((pixels != background).any(axis=(0, 2)))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _figures():
    """Figures whose whole drawing lies within the figure and its margin: read off the pixels."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=72)
    axes[0].imshow(rng.random((8, 8)))
    axes[0].set(title="an image", xlabel="column", ylabel="row")
    axes[1].plot(np.arange(30) ** 0.5, "o-", label="a series")
    axes[1].legend()
    fig.suptitle("two panels")  # near the top edge
    fig.tight_layout()
    yield "tight layout", fig, (255, 255, 255)
    # A text 0.015 in below the top edge: the padding reaches past the figure.
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([0, 1], [1, 0])
    ax.set(xlabel="x", ylabel="y", title="a line")
    fig.tight_layout()
    fig.text(0.5, 0.995, "a note at the top", ha="center", va="top")
    yield "padding past the figure", fig, (255, 255, 255)
    fig, ax = plt.subplots(figsize=(4, 3), dpi=72, facecolor="#abcdef")
    ax.plot([0, 1])
    ax.set(xlabel="x", ylabel="y", title="a coloured figure")
    fig.tight_layout()
    yield "face colour", fig, (0xAB, 0xCD, 0xEF)
    # No layout: the x label hangs past the bottom edge, into the margin.
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([0, 1], [1, 0])
    ax.set(xlabel="x", ylabel="y", title="a line")
    yield "x label past the edge", fig, (255, 255, 255)
    # y tick labels wholly left of the figure, with no tick or spine near the edge.
    fig = plt.figure(figsize=(4, 3), dpi=72)
    ax = fig.add_axes((0.01, 0.1, 0.9, 0.8))
    ax.plot([0, 1])
    ax.spines[:].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=10)
    yield "tick labels past the edge", fig, (255, 255, 255)
    # A line over the bottom left corner of the figure.
    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.plot([0, 1], [0, 1])
    ax.set(xlabel="x", ylabel="y", title="a line")
    fig.tight_layout()
    fig.add_artist(plt.Line2D([0, 0.01], [0, 0.01], color="k"))
    yield "a line in a corner", fig, (255, 255, 255)
    # An image over the whole figure, grey at its rim.
    fig = plt.figure(figsize=(4, 3), dpi=72)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    image = np.full((30, 40), 0.5)
    image[10:20, 10:30] = np.linspace(0, 1, 20)
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, aspect="auto")
    yield "an image over the whole figure", fig, (255, 255, 255)


def _read_off_the_pixels(monkeypatch) -> list:
    windows = []
    ink_window = _png._ink_window
    monkeypatch.setattr(
        _png, "_ink_window", lambda *a: windows.append(ink_window(*a)) or windows[-1]
    )
    return windows


@pytest.mark.parametrize("case", range(7))
def test_figure_png_is_savefigs_picture_trimmed_to_its_drawing(case, monkeypatch):
    name, fig, background = list(_figures())[case]
    windows = _read_off_the_pixels(monkeypatch)
    dpi = fig.dpi
    expected, got = _pixels(_savefig_tight(fig)), _pixels(plotting._figure_png(fig))
    assert fig.dpi == dpi, "the figure's dpi is restored"
    assert windows and windows[0] is not None, f"{name}: the box was not read off the pixels"
    # The padding: savefig's 0.1 in of the face colour around the drawing, on every side.
    pad = round(0.1 * dpi * plotting.FIGURE_SCALE)
    top, bottom, left, right = _ink(got, background)
    height, width = got.shape[:2]
    assert (top, height - bottom, left, width - right) == (pad,) * 4, name
    # The same drawing: savefig's tight box holds whole text lines, so its padding may be a
    # few pixels wider, and its crop sits at a fractional offset, a pixel off ours; the
    # drawings themselves agree but for a few edge pixels.
    e_top, e_bottom, e_left, e_right = _ink(expected, background)
    drawn, drawn_expected = got[top:bottom, left:right], expected[e_top:e_bottom, e_left:e_right]
    assert abs(drawn.shape[0] - drawn_expected.shape[0]) <= 1, name
    assert abs(drawn.shape[1] - drawn_expected.shape[1]) <= 1, name
    h, w = (
        min(drawn.shape[0], drawn_expected.shape[0]),
        min(drawn.shape[1], drawn_expected.shape[1]),
    )
    diff = np.abs(drawn[:h, :w] - drawn_expected[:h, :w])
    differ = diff.max(axis=-1) > 64
    assert differ.mean() < 0.03, f"{name}: {differ.mean():.1%} of the pixels differ"
    assert diff.mean() < 4, name
    # savefig's box holds the whole line height of a text; ours stops at its ink.
    assert abs(got.shape[0] - expected.shape[0]) <= 2 * pad, name
    assert abs(got.shape[1] - expected.shape[1]) <= 2 * pad, name


def _figures_past_the_margin():
    """Figures that draw past the margin around the figure: no pixel shows where they end."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.plot([0, 1], label="a series")
    ax.legend(bbox_to_anchor=(1.6, 1))  # the legend starts past the right margin
    yield "legend past the margin", fig
    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.plot([0, 1])
    fig.text(0.5, 1.3, "a note 0.9 in above the figure", ha="center")
    yield "a note past the top margin", fig
    # y tick labels reaching 0.8 in past the figure's edge: they cross the margin's edge.
    fig = plt.figure(figsize=(4, 3), dpi=72)
    ax = fig.add_axes((0.1, 0.1, 0.85, 0.8))
    ax.plot([0, 1])
    ax.set_yticks([0, 1], ["a long tick label", "another long one"])
    yield "tick labels cut by the edge", fig


@pytest.mark.parametrize("case", range(3))
def test_figure_png_is_savefigs_own_where_the_drawing_reaches_past_the_margin(case):
    name, fig = list(_figures_past_the_margin())[case]
    expected, got = _pixels(_savefig_tight(fig)), _pixels(plotting._figure_png(fig))
    # Exactly savefig's picture: it measured the box, where the pixels would have lost a part.
    assert got.shape == expected.shape and np.array_equal(got, expected), name


def test_figure_png_draws_the_figure_once():
    import matplotlib.figure
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.plot([0, 1])
    ax.set(xlabel="x", ylabel="y", title="a line")
    fig.tight_layout()  # leaves a placeholder layout engine, which savefig would lay out
    draws = []
    draw = matplotlib.figure.Figure.draw

    def counted(self, renderer):
        draws.append(renderer)
        return draw(self, renderer)

    matplotlib.figure.Figure.draw = counted
    try:
        plotting._figure_png(fig)
    finally:
        matplotlib.figure.Figure.draw = draw
    assert len(draws) == 1
    assert fig.get_layout_engine() is not None, "the figure's layout engine is put back"


def test_figure_png_is_opaque_rgb_for_an_opaque_figure_and_keeps_alpha_otherwise():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.plot([0, 1])
    assert Image.open(io.BytesIO(plotting._figure_png(fig))).mode == "RGB"
    fig.patch.set_alpha(0.0)
    ax.patch.set_alpha(0.0)
    png = Image.open(io.BytesIO(plotting._figure_png(fig)))
    assert png.mode == "RGBA"
    alpha = np.asarray(png.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha.max() == 255, "a transparent background, opaque lines"


def test_figure_png_reads_the_drawn_canvas_of_any_size():
    # Agg rounds the canvas size down from a floating-point product that can fall a hair
    # either side of a whole number (10.5 by 3.6 in at 220 dpi is one): every size is read.
    import matplotlib.pyplot as plt

    for dpi in (72, 110):
        for width, height in ((10.5, 3.6), (7, 3.6), (5, 4.3), (6.5, 4.8)):
            fig = plt.figure(figsize=(width, height), dpi=dpi)
            fig.add_subplot().plot([0, 1])
            pixels = _png._draw_with_margin(fig, dpi * plotting.FIGURE_SCALE)
            assert pixels is not None, (width, height)
            margin = 2 * _png.MARGIN_INCHES * dpi * plotting.FIGURE_SCALE
            assert abs(pixels.shape[1] - (width * dpi * plotting.FIGURE_SCALE + margin)) <= 1
            plt.close(fig)

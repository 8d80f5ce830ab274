"""show()'s PNG: the picture savefig(bbox_inches="tight") makes, drawn once."""

from __future__ import annotations

import io

import numpy as np
import pytest

from nnscratch import plotting

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
Image = pytest.importorskip("PIL.Image")


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _savefig_tight(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi * plotting.FIGURE_SCALE)
    return buffer.getvalue()


def _figures():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=72)
    axes[0].imshow(rng.random((8, 8)))
    axes[0].set(title="an image", xlabel="column", ylabel="row")
    axes[1].plot(np.arange(30) ** 0.5, "o-", label="a series")
    axes[1].legend()
    fig.suptitle("two panels")
    fig.tight_layout()
    yield "tight layout", fig
    # No layout: the x label sits near the bottom edge, so the padding reaches past the canvas.
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.plot([0, 1], [1, 0])
    ax.set(xlabel="x", ylabel="y", title="a line")
    yield "padding past the canvas", fig


@pytest.mark.parametrize("case", range(2))
def test_figure_png_matches_savefig_tight(case):
    name, fig = list(_figures())[case]
    dpi = fig.dpi
    expected, got = _pixels(_savefig_tight(fig)), _pixels(plotting._figure_png(fig))
    assert fig.dpi == dpi, "the figure's dpi is restored"
    assert got.shape == expected.shape, name
    # The same picture, up to a sub-pixel shift of the whole figure (savefig places it at a
    # fractional offset, a crop at a whole pixel): a few edge pixels differ, the rest agree.
    differ = np.abs(got - expected).max(axis=-1) > 64
    assert differ.mean() < 0.03, f"{name}: {differ.mean():.1%} of the pixels differ"
    assert np.abs(got - expected).mean() < 4
    corner = got[:3, :3]
    assert np.all(corner == 255), f"{name}: the padding is the white figure background"


def test_figure_png_falls_back_to_savefig_when_an_artist_is_outside_the_figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
    ax.plot([0, 1], label="a series")
    ax.legend(bbox_to_anchor=(1.6, 1))  # the legend lies right of the canvas
    expected, got = _pixels(_savefig_tight(fig)), _pixels(plotting._figure_png(fig))
    assert got.shape == expected.shape and got.shape[1] > 4 * 72 * plotting.FIGURE_SCALE
    assert np.array_equal(got, expected)


def test_figure_png_is_opaque_rgb_for_an_opaque_figure_and_keeps_alpha_otherwise():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=72)  # its tick labels lie inside the canvas
    ax.plot([0, 1])
    assert Image.open(io.BytesIO(plotting._figure_png(fig))).mode == "RGB"
    fig.patch.set_alpha(0.0)
    ax.patch.set_alpha(0.0)
    assert Image.open(io.BytesIO(plotting._figure_png(fig))).mode == "RGBA"
    plt.close("all")

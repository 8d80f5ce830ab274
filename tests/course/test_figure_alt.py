"""Every stored figure says what it shows, in words a screen reader reads (issue 21).

A figure is stored by ``nnscratch.plotting.show(alt)``: an ``<img alt>`` in ``text/html`` that
JupyterLab, the website and the decks all show. For every figure stored in notebooks/,
lectures/ and projects/ this file checks that

1. it was shown with ``show`` (a figure stored any other way has no description);
2. the description is more than the figure's title: at least ``MIN_NEW_WORDS`` words that
   the titles set in the cell do not already say;
3. every number in it was computed, not typed: the description's template is the string
   literals of ``show``'s first argument (following a name assigned in the cell). A number
   written in those literals must be one the cell's code sets as a numeric literal (a
   parameter, ``epochs=30``) or one its other outputs print; numbers that come from the
   f-string's fields are computed by construction.

Plus the unit tests of ``show`` itself and of the palette (3:1 against the white figure
background, apart in greyscale).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnscratch import plotting

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("notebooks", "lectures", "projects")
FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
MIN_NEW_WORDS = 5
TITLE_CALLS = {"set_title", "suptitle", "title"}
#: A number as a reader sees it: not the digit inside a name such as x1 or w_11.
NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?(?![\w])")
WORD = re.compile(r"[^\W\d_]{3,}")


def stored_notebooks() -> list[Path]:
    found = []
    for folder in FOLDERS:
        found += sorted(
            p for p in (ROOT / folder).rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
        )
    return found


# ------------------------------------------------------------------ reading a cell


def _number(token: str) -> float:
    return float(token.replace("−", "-").replace(",", ""))


def numbers_in(text: str) -> set[float]:
    return {_number(t) for t in NUMBER.findall(text)}


def _strings(node: ast.AST) -> list[str]:
    """The literal text inside an expression (f-strings: their literal parts only)."""
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _is_show(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "show"
    # plotting.show / nnscratch.plotting.show, never plt.show
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "show"
        and (
            isinstance(func.value, ast.Attribute | ast.Name)
            and getattr(func.value, "attr", getattr(func.value, "id", "")) == "plotting"
        )
    )


def alt_templates(source: str) -> list[list[str]] | None:
    """For each ``show(...)`` call in the cell, the literal strings its description is made
    of (a name is followed to its assignments in the cell). ``None`` if the code does not
    parse (a magic), ``[]`` if there is no ``show`` call."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    templates = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_show(node):
            args = node.args[:1] or [k.value for k in node.keywords if k.arg == "alt"]
            todo, seen, strings = list(args), set(), []
            while todo:
                expr = todo.pop()
                strings += _strings(expr)
                for name in (n.id for n in ast.walk(expr) if isinstance(n, ast.Name)):
                    if name not in seen:
                        seen.add(name)
                        todo += assigned.get(name, [])
            templates.append(strings)
    return templates


def code_numbers(source: str) -> set[float]:
    """Numeric literals the cell's code sets (``epochs=30``, ``range(5)``), strings aside."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        float(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, int | float)
        and not isinstance(n.value, bool)
    }


def figure_titles(source: str) -> list[str]:
    """Literal titles the cell's code gives its figures (f-strings: their literal parts)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    titles = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        candidates = [k.value for k in node.keywords if k.arg == "title"]
        if name in TITLE_CALLS and node.args:
            candidates.insert(0, node.args[0])
        for c in candidates:
            titles += _strings(c)
    return titles


def printed_text(cell, skip) -> str:
    """What the cell's outputs other than ``skip`` (its figures) say."""
    parts = []
    for out in cell.get("outputs", []):
        if out in skip:
            continue
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        else:
            parts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def is_figure(output) -> bool:
    data = output.get("data", {})
    return any(m in data for m in FIGURE_MIMES) or plotting.stored_alt(output) is not None


def problems(cell) -> list[str]:
    """What is wrong with the figures a code cell stored (empty: nothing)."""
    figures = [o for o in cell.get("outputs", []) if is_figure(o)]
    if not figures:
        return []
    found = []
    templates = alt_templates(cell.source)
    titles = " ".join(figure_titles(cell.source))
    title_words = {w.lower() for w in WORD.findall(titles)}
    allowed = code_numbers(cell.source) | numbers_in(printed_text(cell, figures))
    for out in figures:
        alt = plotting.stored_alt(out)
        if alt is None or not templates:
            found.append("a figure stored without a description: end the cell with show(alt)")
            continue
        new = {w.lower() for w in WORD.findall(alt)} - title_words
        if len(new) < MIN_NEW_WORDS:
            found.append(f"the description only repeats the title: {alt!r}")
    for strings in templates or []:
        typed = numbers_in(" ".join(strings)) - allowed
        if typed:
            found.append(
                f"numbers typed into the description, not computed by the cell: "
                f"{sorted(typed)} in {' … '.join(s for s in strings if NUMBER.search(s))!r}"
            )
    return found


# ------------------------------------------------------------------ every stored figure


@pytest.mark.parametrize("path", stored_notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_stored_figure_says_what_it_shows(path: Path):
    nb = nbformat.read(path, as_version=4)
    report = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            report += [f"cell {index}: {p}" for p in problems(cell)]
    assert not report, f"{path.relative_to(ROOT)}:\n" + "\n".join(report)


# ------------------------------------------------------------------ the rule, on made-up cells


def _cell(source: str, *outputs) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = list(outputs)
    return cell


def _figure(alt: str):
    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (100).to_bytes(4, "big") * 2 + b"\0" * 8
    data = {"text/html": plotting.figure_html(png, alt), "text/plain": alt}
    return nbformat.v4.new_output("display_data", data=data)


def _printed(text: str):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


GOOD = (
    "ax.set_title('Training loss')\n"
    "show(f'Training loss falls from {first:.2f} to {last:.2f} over {epochs} epochs; the curve "
    "flattens after the first few.')"
)


def test_rule_accepts_a_description_whose_numbers_come_from_fields_code_or_printout():
    alt = (
        "Training loss falls from 2.30 to 0.08 over 30 epochs; "
        "the curve flattens after the first few."
    )
    assert problems(_cell(GOOD, _figure(alt))) == []
    typed_but_set = (
        "epochs = 30\nshow(f'Loss over 30 epochs falls from {a:.2f} to {b:.2f} steadily.')"
    )
    assert (
        problems(
            _cell(typed_but_set, _figure("Loss over 30 epochs falls from 2.3 to 0.1 steadily."))
        )
        == []
    )
    printed = (
        "print(acc)\nshow('Accuracy reaches 97.5 percent on the validation digits after training.')"
    )
    alt = "Accuracy reaches 97.5 percent on the validation digits after training."
    assert problems(_cell(printed, _printed("97.5\n"), _figure(alt))) == []
    via_name = (
        "text = f'{n} points of two moons, the classes interleave like crescents'\nshow(text)"
    )
    assert (
        problems(
            _cell(
                via_name, _figure("200 points of two moons, the classes interleave like crescents")
            )
        )
        == []
    )


def test_rule_rejects_a_figure_without_a_description():
    png = nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}
    )
    assert "without a description" in problems(_cell("plt.plot(x)\nplt.show()", png))[0]


def test_rule_rejects_a_description_that_repeats_the_title():
    source = (
        "ax.set_title('Decision boundary of the MLP on moons')\n"
        "show('Decision boundary of the MLP on moons')"
    )
    found = problems(_cell(source, _figure("Decision boundary of the MLP on moons")))
    assert found and "repeats the title" in found[0]


def test_rule_rejects_a_number_the_cell_did_not_compute():
    source = (
        "show(f'Validation accuracy is 97 percent, the loss {loss:.2f} still falling at the end.')"
    )
    found = problems(
        _cell(
            source,
            _figure("Validation accuracy is 97 percent, the loss 0.10 still falling at the end."),
        )
    )
    assert found and "[97.0]" in found[0]
    # a name inside a word is not a number; a number in a title string is still a number
    assert numbers_in("weights w11 and x_1 at 3.5 and −2") == {3.5, -2.0}


# ------------------------------------------------------------------ show()


@pytest.fixture
def shown(monkeypatch):
    """Calls show() with a matplotlib figure; returns (bundle, metadata, figure) displayed."""
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append((a, k)))
    import matplotlib.pyplot as plt

    def run(alt, **kwargs):
        fig, ax = plt.subplots(figsize=(4, 3), dpi=72)
        ax.plot([0, 1], [1, 0])
        plotting.show(alt, fig if kwargs.pop("pass_fig", False) else None)
        (bundle,), kw = calls[-1][0], calls[-1][1]
        return bundle, kw, fig

    return run


def test_show_stores_an_img_with_its_alt_at_twice_the_css_pixels(shown):
    import base64

    import matplotlib.pyplot as plt

    bundle, kw, fig = shown('Loss <falls> "fast"   &\n  flattens.', pass_fig=True)
    assert kw["raw"] is True
    assert bundle["text/plain"] == 'Loss <falls> "fast" & flattens.'
    assert set(bundle) == {"text/html", "text/plain"}
    page = bundle["text/html"]
    assert 'alt="Loss &lt;falls&gt; &quot;fast&quot; &amp; flattens."' in page
    assert plotting.stored_alt({"data": bundle}) == bundle["text/plain"]
    png = base64.b64decode(re.search(r"base64,([^\"]+)", page).group(1))
    px_w, px_h = (int.from_bytes(png[i : i + 4], "big") for i in (16, 20))
    css_w = int(re.search(r'width="(\d+)"', page).group(1))
    css_h = int(re.search(r'height="(\d+)"', page).group(1))
    assert px_w // plotting.FIGURE_SCALE == css_w and px_h // plotting.FIGURE_SCALE == css_h
    assert 250 < px_w < 4 * 72 * 2 + 20  # 4 inches at 144 dpi, trimmed by the tight box
    assert not plt.fignum_exists(fig.number), "show() leaves the figure open"


def test_show_refuses_an_empty_description_and_a_non_figure(shown):
    with pytest.raises(ValueError, match="alt"):
        shown("   ")
    with pytest.raises(TypeError, match="Figure or Axes"):
        plotting.show("a description", fig="not a figure")


def test_nbval_sanitizer_masks_pixels_and_keeps_the_description():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "nbval_sanitize.cfg")
    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (300).to_bytes(4, "big") * 2 + b"\1" * 40
    a = plotting.figure_html(png, "Loss falls to 0.08 in 30 epochs.")
    b = plotting.figure_html(
        png.replace(b"\1", b"\2") + b"\0" * 9, "Loss falls to 0.08 in 30 epochs."
    )

    def clean(text):
        for section in cfg.sections():
            text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
        return text

    assert a != b and clean(a) == clean(b)
    assert "Loss falls to 0.08 in 30 epochs." in clean(a)
    c = plotting.figure_html(png, "Loss falls to 0.09 in 30 epochs.")
    assert clean(a) != clean(c), "the description must stay compared"


# ------------------------------------------------------------------ palette


def _luminance(hex_colour: str) -> float:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def _lightness(y: float) -> float:
    """CIE L* (0 black .. 100 white): how light a colour looks, what greyscale keeps."""
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


def test_every_series_colour_has_3_to_1_contrast_on_the_white_figure_background():
    import matplotlib as mpl

    assert mpl.colors.to_hex(mpl.rcParamsDefault["figure.facecolor"]) == "#ffffff"
    for colour in plotting.COLORS:
        ratio = 1.05 / (_luminance(colour) + 0.05)
        assert ratio >= 3.0, f"{colour}: {ratio:.2f}:1 against white"


def test_series_colours_stay_apart_in_greyscale():
    lightness = {c: _lightness(_luminance(c)) for c in plotting.COLORS}
    pairs = [(a, b) for i, a in enumerate(plotting.COLORS) for b in plotting.COLORS[i + 1 :]]
    close = [(a, b) for a, b in pairs if abs(lightness[a] - lightness[b]) < 7.5]
    assert not close, f"these look alike in greyscale (CIE L* within 7.5): {close}"
    assert len(set(plotting.MARKERS)) >= len(plotting.COLORS)  # shapes carry series too

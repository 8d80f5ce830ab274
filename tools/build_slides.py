"""Render the lecture decks to reveal.js slides that work offline: build/slides/NN_name.slides.html.

Usage: python tools/build_slides.py [DECK.ipynb ...] [--out build/slides]   (`make slides`)

Nothing is executed: each deck is rendered from the outputs stored in it (`make execute`
refreshes those). The HTML uses nbconvert's reveal.js exporter with the small template in
tools/slides_template/nnslides, which loads reveal.js and MathJax from folders copied next
to the HTML (vendored under lectures/vendor/), so the slides open from disk with no network.
Code cells tagged ``hide-input`` show their output only. The same render by hand, for one deck:

    jupyter nbconvert --to slides --TemplateExporter.extra_template_basedirs=tools/slides_template \
        --template nnslides --SlidesExporter.reveal_url_prefix=reveal.js \
        --SlidesExporter.mathjax_url=mathjax/tex-svg-full.js --SlidesExporter.reveal_theme=white \
        --TagRemovePreprocessor.enabled=True --TagRemovePreprocessor.remove_input_tags=hide-input \
        --no-prompt --output-dir build/slides lectures/01_perceptron.ipynb

(then copy lectures/vendor/reveal.js and lectures/vendor/mathjax/es5/ beside it, take the cells
out of the tab order and make the speaker view's timer reset a button, which this script does).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "lectures"
VENDOR = LECTURES / "vendor"
TEMPLATE_DIR = Path(__file__).resolve().parent / "slides_template"
DEFAULT_OUT = ROOT / "build" / "slides"

#: Cell tag that hides a code cell's source on the slides (its outputs stay).
HIDE_INPUT_TAG = "hide-input"
#: Where the vendored assets land, relative to the HTML files.
REVEAL_PREFIX = "reveal.js"
MATHJAX_URL = "mathjax/tex-svg-full.js"
DECK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def find_decks(paths: list[str] | None = None) -> list[Path]:
    """The decks to render: the given ``.ipynb`` files, else every ``lectures/NN_name.ipynb``."""
    if not paths:
        return sorted(p for p in LECTURES.glob("*.ipynb") if DECK_NAME.match(p.name))
    decks = [Path(p) for p in paths]
    for deck in decks:
        if deck.suffix != ".ipynb" or not deck.is_file():
            raise SystemExit(f"not a notebook file: {deck}")
    return decks


def slides_config() -> Config:
    """nbconvert configuration for offline decks: local reveal.js/MathJax, hide-input honoured."""
    c = Config()
    c.TemplateExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    c.SlidesExporter.template_name = "nnslides"
    c.SlidesExporter.reveal_url_prefix = REVEAL_PREFIX
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "slide"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_width = "1200"
    c.SlidesExporter.reveal_height = "760"
    c.SlidesExporter.mathjax_url = MATHJAX_URL
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT_TAG}
    return c


#: The speaker view's timer reset is a ``<span>`` that only a mouse can reach: make it a button
#: (a click on it still reaches the timer's own click handler) that shows when focused.
SPEAKER_VIEW_FIXES = (
    (
        '<span class=\\"reset-button\\">Click to Reset</span>',
        '<button type=\\"button\\" class=\\"reset-button\\">Reset timer</button>',
    ),
    (
        ".speaker-controls-time:hover .reset-button {",
        ".speaker-controls-time:hover .reset-button,\\n\\t\\t\\t\\t"
        ".speaker-controls-time .reset-button:focus-visible {",
    ),
)
#: nbconvert puts every cell's input and output wrapper in the tab order (178 stops in deck 01,
#: most on slides that are off screen); they hold nothing to operate.
CELL_TAB_STOP = re.compile(r'(class="jp-Cell-(?:input|output)Wrapper") tabindex="0"')


def copy_assets(out_dir: Path) -> None:
    """Copy the vendored reveal.js folder and MathJax (its SVG component and the accessibility
    components and speech rules its menu loads) next to the HTML files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(VENDOR / "reveal.js", out_dir / REVEAL_PREFIX, dirs_exist_ok=True)
    notes = out_dir / REVEAL_PREFIX / "plugin" / "notes" / "notes.js"
    text = notes.read_text(encoding="utf-8")
    for old, new in SPEAKER_VIEW_FIXES:
        if old not in text:
            raise SystemExit(f"{notes}: the speaker view changed upstream, {old!r} not found")
        text = text.replace(old, new)
    notes.write_text(text, encoding="utf-8")
    target = out_dir / MATHJAX_URL
    shutil.copytree(VENDOR / "mathjax" / "es5", target.parent, dirs_exist_ok=True)


def check_executed(nb: nbformat.NotebookNode, deck: Path) -> None:
    """Refuse a deck whose shown code cells were never run (slides use stored outputs only)."""
    for i, cell in enumerate(nb.cells):
        slide_type = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if cell.cell_type == "code" and slide_type != "skip" and cell.execution_count is None:
            raise SystemExit(
                f"{deck}: code cell {i} has no stored output; run `make execute` first"
            )


def render_deck(deck: Path, out_dir: Path, exporter: SlidesExporter | None = None) -> Path:
    """Render one deck to ``out_dir/<name>.slides.html`` and return that path."""
    exporter = exporter or SlidesExporter(config=slides_config())
    nb = nbformat.read(deck, as_version=4)
    check_executed(nb, deck)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": deck.stem}})
    body = CELL_TAB_STOP.sub(r"\1", body)
    out = out_dir / f"{deck.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    return out


def build(decks: list[Path], out_dir: Path) -> list[Path]:
    """Copy the offline assets and render every deck into ``out_dir``; return the HTML paths."""
    copy_assets(out_dir)
    exporter = SlidesExporter(config=slides_config())
    return [render_deck(deck, out_dir, exporter) for deck in decks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decks", nargs="*", help="deck notebooks (default: lectures/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    decks = find_decks(args.decks)
    if not decks:
        print("no decks found in lectures/")
        return 0
    for html in build(decks, args.out):
        print(f"wrote {html}")
    print(f"{len(decks)} decks; open one in a browser (works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Lecture decks in lectures/: slide structure, the rendered reveal.js HTML, offline assets.

nbval (``make nbval``) re-executes the decks and compares their stored outputs; these tests
check what nbval cannot: that each deck is a presentable slide deck, that `make slides`
(tools/build_slides.py) renders it with hidden code really hidden and speaker notes kept, and
that the HTML loads nothing from the network.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from nnscratch import plotting

ROOT = Path(__file__).resolve().parents[2]
LECTURES = ROOT / "lectures"
NOTEBOOKS = ROOT / "notebooks"
VENDOR = LECTURES / "vendor"
DECKS = sorted(p for p in LECTURES.glob("*.ipynb") if re.match(r"^\d\d_", p.name))
SLIDE_TYPES = {"slide", "subslide", "fragment", "notes", "skip", "-"}
MIN_SLIDES, MAX_SLIDES, MIN_NOTES = 12, 25, 3


def _load_build_slides():
    path = ROOT / "tools" / "build_slides.py"
    spec = importlib.util.spec_from_file_location("build_slides", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_slides", module)
    spec.loader.exec_module(module)
    return module


build_slides = _load_build_slides()


def _slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def _read(deck: Path):
    return nbformat.read(deck, as_version=4)


class SlideHTML(HTMLParser):
    """Walks rendered slides: leaf <section>s (pages), notes, and code cells with their tags."""

    TRACKED = {"div", "section", "aside"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict] = []
        self.pages = 0
        self.notes: list[str] = []
        self.code_cells: list[dict] = []
        self.resources: list[str] = []  # src/href of scripts, stylesheets and images
        self.notes_in_fragment = 0  # <aside class="notes"> nested in a <div class="fragment">

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "img" and a.get("src") and not a["src"].startswith("data:"):
            self.resources.append(a["src"])
        if tag not in self.TRACKED:
            return
        classes = set((a.get("class") or "").split())
        node = {"tag": tag, "classes": classes, "has_child_section": False, "text": []}
        if tag == "aside" and "notes" in classes:
            self.notes_in_fragment += any("fragment" in p["classes"] for p in self.stack)
        if tag == "section":
            for parent in self.stack:
                if parent["tag"] == "section":
                    parent["has_child_section"] = True
        if "jp-InputArea" in classes:
            for parent in self.stack:
                if parent.get("cell") is not None:
                    parent["cell"]["has_input"] = True
        if tag == "div" and "jp-CodeCell" in classes:
            node["cell"] = {
                "tags": {c.removeprefix("celltag_") for c in classes if c.startswith("celltag_")},
                "has_input": False,
            }
            self.code_cells.append(node["cell"])
        self.stack.append(node)

    def handle_data(self, data: str) -> None:
        for node in self.stack:
            if node["tag"] == "aside":
                node["text"].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.TRACKED:
            return
        while self.stack:  # close up to the matching tag (tolerates unclosed inner tags)
            node = self.stack.pop()
            if node["tag"] == tag:
                break
        else:
            return
        if tag == "section" and not node["has_child_section"]:
            self.pages += 1
        if tag == "aside" and "notes" in node["classes"]:
            self.notes.append("".join(node["text"]).strip())


@pytest.fixture(scope="module")
def rendered(course_decks: Path) -> tuple[Path, dict[str, str]]:
    """Every deck rendered once by the build script into a temporary folder (under /tmp, its
    name with a space: the decks and their assets work from any folder): built once per test
    session (tests/conftest.py) and shared with tests/tools/test_browser.py."""
    paths = [course_decks / f"{deck.stem}.slides.html" for deck in DECKS]
    return course_decks, {
        p.name.removesuffix(".slides.html"): p.read_text(encoding="utf-8") for p in paths
    }


def _parse(html: str) -> SlideHTML:
    parser = SlideHTML()
    parser.feed(html)
    parser.close()
    return parser


# ------------------------------------------------------------------ the set of decks


def test_decks_exist_and_are_numbered_once():
    assert DECKS, "no lecture decks found in lectures/"
    numbers = [d.name[:2] for d in DECKS]
    assert len(set(numbers)) == len(numbers), f"two decks share a number: {numbers}"
    for deck in DECKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", deck.name), deck.name


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_deck_pairs_with_a_notebook(deck: Path):
    partner = NOTEBOOKS / deck.name
    assert partner.is_file(), f"{deck.name} has no matching notebook {partner.relative_to(ROOT)}"


def test_every_notebook_has_a_deck():
    notebooks = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb") if re.match(r"^\d\d_", p.name))
    missing = [name for name in notebooks if not (LECTURES / name).is_file()]
    assert notebooks and not missing, f"notebooks without a lecture deck: {missing}"


# ------------------------------------------------------------------ the deck notebooks


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_deck_structure(deck: Path):
    nb = _read(deck)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    types = [_slide_type(c) for c in nb.cells]
    bad = {t for t in types if t not in SLIDE_TYPES}
    assert not bad, f"{deck.name}: unknown slide types {bad}"
    shown = [c for c in nb.cells if _slide_type(c) != "skip"]
    assert _slide_type(shown[0]) == "slide", "the first shown cell must start a slide"
    starts = [c for c in nb.cells if _slide_type(c) in ("slide", "subslide")]
    assert MIN_SLIDES <= len(starts) <= MAX_SLIDES, f"{deck.name}: {len(starts)} slides"
    first = starts[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), (
        f"{deck.name}: the title slide must open with a level-1 heading"
    )
    assert "outline" in starts[1].source.lower() or "today" in starts[1].source.lower(), (
        f"{deck.name}: the second slide must be the outline"
    )
    headings = [c.source.lower() for c in starts if c.cell_type == "markdown"]
    assert any(h.lstrip("# ").startswith("recap") for h in headings), f"{deck.name}: no recap slide"
    pointer = f"notebooks/{deck.name}"
    assert any(pointer in c.source for c in nb.cells if c.cell_type == "markdown"), (
        f"{deck.name}: no slide points to {pointer}"
    )
    notes = [c for c in nb.cells if _slide_type(c) == "notes"]
    assert len(notes) >= MIN_NOTES, f"{deck.name}: only {len(notes)} speaker-notes cells"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert text.count("$$") >= 6, f"{deck.name}: expected display maths on several slides"
    assert "![" not in text and "<img" not in text, f"{deck.name}: figures must come from code"


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_no_speaker_notes_inside_a_fragment(deck: Path):
    """nbconvert puts a notes cell that follows a fragment inside that fragment's <div>, and
    reveal.js then hides the notes from the speaker view until the fragment is shown."""
    inside, in_fragment, slide = [], False, 0
    for i, cell in enumerate(_read(deck).cells):
        kind = _slide_type(cell)
        if kind in ("slide", "subslide"):
            slide, in_fragment = slide + 1, False
        elif kind == "fragment":
            in_fragment = True
        elif kind == "notes" and in_fragment:
            inside.append(f"slide {slide} (cell {i})")
    assert not inside, (
        f"{deck.name}: speaker notes inside a fragment on {inside}; "
        "move each notes cell before the slide's first fragment"
    )


def test_notes_after_a_fragment_render_inside_it(tmp_path: Path):
    """Why the rule above exists: the rendered HTML really nests such notes in the fragment."""
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook(
        cells=[
            md("# T", metadata={"slideshow": {"slide_type": "slide"}}),
            md("later", metadata={"slideshow": {"slide_type": "fragment"}}),
            md("NOTE-TOKEN", metadata={"slideshow": {"slide_type": "notes"}}),
        ]
    )
    deck = tmp_path / "97_frag.ipynb"
    nbformat.write(nb, deck)
    html = _parse(build_slides.render_deck(deck, tmp_path).read_text(encoding="utf-8"))
    assert html.notes == ["NOTE-TOKEN"] and html.notes_in_fragment == 1


def _is_figure(output) -> bool:
    """A stored figure: a PNG, or the <img alt> that nnscratch.plotting.show stores."""
    return "image/png" in output.get("data", {}) or plotting.stored_alt(output) is not None


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_deck_figures_come_from_code_and_outputs_are_stored(deck: Path):
    nb = _read(deck)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{deck.name} was not executed"
    assert all(o.output_type != "error" for c in code for o in c.outputs)
    figures = [c for c in code if any(_is_figure(o) for o in c.outputs)]
    assert len(figures) >= 2, f"{deck.name}: expected at least two figures"
    assert any("plotting." in c.source for c in figures), f"{deck.name}: use nnscratch.plotting"
    hidden = [c for c in code if "hide-input" in c.metadata.get("tags", [])]
    assert hidden, f"{deck.name}: no code cell is tagged hide-input"


# ------------------------------------------------------------------ rendered HTML


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_rendered_deck(deck: Path, rendered):
    _, pages = rendered
    nb = _read(deck)
    html = _parse(pages[deck.stem])
    starts = sum(_slide_type(c) in ("slide", "subslide") for c in nb.cells)
    assert html.pages == starts >= MIN_SLIDES
    n_notes = sum(_slide_type(c) == "notes" for c in nb.cells)
    assert len(html.notes) == n_notes >= MIN_NOTES
    assert all(html.notes), "an empty speaker-notes block"
    assert html.notes_in_fragment == 0, f"{deck.name}: speaker notes hidden inside a fragment"
    shown = [c for c in nb.cells if c.cell_type == "code" and _slide_type(c) not in ("skip",)]
    assert len(html.code_cells) == len(shown), "skip cells must not render, others must"
    for cell_nb, cell_html in zip(shown, html.code_cells, strict=True):
        hide = "hide-input" in cell_nb.metadata.get("tags", [])
        assert ("hide-input" in cell_html["tags"]) == hide
        assert cell_html["has_input"] == (not hide), (
            f"{deck.name}: code {'shown' if hide else 'missing'}: {cell_nb.source[:60]!r}"
        )


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_rendered_deck_is_offline(deck: Path, rendered):
    out, pages = rendered
    page = pages[deck.stem]
    html = _parse(page)
    assert any(r.endswith("reveal.js/dist/reveal.js") for r in html.resources)
    assert any("mathjax" in r.lower() for r in html.resources)
    for ref in html.resources:
        assert not re.match(r"^(https?:)?//", ref), f"{deck.name} loads {ref} from the network"
        assert (out / ref).is_file(), f"{deck.name} refers to {ref}, which the build did not copy"
    assert not re.search(r"""(import|@import)\s[^;]*['"(]\s*(https?:)?//""", page)
    assert "cdn" not in " ".join(html.resources).lower()


def test_vendored_assets_are_local_small_and_licensed():
    files = [p for p in VENDOR.rglob("*") if p.is_file()]
    # reveal.js, MathJax and MathJax's speech and explorer components (about 4.1 MB in all):
    # the speech rules are what lets a screen reader speak the maths offline.
    assert sum(p.stat().st_size for p in files) < 5_000_000, "keep vendored files small"
    for licence in ("reveal.js/LICENSE", "mathjax/LICENSE", "README.md"):
        assert (VENDOR / licence).is_file(), licence
    for css in VENDOR.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), f"{css} loads from the web"
        for ref in re.findall(r"url\(\s*['\"]?([^'\")?#]+)", text):
            if ref.endswith((".woff", ".css")):
                assert (css.parent / ref).is_file(), f"{css} needs {ref}"


def test_build_refuses_a_deck_without_stored_outputs(tmp_path: Path):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# T", metadata={"slideshow": {"slide_type": "slide"}}),
            nbformat.v4.new_code_cell("1 + 1", metadata={"slideshow": {"slide_type": "-"}}),
        ]
    )
    deck = tmp_path / "99_unrun.ipynb"
    nbformat.write(nb, deck)
    with pytest.raises(SystemExit, match="no stored output"):
        build_slides.render_deck(deck, tmp_path)


def test_hide_input_tag_hides_only_the_code(tmp_path: Path):
    """A tiny deck: the tagged cell keeps its output and loses its source; the other keeps both."""
    meta = {"slideshow": {"slide_type": "-"}}
    shown = nbformat.v4.new_code_cell("visible_source_token = 1", metadata=meta, execution_count=1)
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="OUTPUT-A\n")]
    hidden = nbformat.v4.new_code_cell(
        "secret_source_token = 2", metadata={**meta, "tags": ["hide-input"]}, execution_count=2
    )
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text="OUTPUT-B\n")]
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# T", metadata={"slideshow": {"slide_type": "slide"}}),
            shown,
            hidden,
        ]
    )
    deck = tmp_path / "98_tiny.ipynb"
    nbformat.write(nb, deck)
    page = build_slides.render_deck(deck, tmp_path).read_text(encoding="utf-8")
    assert "OUTPUT-A" in page and "OUTPUT-B" in page
    assert "visible_source_token" in page
    assert "secret_source_token" not in page

"""The course website (`make site`, tools/build_site.py): pins, and the static folder it builds.

The build needs the pinned site tools (requirements-site.txt); without them the build tests
skip with one line saying how to install them (and fail when NNSCRATCH_CI=1). What a reader
sees in a browser (search, maths, no outside request) is checked in tests/tools/test_browser.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import zipfile
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

from nnscratch import plotting

ROOT = Path(__file__).resolve().parents[2]
SITE_REQUIREMENTS = ROOT / "requirements-site.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


build_site = _load("build_site")


def _pins(path: Path) -> dict[str, str]:
    out = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not pinned with ==: {raw!r}"
        out[match.group(1).lower().replace("_", "-")] = match.group(2)
    return out


# ------------------------------------------------------------------ pins


def test_site_requirements_are_pinned_and_agree_with_requirements_txt():
    site, course = _pins(SITE_REQUIREMENTS), _pins(ROOT / "requirements.txt")
    assert site["jupyter-book"].startswith("1."), "the site is built with Jupyter Book 1"
    for name in ("sphinx", "myst-nb", "sphinx-book-theme", "playwright"):
        assert name in site, f"{name} must be pinned in requirements-site.txt"
    clash = {n: (v, course[n]) for n, v in site.items() if n in course and course[n] != v}
    assert not clash, f"requirements-site.txt pins differ from requirements.txt: {clash}"


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _site_tools_or_skip() -> None:
    if _installed("jupyter-book") is None:
        message = "site tools not installed (pip install -r requirements-site.txt, or make site)"
        if os.environ.get("NNSCRATCH_CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_installed_site_tools_match_the_pins():
    _site_tools_or_skip()
    drift = {
        name: (pin, got)
        for name, pin in _pins(SITE_REQUIREMENTS).items()
        if (got := _installed(name)) is not None and got != pin
    }
    assert not drift, f"installed site tools differ from requirements-site.txt: {drift}"


# ------------------------------------------------------------------ pure helpers


def test_prepare_notebook_drops_widget_views_and_keeps_the_stored_descriptions():
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    code = nbformat.v4.new_code_cell("w = explorer()\nax.set_title('Boundary')\nplt.show()")
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/vnd.jupyter.widget-view+json": view, "text/plain": "run me"},
        ),
        nbformat.v4.new_output(
            "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "F"}
        ),
    ]
    png = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + (64).to_bytes(4, "big") * 2
    alt = "Two crescents of 200 points; the boundary bends between them."
    shown = nbformat.v4.new_code_cell("show(alt)")
    shown.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": plotting.figure_html(png, alt), "text/plain": alt}
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), code, shown])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    out = build_site.prepare_notebook(nb)
    assert "widgets" not in out.metadata
    assert list(out.cells[1].outputs[0]["data"]) == ["text/plain"]
    # a title is not a description: a figure stored without one says so
    assert out.cells[1].metadata["mystnb"]["image"]["alt"] == build_site.NO_DESCRIPTION
    assert plotting.stored_alt(out.cells[2].outputs[0]) == alt
    assert "mystnb" not in out.cells[2].metadata


def test_accessibility_fixes_name_the_search_buttons_and_the_chapter_toggles():
    page = (
        '<button class="btn search-button-field search-button__button pst-js-only" '
        'title="Search" aria-label="Search" data-bs-toggle="tooltip">Search Ctrl+K</button>'
        '<li><a class="reference internal" href="p/README.html">Final projects</a><details>'
        '<summary><span class="toctree-toggle"></span></summary></details></li>'
    )
    fixed = build_site.accessibility_fixes(page)
    assert 'aria-label="Search"' not in fixed and "Search Ctrl+K" in fixed
    assert '<summary aria-label="Sections of Final projects">' in fixed


# ------------------------------------------------------------------ the built site


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict] = []
        self.resources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def _parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def site(course_site: Path) -> Path:
    """The site built once per session (tests/conftest.py), shared with the browser tests."""
    return course_site


def test_site_has_home_notebooks_projects_slides_and_student_edition(site: Path):
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Neural Networks from Scratch" in home and "Quick start" in home  # the README
    notebooks = build_site.course_notebooks()
    assert len(notebooks) >= 10
    for nb in notebooks:
        assert (site / "notebooks" / f"{nb.stem}.html").is_file(), nb.name
    assert (site / "projects" / "README.html").is_file()
    # previous/next: each notebook page links to the following one
    for here, after in zip(notebooks[:-1], notebooks[1:], strict=True):
        links = _parse(site / "notebooks" / f"{here.stem}.html").links
        assert any(link.endswith(f"{after.stem}.html") for link in links), (here.name, after.name)
    slides = _parse(site / "slides.html").links
    decks = sorted(p.stem for p in (ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))
    for deck in decks:
        assert f"slides/{deck}.slides.html" in slides, deck
        assert (site / "slides" / f"{deck}.slides.html").is_file()
    student = _parse(site / "student.html").links
    archive = site / "downloads" / build_site.STUDENT_ZIP
    assert f"downloads/{build_site.STUDENT_ZIP}" in student and archive.is_file()
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        first = next(n for n in names if n.endswith("notebooks/01_perceptron.ipynb"))
        text = zf.read(first).decode("utf-8")
    assert "YOUR CODE HERE" in text and "### BEGIN SOLUTION" not in text


def test_every_figure_has_a_text_alternative(site: Path):
    seen = 0
    for page in site.rglob("*.html"):
        if not {"slides", "_static"}.isdisjoint(page.relative_to(site).parts):
            continue
        for img in _parse(page).images:
            seen += 1
            alt = (img.get("alt") or "").strip()
            assert alt and not re.search(r"\.(png|svg|jpe?g)$", alt), (page.name, img)
    assert seen >= 50, f"only {seen} figures on the site"


def test_site_loads_nothing_from_the_network(site: Path):
    pages = [
        p
        for p in site.rglob("*.html")
        if {"slides", "_static"}.isdisjoint(p.relative_to(site).parts)
    ]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for ref in _parse(page).resources:
            if ref.startswith("#") or ref.startswith("data:image/"):
                continue  # a figure stored in the page itself (plotting.show) loads nothing
            assert not re.match(r"^(https?:)?//", ref), f"{page.name} loads {ref}"
            local = (page.parent / ref.split("?", 1)[0].split("#", 1)[0]).resolve()
            assert local.is_file(), f"{page.name} refers to {ref}, which is not in the site"
        assert "THEBE_JS_URL" not in text and "unpkg.com" not in text, page.name
    mathjax = [r for r in _parse(site / "notebooks" / "02_forward_pass.html").resources
               if "mathjax" in r.lower()]  # fmt: skip
    assert mathjax and all(r.startswith("../_static/mathjax/") for r in mathjax), mathjax
    for css in site.rglob("*.css"):
        body = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", body), css.name
        assert not re.search(r"url\(\s*['\"]?(https?:)?//fonts", body), css.name


def test_search_index_knows_the_course_words(site: Path):
    index = (site / "searchindex.js").read_text(encoding="utf-8")
    for word in ("perceptron", "backpropag", "sigmoid"):
        assert word in index.lower(), word

"""Build the course website, a static folder that works offline: build/site/index.html.

Usage: python tools/build_site.py [--out build/site]   (`make site`, after installing
requirements-site.txt)

Nothing is executed: the pages show the outputs stored in the notebooks (`make execute`
refreshes those). The builder is Jupyter Book 1 (Sphinx, MyST-NB and sphinx-book-theme,
pinned in requirements-site.txt), which gives search, a table of contents, previous/next
links, a dark mode and arrow-key navigation with no server. The script

1. stages a source folder (build/site-src/): the README as the home page, every
   notebooks/NN_*.ipynb in order, projects/ (brief and notebooks), a page linking the
   rendered slide decks and a page with the student edition to download;
2. keeps every figure's text alternative: the description ``nnscratch.plotting.show``
   stored with it (a figure stored without one is labelled so, and fails
   tests/course/test_figure_alt.py);
3. drops what would need the network: stored widget views (their plain-text
   fallback stays) and the CDN scripts that widgets and Thebe would load; MathJax is
   the vendored copy in lectures/vendor/;
4. runs ``jupyter-book build``, renders the decks with tools/build_slides.py and writes
   the student edition with ``nnscratch release`` (zipped), and copies all into --out.

Publish the site by copying the output folder to any static web host (GitHub Pages, a
university web space, ``python -m http.server`` for a room): every link is relative.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "site"
#: MathJax 3's SVG component and the accessibility components and speech rules its menu loads.
MATHJAX_DIR = ROOT / "lectures" / "vendor" / "mathjax" / "es5"
#: The site's own CSS and script (focus rings, names and announcements the theme lacks).
SITE_ASSETS = Path(__file__).resolve().parent / "site"
NOTEBOOK_NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STUDENT_ZIP = "nnscratch-student-edition.zip"

CONFIG = {
    "title": "Neural Networks from Scratch",
    "author": "the course authors",
    "copyright": "",
    "only_build_toc_files": True,
    "execute": {"execute_notebooks": "off"},
    "parse": {"myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence", "html_image"]},
    "html": {
        "use_repository_button": False,
        "use_issues_button": False,
        "use_edit_page_button": False,
        "use_multitoc_numbering": False,
        "home_page_in_navbar": True,
        "extra_footer": "",
    },
    "launch_buttons": {"notebook_interface": "jupyterlab", "binderhub_url": "", "thebe": False},
    "repository": {"url": ""},
    "sphinx": {
        "config": {
            "html_static_path": ["_static"],
            "mathjax_path": "mathjax/tex-svg-full.js",
            # Screen readers read an equation's hidden MathML; in the tab order every equation
            # was a stop with an invisible focus ring (54 of 135 stops on page 01).
            "mathjax3_config": {"options": {"menuOptions": {"settings": {"inTabOrder": False}}}},
            "nb_ipywidgets_js": {},
            "html_show_sourcelink": False,
            "html_copy_source": False,
            # Search results without page snippets: a snippet is fetched from the page, and
            # browsers refuse that for a site opened from disk.
            "html_show_search_summary": False,
            "html_context": {"default_mode": "auto"},
            "html_theme_options": {
                "navigation_with_keys": True,
                "use_download_button": False,
                "use_fullscreen_button": False,
                "launch_buttons": {},
            },
            "suppress_warnings": ["myst.xref_missing", "mystnb.unknown_mime_type"],
        }
    },
}


def _load_build_slides():
    spec = importlib.util.spec_from_file_location(
        "build_slides", ROOT / "tools" / "build_slides.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def course_notebooks(root: Path = ROOT) -> list[Path]:
    """``notebooks/NN_name.ipynb`` in course order (new notebooks appear by themselves)."""
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def project_notebooks(root: Path = ROOT) -> list[Path]:
    """The project template, starters and worked example, in a stable order."""
    folder = root / "projects"
    return [folder / "template.ipynb", *sorted(folder.glob("starters/*.ipynb")),
            *sorted(folder.glob("examples/*.ipynb"))]  # fmt: skip


# ----------------------------------------------------------------------------- figures

#: The alt text of a figure stored without ``show(alt)``, for which
#: tests/course/test_figure_alt.py fails: an honest label rather than a title or a file name
#: posing as a description.
NO_DESCRIPTION = "Figure without a stored description"


def _heading(markdown: str) -> str | None:
    for line in markdown.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return None


def prepare_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop stored widget views and widget state; label figures stored without a description.

    A figure shown with ``nnscratch.plotting.show`` is an ``<img alt>`` in ``text/html`` that
    MyST-NB puts on the page as it is: the site says what JupyterLab and the decks say.
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/plain" in data:
                del data[WIDGET_VIEW]
        if any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
               for o in cell.get("outputs", [])):  # fmt: skip
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": NO_DESCRIPTION}
    return nb


# ----------------------------------------------------------------------------- staging


def _markdown_page(title: str, body: str) -> str:
    return f"# {title}\n\n{body.strip()}\n"


def stage(src: Path, decks: list[Path], *, student_zip: bool) -> list[str]:
    """Write the Jupyter Book source folder ``src``; return the table of contents entries."""
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    shutil.copytree(MATHJAX_DIR, src / "_static" / "mathjax")
    for asset in ("nnsite.css", "nnsite.js"):
        shutil.copy2(SITE_ASSETS / asset, src / "_static" / asset)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (src / "index.md").write_text(readme, encoding="utf-8")

    chapters = []
    for path in course_notebooks():
        nb = prepare_notebook(nbformat.read(path, as_version=4))
        (src / "notebooks").mkdir(exist_ok=True)
        nbformat.write(nb, src / "notebooks" / path.name)
        chapters.append(f"notebooks/{path.stem}")

    projects = []
    (src / "projects").mkdir()
    shutil.copy2(ROOT / "projects" / "README.md", src / "projects" / "README.md")
    for path in project_notebooks():
        if not path.is_file():
            continue
        rel = path.relative_to(ROOT / "projects")
        (src / "projects" / rel).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(prepare_notebook(nbformat.read(path, as_version=4)), src / "projects" / rel)
        projects.append(f"projects/{rel.with_suffix('').as_posix()}")

    rows = []
    for deck in decks:
        nb = nbformat.read(deck, as_version=4)
        title = next((_heading(c.source) for c in nb.cells if c.cell_type == "markdown"), deck.stem)
        rows.append(
            f'<li><a href="slides/{deck.stem}.slides.html">{deck.stem[:2]} · {title}</a></li>'
        )
    (src / "slides.md").write_text(
        _markdown_page(
            "Lecture slides",
            "One reveal.js deck per session, rendered from `lectures/` with its stored "
            "outputs; they open in this browser tab and work offline. Keys: **→ / Space** next, "
            "**F** full screen, **S** speaker view (notes and a timer), **Esc** overview.\n\n"
            f"<ul>\n{chr(10).join(rows)}\n</ul>",
        ),
        encoding="utf-8",
    )
    student = (
        f'<p><a href="downloads/{STUDENT_ZIP}" download>Download the student edition '
        f"(zip)</a></p>\n\nThe notebooks and project starters with every solution replaced "
        "by `# YOUR CODE HERE` and the outputs cleared, as written by `nnscratch release`. "
        "Unzip it, open the notebooks in JupyterLab, and run each exercise's check."
        if student_zip
        else "The student edition was not built for this copy of the site (`--no-student`)."
    )
    (src / "student.md").write_text(_markdown_page("Student edition", student), encoding="utf-8")

    toc = ["format: jb-book", "root: index", "parts:", "  - caption: Course", "    chapters:"]
    toc += [f"      - file: {c}" for c in chapters]
    toc += ["  - caption: Projects", "    chapters:", "      - file: projects/README"]
    if projects:
        toc.append("        sections:")
        toc += [f"          - file: {p}" for p in projects]
    toc += [
        "  - caption: Materials",
        "    chapters:",
        "      - file: slides",
        "      - file: student",
    ]
    (src / "_toc.yml").write_text("\n".join(toc) + "\n", encoding="utf-8")
    config = json.loads(json.dumps(CONFIG))
    config["sphinx"]["config"]["html_css_files"] = ["nnsite.css"]
    config["sphinx"]["config"]["html_js_files"] = ["nnsite.js"]
    # YAML is a superset of JSON: the config needs no YAML writer.
    (src / "_config.yml").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return chapters + projects


# ----------------------------------------------------------------------------- extras


def build_student_zip(target: Path, work: Path) -> Path:
    """Run ``nnscratch release`` into ``work`` and zip the edition to ``target``."""
    edition = work / "student"
    # The course's own command line, run from the course folder (so the instructor tools
    # next to the library are found even before `pip install -e .` picks them up).
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "release",
            "--source",
            str(ROOT),
            "--out",
            str(edition),
        ],
        check=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(edition.rglob("*")):
            if path.is_file():
                zf.write(path, Path("nnscratch-student") / path.relative_to(edition))
    return target


#: Thebe (live code through a remote Binder) is always on in Jupyter Book 1; the site is
#: static, so its script and the CDN address it would fetch are removed from every page.
THEBE_TAGS = re.compile(
    r'[ \t]*<script>const THEBE_JS_URL = "[^"]*";[^<]*</script>\n?'
    r'|[ \t]*<script[^>]*src="[^"]*sphinx-thebe\.js[^"]*"[^>]*></script>\n?'
    r'|[ \t]*<script type="text/x-thebe-config">.*?</script>\n?',
    re.S,
)


MATHJAX_TAG = re.compile(
    r'[ \t]*<script[^>]*src="[^"]*mathjax/tex-svg-full\.js[^"]*"[^>]*></script>\n?'
)
#: Jupyter Book adds a <script> for every .js file under _static, so MathJax's accessibility
#: components would run before MathJax itself ("reading 'components'" errors); MathJax's own
#: loader fetches them when the reader asks for speech or exploration, so the tags go.
MATHJAX_COMPONENT_TAG = re.compile(
    r'[ \t]*<script[^>]*src="[^"]*_static/mathjax/(?!tex-svg-full\.js)[^"]*"[^>]*></script>\n?'
)


def _once(pattern: re.Pattern, text: str) -> str:
    """``text`` with every match of ``pattern`` after the first removed."""
    seen = False

    def keep_first(match: re.Match) -> str:
        nonlocal seen
        first, seen = not seen, True
        return match.group(0) if first else ""

    return pattern.sub(keep_first, text)


#: The theme's search buttons are named "Search" while they show "Search Ctrl+K" (WCAG 2.5.3):
#: without the aria-label their name is what they show.
SEARCH_LABEL = re.compile(
    r'(<button class="[^"]*search-button__button[^"]*"[^>]*?) aria-label="Search"'
)
#: The chapter list's expand/collapse toggles are <summary> elements with an icon only.
UNNAMED_SUMMARY = re.compile(
    r'(<a class="[^"]*reference internal[^"]*" href="[^"]*">([^<]*)</a><details[^>]*>)<summary>'
)


def accessibility_fixes(text: str) -> str:
    """Name the controls the theme leaves unnamed or misnamed (see SEARCH_LABEL and
    UNNAMED_SUMMARY)."""
    text = SEARCH_LABEL.sub(r"\1", text)
    return UNNAMED_SUMMARY.sub(
        lambda m: f'{m.group(1)}<summary aria-label="Sections of {m.group(2).strip()}">', text
    )


def postprocess_html(html_dir: Path) -> int:
    """Remove Thebe's network hooks and a second MathJax script (Sphinx and MyST-NB each add
    one; loading it twice is an error), apply :func:`accessibility_fixes`, and give any
    ``<img>`` still without a real text alternative (Sphinx uses the file path) one from its
    page title.

    Returns how many images were changed (0 when MyST-NB set them all).
    """
    changed = 0
    img = re.compile(r"<img\b[^>]*>")
    for page in html_dir.rglob("*.html"):
        text = THEBE_TAGS.sub("", page.read_text(encoding="utf-8"))
        text = _once(MATHJAX_TAG, MATHJAX_COMPONENT_TAG.sub("", text))
        text = accessibility_fixes(text)
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        label = f"Figure in “{title.group(1).strip() if title else page.stem}”"

        def fix(match: re.Match, label: str = label) -> str:
            nonlocal changed
            tag = match.group(0)
            alt = re.search(r'\balt="([^"]*)"', tag)
            if alt and alt.group(1) and not re.search(r"\.(png|svg|jpe?g|gif)$", alt.group(1)):
                return tag
            changed += 1
            tag = re.sub(r'\s*\balt="[^"]*"', "", tag)
            return tag.replace("<img", f'<img alt="{label}"', 1)

        page.write_text(img.sub(fix, text), encoding="utf-8")
    return changed


def build(out: Path = DEFAULT_OUT, *, student: bool = True, quiet: bool = True) -> Path:
    """Build the whole site into ``out`` and return the path of its home page."""
    build_slides = _load_build_slides()
    decks = build_slides.find_decks()
    work = out.parent / f"{out.name}-src"
    src = work / "book"
    if work.exists():  # a clean build: nothing stale from an earlier run survives
        shutil.rmtree(work)
    stage(src, decks, student_zip=student)
    exe = Path(sys.executable).with_name("jupyter-book")
    if not exe.is_file():
        raise SystemExit("jupyter-book is not installed: pip install -r requirements-site.txt")
    result = subprocess.run(
        [str(exe), "build", str(src), "--path-output", str(work), "--builder", "html"],
        cwd=ROOT,
        capture_output=quiet,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write((result.stdout or "") + (result.stderr or ""))
        raise SystemExit(f"jupyter-book build failed (exit {result.returncode})")
    html = work / "_build" / "html"
    build_slides.build(decks, html / "slides")
    if student:
        build_student_zip(html / "downloads" / STUDENT_ZIP, work)
    postprocess_html(html)
    for stale in (".buildinfo", ".doctrees"):
        path = html / stale
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html, out)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--no-student", action="store_true", help="skip the student edition download"
    )
    parser.add_argument("--verbose", action="store_true", help="show Jupyter Book's output")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    index = build(args.out.resolve(), student=not args.no_student, quiet=not args.verbose)
    size = sum(p.stat().st_size for p in index.parent.rglob("*") if p.is_file())
    print(f"wrote {index} ({size / 1e6:.1f} MB) in {time.perf_counter() - start:.0f} s")
    print("open it in a browser (works offline), or publish the folder on any static host")
    return 0


if __name__ == "__main__":
    sys.exit(main())

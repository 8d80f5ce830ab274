"""What students and instructors see, checked in a real browser (`make test-browser`).

Debian's Chromium (/usr/bin/chromium) driven by Playwright for Python (pinned in
requirements-site.txt; Playwright's own browser download is not used). Four scenes:

- JupyterLab, started the way `make lab` starts it, on a temporary copy of the course:
  notebook 02 Run All (no error, the weight explorer is sliders that redraw the figure),
  then saved, its kernel gone, reopened: the explorer is still sliders, not an error;
- the student edition: notebook 01 Run All stops at Exercise 1, the message on screen;
- two lecture decks from disk: maths typeset, figures loaded, the speaker view shows the
  notes of a slide that has fragments (before any fragment is shown);
- the course website: home, a notebook page with maths and figures, search.

Every request that is not to 127.0.0.1 or a local file is refused and recorded; each scene
asserts there was none. Waits are for conditions, with generous limits (the machine is
shared). Screenshots go to $NNSCRATCH_SCREENSHOTS (default: the test's temporary folder).
Without Chromium the module is skipped with one line, unless NNSCRATCH_CI is set (then the
missing browser is a failure: CI installs it).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SKIP_LINE = "skipped: no Chromium found (install: apt-get install chromium)"
LONG = 300_000  # ms: Run All on a loaded 2-core machine
WAIT = 120_000  # ms: anything else

if not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None:
    reason = (
        SKIP_LINE
        if not CHROMIUM.exists()
        else "skipped: Playwright is not installed (pip install -r requirements-site.txt)"
    )
    if os.environ.get("NNSCRATCH_CI"):
        raise RuntimeError(reason.replace("skipped: ", "NNSCRATCH_CI is set but "))
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import BrowserContext, Page, Route  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

# ------------------------------------------------------------------ browser and guards


class Guard:
    """Refuses and records every request that would leave the machine; collects console
    errors and uncaught page errors."""

    LOCAL = re.compile(r"^(file:|data:|blob:|about:|chrome-extension:|https?://127\.0\.0\.1[:/])")

    def __init__(self, context: BrowserContext) -> None:
        self.outside: list[str] = []
        self.console_errors: list[str] = []
        context.route("**/*", self._route)
        context.on("page", self.watch)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self.LOCAL.match(url):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def watch(self, page: Page) -> None:
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))


@pytest.fixture(scope="module")
def browser(chromium):
    """The session's Chromium (tests/conftest.py), shared with the hub's browser tests."""
    return chromium


@pytest.fixture
def context(browser) -> Iterator[tuple[BrowserContext, Guard]]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(WAIT)
    guard = Guard(ctx)
    yield ctx, guard
    ctx.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("NNSCRATCH_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def serve():
    """serve(folder) -> base URL of a quiet static server on 127.0.0.1 for that folder."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# ------------------------------------------------------------------ JupyterLab


@pytest.fixture(scope="module")
def lab(course_lab: dict) -> dict:
    """`make lab` on a copy of the course with the student edition (tests/conftest.py)."""
    return course_lab


def _api(lab: dict, path: str, method: str = "GET"):
    req = urllib.request.Request(f"{lab['url']}{path}?token={lab['token']}", method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
    return json.loads(body) if body else None


def _accept_kernel_dialog(page: Page) -> bool:
    """JupyterLab sometimes asks which kernel to start ("Select Kernel"): take the proposed
    one (the notebook's python3), as a student would. Returns whether it asked."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count() and dialog.first.is_visible():
        dialog.locator("button.jp-mod-accept").first.click()
        dialog.first.wait_for(state="detached")
        return True
    return False


def _open_notebook(page: Page, lab: dict, rel: str) -> None:
    page.goto(f"{lab['url']}/lab/tree/{rel}?reset&token={lab['token']}")
    page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-Cell")
    page.wait_for_selector(IDLE)
    # JupyterLab asks which kernel to start before it starts one: once the server has a
    # session with an idle kernel for this notebook, no dialog can come any more.
    deadline = time.monotonic() + WAIT / 1000
    while not _accept_kernel_dialog(page) and not _kernel_idle(lab, rel):
        assert time.monotonic() < deadline, f"{rel}: no kernel started and no dialog came"
        page.wait_for_timeout(200)  # lets the request guard run


def _kernel_idle(lab: dict, rel: str) -> bool:
    """Whether the server holds a session for notebook ``rel`` whose kernel is idle."""
    for session in _api(lab, "/api/sessions"):
        kernel = session.get("kernel") or {}
        if session.get("path") == rel and kernel.get("execution_state") == "idle":
            return True
    return False


#: The notebook on show (another notebook's tab may be open, hidden, from the workspace).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
IDLE = f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']"

ALL_NUMBERED = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt';
  const prompts = [...document.querySelectorAll(panel)];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
NONE_RUNNING = """() => {
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt';
  return [...document.querySelectorAll(panel)].every(p => !p.textContent.includes('*'));
}"""


PROMPTS = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)
  .join('|')"""


def _run_all(page: Page, done: str = ALL_NUMBERED, arg: object = None) -> None:
    """Run > Run All Cells, then wait for ``done`` (JS) and for no cell still running.

    A Run All given while the kernel is still connecting is dropped by JupyterLab, so the
    command is repeated until some prompt changes (a cell queued or run)."""
    before = page.evaluate(PROMPTS)
    for _attempt in range(5):
        _accept_kernel_dialog(page)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator("li[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_function(f"(b) => ({PROMPTS})() !== b", arg=before, timeout=30_000)
            break
        except PlaywrightTimeout:
            if not _accept_kernel_dialog(page):
                page.keyboard.press("Escape")
    else:
        raise AssertionError("Run All did not start any cell")
    page.wait_for_function(done, arg=arg, timeout=LONG)
    page.wait_for_function(NONE_RUNNING, timeout=LONG)
    page.wait_for_selector(IDLE, timeout=LONG)


def _save(page: Page, path: Path) -> None:
    """Ctrl+S, as a student saves. The file must change within a minute: JupyterLab's
    autosave (every two minutes) cannot stand in for the key."""
    before = path.stat().st_mtime_ns
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while path.stat().st_mtime_ns == before and time.monotonic() < deadline:
        # Not time.sleep: the context's request guard (a route) runs only while Playwright
        # has control, so a sleeping test would hold the save's request back until autosave.
        page.wait_for_timeout(250)
    assert path.stat().st_mtime_ns != before, f"Ctrl+S did not save {path.name}"
    page.wait_for_function(
        "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')"
    )


def _explorer(page: Page):
    cell = page.locator(f"{PANEL} .jp-CodeCell", has_text="weight_explorer(").last
    cell.scroll_into_view_if_needed()
    return cell


def _figure_src(cell) -> str:
    return cell.locator(".jp-OutputArea img").first.get_attribute("src") or ""


def test_lab_notebook_02_runs_and_its_widgets_work_and_survive_a_save(context, lab, shots):
    ctx, guard = context
    page = ctx.new_page()
    nb_path = lab["folder"] / "02_forward_pass.ipynb"
    _open_notebook(page, lab, nb_path.name)
    cell = _explorer(page)
    assert "Error displaying widget" not in cell.inner_text()  # the stored output
    _run_all(page)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not tracebacks, tracebacks[:1]

    cell = _explorer(page)
    sliders = cell.locator(".widget-slider")
    sliders.first.wait_for()
    text = cell.inner_text()
    assert sliders.count() == 9, text[:300]
    assert "VBox(" not in text and "Error displaying widget" not in text
    cell.locator(".jp-OutputArea img").first.wait_for()
    before = _figure_src(cell)
    handle = cell.locator(".noUi-handle").first  # w11
    handle.focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "([sel, src]) => { const i = document.querySelectorAll(sel); "
        "return [...i].some(x => x.src && x.src !== src) }",
        arg=[".jp-CodeCell .jupyter-widgets .jp-OutputArea img", before],
    )
    assert _figure_src(cell) != before, "moving a slider did not redraw the figure"
    page.screenshot(path=str(shots / "lab_02_explorer.png"))

    _save(page, nb_path)
    saved = nbformat.read(nb_path, as_version=4)
    assert not [o for c in saved.cells for o in c.get("outputs", []) if o.output_type == "error"]
    for kernel in _api(lab, "/api/kernels"):
        _api(lab, f"/api/kernels/{kernel['id']}", "DELETE")
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    cell = _explorer(page)
    cell.locator(".widget-slider").first.wait_for()
    text = cell.inner_text()
    assert "Error displaying widget" not in text, "reopened notebook shows a broken widget"
    assert cell.locator(".widget-slider").count() == 9
    page.screenshot(path=str(shots / "lab_02_reopened.png"))
    assert not guard.outside, guard.outside
    assert not guard.console_errors, guard.console_errors[:5]


def test_student_edition_stops_at_exercise_1_with_the_message_on_screen(context, lab, shots):
    ctx, guard = context
    page = ctx.new_page()
    rel = "student_edition/notebooks/01_perceptron.ipynb"
    _open_notebook(page, lab, rel)
    try:
        _run_all(
            page,
            "(t) => [...document.querySelectorAll('.jp-OutputArea-output')]"
            ".some(o => o.textContent.includes(t))",
            "Exercise 1",
        )
    finally:
        page.screenshot(path=str(shots / "lab_student_01_after_run_all.png"))
    first = (
        page.locator(f"{PANEL} .jp-CodeCell")
        .filter(has=page.locator(".jp-OutputArea-output", has_text="Exercise 1"))
        .first
    )
    first.scroll_into_view_if_needed()
    message = first.locator(".jp-Cell-outputArea")
    message.scroll_into_view_if_needed()
    message.wait_for(state="visible")
    text = message.text_content() or ""
    assert "not done yet" in text and "Traceback" not in text, text[:500]
    assert len(text.strip().splitlines()) <= 8, f"a long block, not a short message: {text}"
    # Run All stopped there: no code cell after the failing one ran.
    cells = page.locator(f"{PANEL} .jp-CodeCell").all()
    failing = next(
        i
        for i, c in enumerate(cells)
        if "Exercise 1" in c.locator(".jp-Cell-outputArea").inner_text()
    )
    ran_after = [
        p
        for c in cells[failing + 1 :]
        if re.search(r"\[\d+\]", p := c.locator(".jp-InputPrompt").text_content() or "")
    ]
    assert not ran_after, f"Run All went on past Exercise 1: {ran_after[:3]}"
    box, viewport = message.bounding_box(), page.viewport_size
    assert box and 0 <= box["y"] < viewport["height"], "the message is off screen"
    page.screenshot(path=str(shots / "lab_student_01.png"))
    assert not guard.outside, guard.outside


# ------------------------------------------------------------------ decks


@pytest.fixture(scope="module")
def decks(course_decks: Path) -> Path:
    """Every deck as tools/build_slides.py renders it, built once per session (tests/conftest.py)
    and shared with tests/tools/test_lectures.py."""
    return course_decks


FIND_SLIDE_WITH_FRAGMENT_AND_NOTES = """() => {
  const slides = Reveal.getSlides();
  for (const s of slides) {
    if (s.querySelector('aside.notes') && s.querySelector('.fragment')) {
      const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v, -1);
      return s.querySelector('aside.notes').textContent.trim();
    }
  }
  return null;
}"""


@pytest.mark.parametrize("name", ["01_perceptron", "02_forward_pass"])
def test_deck_from_disk_typesets_maths_loads_figures_and_shows_notes(context, decks, shots, name):
    ctx, guard = context
    page = ctx.new_page()
    page.goto((decks / f"{name}.slides.html").as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 5")
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise && "
        "(MathJax.startup.promise.then(() => window.__mj = true), window.__mj === true)"
    )
    raw = page.evaluate(
        "() => [...document.querySelectorAll('.reveal .slides p, .reveal .slides li')]"
        ".map(e => e.textContent).filter(t => /\\$[^$]+\\$|\\\\frac|\\\\mathbf/.test(t))"
    )
    assert not raw, f"raw TeX on the slides: {raw[:3]}"
    images = page.evaluate(
        "() => [...document.querySelectorAll('.reveal img')].map(i => [i.complete, i.naturalWidth])"
    )
    assert len(images) >= 2 and all(ok and w > 0 for ok, w in images), images
    notes = page.evaluate(FIND_SLIDE_WITH_FRAGMENT_AND_NOTES)
    assert notes, f"{name}: no slide with both fragments and notes to check"
    page.screenshot(path=str(shots / f"deck_{name}.png"))
    with page.expect_popup() as popup_info:
        page.keyboard.press("s")
    speaker = popup_info.value
    speaker.wait_for_selector(".speaker-controls-notes")
    first_words = " ".join(notes.split()[:6])
    speaker.wait_for_function(
        "(words) => document.querySelector('.speaker-controls-notes').textContent"
        ".replace(/\\s+/g, ' ').includes(words)",
        arg=first_words,
    )
    speaker.screenshot(path=str(shots / f"deck_{name}_speaker.png"))
    assert not guard.outside, guard.outside
    assert not guard.console_errors, guard.console_errors[:5]


# ------------------------------------------------------------------ website


@pytest.fixture(scope="module")
def site(course_site: Path) -> Path:
    """The course website, built once per test session (tests/conftest.py) and shared with
    tests/tools/test_site.py."""
    return course_site


def _figures_loaded(page: Page) -> list:
    return page.evaluate(
        "() => [...document.querySelectorAll('article img')]"
        ".map(i => [i.complete && i.naturalWidth > 0, i.alt])"
    )


def test_site_from_disk_home_notebook_page_and_search(context, site, serve, shots):
    ctx, guard = context
    page = ctx.new_page()
    page.goto((site / "index.html").as_uri())
    page.wait_for_selector("article h1")
    assert "Neural Networks from Scratch" in page.locator("article h1").first.inner_text()
    page.screenshot(path=str(shots / "site_home.png"))
    page.goto((site / "notebooks" / "02_forward_pass.html").as_uri())
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 5")
    page.wait_for_function(
        "() => [...document.querySelectorAll('article img')].every(i => i.complete)"
    )
    figures = _figures_loaded(page)
    assert len(figures) >= 5 and all(ok and alt for ok, alt in figures), figures
    raw = page.evaluate(
        "() => [...document.querySelectorAll('article p')].map(e => e.textContent)"
        ".filter(t => /\\$[^$\\s][^$]*\\$/.test(t))"
    )
    assert not raw, f"raw TeX on the page: {raw[:2]}"
    page.screenshot(path=str(shots / "site_notebook_02.png"))
    # previous/next with the keyboard (the theme's arrow-key navigation)
    page.locator("body").press("ArrowRight")
    page.wait_for_url(re.compile(r"03_[a-z_]+\.html"))
    for base in ((site / "search.html").as_uri(), serve(site) + "/search.html"):
        page.goto(base + "?q=perceptron")
        page.wait_for_function(
            "() => document.querySelectorAll('#search-results li, ul.search li').length > 0"
        )
        hits = page.locator("#search-results li, ul.search li").all_inner_texts()
        assert any("perceptron" in h.lower() for h in hits), hits[:3]
    page.screenshot(path=str(shots / "site_search.png"))
    assert not guard.outside, guard.outside
    assert not guard.console_errors, guard.console_errors[:5]


def test_site_dark_mode_switch_works_offline(context, site, shots):
    ctx, guard = context
    page = ctx.new_page()
    page.goto((site / "notebooks" / "01_perceptron.html").as_uri())
    page.wait_for_selector("article h1")
    before = page.evaluate("() => document.documentElement.dataset.theme")
    page.locator(".theme-switch-button").first.click()
    page.wait_for_function("(b) => document.documentElement.dataset.theme !== b", arg=before)
    if page.evaluate("() => document.documentElement.dataset.theme") != "dark":
        page.locator(".theme-switch-button").first.click()
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    page.screenshot(path=str(shots / "site_dark.png"))
    assert not guard.outside, guard.outside


# ------------------------------------------------------------------ accessibility (issue 21)
# axe-core (tools/a11y, pinned on npm) with the WCAG 2.0/2.1 A and AA rules, and keyboard walks.
# Zero critical or serious violations in the course's own content: every site page in light and
# dark mode, every deck (as presented, and all slides at once in reveal's print layout), and
# the notebooks' cells in JupyterLab, where JupyterLab's own chrome (menus, toolbars, file
# browser) is out of scope: axe is run on the notebook's cells only.


def _audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / "tools" / "a11y" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not module.AXE_JS.is_file():
        message = f"axe-core is not installed ({module.AXE_JS}): run make setup (needs npm)"
        if os.environ.get("NNSCRATCH_CI"):
            pytest.fail(message)
        pytest.skip(message)
    return module


def _report(results: dict[str, list[dict]]) -> list[str]:
    audit = _audit()
    return [
        f"{place}: {line}" for place, found in results.items() for line in audit.blocking(found)
    ]


def test_axe_every_site_page_light_and_dark(browser, site):
    results = _audit().audit_site(browser, site)
    assert len(results) >= 2 * 20, sorted(results)[:5]
    assert not _report(results), "\n".join(_report(results)[:20])


def test_axe_every_deck_every_slide(browser, site):
    decks = sorted((site / "slides").glob("*.slides.html"))
    assert len(decks) >= 12, decks
    results = {}
    for deck in decks:
        results.update(_audit().audit_deck(browser, deck))
    assert not _report(results), "\n".join(_report(results)[:20])


#: The element that has focus: where it is, whether a focus ring shows, what it is.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  // A control drawn by its child (the chapter list's <summary> draws its chevron): the child.
  const area = (x) => { const r = x.getBoundingClientRect(); return r.width * r.height; };
  const box = area(e) > 0 ? e : [...e.querySelectorAll('*')].find(c => area(c) > 0) || e;
  const s = getComputedStyle(box), r = box.getBoundingClientRect();
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) ||
               (s.boxShadow && s.boxShadow !== 'none');
  const hidden = !!e.closest('[aria-hidden="true"], [hidden], section.past, section.future');
  return {tag: e.tagName, cls: String(e.className), name: e.getAttribute('aria-label') ||
          e.textContent.trim().slice(0, 40), ring, hidden,
          maths: !!e.closest('mjx-container'),
          onscreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
                    r.top < innerHeight && r.left < innerWidth};
}"""


def _tab_walk(page: Page, limit: int = 400) -> list[dict]:
    """Press Tab until focus comes back round (or ``limit``); what had focus at each stop."""
    stops, first = [], None
    for _ in range(limit):
        page.keyboard.press("Tab")
        try:  # the page scrolls (smoothly) to what has focus: wait until it is in view
            page.wait_for_function(f"() => ({FOCUSED})()?.onscreen !== false", timeout=5_000)
        except PlaywrightTimeout:
            pass
        here = page.evaluate(FOCUSED)
        if here is None:
            continue
        key = (here["tag"], here["cls"], here["name"])
        if key == first:
            break
        first = first or key
        stops.append(here)
    return stops


def test_site_keyboard_walk(context, site, shots):
    ctx, guard = context
    page = ctx.new_page()
    page.goto((site / "notebooks" / "01_perceptron.html").as_uri())
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 5")
    page.evaluate("() => MathJax.startup.promise")
    stops = _tab_walk(page)
    assert stops, "nothing takes focus"
    assert not [s for s in stops if s["maths"]], "equations are in the tab order"
    assert len(stops) < 120, f"{len(stops)} tab stops on one page"
    unseen = [s for s in stops if not s["ring"] or not s["onscreen"]]
    assert not unseen, f"focus without a visible ring or off screen: {unseen[:5]}"

    # the colour-mode button keeps focus and says which mode is on
    button = page.locator(".theme-switch-button").first
    button.focus()
    names = set()
    for _ in range(3):
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(
                "() => document.activeElement.matches('.theme-switch-button')", timeout=5_000
            )
        except PlaywrightTimeout:
            raise AssertionError(f"focus lost to {page.evaluate(FOCUSED)}") from None
        here = page.evaluate(FOCUSED)
        names.add(here["name"])
    assert {n.split(".")[0] for n in names} == {
        "Colour mode: Light",
        "Colour mode: Dark",
        "Colour mode: System Settings",
    }, names

    # search opens with the keyboard and gives focus back to its button when closed
    search = page.locator(".search-button__button:visible").first
    search.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#pst-search-dialog[open] input", state="visible")
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => document.activeElement.classList.contains('search-button__button')"
    )
    assert "Ctrl" in (search.evaluate("b => b.textContent") or "")

    # the chapter list opens at 200 % zoom on a laptop (below 960 CSS px) and closes again
    page.set_viewport_size({"width": 700, "height": 900})
    toggle = page.locator(".primary-toggle:visible").first
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#pst-primary-sidebar-modal a[href*='02_forward_pass']", state="visible")
    page.screenshot(path=str(shots / "site_chapter_list_700px.png"))
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.activeElement.classList.contains('primary-toggle')")
    assert not guard.outside, guard.outside


def test_site_search_announces_how_many_pages_it_found(context, site, serve):
    ctx, _ = context
    page = ctx.new_page()
    page.goto(serve(site) + "/search.html?q=perceptron")
    status = page.locator("[role=status].nn-search-status")
    page.wait_for_function(
        "() => /\\d/.test(document.querySelector('.nn-search-status')?.textContent || '')"
    )
    assert "perceptron" in status.text_content().lower() or "found" in status.text_content()


def test_deck_keyboard_walk_and_speaker_view(context, site, shots):
    ctx, guard = context
    page = ctx.new_page()
    page.goto((site / "slides" / "01_perceptron.slides.html").as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    for _ in range(3):  # a few slides in, as a presenter would be
        page.keyboard.press("ArrowRight")
    stops = _tab_walk(page, limit=100)
    assert len(stops) < 20, f"{len(stops)} tab stops: {[s['cls'] for s in stops[:10]]}"
    bad = [s for s in stops if s["hidden"] or not s["onscreen"] or s["maths"]]
    assert not bad, f"focus on an off-screen slide or an equation: {bad[:3]}"
    controls = [s for s in stops if "navigate-" in s["cls"]]
    assert controls and all(s["ring"] for s in controls), stops
    page.locator(".reveal .controls .navigate-right").focus()
    page.screenshot(path=str(shots / "deck_focus_next.png"))
    with page.expect_popup() as popup_info:
        page.keyboard.press("s")
    speaker = popup_info.value
    speaker.wait_for_selector(".speaker-controls-time")
    reset = speaker.locator(".speaker-controls-time button.reset-button")
    stops = _tab_walk(speaker, limit=50)
    assert any("reset-button" in s["cls"] for s in stops), "the timer reset cannot be reached"
    reset.focus()
    assert reset.evaluate("b => getComputedStyle(b).opacity") == "1", "focused but invisible"
    speaker.screenshot(path=str(shots / "deck_speaker_reset_focused.png"))
    assert not guard.outside, guard.outside


@pytest.mark.parametrize(
    "name", ["01_perceptron", "07_digits_from_scratch", "11_convolution_from_scratch"]
)
def test_axe_course_content_in_jupyterlab(context, lab, shots, name):
    ctx, guard = context
    page = ctx.new_page()
    _open_notebook(page, lab, f"{name}.ipynb")
    page.wait_for_selector(f"{PANEL} .jp-OutputArea-output")
    # JupyterLab renders cells lazily (windowing): scroll through so every cell is in the DOM.
    page.evaluate(
        """async () => { const s = document.querySelector(
             '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
           if (!s) return; for (let y = 0; y <= s.scrollHeight; y += 600) {
             s.scrollTop = y; await new Promise(r => setTimeout(r, 30)); } }"""
    )
    # Outputs render after their cells appear: wait for every stored figure.
    stored = nbformat.read(lab["folder"] / f"{name}.ipynb", as_version=4)
    data = [o.get("data", {}) for c in stored.cells for o in c.get("outputs", [])]
    # a figure is stored as a PNG or, with its alt text, as HTML holding an <img>
    expected = sum(1 if "image/png" in d else str(d.get("text/html", "")).count("<img")
                   for d in data)  # fmt: skip
    assert expected >= 1, f"{name} stores no figure"
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n",
        arg=[f"{PANEL} .jp-OutputArea-output img", expected],
    )
    figures = page.locator(f"{PANEL} .jp-OutputArea-output img")
    alts = figures.evaluate_all("imgs => imgs.map(i => i.getAttribute('alt') || '')")
    assert all(len(a.split()) >= 6 for a in alts), [a for a in alts if len(a.split()) < 6][:3]
    # the course's content: rendered Markdown and outputs (editors, prompts: JupyterLab's chrome)
    content = [f"{PANEL} .jp-MarkdownOutput", f"{PANEL} .jp-OutputArea"]
    found = _audit().axe(page, include=content)
    page.screenshot(path=str(shots / f"lab_axe_{name}.png"))
    assert not _audit().blocking(found), "\n".join(_audit().blocking(found))
    assert not guard.outside, guard.outside

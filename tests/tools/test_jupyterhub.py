"""A class's JupyterHub, for real: deploy/jupyterhub/ as README "Serving the course to a class"
tells an instructor to run it.

One JupyterHub (pinned in deploy/jupyterhub/requirements-singleuser.txt) for the module, on
127.0.0.1 with random free ports, started with deploy/jupyterhub/jupyterhub_config.py: its
dummy authenticator, its simple local-process spawner (one home per student under a temporary
folder) and configurable-http-proxy from node_modules/ (package.json, `make setup`). The
student edition (`nnscratch release`) is committed to a local bare repository; three students
log in with Debian's Chromium (Playwright) and follow the nbgitpuller link. Through the hub:

- every student gets the notebooks, and notebook 02 opens in JupyterLab;
- Run All stops at the first unfinished exercise with the short "not done yet" block;
- the weight explorer of notebook 02 renders as sliders and moving one redraws the figure;
- a student's answer survives a second pull after the instructor pushed a change to another
  cell (nbgitpuller merges: the student's edit and the instructor's change are both there);
- a student cannot open another student's server or files through the hub.

Every request that is not to 127.0.0.1 is refused and recorded; each test asserts there was
none. Screenshots go to $NNSCRATCH_SCREENSHOTS (default: a temporary folder). Without Chromium,
Playwright, git or configurable-http-proxy the module is skipped with one line, unless
NNSCRATCH_CI is set (then it fails: CI installs them).

The files behind it (pins, Zero to JupyterHub values) are checked in test_jupyterhub_deploy.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from fixtures.servers import free_port, running

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "jupyterhub"
CONFIG = DEPLOY / "jupyterhub_config.py"
CHROMIUM = Path("/usr/bin/chromium")
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
STUDENTS = ("alice", "bob", "carol")
LONG = 300_000  # ms: starting a student's JupyterLab or running cells on a loaded machine
WAIT = 120_000  # ms: anything else
REPO_NAME = "nn-student"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return "no Chromium found (install: apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (make setup)"
    if shutil.which("git") is None:
        return "git is not installed (apt-get install git)"
    if not PROXY.exists() and shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is not installed (make setup runs npm ci)"
    return None


_reason = _missing()
if _reason is not None:
    if os.environ.get("NNSCRATCH_CI"):
        raise RuntimeError(f"NNSCRATCH_CI is set but {_reason}")
    pytest.skip(f"skipped: {_reason}", allow_module_level=True)


# ------------------------------------------------------------------ the hub


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Instructor",
        "GIT_AUTHOR_EMAIL": "instructor@example.org",
        "GIT_COMMITTER_NAME": "Instructor",
        "GIT_COMMITTER_EMAIL": "instructor@example.org",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def hub(tmp_path_factory, course_release: Path) -> Iterator[dict]:
    """The student edition in a bare repository, and a running hub. Yields url, link(path),
    homes, instructor (a clone of the bare repository), log."""
    base = tmp_path_factory.mktemp("hub")
    # The student edition, as the README tells the instructor to publish it: made once per
    # session by the README's command (`nnscratch release`, tests/conftest.py).
    instructor = base / "instructor"
    shutil.copytree(course_release, instructor)
    _git("init", "--quiet", "--initial-branch=main", cwd=instructor)
    _git("add", "--all", cwd=instructor)
    _git("commit", "--quiet", "-m", "student edition", cwd=instructor)
    bare = base / REPO_NAME
    _git("clone", "--quiet", "--bare", str(instructor), str(bare), cwd=base)
    _git("remote", "add", "origin", str(bare), cwd=instructor)
    _git("fetch", "--quiet", "origin", cwd=instructor)
    _git("branch", "--quiet", "--set-upstream-to=origin/main", cwd=instructor)

    state = base / "state"
    state.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "NNSCRATCH_HUB_STUDENTS": ",".join(STUDENTS),
        "NNSCRATCH_HUB_HOMES": str(base / "homes"),
    }
    args = [
        sys.executable, "-m", "jupyterhub", "-f", str(CONFIG), "--port", str(port),
        f"--JupyterHub.hub_port={free_port()}",
        f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # Stopping the hub's process group stops the students' servers and the proxy too.
    with running(args, cwd=state, env=env, log=base / "hub.log",
                 ready_url=f"{url}/hub/health", what="JupyterHub"):  # fmt: skip
        def link(path: str) -> str:
            # nbgitpuller's link, as its link generator writes it (README).
            query = urllib.parse.urlencode(
                {"repo": bare.as_uri(), "branch": "main", "urlpath": f"lab/tree/{path}"}
            )
            return f"{url}/hub/user-redirect/git-pull?{query}"

        yield {
            "url": url,
            "link": link,
            "homes": base / "homes",
            "instructor": instructor,
            "log": base / "hub.log",
        }


@pytest.fixture(scope="module")
def browser(hub, chromium):
    """The session's Chromium (tests/conftest.py), shared with tests/tools/test_browser.py."""
    return chromium


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("NNSCRATCH_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Student:
    """One student's browser session on the hub; records any request leaving 127.0.0.1."""

    LOCAL = re.compile(r"^(data:|blob:|about:|https?://127\.0\.0\.1[:/])")

    def __init__(self, browser, hub: dict, name: str) -> None:
        self.name, self.hub, self.outside = name, hub, []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(WAIT)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()

    def _route(self, route) -> None:
        if self.LOCAL.match(route.request.url):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.hub['url']}/hub/login")
        page.fill("#username_input", self.name)
        page.fill("#password_input", "any password: the dummy authenticator")
        page.click("#login_submit")
        page.wait_for_url(re.compile(r".*/(hub/home|hub/spawn.*|user/.*)$"))

    def follow_link(self, notebook: str) -> None:
        """Follow the nbgitpuller link to ``notebook``, without waiting for the page."""
        self.page.goto(self.hub["link"](f"{REPO_NAME}/notebooks/{notebook}"), wait_until="commit")

    def wait_for_lab(self) -> None:
        """Wait until the link has led to JupyterLab showing the notebook, idle."""
        self.page.wait_for_url(re.compile(rf".*/user/{self.name}/lab/tree/.*"), timeout=LONG)
        self.page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-Cell", timeout=LONG)
        self.page.wait_for_selector(IDLE, timeout=LONG)

    @property
    def home(self) -> Path:
        return self.hub["homes"] / self.name


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
IDLE = f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']"
PROMPTS = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)
  .join('|')"""


@pytest.fixture(scope="module")
def students(hub, browser) -> Iterator[dict[str, Student]]:
    """The three students, logged in, each having followed the link to notebook 02."""
    crowd = {name: Student(browser, hub, name) for name in STUDENTS}
    try:
        for student in crowd.values():
            student.log_in()
        # All three at once, as a class does: the hub starts their servers side by side.
        for student in crowd.values():
            student.follow_link("02_forward_pass.ipynb")
        for student in crowd.values():
            student.wait_for_lab()
        yield crowd
    finally:
        for student in crowd.values():
            student.context.close()


def _cell(page, text: str):
    cell = page.locator(f"{PANEL} .jp-CodeCell", has_text=text).first
    cell.scroll_into_view_if_needed()
    return cell


def _run_cell(page, cell) -> None:
    """Run one cell in place (click it, Ctrl+Enter), as a student skipping ahead does."""
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        "(c) => /\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt').textContent)",
        arg=cell.element_handle(),
        timeout=LONG,
    )


def test_every_student_gets_the_student_edition(hub, students, shots) -> None:
    expected = sorted(p.name for p in (hub["instructor"] / "notebooks").glob("*.ipynb"))
    assert len(expected) >= 12
    for name, student in students.items():
        arrived = sorted(p.name for p in (student.home / REPO_NAME / "notebooks").glob("*.ipynb"))
        assert arrived == expected, f"{name}: {arrived}"
        page = student.page
        assert f"/user/{name}/lab/tree/{REPO_NAME}/notebooks/02_forward_pass.ipynb" in page.url
        # The student edition, not the instructor's: the first exercise is a stub.
        assert "raise NotImplementedError()" in _cell(page, "def my_sigmoid").inner_text()
        page.screenshot(path=str(shots / f"hub_{name}_02_pulled.png"))
        assert not student.outside, student.outside


def test_unfinished_exercise_then_the_weight_explorer(students, shots) -> None:
    student = students["alice"]
    page = student.page
    page.bring_to_front()
    before = page.evaluate(PROMPTS)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator("li[data-command='runmenu:run-all']").click()
    page.wait_for_function(f"(b) => ({PROMPTS})() !== b", arg=before, timeout=LONG)
    exercise = _cell(page, "def my_sigmoid")
    message = exercise.locator(".jp-Cell-outputArea")
    message.get_by_text("not done yet").wait_for(timeout=LONG)
    text = message.inner_text()
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 8, text[:500]
    page.screenshot(path=str(shots / "hub_alice_02_exercise_not_done.png"))
    # Run All stopped there: the next code cell did not run.
    cells = page.locator(f"{PANEL} .jp-CodeCell").all()
    after = cells[[c.inner_text() for c in cells].index(exercise.inner_text()) + 1]
    prompt = after.locator(".jp-InputPrompt").text_content() or ""
    assert not re.search(r"\[\d+\]", prompt), f"Run All went on past the exercise: {prompt}"

    # Skip ahead to the explorer: the XOR data cell, then the widget cell.
    _run_cell(page, _cell(page, "X_xor, y_xor = make_xor"))
    cell = _cell(page, "weight_explorer(")
    _run_cell(page, cell)
    sliders = cell.locator(".widget-slider")
    sliders.first.wait_for(timeout=LONG)
    assert sliders.count() == 9, cell.inner_text()[:300]
    assert "Error displaying widget" not in cell.inner_text()
    figure = cell.locator(".jp-OutputArea img").first
    figure.wait_for(timeout=LONG)
    before = figure.get_attribute("src")
    cell.locator(".noUi-handle").first.focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "([c, src]) => [...c.querySelectorAll('.jp-OutputArea img')].some(i => i.src !== src)",
        arg=[cell.element_handle(), before],
    )
    page.screenshot(path=str(shots / "hub_alice_02_explorer_moved.png"))
    assert not student.outside, student.outside


ANSWER = "return 1 / (1 + np.exp(-z))  # bob's answer"


def test_a_students_edit_survives_the_next_pull(hub, students, shots) -> None:
    student = students["bob"]
    page = student.page
    page.bring_to_front()
    nb_path = student.home / REPO_NAME / "notebooks" / "02_forward_pass.ipynb"
    # Bob answers exercise 1 in the browser and saves (File > Save Notebook).
    editor = _cell(page, "def my_sigmoid").locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    # Inserted at once (as a paste would), not key by key: the same edit, far fewer events.
    page.keyboard.insert_text(f"def my_sigmoid(z):\n    {ANSWER}\n\n\ncheck_sigmoid(my_sigmoid)")
    _cell(page, "def my_sigmoid").get_by_text("bob's answer").wait_for()
    page.keyboard.press("Escape")
    page.locator(".lm-MenuBar-item", has_text="File").first.click()
    page.locator("li[data-command='docmanager:save']").click()
    # JupyterLab may ask before overwriting a file whose time on disk differs from the one it
    # opened; the student keeps their own version. (Recorded: the dialog's text and a picture.)
    dialog = page.locator(".jp-Dialog")
    deadline = time.monotonic() + LONG / 1000
    while ANSWER not in nb_path.read_text(encoding="utf-8") and time.monotonic() < deadline:
        if dialog.count() and dialog.first.is_visible():
            page.screenshot(path=str(shots / "hub_bob_save_dialog.png"))
            print("save dialog:", dialog.first.inner_text()[:300])
            dialog.locator("button", has_text="Overwrite").first.click()
        page.wait_for_timeout(250)  # lets the request guard (a route) run
    if ANSWER not in nb_path.read_text(encoding="utf-8"):
        page.screenshot(path=str(shots / "hub_bob_not_saved.png"))
    assert ANSWER in nb_path.read_text(encoding="utf-8"), "the answer was not saved"

    # The instructor fixes another cell of the same notebook and pushes.
    source = hub["instructor"] / "notebooks" / "02_forward_pass.ipynb"
    nb = nbformat.read(source, as_version=4)
    fix = "\n\n*Updated by the instructor after the first session.*"
    nb.cells[0].source += fix
    nbformat.write(nb, source)
    _git("commit", "--quiet", "-am", "02: a note in the introduction", cwd=hub["instructor"])
    _git("push", "--quiet", "origin", "main", cwd=hub["instructor"])

    # Bob follows the same link again: nbgitpuller merges, his answer stays.
    student.follow_link("02_forward_pass.ipynb")
    student.wait_for_lab()
    pulled = nbformat.read(nb_path, as_version=4)
    exercise = next(c for c in pulled.cells if "def my_sigmoid" in c.source)
    assert ANSWER in exercise.source and "NotImplementedError" not in exercise.source
    assert pulled.cells[0].source.endswith(fix), "the instructor's change did not arrive"
    page.get_by_text("Updated by the instructor").first.wait_for()
    assert ANSWER in _cell(page, "def my_sigmoid").inner_text()
    page.screenshot(path=str(shots / "hub_bob_02_after_second_pull.png"))
    assert not student.outside, student.outside


def test_a_student_cannot_open_another_students_files(hub, students, shots) -> None:
    carol, url = students["carol"], hub["url"]
    secret = "02_forward_pass.ipynb"
    tries = {
        "alice's contents API": f"{url}/user/alice/api/contents/{REPO_NAME}/notebooks",
        "alice's file": f"{url}/user/alice/files/{REPO_NAME}/notebooks/{secret}",
        "alice's home from carol's server": (
            f"{url}/user/carol/api/contents/%2E%2E/alice/{REPO_NAME}/notebooks"
        ),
    }
    for what, target in tries.items():
        response = carol.context.request.get(target)
        assert response.status in (403, 404), f"{what}: {response.status}"
        assert "03_loss" not in response.text(), f"{what} listed alice's notebooks"
    # Carol's own files: the same request on her server works (the check above can fail).
    own = carol.context.request.get(f"{url}/user/carol/api/contents/{REPO_NAME}/notebooks")
    assert own.status == 200 and secret in own.text()
    page = carol.page
    response = page.goto(f"{url}/user/alice/lab/tree/{REPO_NAME}/notebooks/{secret}")
    assert response.status == 403, response.status
    assert "/user/alice/lab" not in page.url or page.locator(".jp-Notebook").count() == 0
    page.screenshot(path=str(shots / "hub_carol_opens_alice.png"))
    assert not carol.outside, carol.outside

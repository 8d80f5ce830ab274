"""``nnscratch grade``: rubric, automatic criteria, names, broken submissions, the merge.

The attacks on the sandbox are in ``test_hostile_submissions.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from fixtures.notebook_factory import project_notebook, write_notebook

from nnscratch_tools.grading import criteria, load_rubric, merge_manual
from nnscratch_tools.grading.grader import clean_notebook, discover_submissions
from nnscratch_tools.grading.names import csv_cell, from_csv_cell, normalise_name, unique
from nnscratch_tools.grading.report import MANIFEST
from nnscratch_tools.grading.rubric import parse_rubric
from nnscratch_tools.grading.sandbox import Limits

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "projects" / "rubric.yml"
TIMEOUT = 120  # seconds per notebook: generous, honest work never comes near it


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


def run_cli(
    *args: str | Path, timeout: float = 900, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnscratch_tools", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


# --------------------------------------------------------------------------- rubric
def test_project_rubric_is_complete() -> None:
    rubric = load_rubric(RUBRIC)
    assert [s.id for s in rubric.sections] == ["math", "code", "results", "takeaways"]
    checks = {c.check for c in rubric.automatic}
    assert checks == {"sections", "runs", "figures", "no_errors"}
    assert rubric.manual and all(c.check is None for c in rubric.manual)
    assert any("presentation" in c.id for c in rubric.manual)
    assert rubric.max_points == 100
    Limits(**rubric.limits)  # the defaults are valid limits


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["criteria"][0].pop("points"), "needs a 'points' entry"),
        (lambda d: d["criteria"][0].update(points=-1), "should be > 0"),
        (lambda d: d["criteria"][0].update(points="4"), "should be"),
        (lambda d: d["criteria"][0].update(kind="auto"), "'automatic' or 'manual'"),
        (lambda d: d["criteria"][0].update(check="magic"), "check' should be one of"),
        (lambda d: d["criteria"][-1].update(check="runs"), "manual and cannot have"),
        (lambda d: d["criteria"].append(dict(d["criteria"][0])), "unique, repeated"),
        (lambda d: d["sections"][0].update(needs="poetry"), "needs should be one of"),
        (lambda d: d.update(limits={"timeout": 3}), "'limits' may hold"),
    ],
)
def test_bad_rubrics_are_refused_clearly(change, message: str) -> None:
    data = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ValueError, match=message):
        parse_rubric(data)


def test_rubric_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "r.yml"
    bad.write_text("criteria: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"r\.yml is not valid YAML"):
        load_rubric(bad)
    with pytest.raises(ValueError, match="cannot read the rubric"):
        load_rubric(tmp_path / "missing.yml")


# --------------------------------------------------------------------------- criteria
def test_sections_found_in_a_good_submission() -> None:
    rubric = load_rubric(RUBRIC)
    reports = criteria.find_sections(project_notebook(), rubric.sections)
    assert [r.ok for r in reports] == [True] * 4, [r.why for r in reports]


def test_template_has_every_heading_but_no_content() -> None:
    rubric = load_rubric(RUBRIC)
    template = nbformat.read(REPO / "projects" / "template.ipynb", as_version=4)
    reports = criteria.find_sections(template, rubric.sections)
    assert all(r.heading is not None for r in reports), "template lacks a required heading"
    assert not any(r.ok for r in reports), "TODO placeholders must not count as content"
    assert not any(o for c in template.cells if c.cell_type == "code" for o in c.outputs), (
        "the template must produce no output"
    )


@pytest.mark.parametrize("path", sorted((REPO / "projects" / "starters").glob("*.ipynb")))
def test_starters_have_the_required_headings(path: Path) -> None:
    rubric = load_rubric(RUBRIC)
    nb = nbformat.read(path, as_version=4)
    reports = criteria.find_sections(nb, rubric.sections)
    assert all(r.heading is not None for r in reports), [r.why for r in reports]


def test_missing_and_empty_sections_are_named() -> None:
    rubric = load_rubric(RUBRIC)
    nb = project_notebook()
    nb.cells = [c for c in nb.cells if "takeaways" not in c.source.lower()]
    nb.cells[1].source = "## 1. Math: too short\n\nOnly a few words here."
    reports = {r.section.id: r for r in criteria.find_sections(nb, rubric.sections)}
    assert not reports["math"].ok and "fewer than the 60 needed" in reports["math"].why
    assert reports["takeaways"].heading is None and "no heading" in reports["takeaways"].why
    assert reports["code"].ok and reports["results"].ok


def test_discover_submissions(tmp_path: Path) -> None:
    write_notebook(project_notebook(), tmp_path / "alice.ipynb")
    write_notebook(project_notebook(), tmp_path / "bob" / "work" / "project.ipynb")
    (tmp_path / "bob" / "data.csv").write_text("1\n", encoding="utf-8")
    write_notebook(project_notebook(), tmp_path / "carol" / "a.ipynb")
    write_notebook(project_notebook(), tmp_path / "carol" / "b.ipynb")
    write_notebook(project_notebook(), tmp_path / "EVE.IPYNB")
    (tmp_path / "dave").mkdir()
    (tmp_path / "notes.txt").write_text("not a submission", encoding="utf-8")
    found = {s.name: s for s in discover_submissions(tmp_path)}
    assert sorted(found) == ["EVE", "alice", "bob", "carol", "dave", "notes.txt"]
    assert found["bob"].notebook == tmp_path / "bob" / "work" / "project.ipynb"
    assert found["EVE"].notebook == tmp_path / "EVE.IPYNB"
    assert found["carol"].notebook is None and "several notebooks" in found["carol"].problem
    assert found["dave"].notebook is None and "no .ipynb" in found["dave"].problem
    assert found["notes.txt"].skipped and "not a notebook" in found["notes.txt"].problem
    with pytest.raises(ValueError, match="does not exist"):
        discover_submissions(tmp_path / "nope")


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("bob ", "bob"),
        ("  ann\tlee\n", "ann lee"),
        ("caf\u0065\u0301", "caf\u00e9"),
        ("bad\udcffbyte", "bad\ufffdbyte"),
        ("", "unnamed"),
    ],
)
def test_names_are_normalised_once_for_all(raw: str, name: str) -> None:
    assert normalise_name(raw) == name
    assert normalise_name(normalise_name(raw)) == normalise_name(raw)


def test_long_names_are_capped_and_stay_unique() -> None:
    long = "x" * 300
    capped = normalise_name(long)
    assert len(capped) <= 80 and normalise_name(capped) == capped
    assert capped != normalise_name("x" * 299)
    taken: set[str] = set()
    first, second = unique(capped, taken), unique(capped, taken)
    assert first != second and len(second) <= 80 and normalise_name(second) == second


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(text: str) -> None:
    safe = csv_cell(text)
    assert safe.startswith("'") and from_csv_cell(safe) == text
    assert csv_cell("alice") == "alice" and from_csv_cell("'quoted") == "'quoted"


def test_clean_notebook_keeps_only_sources() -> None:
    nb = project_notebook()
    cell = nb.cells[2]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored")]
    cell.execution_count = 7
    cell.metadata["tags"] = ["skip-execution"]
    cell.metadata["grader"] = {"status": "ok"}
    clean = clean_notebook(nb)
    assert [c.source for c in clean.cells] == [c.source for c in nb.cells]
    assert all(c.metadata == {} for c in clean.cells)
    code = [c for c in clean.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_errors_and_figures_count_only_cells_that_ran() -> None:
    nb = project_notebook()
    image = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[0].outputs, code[1].outputs = [error], [image]
    assert criteria.figure_cells(nb) == [] and criteria.cell_errors(nb) == []
    code[0].metadata["grader"] = {"status": "error", "ename": "KeyError", "evalue": "k"}
    code[1].metadata["grader"] = {"status": "ok"}
    assert criteria.figure_cells(nb) == [nb.cells.index(code[1])]
    assert [e[1] for e in criteria.cell_errors(nb)] == ["KeyError"]


# --------------------------------------------------------------------------- sandbox
def test_grading_refuses_without_a_sandbox_unless_told(tmp_path: Path) -> None:
    """No bwrap on PATH: refused; with --unsafe-no-sandbox it grades (and says what it means)."""
    subs = tmp_path / "subs"
    write_notebook(project_notebook(), subs / "good.ipynb")
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    done = run_cli("grade", subs, "--out", tmp_path / "out", "--rubric", RUBRIC, env=env)
    assert done.returncode == 2 and "refusing to grade: no sandbox" in done.stderr, done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    done = run_cli(
        "grade", subs, "--out", tmp_path / "out", "--rubric", RUBRIC, "--unsafe-no-sandbox",
        "--timeout", TIMEOUT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING: --unsafe-no-sandbox" in done.stderr
    row = read_rows(tmp_path / "out" / "grades.csv")["good"]
    assert (row["status"], row["automatic_points"]) == ("ok", "10"), row
    feedback = (tmp_path / "out" / "feedback" / "good.md").read_text("utf-8")
    assert "not enforced: NO SANDBOX" in feedback and "checked inside" not in feedback


# --------------------------------------------------------------------------- merge
def _graded(tmp_path: Path) -> tuple[Path, object]:
    """A grades.csv for two submissions, as `nnscratch grade` writes it."""
    from nnscratch_tools.grading.report import grade_columns

    rubric = load_rubric(RUBRIC)
    path = tmp_path / "grades.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=grade_columns(rubric))
        writer.writeheader()
        for name, auto in (("alice", ["4", "3", "2", "1"]), ("bob", ["2", "0", "0", "0"])):
            row = {"submission": name, "status": "ok", "max_points": "100"}
            row.update({c.id: v for c, v in zip(rubric.automatic, auto, strict=True)})
            writer.writerow(row)
    write_manifest(tmp_path, ["grades.csv"])
    return path, rubric


def write_manifest(folder: Path, names: list[str]) -> None:
    """The manifest `nnscratch grade` writes, over ``names`` in ``folder``."""
    lines = [f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}" for n in names]
    (folder / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _manual(tmp_path: Path, rows: list[dict[str, str]], name: str = "manual.csv") -> Path:
    path = tmp_path / name
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k != "submission", k))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _full(name: str, **scores: str) -> dict[str, str]:
    base = {
        "math_explanation": "15",
        "code_quality": "18",
        "results_visualisation": "12.5",
        "takeaways": "8",
        "presentation": "20",
    }
    return {"submission": name, **base, **scores}


def test_merge_combines_manual_scores(tmp_path: Path) -> None:
    grades, rubric = _graded(tmp_path)
    manual = _manual(tmp_path, [_full("alice"), _full("bob", presentation="0")])
    final = read_rows(merge_manual(grades, manual, rubric, tmp_path))
    assert final["alice"]["automatic_points"] == "10"
    assert final["alice"]["manual_points"] == "73.5" and final["alice"]["total"] == "83.5"
    assert final["bob"]["total"] == str(2 + 73.5 - 20)
    assert final["alice"]["presentation"] == "20"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_full("alice", presentation="26"), _full("bob")], "outside 0 to 25"),
        ([_full("alice", takeaways="-1"), _full("bob")], "outside 0 to 10"),
        ([_full("alice", code_quality="good"), _full("bob")], "is not a number"),
        ([_full("alice", takeaways=""), _full("bob")], "takeaways is blank"),
        ([_full("alice")], "no manual scores for 'bob'"),
        ([_full("alice"), _full("bob"), _full("zed")], "'zed' is not a graded submission"),
        ([_full("alice"), _full("alice"), _full("bob")], "appears twice"),
    ],
)
def test_merge_refuses_bad_scores(tmp_path: Path, rows: list, message: str) -> None:
    grades, rubric = _graded(tmp_path)
    manual = _manual(tmp_path, rows)
    with pytest.raises(ValueError, match=message):
        merge_manual(grades, manual, rubric, tmp_path)
    assert not (tmp_path / "final.csv").exists()


def test_merge_needs_every_manual_column(tmp_path: Path) -> None:
    grades, rubric = _graded(tmp_path)
    rows = [_full("alice"), _full("bob")]
    for row in rows:
        row.pop("presentation")
    with pytest.raises(ValueError, match=r"no column for the manual criteria \['presentation'\]"):
        merge_manual(grades, _manual(tmp_path, rows), rubric, tmp_path)


def test_cli_merge_and_argument_errors(tmp_path: Path) -> None:
    grades, _ = _graded(tmp_path)
    (tmp_path / "rubric.yml").write_bytes(RUBRIC.read_bytes())
    write_manifest(tmp_path, ["grades.csv", "rubric.yml"])
    manual = _manual(tmp_path, [_full("alice"), _full("bob")])
    done = run_cli("grade", "--merge", manual, "--out", tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert read_rows(tmp_path / "final.csv")["alice"]["total"] == "83.5"
    bad = _manual(tmp_path, [_full("alice", presentation="99"), _full("bob")], "bad.csv")
    done = run_cli("grade", "--merge", bad, "--out", tmp_path, timeout=600)
    assert done.returncode == 2 and "presentation = 99 is outside 0 to 25" in done.stderr
    done = run_cli("grade", "--out", tmp_path, timeout=600)
    assert done.returncode == 2 and "give SUBMISSIONS_DIR" in done.stderr
    grades.write_text(grades.read_text("utf-8").replace("alice,ok", "alice,ok ", 1), "utf-8")
    done = run_cli("grade", "--merge", manual, "--out", tmp_path, timeout=600)
    assert done.returncode == 2 and "refusing to merge" in done.stderr, done.stderr


def test_merge_matches_normalised_names(tmp_path: Path) -> None:
    grades, rubric = _graded(tmp_path)
    manual = _manual(tmp_path, [_full(" alice  "), _full("bob\t")])
    final = read_rows(merge_manual(grades, manual, rubric, tmp_path))
    assert final["alice"]["total"] == "83.5"


# --------------------------------------------------------------------------- any path
def test_grading_works_from_tmp_with_spaces_on_a_read_only_code_tree(tmp_path: Path) -> None:
    """Python, the environment and the checkout under /tmp, in a folder with a space, on a
    file system mounted read-only: one honest notebook gets full marks (issue 19)."""
    from fixtures.relocated import relocated_install

    from nnscratch_tools.grading.sandbox import sandbox_problem

    if sandbox_problem() is not None and os.environ.get("NNSCRATCH_CI") != "1":
        pytest.skip(f"no sandbox: {sandbox_problem()}")
    root = tmp_path / "class of 2026"
    assert str(root).startswith("/tmp/")
    root.mkdir()
    python = relocated_install(root)
    subs = tmp_path / "subs"
    write_notebook(project_notebook(), subs / "ann.ipynb")
    # bubblewrap mounts the whole relocated tree read-only for the grader itself
    read_only = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(root), str(root), "--"]
    done = subprocess.run(
        [*read_only, str(python), "-m", "nnscratch_tools", "grade", str(subs), "--rubric",
         str(root / "repo" / "projects" / "rubric.yml"), "--out", str(tmp_path / "out"),
         "--timeout", str(TIMEOUT), "--jobs", "1"],
        capture_output=True, text=True, timeout=900, cwd=root / "repo",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    row = read_rows(tmp_path / "out" / "grades.csv")["ann"]
    assert (row["status"], row["automatic_points"]) == ("ok", "10"), row
    feedback = (tmp_path / "out" / "feedback" / "ann.md").read_text("utf-8")
    assert "check failed" not in feedback, feedback
    probe = subprocess.run(
        [*read_only, str(python), "-c", "import sys; open(sys.prefix + '/w', 'w')"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Read-only file system" in probe.stderr, probe.stderr  # really read-only


# --------------------------------------------------------------------------- issue 24
def _sections(*markdown: str, code: str = "x = 1") -> dict:
    """Section reports of a notebook made of ``markdown`` cells, with a code cell after
    the one that says CODE."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = []
    for text in markdown:
        cells.append(new_markdown_cell(text.replace("CODE", "")))
        if "CODE" in text:
            cells.append(new_code_cell(code))
    reports = criteria.find_sections(new_notebook(cells=cells), load_rubric(RUBRIC).sections)
    return {r.section.id: r.ok for r in reports}


PROSE = " ".join(["word"] * 70)


def test_one_heading_serves_one_section() -> None:
    combined = _sections(f"## Math, code, results and takeaways\n\n{PROSE}CODE")
    assert sum(combined.values()) == 1, combined
    titled = _sections(
        "# Optimiser code and results CODE", f"## 1. Math\n\n{PROSE}", "## 2. Code",
        f"## 3. Results\n\n{PROSE}CODE", f"## 4. Key takeaways\n\n{PROSE}",
    )  # fmt: skip
    assert titled == {"math": True, "code": False, "results": True, "takeaways": True}


def test_setext_and_indented_headings_count() -> None:
    found = _sections(
        f"Math\n====\n\n{PROSE}", "   ## 2. Code CODE", f"Results\n-------\n\n{PROSE}CODE",
        f" ## 4. Key takeaways ##\n\n{PROSE}",
    )  # fmt: skip
    assert all(found.values()), found
    # a thematic break after a blank line is not a heading; a heading needs text
    assert not any(_sections(f"text\n\n---\n\n{PROSE}", "##", "#\tCODE").values())


def test_markdown_cells_with_outputs_are_read_like_jupyter(tmp_path: Path) -> None:
    from nnscratch_tools.grading.grader import read_notebook

    path = write_notebook(project_notebook(), tmp_path / "a.ipynb")
    raw = json.loads(path.read_text("utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "markdown":
            cell.update(outputs=[], execution_count=None)
    path.write_text(json.dumps(raw), "utf-8")
    nb, problems = read_notebook(path)
    assert problems == [] and nb is not None


def test_hard_links_and_huge_notebooks_are_refused(tmp_path: Path) -> None:
    from nnscratch_tools.grading.grader import MAX_CELLS, read_notebook

    path = write_notebook(project_notebook(), tmp_path / "a.ipynb")
    os.link(path, tmp_path / "b.ipynb")
    nb, problems = read_notebook(tmp_path / "b.ipynb")
    assert nb is None and "hard link" in problems[0], problems
    many = project_notebook()
    many.cells += [nbformat.v4.new_code_cell("pass") for _ in range(MAX_CELLS)]
    nb, problems = read_notebook(write_notebook(many, tmp_path / "c.ipynb"))
    assert nb is None and f"more than {MAX_CELLS}" in problems[0], problems


def test_deep_trees_are_walked_and_removed_without_recursion(tmp_path: Path) -> None:
    from nnscratch_tools.grading.grader import _folder_notebooks, _remove

    top = tmp_path / "deep"
    write_notebook(project_notebook(), top / "submission.ipynb")
    fd = os.open(top, os.O_RDONLY)
    for _ in range(sys.getrecursionlimit() + 500):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.chmod(fd, 0)  # unreadable at the bottom too
    os.close(fd)
    try:
        notebooks, problem = _folder_notebooks(top)
        assert notebooks == [] and "nested more than 32 levels" in problem
    finally:  # pytest's own clean-up of old folders recurses
        _remove(top)
    assert not top.exists()


@pytest.mark.parametrize(
    ("raws", "labels_"),
    [
        (["bob .ipynb", "bob.ipynb"], ["bob [bob\\x20.ipynb]", "bob [bob.ipynb]"]),
        (["tab\tname.ipynb", "tab name.ipynb"], ["tab name [tab\\tname.ipynb]",
                                                 "tab name [tab\\x20name.ipynb]"]),
        (["b\u043eb.ipynb", "bob.ipynb"], ["b\u043eb [b\\u043eb.ipynb]", "bob [bob.ipynb]"]),
        (["Ann.ipynb", "ann"], ["Ann [Ann.ipynb]", "ann [ann]"]),
        (["ann.ipynb", "bob.ipynb"], ["ann", "bob"]),
    ],
)
def test_labels_identify_each_student(raws: list[str], labels_: list[str]) -> None:
    from nnscratch_tools.grading.names import labels

    stems = [r.removesuffix(".ipynb") for r in raws]
    assert labels(raws, stems) == labels_
    assert all(normalise_name(label) == label for label in labels_)


def test_merge_refuses_an_ambiguous_name(tmp_path: Path) -> None:
    from nnscratch_tools.grading.report import grade_columns

    rubric = load_rubric(RUBRIC)
    with open(tmp_path / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=grade_columns(rubric))
        writer.writeheader()
        for name in ("bob [bob\\x20.ipynb]", "bob [bob.ipynb]"):
            writer.writerow({"submission": name, "status": "ok", "max_points": "100"})
    write_manifest(tmp_path, ["grades.csv"])
    manual = _manual(tmp_path, [_full("bob"), _full("bob [bob\\x20.ipynb]")])
    with pytest.raises(ValueError, match=r"'bob' is ambiguous: it could be any of"):
        merge_manual(tmp_path / "grades.csv", manual, rubric, tmp_path)


@pytest.mark.parametrize(
    "source",
    [
        "get_ipython().events.register('post_run_cell', print)",
        "ip = get_ipython()\nip.input_transformers_cleanup.append(f)",
        "import IPython\nIPython.get_ipython()",
        "import sys\nsys.modules['ipykernel']",
        "name = 'get_' + 'ipython'\neval(name)",
        "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame.f_globals",
        "import gc\ngc.get_objects()",
        "__builtins__.__dict__",
    ],
)
def test_code_reaching_into_the_kernel_is_found(source: str) -> None:
    nb = project_notebook(extra_code=source)
    assert criteria.kernel_access(nb), source
    scores = {
        s.criterion.id: s
        for s in criteria.score_automatic(load_rubric(RUBRIC), nb, nb, "completed")
    }
    assert scores["runs_top_to_bottom"].points == scores["no_errors"].points == 0
    assert "reaches into the kernel" in scores["no_errors"].why


def test_ordinary_code_is_not_taken_for_kernel_access() -> None:
    honest = (
        "import re, gc\nfrom IPython.display import display\n%matplotlib inline\n"
        "model.eval()\nmodel = torch.compile(model)\npattern = re.compile('a')\ngc.collect()\n"
        "modules = {'a': 1}\nfor m in net.modules():\n    pass\nvalue = getattr(opt, 'lr')\n"
        "# get_ipython() in a comment\nprint('Session 3: compile the results')"
    )
    assert criteria.kernel_access(project_notebook(extra_code=honest)) == []
    course = sorted(REPO.glob("notebooks/*.ipynb")) + sorted(REPO.glob("projects/**/*.ipynb"))
    for path in course:  # every notebook of the course is ordinary code
        assert criteria.kernel_access(nbformat.read(path, as_version=4)) == [], path


@pytest.mark.parametrize(
    "text",
    [
        "\x1b]0;title\x07\x1b[2K10/10 ok",
        "a\nb\rc",
        "<img src=x onerror=alert(1)>",
        "`x` [a](b) |c|",
    ],
)
def test_submission_text_is_made_inert(text: str) -> None:
    from nnscratch_tools.grading.shown import markdown, terminal

    line = terminal(text)
    assert line.isprintable() and "\n" not in line
    md = markdown(text)
    assert md.isprintable() and "<" not in md and ">" not in md
    assert not re.search(r"(?<!\\)[`\[\]|]", md), md


def test_a_crash_while_grading_one_submission_is_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nnscratch_tools.grading import grader

    for name in ("ann", "boom", "cat"):
        write_notebook(project_notebook(), tmp_path / "subs" / f"{name}.ipynb")
    real = grader.grade_submission

    def flaky(sub, rubric, *args, **kwargs):  # type: ignore[no-untyped-def]
        if sub.name == "boom":
            raise RuntimeError("a bug met by this submission")
        return grader._result(sub, "ok", "", rubric)

    monkeypatch.setattr(grader, "grade_submission", flaky)
    shown: list[str] = []

    def progress(result) -> None:  # type: ignore[no-untyped-def]
        if result.submission.name == "cat" and result.status == "ok":
            raise OSError("disk full while writing cat's feedback")
        shown.append(f"{result.submission.name}: {result.status}: {result.reason}")

    results = grader.grade_all(tmp_path / "subs", load_rubric(RUBRIC), Limits(), jobs=2,
                               progress=progress)  # fmt: skip
    assert real is not grader.grade_submission
    assert len(results) == 3 and len(shown) == 3
    assert any(s.startswith("boom: could not run: grader error: RuntimeError") for s in shown)
    assert any(s.startswith("cat: could not run: grader error while recording") for s in shown)


def test_a_zombie_is_ended_but_a_process_with_a_running_thread_is_not() -> None:
    """The runner's end-of-sandbox check: an exited, unreaped process runs nothing; one whose
    first thread exited while another thread runs looks like a zombie and still runs."""
    from nnscratch_tools.grading._runner import _runs_code, _task_state

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    while _task_state(Path(f"/proc/{zombie.pid}/stat")) != "Z":
        os.sched_yield()
    leaderless = subprocess.Popen(
        [sys.executable, "-c",
         "import ctypes, threading, time\n"
         "threading.Thread(target=time.sleep, args=(60,)).start()\n"
         "ctypes.CDLL(None).pthread_exit(None)\n"],
    )  # fmt: skip
    try:
        leader = Path(f"/proc/{leaderless.pid}/task/{leaderless.pid}/stat")
        while _task_state(leader) != "Z":
            os.sched_yield()
        assert not _runs_code(Path(f"/proc/{zombie.pid}"))
        assert _runs_code(Path(f"/proc/{leaderless.pid}"))
        assert _runs_code(Path(f"/proc/{os.getpid()}"))
    finally:
        leaderless.kill()
        leaderless.wait()
        zombie.wait()

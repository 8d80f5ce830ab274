"""Grading in shards (``--shard``, ``--combine``) and the Kubernetes manifests that run them.

The shards are run here as a Kubernetes Indexed Job runs them: the command line of
``deploy/kubernetes/grade-job.yaml`` itself, one process per index with
``JOB_COMPLETION_INDEX`` set, side by side; combined, they must give the grades.csv of one
run (the ``wall_s`` column, a measured time, is blanked on both sides). The manifests are
validated offline against Kubernetes' schemas (kubernetes-validate, pinned in
requirements-site.txt).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fixtures.notebook_factory import HOSTILE, project_notebook, write_notebook

from nnscratch_tools.grading.report import verify_manifest
from nnscratch_tools.grading.sandbox import sandbox_problem
from nnscratch_tools.grading.shards import combine, parse_shard, select_shard

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "projects" / "rubric.yml"
KUBE = REPO / "deploy" / "kubernetes"
TIMEOUT = 150  # seconds per notebook: honest work on a loaded machine stays far below


# --------------------------------------------------------------------------- shard choice
@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [("0/1", {}, (0, 1)), ("2/4", {}, (2, 4)), ("4", {"JOB_COMPLETION_INDEX": "3"}, (3, 4))],
)
def test_parse_shard(text: str, env: dict, expected: tuple[int, int]) -> None:
    assert parse_shard(text, env) == expected


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("4", {}, "JOB_COMPLETION_INDEX"),
        ("4/4", {}, r"must be in 0\.\.3"),
        ("-1/4", {}, r"must be in 0\.\.3"),
        ("0/0", {}, "N >= 1"),
        ("a/b", {}, "expects k/N"),
        ("4", {"JOB_COMPLETION_INDEX": "9"}, r"must be in 0\.\.3"),
    ],
)
def test_parse_shard_refuses_bad_values(text: str, env: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shard(text, env)


def test_every_student_is_in_exactly_one_shard_for_any_n() -> None:
    """All class sizes 0..60 and shard counts 1..80 (many larger than the class)."""
    rng = random.Random(0)
    for size in range(61):
        names = [f"s{rng.randrange(10**6)}-{i}" for i in range(size)]
        for n in range(1, 81):
            shards = [select_shard(names, k, n) for k in range(n)]
            flat = [name for shard in shards for name in shard]
            assert sorted(flat) == sorted(names), (size, n)  # each one, exactly once
            assert max(map(len, shards)) - min(map(len, shards)) <= 1, (size, n)
            assert all(shard == [x for x in names if x in shard] for shard in shards)
    with pytest.raises(ValueError, match="index must be in"):
        select_shard(["a"], 2, 2)


# --------------------------------------------------------------------------- end to end
def _job() -> dict:
    return yaml.safe_load((KUBE / "grade-job.yaml").read_text(encoding="utf-8"))


def _pod_command(job: dict, subs: Path, grades: Path, index: int) -> list[str]:
    """The Job's command line for pod ``index``, with this machine's folders."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    argv = [*container["command"], *container["args"]]
    mounts = {"/submissions": str(subs), "/rubric/rubric.yml": str(RUBRIC), "/grades": str(grades)}
    out = []
    for arg in argv:
        arg = arg.replace("$(JOB_COMPLETION_INDEX)", str(index))  # what the kubelet does
        for inside, here in mounts.items():
            arg = arg.replace(inside, here)
        out.append(arg)
    assert out[:2] == ["nnscratch", "grade"]
    return [sys.executable, "-m", "nnscratch_tools", *out[1:]]


def _class(subs: Path) -> None:
    """A small class: honest work, broken work and entries that are not submissions."""
    write_notebook(project_notebook(), subs / "alice.ipynb")
    write_notebook(project_notebook(figure=False), subs / "bob" / "submission.ipynb")
    HOSTILE["malformed_json"][0](subs / "carol.ipynb")
    write_notebook(project_notebook(), subs / "dave" / "a.ipynb")  # two notebooks:
    write_notebook(project_notebook(), subs / "dave" / "b.ipynb")  # could not run
    (subs / "notes.txt").write_text("not a submission", encoding="utf-8")
    os.symlink(subs / "alice.ipynb", subs / "eve.ipynb")


def _run(argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def _without_wall_time(path: Path) -> str:
    """grades.csv rewritten with an empty ``wall_s`` (the only measured column)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows, fields = list(reader), reader.fieldnames
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows([{**r, "wall_s": ""} for r in rows])
    return buffer.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One single run, and the Job's N shards run side by side, each with its index."""
    problem = sandbox_problem()
    if problem is not None:
        if os.environ.get("NNSCRATCH_CI") == "1":
            pytest.fail(f"NNSCRATCH_CI=1 but no sandbox: {problem}")
        pytest.skip(f"shard grading skipped: {problem}")
    root = tmp_path_factory.mktemp("shards")
    subs = root / "submissions"
    _class(subs)
    single = _run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "grade",
            str(subs),
            "--rubric",
            str(RUBRIC),
            "--out",
            str(root / "single"),
            "--jobs",
            "2",
            "--timeout",
            str(TIMEOUT),
        ]
    )
    assert single.returncode == 0, single.stdout + single.stderr
    job = _job()
    n = job["spec"]["completions"]
    procs = []
    for k in range(n):
        argv = [
            *_pod_command(job, subs, root / "grades", k),
            "--jobs",
            "1",
            "--timeout",
            str(TIMEOUT),
        ]
        env = {**os.environ, "JOB_COMPLETION_INDEX": str(k)}
        procs.append(
            subprocess.Popen(
                argv, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
            )
        )
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * n, outputs
    shards = [root / "grades" / f"shard-{k}" for k in range(n)]
    return {"root": root, "subs": subs, "single": root / "single", "shards": shards, "n": n}


def test_combined_shards_equal_one_run(graded: dict, tmp_path: Path) -> None:
    out = tmp_path / "class"
    done = _run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "grade",
            "--combine",
            *map(str, graded["shards"]),
            "--out",
            str(out),
        ]
    )
    assert done.returncode == 0, done.stderr
    single = graded["single"]
    assert _without_wall_time(out / "grades.csv") == _without_wall_time(single / "grades.csv")
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(
        p.name for p in (single / "feedback").iterdir()
    )
    assert sorted(p.name for p in (out / "executed").iterdir()) == sorted(
        p.name for p in (single / "executed").iterdir()
    )
    assert (out / "rubric.yml").read_bytes() == RUBRIC.read_bytes()
    verify_manifest(out)  # so `--merge` accepts the combined folder
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {r["submission"]: r for r in csv.DictReader(handle)}
    assert rows["alice"]["automatic_points"] == "10" and rows["bob"]["figures_produced"] == "0"
    assert rows["eve"]["status"] == "skipped" and rows["carol"]["status"] == "could not run"


def test_each_shard_holds_its_share(graded: dict) -> None:
    infos = [json.loads((s / "SHARD.json").read_text("utf-8")) for s in graded["shards"]]
    assert [i["shard"] for i in infos] == list(range(graded["n"]))
    names = [name for info in infos for name in info["submissions"]]
    assert sorted(names) == sorted(["alice", "bob", "carol", "dave", "eve", "notes.txt"])
    assert len({i["listing_sha256"] for i in infos}) == 1


def test_more_shards_than_students(graded: dict, tmp_path: Path) -> None:
    """N = 9 > 6 entries: some shards are empty, the combination is still the class."""
    n, subs = 9, graded["subs"]
    for k in range(n):
        done = _run(
            [
                sys.executable,
                "-m",
                "nnscratch_tools",
                "grade",
                str(subs),
                "--rubric",
                str(RUBRIC),
                "--shard",
                f"{k}/{n}",
                "--out",
                str(tmp_path / f"g{k}"),
                "--jobs",
                "1",
                "--timeout",
                str(TIMEOUT),
            ]
        )
        assert done.returncode == 0, done.stdout + done.stderr
    combined = combine([tmp_path / f"g{k}" for k in range(n)], tmp_path / "all")
    assert _without_wall_time(combined) == _without_wall_time(graded["single"] / "grades.csv")


def _copy_shards(graded: dict, tmp_path: Path) -> list[Path]:
    copies = []
    for shard in graded["shards"]:
        shutil.copytree(shard, tmp_path / shard.name)
        copies.append(tmp_path / shard.name)
    return copies


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: s[:-1], r"missing shard\(s\) 3 of 4"),
        (lambda s: [*s, s[0]], r"shard 0/4 is given twice"),
        (lambda s: [s[0], s[0], s[2], s[3]], r"given twice.*\n.*missing shard\(s\) 1 of 4"),
    ],
)
def test_missing_or_duplicated_shards_are_refused(
    graded: dict, tmp_path: Path, damage, message: str
) -> None:
    shards = _copy_shards(graded, tmp_path)
    with pytest.raises(ValueError, match=message):
        combine(damage(shards), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("path", "edit"),
    [
        ("grades.csv", lambda t: t.replace(",0,", ",3,", 1)),
        ("SHARD.json", lambda t: t.replace('"shard": 1', '"shard": 2')),
        ("feedback/bob.md", lambda t: t + "\nall good\n"),
    ],
)
def test_tampered_shards_are_refused(graded: dict, tmp_path: Path, path: str, edit) -> None:
    shards = _copy_shards(graded, tmp_path)
    owner = next(
        s
        for s in shards
        if (s / path).exists() and edit((s / path).read_text()) != (s / path).read_text()
    )
    (owner / path).write_text(edit((owner / path).read_text("utf-8")), encoding="utf-8")
    done = _run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "grade",
            "--combine",
            *map(str, shards),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert done.returncode == 2, done.stdout
    assert f"refusing to combine: shard {owner}" in done.stderr and path in done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_shards_of_another_run_are_refused(graded: dict, tmp_path: Path) -> None:
    shards = _copy_shards(graded, tmp_path)
    info = json.loads((shards[1] / "SHARD.json").read_text("utf-8"))
    assert info["of"] == 4
    with pytest.raises(ValueError, match="not a shard"):
        combine([*shards[:3], graded["single"]], tmp_path / "out")
    with pytest.raises(ValueError, match="must be a new folder"):
        combine(shards, shards[0])


# --------------------------------------------------------------------------- manifests
def _documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(KUBE.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            docs.append((path.name, doc))
    return docs


def _validator():  # type: ignore[no-untyped-def]
    try:
        import kubernetes_validate
    except ImportError:
        message = "kubernetes-validate not installed (pip install -r requirements-site.txt)"
        if os.environ.get("NNSCRATCH_CI"):
            pytest.fail(message)
        pytest.skip(message)
    return kubernetes_validate


@pytest.mark.parametrize("version", ["1.33.0", "1.37.0"])
def test_manifests_validate_against_kubernetes_schemas(version: str) -> None:
    kv = _validator()
    docs = _documents()
    assert {d["kind"] for _, d in docs} == {"Job", "NetworkPolicy", "PersistentVolumeClaim"}
    for _, doc in docs:
        kv.validate(doc, version, strict=True)  # raises ValidationError naming the field
    job = _job()
    job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFs"] = True
    with pytest.raises(kv.ValidationError):  # a misspelt field is caught: the check can fail
        kv.validate(job, version, strict=True)


def test_grade_job_is_locked_down() -> None:
    job = _job()
    spec = job["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["completionMode"] == "Indexed"
    assert (
        spec["completions"]
        == spec["parallelism"]
        == int(next(a for a in container["args"] if a.startswith("--shard=")).split("=")[1])
    ), "completions, parallelism and --shard N must agree"
    assert any("$(JOB_COMPLETION_INDEX)" in a for a in container["args"] if a.startswith("--out"))
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 1000
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False and context["capabilities"]["drop"] == [
        "ALL"
    ]
    # bubblewrap in the pod: its own user namespace, and the unmasked /proc only that allows
    assert pod["hostUsers"] is False and context["procMount"] == "Unmasked"
    limits = container["resources"]["limits"]
    assert {"cpu", "memory"} <= set(limits)
    jobs = int(next(a for a in container["args"] if a.startswith("--jobs=")).split("=")[1])
    assert jobs <= int(limits["cpu"]), "--jobs should not exceed the CPU limit"
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["submissions"]["readOnly"] is True and mounts["submissions"]["mountPath"] == (
        "/submissions"
    )
    assert mounts["grades"]["mountPath"] == "/grades" and "readOnly" not in mounts["grades"]
    assert mounts["scratch"]["mountPath"] == "/tmp"  # the only writable place besides /grades
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    declared = {
        d["metadata"]["name"] for _, d in _documents() if d["kind"] == "PersistentVolumeClaim"
    }
    assert set(claims.values()) <= declared


def test_network_policy_denies_everything_to_the_grading_pods() -> None:
    (policy,) = [d for _, d in _documents() if d["kind"] == "NetworkPolicy"]
    spec = policy["spec"]
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in spec and "egress" not in spec  # no rule: nothing is allowed
    selector = spec["podSelector"]["matchLabels"]
    for name, doc in _documents():
        if doc["kind"] == "Job":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), f"{name}'s pods escape the policy"
            assert doc["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


def test_containerfile_installs_the_pinned_environment() -> None:
    text = (REPO / "Containerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM \S+python:3\.(1[1-9])", text, flags=re.M)
    assert "COPY requirements.txt" in text and re.search(
        r"pip install -r \S*requirements\.txt", text
    )
    assert "bubblewrap" in text
    user = re.search(r"^USER (\d+):(\d+)$", text, flags=re.M)
    pod = _job()["spec"]["template"]["spec"]["securityContext"]
    assert user and (int(user[1]), int(user[2])) == (pod["runAsUser"], pod["runAsGroup"])
    image = _job()["spec"]["template"]["spec"]["containers"][0]["image"]
    assert f"-t {image} ." in text, "the build command in the Containerfile names the Job's image"

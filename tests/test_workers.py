"""A large repository is linted image after image, each image let go once checked and
summarized, and in several processes: every report must stay, byte for byte, the one a
single process writes, and the one a run that keeps every image writes."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockerlint import engine, workers
from dockerlint.cli import _image_info, image_sizes, main
from dockerlint.errors import InternalError, blame
from dockerlint.report import ImageInfo, Report, render
from dockerlint.rulebook import load_rules

from .conftest import REPO_ROOT, config_for, write_tree


def _bench():
    if "dockerlint_bench" not in sys.modules:
        spec = importlib.util.spec_from_file_location("dockerlint_bench", REPO_ROOT / "benchmarks" / "bench.py")
        module = sys.modules["dockerlint_bench"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["dockerlint_bench"]


# Sorted before and after the generated services: their parses are let go long before the
# report, and the last ones are let go by a worker process only when it is done.
SPECIAL = {
    "aaa-suppressed/Dockerfile": """\
        # hadolint global ignore=DL3007
        FROM python:latest
        # dockerlint: ignore=DL3008,DL9999
        RUN apt-get update && apt-get install -y curl
        RUN apt-get install -y git
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        """,
    "aaa-suppressed/requirements.txt": "flask  # noqa: REQ003\nrequests\nnumpy  # noqa: REQ999\n",
    "aab-broken/Dockerfile": "FROM python:3.12\nRUN pip install --no-cache-dir flask\nFROM\nONBUILD\n",
    "aab-broken/.dockerignore": "!\n*.pyc\n",
    "aac-shared/Dockerfile": "FROM python:3.11\nCOPY . /srv\nRUN pip install -r /srv/requirements.txt\n",
    "aac-shared/Dockerfile.dev": "FROM python:3.11\nCOPY . .\nRUN pip install -r requirements.txt pytest\n",
    "aac-shared/requirements.txt": "-r base.txt\ntorch==2.3.1\n",
    "aac-shared/base.txt": "fastapi>=0.110\n-r requirements.txt\n",
    "aac-shared/app.py": "import torch\nimport fastapi\nmodel = torch.nn.Linear(2, 2).to('cuda')\n",
    "zzz-late/Dockerfile": """\
        FROM python:3.12-slim
        # dockerlint: ignore=DL3013
        RUN pip install flask
        RUN pip install requests
        """,
}


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("monorepo")
    bench = _bench()
    bench.generate_repository(root / "services", 2 * engine.FORGET_EVERY + 40, bench.SEED)
    write_tree(root, SPECIAL)
    return root


def invoke(*args: str, jobs: int | str | None = None):
    env = {"DOCKERLINT_JOBS": None if jobs is None else str(jobs)}
    return CliRunner().invoke(main, ["--no-cache", *args], env=env, catch_exceptions=False)


def both(*args: str):
    """The command's output with one process and with two, which must be the same."""
    one, two = invoke(*args, jobs=1), invoke(*args, jobs=2)
    assert (one.exit_code, one.output) == (two.exit_code, two.output), args
    return one


def test_every_format_is_the_same_with_one_process_and_two(repository):
    for fmt in ("text", "concise", "json", "sarif", "github"):
        done = both(str(repository), "-f", fmt, "--statistics")
        assert done.exit_code == 1
    document = json.loads(invoke(str(repository), "-f", "json", jobs=2).output)
    codes = {finding["code"] for finding in document["findings"]}
    assert {"SYN001", "DL3008", "REQ003", "DEP001"} <= codes  # parse problems and suppressible rules are in play
    mine = [f for f in document["findings"] if "/aaa-suppressed/" in f"/{f['path']}"]
    assert ("DL3008", 5) in {(f["code"], f["line"]) for f in mine}  # the one line not suppressed
    assert not [f for f in mine if f["code"] == "DL3007" or (f["code"] == "DL3008" and f["line"] == 4)]
    unpinned = {f["line"] for f in mine if f["code"] == "REQ003"}
    assert 1 not in unpinned and 2 in unpinned  # the suppression comment for REQ003 is on line 1 only
    late = [f for f in document["findings"] if "zzz-late/" in f["path"] and f["code"] == "DL3013"]
    assert [f["line"] for f in late] == [4]
    notes = " ".join(note["message"] for note in document["summary"]["notes"])
    assert "`DL9999`" in notes and "`REQ999`" in notes
    assert len(document["images"]) > 2 * engine.FORGET_EVERY
    assert all("estimated_bytes" in image for image in document["images"])


def _report(result: engine.Result, root: Path, images: tuple) -> dict[str, str]:
    report = Report(
        findings=tuple(result.findings),
        notes=tuple(result.notes),
        rules=load_rules(),
        files_checked=result.files_checked,
        root=root,
        fail_level=config_for(root).fail_level,
        source_line=result.workspace.source_line,
        images=images,
    )
    return {fmt: render(fmt, report) for fmt in ("json", "text")}


def test_images_let_go_report_what_a_run_keeping_them_reports(repository):
    rules, config = load_rules(), config_for(repository)
    kept = engine.lint([repository], config, rules)
    sizes = image_sizes(kept)
    expected = _report(
        kept, repository, tuple(ImageInfo.of(image, sizes.get(i)) for i, image in enumerate(kept.images))
    )
    for jobs in (1, 3):
        streamed = engine.lint([repository], config, rules, keep_images=False, summarize=_image_info(True), jobs=jobs)
        assert streamed.images == [] and streamed.origins == {}
        assert _report(streamed, repository, tuple(streamed.summaries)) == expected, f"jobs={jobs}"


def test_a_run_that_lets_images_go_holds_the_parses_of_a_few(repository):
    rules, config = load_rules(), config_for(repository)
    result = engine.lint([repository], config, rules, keep_images=False, jobs=1)
    assert 0 < len(list(result.workspace.parsed_dockerfiles())) <= engine.FORGET_EVERY
    first = repository / "aaa-suppressed" / "Dockerfile"
    assert first not in dict(result.workspace.parsed_dockerfiles())
    # Asked for after the run (a baseline's fingerprints, --add-noqa), it is parsed again.
    again = result.workspace.cached_dockerfile(first)
    assert again is not None and [i.keyword for i in again.instructions] == ["FROM", "RUN", "RUN", "COPY", "RUN"]


def test_the_size_command_is_the_same_with_one_process_and_two(repository):
    for fmt in ("text", "json"):
        done = CliRunner().invoke(main, ["size", "-f", fmt, str(repository)], env={"DOCKERLINT_JOBS": "1"})
        other = CliRunner().invoke(main, ["size", "-f", fmt, str(repository)], env={"DOCKERLINT_JOBS": "2"})
        assert done.exit_code in (0, 1) and (done.exit_code, done.output) == (other.exit_code, other.output)
    assert "aac-shared/Dockerfile" in done.output


def test_fixes_and_diffs_are_the_same_with_one_process_and_two(repository, tmp_path):
    diff = both(str(repository), "--diff")
    assert diff.exit_code == 1 and "+++" in diff.output
    trees = []
    for jobs in (1, 2):
        copy = shutil.copytree(repository, tmp_path / f"jobs-{jobs}")
        done = invoke(str(copy), "--fix", "-f", "concise", jobs=jobs)
        trees.append((done.exit_code, done.output.replace(str(copy), "ROOT"), _tree(copy)))
    assert trees[0] == trees[1]
    assert trees[0][2] != _tree(repository)  # something was fixed


def test_add_noqa_is_the_same_with_one_process_and_two(repository, tmp_path):
    trees = []
    for jobs in (1, 2):
        copy = shutil.copytree(repository, tmp_path / f"jobs-{jobs}")
        done = invoke(str(copy), "--add-noqa", jobs=jobs)
        trees.append((done.output, _tree(copy)))
    assert trees[0] == trees[1]
    assert "dockerlint: ignore=" in trees[0][1]["aab-broken/Dockerfile"]
    output = invoke(str(tmp_path / "jobs-2"), "-f", "concise", jobs=2).output
    left = [line for line in output.splitlines() if re.search(r":\d+:\d+: (error|warning|info): ", line)]
    assert left and all("/.dockerignore:" in line for line in left)  # a file without comments


def _tree(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_baseline_written_and_read_with_two_processes(repository, tmp_path):
    baseline = tmp_path / "baseline.json"
    written = invoke(str(repository), "--write-baseline", str(baseline), jobs=2)
    assert written.exit_code == 0 and "Wrote" in written.output
    for fmt in ("text", "json"):  # text and json print sizes: a baseline run keeps its images
        done = both(str(repository), "--baseline", str(baseline), "-f", fmt)
        assert done.exit_code == 0
    assert json.loads(invoke(str(repository), "--baseline", str(baseline), "-f", "json").output)["findings"] == []


def test_named_files_are_the_same_with_one_process_and_two(repository):
    service = sorted((repository / "services").rglob("requirements.txt"))[3]
    named = [repository / "aaa-suppressed" / "requirements.txt", repository / "zzz-late" / "Dockerfile", service]
    done = both(*(str(path) for path in named), "-f", "json")
    paths = {finding["path"] for finding in json.loads(done.output)["findings"]}
    assert any("aaa-suppressed/" in path for path in paths) and any("zzz-late/" in path for path in paths)
    assert not any("aab-broken/" in path for path in paths)


def _failing_on(name: str, how):
    real = engine.build_image_of

    def build(build, workspace, settings):
        if build.dockerfile.parent.name == name:
            how(build)
        return real(build, workspace, settings)

    return build


def _raise(build):
    with blame(build.dockerfile):
        raise ValueError("cannot model this")


def test_an_error_in_a_worker_process_names_its_file_as_in_one_process(repository, monkeypatch):
    monkeypatch.setattr(engine, "build_image_of", _failing_on("svc-0007", _raise))
    errors = []
    for jobs in (1, 3):
        with pytest.raises(InternalError) as raised:
            engine.lint([repository], config_for(repository), load_rules(), keep_images=False, jobs=jobs)
        errors.append((raised.value.path, str(raised.value)))
    assert errors[0] == errors[1]
    assert errors[0][0].parent.name == "svc-0007" and errors[0][1] == "ValueError: cannot model this"
    done = invoke(str(repository), jobs=2)
    assert done.exit_code == 2
    lines = done.output.splitlines()
    assert len(lines) == 1 and "internal error on " in lines[0] and "svc-0007" in lines[0], lines


def test_a_worker_process_that_dies_is_an_internal_error_not_a_hang(repository, monkeypatch):
    monkeypatch.setattr(engine, "build_image_of", _failing_on("svc-0070", lambda build: os._exit(3)))
    done = invoke(str(repository), jobs=2)
    assert done.exit_code == 2
    assert done.output.splitlines() == [
        "dockerlint: error: internal error: a worker process ended without its results (exit code 3) "
        "(this is a bug in dockerlint; please report it)"
    ]


def test_processes_only_where_fork_is_available_and_for_enough_images(monkeypatch):
    assert workers.jobs_for(None, workers.IMAGES_PER_PROCESS - 1) == 1
    assert workers.jobs_for(1, 10_000) == 1
    assert workers.jobs_for(8, 3) == 3  # never more processes than images
    if workers.can_fork():
        assert workers.jobs_for(2, 100) == 2
    monkeypatch.setattr(workers, "can_fork", lambda: False)
    assert workers.jobs_for(2, 10_000) == 1
    assert workers.jobs_for(None, 10_000) == 1


def test_a_cold_scan_of_much_code_pays_for_processes_even_with_few_images(monkeypatch):
    monkeypatch.setattr(workers, "_cores", lambda: 8)
    if workers.can_fork():
        assert workers.jobs_for(None, 20, 0) == 1  # 20 images alone are not enough
        assert workers.jobs_for(None, 20, 2 * workers.CODE_FILES_PER_PROCESS) == 2
        assert workers.jobs_for(None, 20, 100 * workers.CODE_FILES_PER_PROCESS) == 8  # one per core
        assert workers.jobs_for(None, 3, 100 * workers.CODE_FILES_PER_PROCESS) == 3  # never more than images
        assert workers.jobs_for(None, 1, 100 * workers.CODE_FILES_PER_PROCESS) == 1


def _code_repository(root: Path, images: int, files: int) -> None:
    tree = {}
    for number in range(images):
        tree[f"svc{number}/Dockerfile"] = (
            "FROM python:3.12-slim\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
            'COPY . /app\nUSER nobody\nCMD ["python", "/app/main.py"]\n'
        )
        tree[f"svc{number}/requirements.txt"] = "requests==2.32.3\n"
        for index in range(files // images):
            tree[f"svc{number}/pkg/m{index}.py"] = "import requests\nimport yaml\n"
    write_tree(root, tree)


def test_the_processes_a_run_uses_follow_the_code_its_cache_does_not_know(tmp_path, monkeypatch):
    if not workers.can_fork():
        pytest.skip("no fork here")
    monkeypatch.setattr(workers, "CODE_FILES_PER_PROCESS", 10)
    monkeypatch.setattr(workers, "_cores", lambda: 2)
    root = tmp_path / "repo"
    _code_repository(root, images=4, files=40)
    settled = 1_600_000_000
    for path in root.rglob("*"):
        os.utime(path, (settled, settled))
    started = []
    real = workers.check_in_processes
    monkeypatch.setattr(workers, "check_in_processes", lambda *a: started.append(a[2]) or real(*a))
    cache = tmp_path / "cache"
    runs = []
    for _ in range(2):  # cold, then warm
        result = engine.lint([root], config_for(root), load_rules(), keep_images=False, jobs=None, cache_dir=cache)
        runs.append(sorted((f.code, str(f.path), f.span.line) for f in result.findings))
        started.append("end of run")
    assert started == [2, "end of run", "end of run"]  # the warm run has nothing to scan
    assert runs[0] == runs[1] and any(code == "DEP002" for code, _, _ in runs[0])  # yaml, installed nowhere


def test_without_fork_the_images_are_checked_in_this_process(repository, monkeypatch):
    monkeypatch.setattr(workers, "can_fork", lambda: False)

    def refuse(*args):
        raise AssertionError("no process may be started")

    monkeypatch.setattr(workers, "check_in_processes", refuse)
    result = engine.lint([repository], config_for(repository), load_rules(), keep_images=False, jobs=2)
    assert result.findings


def test_the_scan_cache_learns_the_same_from_two_processes(repository, tmp_path):
    settled = 1_600_000_000
    for path in repository.rglob("*"):
        os.utime(path, (settled, settled))
    outputs, indexes = [], []
    for jobs in (1, 2):
        cache = tmp_path / f"cache-{jobs}"
        args = [str(repository), "-f", "json", "--cache-dir", str(cache)]
        env = {"DOCKERLINT_JOBS": str(jobs)}
        cold = CliRunner().invoke(main, args, env=env)
        warm = CliRunner().invoke(main, args, env=env)
        assert cold.output == warm.output
        outputs.append(cold.output)
        indexes.append(json.loads((cache / "index.json").read_text()))
    assert outputs[0] == outputs[1]
    assert indexes[0]["files"] and indexes[0]["files"].keys() == indexes[1]["files"].keys()
    assert indexes[0]["summaries"].keys() == indexes[1]["summaries"].keys()


def test_dockerlint_jobs_must_be_a_number(tmp_path):
    write_tree(tmp_path, {"Dockerfile": "FROM python:3.12\n"})
    done = CliRunner().invoke(main, ["--no-cache", str(tmp_path)], env={"DOCKERLINT_JOBS": "many"})
    assert done.exit_code == 2
    assert "DOCKERLINT_JOBS=many" in done.output

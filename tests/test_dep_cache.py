"""The import-scan cache between runs (model/scan_cache.py): same findings with and
without it, hits and misses by content, and a broken cache never breaks a run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from dockerlint.model import code as code_model
from dockerlint.model import scan_cache
from dockerlint.model.scan_cache import INDEX_NAME, SCANS_NAME, default_cache_dir
from dockerlint.paths import real_path
from tests.conftest import found, run_lint

SERVICE = {
    "Dockerfile": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ ./app/\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
    ),
    "requirements.txt": "fastapi==0.115.6\nuvicorn[standard]==0.32.1\npandas==2.2.3\n",
    "app/__init__.py": "",
    "app/main.py": (
        "from fastapi import FastAPI\n"
        "import redis\n"  # missing: DEP002 on line 2
        "try:\n    import orjson\nexcept ImportError:\n    orjson = None\n\n"
        "app = FastAPI()\n"
        "try:\n    from app import jobs  # when the repository has them\nexcept ImportError:\n    jobs = None\n"
    ),
    "app/util.py": "import json\nfrom .main import app\n",
    "app/explore.ipynb": json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import json\n", "%time 1"]}],
            "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ),
}
OLD = time.time() - 3600  # files older than the cache's settling time


def lint_json(root: Path, *args: str, env: dict | None = None) -> dict:
    result = CliRunner().invoke(main, ["--select", "DEP", "-f", "json", *args, str(root)], env=env)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def lint_with_cache(root: Path, cache: Path):
    return found(run_lint(root, select=["DEP"]) if cache is None else _lint(root, cache))


def _lint(root: Path, cache: Path):
    from dockerlint.config import config_from_table
    from dockerlint.engine import lint
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    config = config_from_table({"select": ["DEP"]}, None, rules)
    config.root = root.resolve()
    return lint([root], config, rules, cache_dir=cache)


def age(root: Path) -> None:
    for path in root.rglob("*"):
        os.utime(path, (OLD, OLD))


EXPECTED = [("DEP001", "requirements.txt", 3), ("DEP002", "main.py", 2)]


def test_cold_warm_and_no_cache_runs_report_the_same(repo, monkeypatch):
    root = repo(SERVICE)
    monkeypatch.chdir(root)
    cold = lint_json(root)
    cache = default_cache_dir(real_path(root))
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (cache / ".gitignore").read_text() == "*\n"
    assert (cache / SCANS_NAME).is_file()  # no index yet: the files are too new to be known by timestamp
    warm = lint_json(root)
    uncached = lint_json(root, "--no-cache")
    assert cold == warm == uncached
    assert sorted((f["code"], Path(f["path"]).name, f["line"]) for f in cold["findings"]) == EXPECTED


def test_warm_run_scans_nothing_and_a_changed_file_is_scanned_again(repo, monkeypatch):
    root = repo(SERVICE)
    cache = root / "cache"
    assert lint_with_cache(root, cache) == EXPECTED
    scanned = []
    real = code_model.scan_python
    monkeypatch.setattr(code_model, "scan_python", lambda text, exact=False: scanned.append(text) or real(text, exact))
    assert lint_with_cache(root, cache) == EXPECTED
    assert scanned == []  # every scan (the exact one for DEP002 too) came from the cache
    changed = SERVICE["app/main.py"].replace("import redis\n", "import pandas\n")
    (root / "app" / "main.py").write_text(changed)
    assert lint_with_cache(root, cache) == []
    assert set(scanned) == {changed}  # only the changed file


def test_unchanged_files_are_known_by_timestamp_and_same_size_edits_are_seen(repo, monkeypatch):
    root = repo(SERVICE)
    age(root)
    cache = root / "cache"
    assert lint_with_cache(root, cache) == EXPECTED
    read = []
    real = code_model._source_bytes
    monkeypatch.setattr(code_model, "_source_bytes", lambda image, at: read.append(Path(at).name) or real(image, at))
    assert lint_with_cache(root, cache) == EXPECTED
    assert read == []
    main_py = root / "app" / "main.py"
    main_py.write_text(SERVICE["app/main.py"].replace("import redis\n", "import boto3\n"))  # same size
    os.utime(main_py, (OLD + 60, OLD + 60))
    assert lint_with_cache(root, cache) == [("DEP001", "requirements.txt", 3), ("DEP002", "main.py", 2)]
    assert read.count("main.py") >= 1
    messages = [f.message for f in _lint(root, cache).findings if f.code == "DEP002"]
    assert "`boto3`" in messages[0]


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff not json",
        b'{"key": "x"',
        b"[1, 2, 3]",
        json.dumps({"key": None, "scans": []}).encode(),
    ],
)
def test_a_corrupt_cache_is_ignored_and_replaced(repo, content):
    root = repo(SERVICE)
    cache = root / "cache"
    cache.mkdir()
    (cache / INDEX_NAME).write_bytes(content)
    (cache / SCANS_NAME).write_bytes(content)
    age(root)
    assert lint_with_cache(root, cache) == EXPECTED
    assert json.loads((cache / SCANS_NAME).read_text())["scans"]
    assert json.loads((cache / INDEX_NAME).read_text())["summaries"]


def test_entries_of_the_wrong_shape_are_scanned_again(repo):
    root = repo(SERVICE)
    age(root)
    cache = root / "cache"
    lint_with_cache(root, cache)
    scans = json.loads((cache / SCANS_NAME).read_text())
    scans["scans"] = {key: [[["x", "not a level"]], 5] if n % 2 else "junk" for n, key in enumerate(scans["scans"])}
    (cache / SCANS_NAME).write_text(json.dumps(scans))
    assert lint_with_cache(root, cache) == EXPECTED  # every file's key is known: the scans are decoded
    index = json.loads((cache / INDEX_NAME).read_text())
    index["summaries"] = {key: [[], "junk", 3] for key in index["summaries"]}
    (cache / INDEX_NAME).write_text(json.dumps(index))
    assert lint_with_cache(root, cache) == EXPECTED
    index["files"] = {path: [1, 2] for path in index["files"]}
    (cache / INDEX_NAME).write_text(json.dumps(index))
    assert lint_with_cache(root, cache) == EXPECTED


def test_an_unwritable_cache_is_ignored(repo):
    root = repo(SERVICE)
    (root / "blocker").write_text("a file where the cache folder would go\n")
    assert lint_with_cache(root, root / "blocker" / "cache") == EXPECTED
    assert (root / "blocker").is_file()


def test_no_cache_and_cache_dir_options_and_environment(repo, monkeypatch):
    root = repo(SERVICE)
    monkeypatch.chdir(root)
    lint_json(root, "--no-cache")
    lint_json(root, env={"DOCKERLINT_NO_CACHE": "1"})
    assert not default_cache_dir(real_path(root)).exists()
    lint_json(root, "--cache-dir", str(root / "elsewhere"))
    assert (root / "elsewhere" / SCANS_NAME).is_file()
    lint_json(root, env={"DOCKERLINT_CACHE_DIR": str(root / "from-env")})
    assert (root / "from-env" / "CACHEDIR.TAG").is_file()
    assert not default_cache_dir(real_path(root)).exists()


def test_the_default_cache_stays_out_of_the_project(repo, monkeypatch):
    """A cache inside the project would be sent with every `docker build` of it: the
    default lives in the user's cache folder, and runs report the same with or without it."""
    root = repo({**SERVICE, "Dockerfile": SERVICE["Dockerfile"].replace("COPY app/ ./app/", "COPY . .")})
    monkeypatch.chdir(root)
    before = sorted(path.relative_to(root) for path in root.rglob("*"))
    runs = []
    for args in ((), (), ("--no-cache",)):
        result = CliRunner().invoke(main, ["-f", "json", *args, "."])
        assert result.exit_code == 1, result.output
        runs.append(result.output)
    assert sorted(path.relative_to(root) for path in root.rglob("*")) == before
    assert (default_cache_dir(real_path(root)) / SCANS_NAME).is_file()
    assert runs[0] == runs[1] == runs[2]
    assert '"CTX001"' in runs[0]


def test_a_warm_run_reads_only_the_index_and_decodes_no_file_scan(repo, monkeypatch):
    """An unchanged image's summary comes whole from index.json; scans.json is not read."""
    service = {**SERVICE, "app/main.py": SERVICE["app/main.py"].replace("import redis\n", "import pandas\n")}
    root = repo(service)
    age(root)
    cache = root / "cache"
    assert lint_with_cache(root, cache) == []
    loaded, decoded = [], []
    real_load, real_decode = scan_cache._load, code_model._decode_scan
    monkeypatch.setattr(scan_cache, "_load", lambda path, key: loaded.append(path.name) or real_load(path, key))
    monkeypatch.setattr(code_model, "_decode_scan", lambda record: decoded.append(record) or real_decode(record))
    assert lint_with_cache(root, cache) == []
    assert loaded == [INDEX_NAME]
    assert decoded == []


def test_a_file_added_to_or_left_out_of_the_image_changes_its_summary(repo):
    root = repo(SERVICE)
    age(root)
    cache = root / "cache"
    assert lint_with_cache(root, cache) == EXPECTED
    (root / "app" / "jobs.py").write_text("import boto3\n")
    # main.py imports it under a guard: its own imports may fail as main.py expects
    assert lint_with_cache(root, cache) == EXPECTED
    (root / "app" / "__init__.py").write_text("from . import jobs\n")  # now the package imports it
    assert lint_with_cache(root, cache) == sorted([*EXPECTED, ("DEP002", "jobs.py", 1)])
    (root / ".dockerignore").write_text("app/main.py\napp/jobs.py\n")
    assert lint_with_cache(root, cache) == [("DEP001", "requirements.txt", 1), ("DEP001", "requirements.txt", 3)]


def _lint_codes(root: Path, cache: Path, codes: list[str]):
    from dockerlint.config import config_from_table
    from dockerlint.engine import lint
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    config = config_from_table({"select": codes}, None, rules)
    config.root = root.resolve()
    return found(lint([root], config, rules, cache_dir=cache))


GPU_SERVICE = {
    "Dockerfile": (
        "FROM python:3.12-slim\nWORKDIR /app\nRUN pip install --no-cache-dir torch==2.5.1 fastapi==0.115.6\n"
        'COPY app/ ./app/\nUSER 1000\nCMD ["uvicorn", "app.main:app"]\n'
    ),
    "app/main.py": 'import torch\nfrom fastapi import FastAPI\n\napp = FastAPI()\nmodel = torch.nn.Linear(2, 2).to("cuda")\n',
    "app/tests/test_main.py": "import torch\n\nassert torch.cuda.is_available() or True\n",
}


def test_the_gpu_reading_of_the_code_comes_from_the_cache(repo, monkeypatch):
    # The service puts work on a GPU (GPU001 quiet); its test asks for one, which counts for
    # nothing. A warm run reads no source file to know either.
    root = repo(GPU_SERVICE)
    age(root)
    cache = root / "cache"
    assert _lint_codes(root, cache, ["GPU001"]) == []
    from dockerlint.workspace import Workspace

    read = []
    real = Workspace.read_bytes

    def spy(self, path, *args, **kwargs):
        read.append(Path(path).name)
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(Workspace, "read_bytes", spy)
    assert _lint_codes(root, cache, ["GPU001"]) == []
    assert [name for name in read if name.endswith(".py")] == []
    (root / "app" / "main.py").write_text(GPU_SERVICE["app/main.py"].replace('.to("cuda")', ""))
    assert _lint_codes(root, cache, ["GPU001"]) == [("GPU001", "Dockerfile", 3)]

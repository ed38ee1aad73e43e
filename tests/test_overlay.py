"""Linting unsaved contents (``lint(overlay=...)``), as an editor does: the overlay wins
over the disk and over the import-scan cache, and nothing read from it is kept in the
cache; a cache object may serve many runs; the caller may name the repository root."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

from dockerlint.engine import lint
from dockerlint.model.scan_cache import ScanCache
from dockerlint.rulebook import load_rules
from dockerlint.workspace import Workspace
from tests.conftest import config_for, found

SERVICE = {
    "Dockerfile": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY app/ ./app/\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n'
    ),
    "requirements.txt": "fastapi==0.115.6\nuvicorn[standard]==0.32.1\n",
    "app/__init__.py": "",
    "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}
WITH_REDIS = "from fastapi import FastAPI\nimport redis\n\napp = FastAPI()\n"  # DEP002 on line 2
OLD = time.time() - 3600  # older than the cache's settling time: known by timestamp


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.utime(path, (OLD, OLD))
    (root / ".git").mkdir(exist_ok=True)
    return root.resolve()


def dep(root: Path, cache, overlay=None, paths=None):
    rules = load_rules()
    return lint(paths or [root], config_for(root, select=["DEP"]), rules, cache_dir=cache, overlay=overlay)


def test_the_workspace_finds_an_overlaid_file_by_path_or_by_text(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"on disk\n")
    workspace = Workspace(overlay={path: b"in memory\n"})
    assert workspace.read_bytes(str(path)) == b"in memory\n"
    assert workspace.overlaid(str(path)) and workspace.overlaid(path)
    assert not workspace.overlaid(tmp_path / "other.txt")


def test_an_unsaved_python_file_is_read_from_the_overlay_even_when_the_cache_knows_it(tmp_path):
    root = write(tmp_path / "repo", SERVICE)
    cache = tmp_path / "cache"
    assert found(dep(root, cache)) == []  # the cache now knows main.py by its timestamp
    main = root / "app" / "main.py"
    unsaved = {main: WITH_REDIS.encode()}
    assert found(dep(root, cache, unsaved)) == [("DEP002", "main.py", 2)]
    assert found(dep(root, cache, unsaved, paths=[main])) == [("DEP002", "main.py", 2)]


def test_nothing_read_from_the_overlay_is_kept_in_the_cache(tmp_path):
    root = write(tmp_path / "repo", SERVICE)
    cache = tmp_path / "cache"
    main = root / "app" / "main.py"
    assert found(dep(root, cache, {main: WITH_REDIS.encode()})) == [("DEP002", "main.py", 2)]
    # The file on disk never imported redis: a later run from disk must not say it does.
    assert found(dep(root, cache)) == []
    assert b"redis" not in b"".join(path.read_bytes() for path in cache.iterdir() if path.is_file())


def test_one_cache_object_serves_many_runs_and_sees_changes_on_disk(tmp_path):
    root = write(tmp_path / "repo", SERVICE)
    cache = ScanCache(tmp_path / "cache")
    assert found(dep(root, cache)) == []
    main = root / "app" / "main.py"
    main.write_text(WITH_REDIS, encoding="utf-8")
    os.utime(main, (OLD + 10, OLD + 10))
    assert found(dep(root, cache)) == [("DEP002", "main.py", 2)]
    # What the second run learned is written by the same object.
    assert found(dep(root, tmp_path / "cache")) == [("DEP002", "main.py", 2)]
    assert ScanCache(tmp_path / "cache").known_key(str(main)) is not None


def test_a_caller_may_name_the_repository_root(tmp_path):
    root = write(tmp_path / "repo", SERVICE)
    os.rmdir(root / ".git")  # nothing marks the root: the folder of the named file would be taken
    main = root / "app" / "main.py"
    config = config_for(root, select=["DEP"])
    overlay = {main: WITH_REDIS.encode()}
    assert lint([main], config, load_rules(), overlay=overlay).images == []
    result = lint([main], config, load_rules(), overlay=overlay, root=root)
    assert found(result) == [("DEP002", "main.py", 2)]


def test_a_named_requirements_file_that_no_image_installs_is_still_checked(tmp_path):
    root = write(tmp_path / "repo", {**SERVICE, "requirements-dev.txt": "pytest==8.3.4\n-r missing.txt\n"})
    named = root / "requirements-dev.txt"
    everything = lint([root], config_for(root), load_rules())
    alone = lint([named], config_for(root), load_rules())
    expected = [item for item in found(everything) if item[1] == "requirements-dev.txt"]
    assert expected  # the include that does not exist
    assert found(alone) == expected


def test_each_finding_names_the_images_that_reported_it(tmp_path):
    from tests.test_server_project import TWO_IMAGES

    root = write(tmp_path / "repo", {name: textwrap.dedent(text) for name, text in TWO_IMAGES.items()})
    result = lint([root], config_for(root, select=["DEP", "DL3009"]), load_rules())
    # pandas is unused in b only: removing its line from the file both install would break a
    assert [f for f in result.findings if f.code == "DEP001"] == []
    neither = {root / "b_app" / "main.py": b"import fastapi\n", root / "a_app" / "main.py": b"import fastapi\n"}
    both = lint([root], config_for(root, select=["DEP"]), load_rules(), overlay=neither)
    unused = [f for f in both.findings if f.code == "DEP001"]
    assert len(unused) == 1  # one finding, said by both images
    assert sorted(image.dockerfile_path.parent.name for image in both.images_of(unused[0])) == ["a", "b"]

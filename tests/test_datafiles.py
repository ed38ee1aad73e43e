"""The shipped TOML data files are parsed once per installation: later runs read one
cached file, which follows every change of a data file and never changes a result."""

from __future__ import annotations

import os
import sys

import pytest

from dockerlint import datafiles
from dockerlint.tomlparser import tomllib


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """No data parsed in this process yet, and an empty cache folder of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(datafiles, "_parsed", None)
    return tmp_path


def _reference(path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_first_run_writes_the_cache_and_later_runs_read_it(fresh, monkeypatch):
    path = datafiles.data_files()[0]
    expected = _reference(path)
    assert datafiles.read_toml(path) == expected
    assert datafiles.cache_file().is_file()

    monkeypatch.setattr(datafiles, "_parsed", None)
    parsed = []
    monkeypatch.setattr(tomllib, "loads", lambda text: parsed.append(text) or {})
    assert datafiles.read_toml(path) == expected
    assert parsed == []  # nothing parsed: every table came from the cache


def test_a_changed_data_file_rebuilds_the_cache(fresh, monkeypatch):
    files = datafiles.data_files()
    datafiles.read_toml(files[0])
    signature = datafiles._signature(files)
    changed = [(name, size + 1, mtime) if number == 0 else (name, size, mtime)
               for number, (name, size, mtime) in enumerate(signature)]  # fmt: skip
    monkeypatch.setattr(datafiles, "_signature", lambda _: changed)
    monkeypatch.setattr(datafiles, "_parsed", None)
    expected = _reference(files[0])
    calls = []
    real_loads = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text: calls.append(1) or real_loads(text))
    assert datafiles.read_toml(files[0]) == expected
    assert len(calls) == len(files)


@pytest.mark.parametrize("content", [b"", b"not marshal at all", b"\xe9" * 10])
def test_a_corrupt_cache_is_ignored(fresh, content):
    cache = datafiles.cache_file()
    cache.parent.mkdir(parents=True)
    cache.write_bytes(content)
    path = datafiles.data_files()[-1]
    assert datafiles.read_toml(path) == _reference(path)


def test_an_unwritable_cache_folder_changes_nothing(fresh, monkeypatch):
    (fresh / "dockerlint").write_text("a file where the folder should be")
    path = datafiles.data_files()[0]
    assert datafiles.read_toml(path) == _reference(path)
    assert not any(name.startswith(".data-") for name in os.listdir(fresh))


def test_a_file_that_is_not_shipped_is_parsed_directly(fresh, tmp_path):
    own = tmp_path / "XX001.toml"
    own.write_text('code = "XX001"\n')
    assert datafiles.read_toml(own) == {"code": "XX001"}


def test_the_cache_is_per_version_and_interpreter():
    name = datafiles.cache_file().name
    from dockerlint import __version__

    assert __version__ in name and sys.implementation.cache_tag in name

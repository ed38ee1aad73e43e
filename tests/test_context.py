"""Walking a build context the way BuildKit sends it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerlint.context import ContextFile, walk_context
from dockerlint.parse.dockerignore import parse_dockerignore

ML_SERVICE = {
    "Dockerfile": "FROM python:3.11-slim\n",
    ".dockerignore": "",
    "README.md": "# service\n",
    "requirements.txt": "torch==2.3.0\n",
    "serve.py": "import app\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    ".git/objects/ab/cdef0123": "x" * 300,
    ".venv/lib/python3.11/site-packages/six.py": "# six\n",
    "src/app/__init__.py": "",
    "src/app/main.py": "print('hi')\n",
    "src/app/__pycache__/main.cpython-311.pyc": "\x00" * 40,
    "node_modules/left-pad/index.js": "module.exports = 1\n",
    "data/model.pt": "w" * 1000,
    "data/keep.pt": "w" * 10,
    "data/raw/big.pt": "w" * 500,
    "docs/guide.md": "guide\n",
    "docs/keep.md": "keep\n",
}

IGNORE = """\
.git
.venv
**/__pycache__
node_modules
data/*.pt
!data/keep.pt
docs
!docs/keep.md
"""


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def paths(files: tuple[ContextFile, ...] | list[ContextFile]) -> list[str]:
    return [file.path for file in files]


@pytest.fixture
def service(tmp_path: Path) -> Path:
    return make_tree(tmp_path, ML_SERVICE)


def test_without_ignore_file_everything_is_sent(service: Path) -> None:
    context = walk_context(service, None)
    assert paths(context.files) == sorted(ML_SERVICE)
    assert ".git/HEAD" in paths(context.files)  # nothing is skipped by the walker itself
    assert context.excluded_dirs == () and context.excluded_files == () and context.notes == ()
    sizes = {file.path: file.size for file in context.files}
    assert sizes["data/model.pt"] == 1000
    assert context.total_size() == sum(len(c.encode()) for c in ML_SERVICE.values())


def test_ignore_file_prunes_directories_and_excludes_files(service: Path) -> None:
    context = walk_context(service, parse_dockerignore(IGNORE))
    assert context.excluded_dirs == (
        ".git",
        ".venv",
        "node_modules",
        "src/app/__pycache__",
    )
    assert paths(context.excluded_files) == ["data/model.pt", "docs/guide.md"]
    assert paths(context.files) == [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "data/keep.pt",  # re-included by an exception
        "data/raw/big.pt",  # 'data/*.pt' does not reach into data/raw
        "docs/keep.md",  # re-included below an excluded directory
        "requirements.txt",
        "serve.py",
        "src/app/__init__.py",
        "src/app/main.py",
    ]
    assert context.total_size() == sum(len(ML_SERVICE[p].encode()) for p in paths(context.files))


def test_pruned_walk_agrees_with_matching_every_path(service: Path) -> None:
    ignore = parse_dockerignore(IGNORE)
    everything = walk_context(service, None)
    pruned = walk_context(service, ignore)
    assert paths(pruned.files) == [p for p in paths(everything.files) if not ignore.excludes(p)]


def test_symlinks_are_recorded_never_followed(tmp_path: Path) -> None:
    make_tree(tmp_path, {"pkg/mod.py": "x = 1\n"})
    os.symlink("..", tmp_path / "pkg" / "loop")  # a directory loop
    os.symlink("b", tmp_path / "a")  # a two-link cycle
    os.symlink("a", tmp_path / "b")
    os.symlink("/nonexistent/target", tmp_path / "dangling")
    context = walk_context(tmp_path, None)
    by_path = {file.path: file for file in context.files}
    assert sorted(by_path) == ["a", "b", "dangling", "pkg/loop", "pkg/mod.py"]
    assert by_path["pkg/loop"] == ContextFile("pkg/loop", 2, True)  # lstat: the link itself
    assert by_path["dangling"].size == len("/nonexistent/target")
    assert not by_path["pkg/mod.py"].is_symlink


def test_unreadable_directory_does_not_stop_the_walk(tmp_path: Path) -> None:
    make_tree(tmp_path, {"secret/key": "k", "app.py": ""})
    (tmp_path / "secret").chmod(0)
    try:
        context = walk_context(tmp_path, None)
    finally:
        (tmp_path / "secret").chmod(0o755)
    assert "app.py" in paths(context.files)
    if os.geteuid() == 0:  # root reads it anyway
        assert "secret/key" in paths(context.files)
    else:
        assert any("secret" in note for note in context.notes)


def test_missing_root_is_a_note(tmp_path: Path) -> None:
    context = walk_context(tmp_path / "absent", None)
    assert context.files == ()
    assert context.notes and "cannot read directory" in context.notes[0]


def test_stops_at_max_files(tmp_path: Path) -> None:
    make_tree(tmp_path, {f"f{i}.txt": "" for i in range(10)})
    context = walk_context(tmp_path, None, max_files=4)
    assert len(context.files) == 4
    assert len(context.notes) == 1 and "stopped after 4 files" in context.notes[0]


def test_sent(service: Path) -> None:
    context = walk_context(service, parse_dockerignore(IGNORE))
    assert context.sent("src/app/main.py")
    assert context.sent("src/app") and context.sent("./src/") and context.sent("src")
    assert context.sent("docs")  # excluded, but a file below it is re-included
    assert not context.sent("docs/guide.md")
    assert not context.sent(".git") and not context.sent(".git/HEAD")
    assert not context.sent("src/ap")  # a prefix of a name is not a directory
    assert context.sent(".")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("*.py", ["serve.py"]),  # '*' stays at the top level
        ("src/", ["src/app/__init__.py", "src/app/main.py"]),  # a directory: all below
        ("/src/app/main.py", ["src/app/main.py"]),
        ("app/*.txt", ["app/a.txt", "app/notes.txt/inner.md"]),  # a matched dir brings its files
        ("[rR]*.md", ["README.md"]),
        ("src/app/[!_]*.py", ["src/app/__init__.py"]),  # "!" is not a negation
        ("src/app/[^_]*.py", ["src/app/main.py"]),
        ("requirements?.txt", []),
        ("../serve.py", ["serve.py"]),  # cannot climb above the context
        ("missing", []),
        ("src/[", []),  # a bad pattern selects nothing
        ("data", ["data/keep.pt", "data/raw/big.pt"]),  # only files actually sent
    ],
)
def test_glob_like_copy_sources(service: Path, source: str, expected: list[str]) -> None:
    make_tree(service, {"app/a.txt": "", "app/sub/b.txt": "", "app/notes.txt/inner.md": ""})
    context = walk_context(service, parse_dockerignore(IGNORE))
    assert paths(context.glob(source)) == expected


def test_glob_dot_is_the_whole_context(service: Path) -> None:
    context = walk_context(service, parse_dockerignore(IGNORE))
    assert context.glob(".") == list(context.files)
    assert context.glob("./") == list(context.files)

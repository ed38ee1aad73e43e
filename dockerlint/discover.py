"""Finding the files a repository builds images from."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dockerlint.config import Config

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".dockerlint_cache",
        "site-packages",
        ".direnv",
        ".eggs",
    }
)

_DOCKERFILE = re.compile(
    r"^(?:(?:dockerfile|containerfile)(?:\.[^/]+)?|[^/]+\.(?:dockerfile|containerfile))$", re.IGNORECASE
)
# Suffixes that mark a file beside a Dockerfile, not a Dockerfile.
_NOT_DOCKERFILE = re.compile(
    r"\.(?:dockerignore|containerignore|md|rst|txt|j2|jinja2?|tmpl|template|in|orig|bak|swp|sample|lock|json|ya?ml|sh|py|toml)$",
    re.IGNORECASE,
)
_COMPOSE = re.compile(r"^(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml$", re.IGNORECASE)
# Names that may say how images are built (CI workflows, Makefiles, scripts, bake,
# skaffold, package.json); build_file_kind decides from the path.
_BUILD_FILE_HINT = re.compile(
    r"(?:\.(?:ya?ml|sh|bash|json|hcl|mk|jenkinsfile)|^(?:Makefile|makefile|GNUmakefile|Jenkinsfile[^/]*))$",
    re.IGNORECASE,
)
_MAKEFILE_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile"})
_BAKE = re.compile(r"^docker-bake(?:\.[\w.-]+)?\.(?:hcl|json)$", re.IGNORECASE)
_SKAFFOLD = re.compile(r"^skaffold(?:[\w.-]*)?\.ya?ml$", re.IGNORECASE)
# Folders whose extensionless files are read when they start with a sh/bash shebang.
SCRIPT_FOLDERS = frozenset({"script", "scripts", "bin", "ci", ".ci", "hack", "tools", "build", "deploy"})
_REQUIREMENTS = re.compile(r"^(?:requirements|constraints)[\w.-]*\.(?:txt|in)$", re.IGNORECASE)


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE.match(name)) and not _NOT_DOCKERFILE.search(name)


def is_compose_name(name: str) -> bool:
    return bool(_COMPOSE.match(name))


def build_file_kind(parts: tuple[str, ...]) -> str | None:
    """What a file may say about builds, from its last path parts (folders, then name):
    github, gitlab, azure, jenkins, make, npm, shell, bake, skaffold; or None."""
    name = parts[-1]
    lowered = name.lower()
    if len(parts) >= 3 and parts[-2] == "workflows" and parts[-3] == ".github" and lowered.endswith((".yml", ".yaml")):
        return "github"
    if lowered in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return "gitlab"
    if lowered.startswith("azure-pipelines") and lowered.endswith((".yml", ".yaml")):
        return "azure"
    if name == "Jenkinsfile" or name.startswith("Jenkinsfile.") or lowered.endswith(".jenkinsfile"):
        return "jenkins"
    if name in _MAKEFILE_NAMES or lowered.endswith(".mk"):
        return "make"
    if name == "package.json":
        return "npm"
    if lowered.endswith((".sh", ".bash")):
        return "shell"
    if _BAKE.match(name):
        return "bake"
    if _SKAFFOLD.match(name):
        return "skaffold"
    return None


def is_requirements_name(path: Path) -> bool:
    return bool(_REQUIREMENTS.match(path.name)) or (
        path.parent.name == "requirements" and path.suffix in (".txt", ".in")
    )


@dataclass
class Found:
    dockerfiles: list[Path] = field(default_factory=list)
    compose_files: list[Path] = field(default_factory=list)
    requirements: list[Path] = field(default_factory=list)
    pyprojects: list[Path] = field(default_factory=list)
    build_files: list[Path] = field(default_factory=list)  # CI workflows, Makefiles, scripts, bake, skaffold...
    notes: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, path: Path) -> None:
        name = path.name
        if is_dockerfile_name(name):
            self.dockerfiles.append(path)
        elif is_compose_name(name):
            self.compose_files.append(path)
        elif name == "pyproject.toml":
            self.pyprojects.append(path)
        elif is_requirements_name(path):
            self.requirements.append(path)
        elif _BUILD_FILE_HINT.search(name):
            if build_file_kind((path.parent.parent.name, path.parent.name, name)) is not None:
                self.build_files.append(path)
        elif "." not in name and path.parent.name in SCRIPT_FOLDERS:
            self.build_files.append(path)  # read when it starts with a shell shebang

    def sort(self) -> None:
        for items in (self.dockerfiles, self.compose_files, self.requirements, self.pyprojects, self.build_files):
            items.sort()


def is_virtualenv(path: Path) -> bool:
    return os.path.isfile(path / "pyvenv.cfg")


def discover(root: Path, config: Config) -> Found:
    """Every Dockerfile, compose, requirements and pyproject file below ``root``.

    Skips version-control folders, virtualenvs, dependency folders and configured
    excludes. Never follows symlinked directories (no loops, no escaping the tree).
    """
    found = Found()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            found.notes.append((folder, f"could not be listed: {error.strerror or error}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIP_DIRS or is_virtualenv(path) or config.is_excluded(path):
                        continue
                    stack.append(path)
                elif entry.is_file() and not config.is_excluded(path):
                    found.add(path)
            except OSError as error:
                found.notes.append((path, f"could not be read: {error.strerror or error}"))
    found.sort()
    return found

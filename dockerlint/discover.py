"""Finding the files a repository builds images from."""

from __future__ import annotations

import os
import re
from pathlib import Path

from msgspec import Struct, field

from dockerlint.config import Config
from dockerlint.regex import lazy_compile

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

# `Dockerfile`, `Dockerfile.prod`, `Dockerfile-dev`, `Dockerfile_gpu`, `DockerfileTextEmbedding`,
# `api.Dockerfile` (and the same for Containerfile).
_DOCKERFILE = re.compile(
    r"^(?:(?:dockerfile|containerfile)(?:[._-]?[^/]+)?|[^/]*\.(?:dockerfile|containerfile))$", re.IGNORECASE
)
# Suffixes that mark a file beside a Dockerfile, not a Dockerfile.
_NOT_DOCKERFILE = re.compile(
    r"\.(?:dockerignore|containerignore|md|rst|txt|j2|jinja2?|tmpl|template|in|orig|bak|swp|sample|lock|json|ya?ml|sh|py|toml"
    r"|[cm]?js|jsx|ts|tsx|go|rb|rs|java|kt|php|pl|lua|c|h|cc|cpp|hpp|cs|html?|css|scss|xml|svg|png|vim|el)$",
    re.IGNORECASE,
)
# docker-compose.yml, compose.prod.yaml, docker-compose-gpu.yml, and a variant named before
# it (gpu-docker-compose.yml, dev.compose.yaml): every name `docker compose -f` is given.
_COMPOSE = re.compile(r"^(?:[\w.-]+[._-])?(?:docker-)?compose(?:[._-][\w.-]+)?\.ya?ml$", re.IGNORECASE)
# Names that may say how images are built (CI workflows, Makefiles, scripts, bake,
# skaffold, package.json); build_file_kind decides from the path.
_BUILD_FILE_HINT = re.compile(
    r"(?:\.(?:ya?ml|sh|bash|bat|cmd|ps1|json|hcl|mk|jenkinsfile)|^(?:Makefile|makefile|GNUmakefile|Jenkinsfile[^/]*))$",
    re.IGNORECASE,
)
_MAKEFILE_NAMES = frozenset({"Makefile", "makefile", "GNUmakefile"})
_BAKE = lazy_compile(r"^docker-bake(?:\.[\w.-]+)?\.(?:hcl|json)$", re.IGNORECASE)
_SKAFFOLD = lazy_compile(r"^skaffold(?:[\w.-]*)?\.ya?ml$", re.IGNORECASE)
# Folders whose extensionless files are read when they start with a sh/bash shebang.
SCRIPT_FOLDERS = frozenset({"script", "scripts", "bin", "ci", ".ci", "hack", "tools", "build", "deploy"})
_REQUIREMENTS = re.compile(r"^(?:requirements|constraints)[\w.-]*\.(?:txt|in)$", re.IGNORECASE)


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE.match(name)) and not _NOT_DOCKERFILE.search(name)


def is_compose_name(name: str) -> bool:
    return bool(_COMPOSE.match(name))


def build_file_kind(parts: tuple[str, ...]) -> str | None:
    """What a file may say about builds, from its last path parts (folders, then name):
    github, gitlab, circleci, azure, jenkins, make, npm, shell, windows (batch and PowerShell
    scripts), bake, skaffold; or None."""
    name = parts[-1]
    lowered = name.lower()
    if len(parts) >= 3 and parts[-2] == "workflows" and parts[-3] == ".github" and lowered.endswith((".yml", ".yaml")):
        return "github"
    if lowered in (".gitlab-ci.yml", ".gitlab-ci.yaml"):
        return "gitlab"
    if len(parts) >= 2 and parts[-2] == ".circleci" and lowered in ("config.yml", "config.yaml"):
        return "circleci"
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
    if lowered.endswith((".bat", ".cmd", ".ps1")):
        return "windows"
    if _BAKE.match(name):
        return "bake"
    if _SKAFFOLD.match(name):
        return "skaffold"
    return None


def is_requirements_name(path: Path) -> bool:
    return _requirements_name(path.name, path.parent.name)


def _requirements_name(name: str, folder: str) -> bool:
    return bool(_REQUIREMENTS.match(name)) or (folder == "requirements" and name.endswith((".txt", ".in")))


class Found(Struct):
    dockerfiles: list[Path] = field(default_factory=list)
    compose_files: list[Path] = field(default_factory=list)
    requirements: list[Path] = field(default_factory=list)
    pyprojects: list[Path] = field(default_factory=list)
    build_files: list[Path] = field(default_factory=list)  # CI workflows, Makefiles, scripts, bake, skaffold...
    notes: list[tuple[Path, str]] = field(default_factory=list)
    python_files: int = 0  # how much code the DEP rules may have to scan (see workers.jobs_for)

    def add(self, path: Path) -> None:
        listing = self.listing_for(path.name, path.parent.name, path.parent.parent.name)
        if listing is not None:
            listing.append(path)

    def listing_for(self, name: str, folder: str, above: str) -> list[Path] | None:
        """The list a file of this name goes in (its folder's and the one above's names
        decide some), or None: decided on names alone, before a path object is made for
        each of a large repository's files."""
        if is_dockerfile_name(name):
            return self.dockerfiles
        if is_compose_name(name):
            return self.compose_files
        if name == "pyproject.toml":
            return self.pyprojects
        if _requirements_name(name, folder):
            return self.requirements
        if _BUILD_FILE_HINT.search(name):
            return self.build_files if build_file_kind((above, folder, name)) is not None else None
        if "." not in name and folder in SCRIPT_FOLDERS:
            return self.build_files  # read when it starts with a shell shebang
        return None

    def sort(self) -> None:
        for items in (self.dockerfiles, self.compose_files, self.requirements, self.pyprojects, self.build_files):
            items.sort()


def is_virtualenv(entries: list[os.DirEntry]) -> bool:
    """Whether a folder, by its entries, is a virtualenv (it holds ``pyvenv.cfg``)."""
    return any(entry.name == "pyvenv.cfg" for entry in entries)


def discover(root: Path, config: Config) -> Found:
    """Every Dockerfile, compose, requirements and pyproject file below ``root``.

    Skips version-control folders, virtualenvs, dependency folders and configured
    excludes. Never follows symlinked directories (no loops, no escaping the tree).
    Folders are walked as strings: a path object is made only for what is kept.
    """
    found = Found()
    top = os.fspath(root)
    stack = [top]
    excludes = bool(config.exclude)
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as error:
            found.notes.append((Path(folder), f"could not be listed: {error.strerror or error}"))
            continue
        if folder != top and is_virtualenv(entries):
            continue
        names = (os.path.basename(folder), os.path.basename(os.path.dirname(folder)))
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIP_DIRS or (excludes and config.is_excluded(Path(entry.path))):
                        continue
                    stack.append(entry.path)
                elif entry.is_file():
                    if entry.name.endswith(".py"):
                        found.python_files += 1
                    listing = found.listing_for(entry.name, *names)
                    if listing is not None:
                        path = Path(entry.path)
                        if not (excludes and config.is_excluded(path)):
                            listing.append(path)
            except OSError as error:
                found.notes.append((Path(entry.path), f"could not be read: {error.strerror or error}"))
    found.sort()
    return found

#!/usr/bin/env python3
"""Build dockerlint's package index from real package metadata.

    python scripts/build_package_index.py            # fetch what the cache lacks, then build
    python scripts/build_package_index.py --offline  # rebuild from the cache only

What it writes: ``dockerlint/knowledge/packages.json.gz``, one record per distribution
(docs/package-index.md describes the fields). Every fact comes from PyPI through pip:

1. the versions of a distribution: ``pip index versions NAME`` (Linux x86_64, CPython 3.11);
2. ``Requires-Dist`` and ``Provides-Extra`` of sampled versions: ``pip install --dry-run
   --report --no-deps`` (the metadata PyPI publishes for the wheel pip would install);
3. the newest wheel itself (``pip download --no-deps``): its import names (top-level
   modules and packages, namespace packages), console scripts, entry-point groups,
   installed size (the sum of its files' sizes), the CUDA libraries it bundles, and the
   distributions it imports lazily or optionally ("may use": inside functions, under
   ``try/except ImportError`` or an availability check, by ``importlib.import_module``).
   The wheel is deleted once read: the cache keeps only the facts.

Which distributions: by name only, never a scan of the registry: the names the override
file (``dockerlint/knowledge/package_overrides.toml``) and the seed list
(``scripts/package_index_seed.txt``) hold, the most downloaded distributions of
``--ranked`` (a TSV with a ``rank_among_15000_most_downloaded`` column), and what those
require (newest versions, without extras). The cache (``--cache``, default
``.package-index-cache/`` at the repository root, git-ignored) holds every answer with the
command that produced it; ``--offline`` rebuilds the same file from it.

Requirements are sampled per version: the newest release of each of the last 20 minor
series (at most 8 of them, spread evenly), then bisected between two samples whose
requirement names differ, down to adjacent releases, so each range starts at the first
release that changed them.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import functools
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "dockerlint" / "knowledge" / "packages.json.gz"
OVERRIDES = ROOT / "dockerlint" / "knowledge" / "package_overrides.toml"
SEED = ROOT / "scripts" / "package_index_seed.txt"
PYTHON_VERSION = "3.11"
PLATFORM = "manylinux_2_36_x86_64"  # glibc of Debian bookworm, the python:3.x-slim images
# pip takes the tags as given: every manylinux tag that glibc 2.36 runs, newest first.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]  # fmt: skip
_PLATFORM_OPTIONS = [word for platform in PLATFORMS for word in ("--platform", platform)]
TARGET = ["--python-version", PYTHON_VERSION, *_PLATFORM_OPTIONS, "--only-binary", ":all:"]
OLD_TARGET = ["--python-version", "3.8", *_PLATFORM_OPTIONS, "--only-binary", ":all:"]
SERIES, SAMPLES = 20, 8
BATCH = 25
# Pythons an image may run: a requirement counts when its marker holds for one of them on Linux.
PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64",
         "implementation_name": "cpython", "platform_python_implementation": "CPython"}  # fmt: skip
# Files of a wheel that are not import names.
NOT_MODULES = {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "__pycache__"}
CUDA_LIBRARY = re.compile(
    r"(?:^|/)lib(?:cudart|cublas|cublasLt|cudnn[a-z_]*|cufft|cufftw|curand|cusolver|cusparse|nccl|nvrtc|nvJitLink|"
    r"nvToolsExt|cupti|cusparseLt|cufile)[^/]*\.so"
)
# Calls whose first argument names a module the code imports (or checks for) by string.
IMPORTING_CALLS = {"import_module", "__import__", "import_optional_dependency", "find_spec", "_is_package_available",
                   "is_package_available", "try_import", "optional_import", "lazy_import", "safe_import"}  # fmt: skip
MAX_WHERE = 300  # a lazy import reached from more public names than this counts as always used
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def canonical(name: str) -> str:
    return canonicalize_name(name)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# -- the cache ------------------------------------------------------------------------------


class Cache:
    """One JSON file per answer: versions/NAME.json, metadata/NAME/VERSION.json, wheels/NAME.json."""

    def __init__(self, root: Path, offline: bool) -> None:
        self.root = root
        self.offline = offline

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts[:-1], parts[-1] + ".json")

    def get(self, *parts: str):
        path = self.path(*parts)
        if path.is_file():
            return json.loads(path.read_text())
        return None

    def put(self, value, *parts: str) -> None:
        path = self.path(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(value, indent=1, sort_keys=True))
        temporary.replace(path)


def pip(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


# -- which distributions ----------------------------------------------------------------------


def seed_names(ranked: Path | None, top: int) -> dict[str, str]:
    """name -> why it is in the index."""
    names: dict[str, str] = {}
    overrides = tomllib.loads(OVERRIDES.read_text())
    for name in _override_names(overrides):
        names.setdefault(canonical(name), "override file")
    section = 0
    for line in SEED.read_text().splitlines():
        if not line.strip():
            section += 1  # a blank line starts the next part of the list
        line = line.split("#", 1)[0].strip()
        if line:
            names.setdefault(canonical(line), f"seed list, part {section + 1}")
    if ranked is not None and ranked.is_file():
        with ranked.open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split("\t")
            column = header.index("rank_among_15000_most_downloaded")
            for line in handle:
                fields = line.rstrip("\n").split("\t")
                if len(fields) > column and fields[column].isdigit() and int(fields[column]) <= top:
                    names.setdefault(canonical(fields[0]), f"rank {fields[column]} of the most downloaded")
    return names


def _override_names(overrides: dict) -> set[str]:
    found = set(overrides.get("distributions", {}))
    for role in overrides.get("roles", {}).values():
        found.update(role.get("names", ()))
    for table in ("url_drivers", "url_schemes", "setting_strings"):
        for names in overrides.get(table, {}).values():
            found.update(names)
    for entry in overrides.get("heavy_variants", ()):
        found.update((entry["name"], entry["lighter"]))
    found.update(overrides.get("tooling", {}).get("names", ()))
    for host in overrides.get("plugin_groups", {}).values():
        found.add(host)
    return found


# -- versions and their requirements ------------------------------------------------------------


# Runs several pip command lines in one Python process (pip's start-up is most of the
# cost of a `pip index versions`): argv lists on stdin, [exit code, stdout] of each out.
_PIP_MANY = """
import contextlib, io, json, sys
from pip._internal.cli.main import main
results = []
for argv in json.load(sys.stdin):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code
        except Exception:
            code = 1
    results.append([code, out.getvalue()])
json.dump(results, sys.__stdout__)
"""


def versions(cache: Cache, names: list[str]) -> dict[str, list[str]]:
    """name -> final releases with a wheel for the target, newest first."""
    missing = [name for name in names if cache.get("versions", name) is None]
    if missing and not cache.offline:
        chunks = [missing[start : start + 50] for start in range(0, len(missing), 50)]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for _ in pool.map(lambda chunk: _versions(cache, chunk), chunks):
                pass
    found = {}
    for name in names:
        cached = cache.get("versions", name)
        if cached and cached["versions"]:
            found[name] = cached["versions"]
    return found


def _versions(cache: Cache, names: list[str]) -> None:
    argvs = [["index", "versions", name, *TARGET, "--disable-pip-version-check", "--no-input"] for name in names]
    result = subprocess.run([sys.executable, "-c", _PIP_MANY], input=json.dumps(argvs), capture_output=True,
                            text=True, timeout=3600)  # fmt: skip
    for name, (_, output) in zip(names, json.loads(result.stdout), strict=True):
        match = re.search(r"Available versions: (.*)", output)
        listed = [item.strip() for item in match.group(1).split(",")] if match else []
        final = []
        for item in listed:
            try:
                version = Version(item)
            except InvalidVersion:
                continue
            if not version.is_prerelease and not version.is_devrelease:
                final.append(item)
        source = f"pip index versions {name} (CPython {PYTHON_VERSION}, {PLATFORM} and older)"
        cache.put({"versions": final, "source": source}, "versions", name)


def sample(listed: list[str]) -> list[str]:
    """The newest release of each of the last SERIES minor series, at most SAMPLES spread evenly."""
    newest: dict[tuple, str] = {}
    for item in listed:  # newest first
        release = Version(item).release
        newest.setdefault(release[:2], item)
    series = list(newest.values())[:SERIES]
    if len(series) <= SAMPLES or SAMPLES < 2:
        return series[: max(SAMPLES, 1)]
    step = (len(series) - 1) / (SAMPLES - 1)
    return list(dict.fromkeys(series[round(index * step)] for index in range(SAMPLES)))


def fetch_metadata(cache: Cache, wanted: list[tuple[str, str]]) -> None:
    """Dry-run reports for the (name, version) pairs the cache lacks: each pip run reads
    one version of up to BATCH different names; a run that fails is split in halves."""
    missing = list(dict.fromkeys(pair for pair in wanted if cache.get("metadata", *pair) is None))
    if cache.offline or not missing:
        return
    rounds: list[list[tuple[str, str]]] = []
    for pair in missing:
        for batch in rounds:
            if len(batch) < BATCH and all(other[0] != pair[0] for other in batch):
                batch.append(pair)
                break
        else:
            rounds.append([pair])
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        for _ in pool.map(lambda batch: _report(cache, batch), rounds):
            pass


def _report(cache: Cache, pairs: list[tuple[str, str]]) -> None:
    """Reports for a batch: a release pip finds no wheel for is named in its error and left
    out; those are asked for again for CPython 3.8, and recorded as missing after that."""
    failed = _report_all(cache, pairs, TARGET)
    for pair in _report_all(cache, failed, OLD_TARGET):
        missing = {"missing": True, "source": "no wheel for CPython 3.8 or 3.11 on Linux x86_64"}
        cache.put(missing, "metadata", *pair)


def _report_all(cache: Cache, pairs: list[tuple[str, str]], target: list[str]) -> list[tuple[str, str]]:
    pending, failed = list(pairs), []
    while pending:
        error = _report_run(cache, pending, target)
        if error is None:
            break
        found = re.search(r"(?:No matching distribution found for|satisfies the requirement) ([^\s;]+)", error)
        bad = [pair for pair in pending if found and f"{pair[0]}=={pair[1]}" == canonical_requirement(found.group(1))]
        if not bad:  # an error that names no requirement: try each alone
            if len(pending) == 1:
                return failed + pending
            for pair in pending:
                failed += _report_all(cache, [pair], target)
            break
        failed += bad
        pending = [pair for pair in pending if pair not in bad]
    return failed


def canonical_requirement(text: str) -> str:
    name, _, version = text.partition("==")
    return f"{canonical(name)}=={version}"


def _report_run(cache: Cache, pairs: list[tuple[str, str]], target: list[str]) -> str | None:
    """None when pip reported on every pair, else pip's output."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        requirements = [f"{name}=={version}" for name, version in pairs]
        result = pip("install", "--dry-run", "--ignore-installed", "--no-deps", "--no-cache-dir", "--target",
                     str(Path(folder) / "target"), "--report", str(report), *target, *requirements)  # fmt: skip
        if result.returncode != 0 or not report.is_file():
            return result.stdout + result.stderr
        for item in json.loads(report.read_text())["install"]:
            metadata = item["metadata"]
            url = item.get("download_info", {}).get("url", "")
            cache.put(
                {
                    "requires_dist": metadata.get("requires_dist", []),
                    "provides_extra": metadata.get("provides_extra", []),
                    "file": url.rsplit("/", 1)[-1],
                    "source": f"pip install --dry-run --report --no-deps (CPython {target[1]}, {PLATFORM} and older)",
                },
                "metadata",
                canonical(metadata["name"]),
                metadata["version"],
            )
    return None


def requirement_names(metadata: dict) -> tuple[list[str], dict[str, list[str]]]:
    """(names required on Linux by some Python 3.8+, extra -> names it adds)."""
    return _requirement_names(tuple(metadata.get("requires_dist", [])), tuple(metadata.get("provides_extra", [])))


@functools.cache
def _requirement_names(requires_dist: tuple[str, ...], provides_extra: tuple[str, ...]):
    metadata = {"requires_dist": requires_dist, "provides_extra": provides_extra}
    plain: set[str] = set()
    extras: dict[str, set[str]] = {}
    for text in metadata.get("requires_dist", []):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        name = canonical(requirement.name)
        if requirement.extras:  # "cuda-toolkit[cublas,cudart]": the extras it asks of the other
            name += "[" + ",".join(sorted(canonical(extra) for extra in requirement.extras)) + "]"
        if requirement.marker is None:
            plain.add(name)
            continue
        wanted = _marker_extras(requirement.marker, metadata.get("provides_extra", []))
        for extra in wanted:
            if extra is None:
                plain.add(name)
            else:
                extras.setdefault(canonical(extra), set()).add(name)
    for extra in list(extras):
        extras[extra] -= plain
        if not extras[extra]:
            del extras[extra]
    return sorted(plain), {extra: sorted(names) for extra, names in sorted(extras.items())}


def _marker_extras(marker: Marker, provided: list[str]) -> list[str | None]:
    """The extras (None: none) under which the marker holds for some Python on Linux."""
    found: list[str | None] = []
    for extra in [None, *provided]:
        for python in PYTHONS:
            environment = {**LINUX, "python_version": python, "python_full_version": f"{python}.0"}
            environment["extra"] = extra or ""
            try:
                holds = marker.evaluate(environment)
            except Exception:
                holds = True
            if holds:
                found.append(extra)
                break
    if None in found:
        return [None]
    return found


def _known(cache: Cache, name: str, listed: list[str]) -> dict[str, dict]:
    folder = cache.root / "metadata" / name
    stored = {path.name[: -len(".json")] for path in folder.glob("*.json")} if folder.is_dir() else set()
    found = {}
    for version in listed:
        if version in stored:
            metadata = cache.get("metadata", name, version)
            if metadata and not metadata.get("missing"):
                found[version] = metadata
    return found


def bisection_points(cache: Cache, name: str, listed: list[str]) -> list[tuple[str, str]]:
    """The middle release between two neighbouring known releases whose requirement names differ."""
    oldest_first = list(reversed(listed))
    known = _known(cache, name, listed)
    tried = {version for version in listed if cache.get("metadata", name, version) is not None}
    order = [index for index, version in enumerate(oldest_first) if version in known]
    wanted = []
    for low, high in zip(order, order[1:], strict=False):
        if requirement_names(known[oldest_first[low]]) == requirement_names(known[oldest_first[high]]):
            continue
        untried = [index for index in range(low + 1, high) if oldest_first[index] not in tried]
        if untried:
            wanted.append((name, oldest_first[untried[len(untried) // 2]]))
    return wanted


def requirement_ranges(cache: Cache, name: str, listed: list[str]) -> list[tuple[str, dict]]:
    """[(first version, metadata)] oldest first: each range starts where the names changed."""
    known = _known(cache, name, listed)
    ranges: list[tuple[str, dict]] = []
    for version in reversed(listed):
        if version in known and (not ranges or requirement_names(ranges[-1][1]) != requirement_names(known[version])):
            ranges.append((version, known[version]))
    return ranges


# -- what the newest wheel holds --------------------------------------------------------------


def fetch_wheels(cache: Cache, newest: dict[str, str]) -> None:
    """Download the newest wheel of each name the cache lacks (BATCH per pip run, a run
    that fails is split in halves), read it, keep the facts, delete it."""
    missing = [(name, version) for name, version in sorted(newest.items())
               if (cache.get("wheels", name) or {}).get("version") != version]  # fmt: skip
    if cache.offline or not missing:
        return
    batches = [missing[start : start + BATCH] for start in range(0, len(missing), BATCH)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in pool.map(lambda batch: _download(cache, batch), batches):
            pass


def _download(cache: Cache, pairs: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = pip("download", "--no-deps", "--no-cache-dir", *TARGET, "-d", folder,
                     *(f"{name}=={version}" for name, version in pairs))  # fmt: skip
        if result.returncode != 0:
            if len(pairs) > 1:
                middle = len(pairs) // 2
                _download(cache, pairs[:middle])
                _download(cache, pairs[middle:])
            else:
                name, version = pairs[0]
                cache.put({"version": version, "missing": True, "source": f"pip download {name}=={version}: no wheel"},
                          "wheels", name)  # fmt: skip
            return
        versions = dict(pairs)
        for wheel in sorted(Path(folder).glob("*.whl")):
            name = canonical(wheel.name.split("-", 1)[0])
            if name not in versions:
                continue
            try:
                facts = read_wheel(wheel)
            except (zipfile.BadZipFile, OSError, KeyError) as error:
                facts = {"missing": True, "error": str(error)}
            facts["version"] = versions[name]
            facts["source"] = f"pip download --no-deps: {wheel.name}"
            metadata = facts.pop("metadata", None)
            if metadata is not None and cache.get("metadata", name, versions[name]) is None:
                cache.put({**metadata, "file": wheel.name, "source": "METADATA of the wheel pip download fetched"},
                          "metadata", name, versions[name])  # fmt: skip
            cache.put(facts, "wheels", name)
            wheel.unlink()  # only the facts are kept


def read_wheel(path: Path) -> dict:
    with zipfile.ZipFile(path) as wheel:
        infos = wheel.infolist()
        files = [info.filename for info in infos if not info.is_dir()]
        size = sum(info.file_size for info in infos)
        dist_info = next((file.split("/", 1)[0] for file in files if file.endswith(".dist-info/METADATA")), None)
        entry_points = _entry_points(wheel.read(f"{dist_info}/entry_points.txt").decode("utf-8", "replace")) if (
            dist_info and f"{dist_info}/entry_points.txt" in files) else {}  # fmt: skip
        modules = _modules(files)
        commands = sorted(
            set(entry_points.pop("console_scripts", [])) | set(entry_points.pop("gui_scripts", []))
            | {file.rsplit("/", 1)[1] for file in files if re.match(r"[^/]+\.data/scripts/[^/]+$", file)}
        )  # fmt: skip
        cuda = sum(info.file_size for info in infos if CUDA_LIBRARY.search(info.filename))
        lazy = _lazy_imports(wheel, files, modules)
        metadata = _metadata(wheel.read(f"{dist_info}/METADATA").decode("utf-8", "replace")) if dist_info else None
    return {
        "metadata": metadata,
        "modules": modules,
        "commands": commands,
        "groups": sorted(entry_points),
        "size": size,
        "cuda_bytes": cuda,
        "lazy": lazy,
    }


def _metadata(text: str) -> dict:
    """Requires-Dist and Provides-Extra of a METADATA file, as a dry-run report gives them."""
    from email.parser import HeaderParser

    message = HeaderParser().parsestr(text)
    return {
        "requires_dist": message.get_all("Requires-Dist") or [],
        "provides_extra": message.get_all("Provides-Extra") or [],
    }


def _entry_points(text: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    group = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            groups.setdefault(group, [])
        elif group and "=" in line and not line.startswith(("#", ";")):
            groups[group].append(line.split("=", 1)[0].strip())
    return groups


def _modules(files: list[str]) -> list[str]:
    """Top-level import names; a folder without ``__init__`` is a namespace: its children count."""
    found: set[str] = set()
    tree: dict = {}
    for file in files:
        parts = file.split("/")
        if parts[0].endswith((".dist-info", ".data")) or "." in parts[0] and len(parts) > 1:
            continue
        node = tree
        for part in parts:
            node = node.setdefault(part, {})

    def walk(node: dict, prefix: str, depth: int) -> None:
        for part, children in node.items():
            if not children:  # a file
                module = _module_of_file(part)
                if module and module != "__init__":
                    found.add(prefix + module)
                continue
            if not part.isidentifier() or part in NOT_MODULES:
                continue
            if any(child.startswith("__init__.") for child in children):
                found.add(prefix + part)
            elif depth < 3 and _holds_python(children):
                walk(children, prefix + part + ".", depth + 1)

    walk(tree, "", 0)
    return sorted(module for module in found if module.split(".")[0] not in NOT_MODULES)


def _module_of_file(name: str) -> str | None:
    if name.endswith(".py"):
        stem = name[:-3]
    elif name.endswith(".so") or name.endswith(".pyd"):
        stem = name.split(".", 1)[0]
    else:
        return None
    return stem if stem.isidentifier() else None


def _holds_python(node: dict) -> bool:
    return any((not children and _module_of_file(part)) or (children and _holds_python(children))
               for part, children in node.items())  # fmt: skip


# -- lazy imports ---------------------------------------------------------------------------------


class _Reader(ast.NodeVisitor):
    """Imports of other packages in one file, each with where it happens."""

    def __init__(self, own: set[str]) -> None:
        self.own = own
        self.scopes: list[str] = []  # enclosing def/class names
        self.guarded = 0  # inside try/except ImportError, or an `if`, at module level
        self.type_checking = 0
        self.found: list[tuple[str, tuple[str, ...], bool]] = []  # (top module, scopes, guarded)
        self.defs: dict[str, set[str]] = {}  # def/class name -> names its body refers to

    def _add(self, module: str | None) -> None:
        if not module or self.type_checking:
            return
        top = module.split(".", 1)[0]
        if top in STDLIB or top in self.own or top.startswith("_") and top[1:] in self.own or not top.isidentifier():
            return
        self.found.append((top, tuple(self.scopes), bool(self.guarded)))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not node.level:
            self._add(node.module)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
        if called in IMPORTING_CALLS and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str):
                self._add(node.args[0].value)
        self.generic_visit(node)

    def _scope(self, node) -> None:
        self.scopes.append(node.name)
        self.defs.setdefault(node.name, set())
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_Try(self, node: ast.Try) -> None:
        catches = any(_catches_import_error(handler.type) for handler in node.handlers)
        self.guarded += catches
        for statement in node.body:
            self.visit(statement)
        self.guarded -= catches
        self.guarded += 1  # a fallback import in the handler is optional too
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)
        self.guarded -= 1

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        checking = any(
            getattr(part, "id", getattr(part, "attr", None)) == "TYPE_CHECKING" for part in ast.walk(node.test)
        )
        self.type_checking += checking
        self.guarded += 1
        for statement in node.body:
            self.visit(statement)
        self.type_checking -= checking
        for statement in node.orelse:
            self.visit(statement)
        self.guarded -= 1
        self.visit(node.test)


def _catches_import_error(node) -> bool:
    if node is None:
        return True
    names = [node] if not isinstance(node, ast.Tuple) else list(node.elts)
    return any(getattr(item, "id", getattr(item, "attr", "")) in ("ImportError", "ModuleNotFoundError", "Exception",
               "BaseException", "OSError") for item in names)  # fmt: skip


# A file needs the exact reading when an import is indented (in a function, a try or an
# if) or a module is imported by a string.
_NEEDS_AST = re.compile(r"^[ \t]+(?:import|from)[ \t]+[A-Za-z_]|" + "|".join(sorted(IMPORTING_CALLS)), re.M)
_TOP_IMPORT = re.compile(r"^(?:import|from)[ \t]+([A-Za-z_][\w.]*)", re.M)
_DEF = re.compile(r"^([ \t]*)(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _regex_defs(text: str) -> dict[str, set[str]]:
    """def/class name -> the names its body mentions (nested bodies count for every
    enclosing definition): the reference graph lazy imports are propagated along."""
    defs: dict[str, set[str]] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while stack and indent <= stack[-1][0]:
            stack.pop()
        found = _DEF.match(line)
        if found:
            stack.append((indent, found.group(2)))
            defs.setdefault(found.group(2), set())
            continue
        if stack:
            words = set(_IDENTIFIER.findall(stripped))
            for _, name in stack:
                defs[name] |= words
    return defs


def _lazy_imports(wheel: zipfile.ZipFile, files: list[str], modules: list[str]) -> dict[str, list[str] | None]:
    """top module -> public names whose call reaches an import of it, or None: imported
    whenever this distribution is (guarded at module level, or reached from too many names)."""
    own = {module.split(".")[0] for module in modules}
    edges: dict[str, set[str] | None] = {}
    defs: dict[str, set[str]] = {}
    for file in files:
        if not file.endswith(".py") or "/tests/" in file or "/test/" in file or file.split("/")[0] in own and \
                "/_vendor/" in file:  # fmt: skip
            continue
        data = wheel.read(file)
        if len(data) > 2_000_000:
            continue
        text = data.decode("utf-8", "replace")
        for name, refers in _regex_defs(text).items():
            defs.setdefault(name, set()).update(refers)
        if not _NEEDS_AST.search(text):  # imports at column 0 only: each one always happens
            for module in _TOP_IMPORT.findall(text):
                top = module.split(".", 1)[0]
                if top not in STDLIB and top not in own and not top.startswith("_"):
                    edges[top] = None
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError):
            continue
        reader = _Reader(own)
        try:
            reader.visit(tree)
        except RecursionError:
            continue
        for top, scopes, guarded in reader.found:
            if not scopes:
                if guarded:
                    edges[top] = None
                else:
                    edges.setdefault(top, set())  # an unguarded import in an optional module
                    edges[top] = None
                continue
            if edges.get(top, set()) is None:
                continue
            edges.setdefault(top, set()).update(scopes)
    callers: dict[str, set[str]] = {}
    for name, refers in defs.items():
        for referred in refers:
            callers.setdefault(referred, set()).add(name)
    result: dict[str, list[str] | None] = {}
    for top, scopes in sorted(edges.items()):
        if scopes is None:
            result[top] = None
            continue
        reached = set(scopes)
        pending = list(scopes)
        while pending and len(reached) <= 20 * MAX_WHERE:
            for caller in callers.get(pending.pop(), ()):
                if caller not in reached:
                    reached.add(caller)
                    pending.append(caller)
        public = sorted(name for name in reached if not name.startswith("_"))
        result[top] = None if not public or len(public) > MAX_WHERE or len(reached) > 20 * MAX_WHERE else public
    return result


# -- putting it together ----------------------------------------------------------------------


def _tiers(names: dict[str, str]) -> list[list[str]]:
    """The override file's and the first part of the seed list first, then each further
    part, then the most downloaded: an interrupted build has the names that matter most."""
    order = sorted({why.split(" of ")[0] for why in names.values()}, key=lambda why: (why.startswith("rank"), why))
    return [sorted(name for name, why in names.items() if why.split(" of ")[0] == tier) for tier in order]


def build(cache: Cache, names: dict[str, str], closure: bool) -> dict:
    records: dict[str, dict] = {}
    seen: set[str] = set()
    for tier in _tiers(names):
        pending = [name for name in tier if name not in seen]
        seen.update(pending)
        _build_tier(cache, names, closure, records, pending, seen)
    return records


def _build_tier(cache: Cache, names: dict[str, str], closure: bool, records: dict, pending: list[str], seen: set[str]):
    started = time.time()
    while pending:
        listed = versions(cache, pending)
        log(f"{len(listed)} of {len(pending)} names have versions, {time.time() - started:.0f} s")
        fetch_wheels(cache, {name: found[0] for name, found in listed.items()})  # its METADATA serves the newest
        log(f"wheels read, {time.time() - started:.0f} s")
        fetch_metadata(cache, [(name, version) for name, found in listed.items() for version in sample(found)])
        log(f"samples read, {time.time() - started:.0f} s")
        for step in range(12 if not cache.offline else 0):  # bisection: each step halves every open interval
            wanted = [pair for name, found in listed.items() for pair in bisection_points(cache, name, found)]
            if not wanted:
                break
            fetch_metadata(cache, wanted)
            log(f"bisection step {step + 1}: {len(wanted)} releases, {time.time() - started:.0f} s")
        wheels = {name: cache.get("wheels", name) for name in listed}
        new = []
        for name in sorted(listed):
            ranges = requirement_ranges(cache, name, listed[name])
            if not ranges:
                continue
            records[name] = {"why": names.get(name, "required by another listed distribution"),
                             "ranges": ranges, "wheel": wheels.get(name)}  # fmt: skip
            if closure:
                for required in requirement_names(ranges[-1][1])[0]:
                    if required not in seen:
                        seen.add(required)
                        new.append(required)
        pending = sorted(new)


def assemble(records: dict[str, dict]) -> dict:
    """The shipped data: compact, sorted, with where each fact came from."""
    owners: dict[str, list[str]] = {}
    for name, record in records.items():
        wheel = record["wheel"] or {}
        for module in wheel.get("modules", ()):
            owners.setdefault(module.split(".")[0], []).append(name)
    distributions = {}
    for name, record in sorted(records.items()):
        wheel = record["wheel"] if record["wheel"] and not record["wheel"].get("missing") else None
        ranges = []
        for version, metadata in record["ranges"]:
            plain, extras = requirement_names(metadata)
            entry = {"from": version, "requires": plain}
            if extras:
                entry["extras"] = extras
            ranges.append(entry)
        ranges[0]["from"] = None  # the oldest sample speaks for every older version
        entry = {"version": record["ranges"][-1][0] if wheel is None else wheel["version"], "ranges": ranges}
        sources = [f"{record['ranges'][-1][1]['source']} ({len(record['ranges'])} ranges)"]
        if wheel is not None:
            required = {item for found in ranges for item in found["requires"]}
            required |= {item for found in ranges for names in found.get("extras", {}).values() for item in names}
            required = {item.split("[", 1)[0] for item in required}
            may_use = {}
            for top, where in wheel["lazy"].items():
                for other in owners.get(top, ()):
                    if other != name and other not in required:
                        known = may_use.get(other, [])
                        may_use[other] = None if where is None or known is None else sorted(set(known) | set(where))
            entry.update(modules=wheel["modules"], commands=wheel["commands"], size=wheel["size"])
            if wheel["groups"]:
                entry["groups"] = wheel["groups"]
            if wheel["cuda_bytes"]:
                entry["cuda_bytes"] = wheel["cuda_bytes"]
            if may_use:
                entry["may_use"] = {other: where or [] for other, where in sorted(may_use.items())}
            sources.append(wheel["source"])
        entry["why"] = record["why"]
        entry["source"] = sources
        distributions[name] = entry
    return {
        "format": 1,
        "python": PYTHON_VERSION,
        "platform": PLATFORM,
        "distributions": distributions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline", action="store_true", help="use the cache only; fetch nothing")
    parser.add_argument("--cache", type=Path, default=ROOT / ".package-index-cache")
    parser.add_argument("--ranked", type=Path, help="TSV with a rank_among_15000_most_downloaded column")
    parser.add_argument("--top", type=int, default=1000, help="how many of the most downloaded to take")
    parser.add_argument("--no-closure", action="store_true", help="leave out what the names require")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="older releases read per distribution")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--only", nargs="*", help="build for these names only (to try the script)")
    options = parser.parse_args()
    cache = Cache(options.cache, options.offline)
    globals()["SAMPLES"] = options.samples
    names_file = cache.path("names")
    if options.only:
        names = {canonical(name): "named on the command line" for name in options.only}
    elif options.offline or (options.ranked is None and names_file.is_file()):
        names = cache.get("names")
    else:
        names = seed_names(options.ranked, options.top)
        cache.put(names, "names")
    free = shutil.disk_usage(cache.root.parent if cache.root.parent.exists() else ROOT).free
    if free < 5_000_000_000 and not options.offline:
        sys.exit(f"only {free / 1e9:.1f} GB free: wheels up to ~1 GB are downloaded one at a time")
    records = build(cache, names, not options.no_closure)
    data = assemble(records)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as handle:
        handle.write(text.encode())
    options.output.write_bytes(buffer.getvalue())
    log(f"{len(data['distributions'])} distributions, {len(text):,} bytes of JSON, "
        f"{len(buffer.getvalue()):,} compressed -> {options.output}")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PIP_NO_INPUT", "1")
    main()

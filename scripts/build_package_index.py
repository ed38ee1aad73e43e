#!/usr/bin/env python3
"""Build dockerlint's package index from real package metadata.

    python scripts/build_package_index.py            # fetch what the cache lacks, then build
    python scripts/build_package_index.py --offline  # rebuild from the cache only
    python scripts/build_package_index.py --add NAME ...  # add distributions to the index as it is

What it writes: ``dockerlint/knowledge/packages.index`` (one record per distribution) and
``packages.calls`` (its call edges); docs/package-index.md describes them. Every fact
comes from PyPI through pip:

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
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
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
OUTPUT = ROOT / "dockerlint" / "knowledge" / "packages.index"
CALLS_NAME = "packages.calls"
OVERRIDES = ROOT / "dockerlint" / "knowledge" / "package_overrides.toml"
SEED = ROOT / "scripts" / "package_index_seed.txt"
PINS = ROOT / "scripts" / "package_index_pins.txt"
PYTHON_VERSION = "3.11"
PLATFORM = "manylinux_2_36_x86_64"  # glibc of Debian bookworm, the python:3.x-slim images
# pip takes the tags as given: every manylinux tag that glibc 2.36 runs, newest first.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 16, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]  # fmt: skip
_PLATFORM_OPTIONS = [word for platform in PLATFORMS for word in ("--platform", platform)]
TARGET = ["--python-version", PYTHON_VERSION, *_PLATFORM_OPTIONS, "--only-binary", ":all:"]
OLD_TARGET = ["--python-version", "3.8", *_PLATFORM_OPTIONS, "--only-binary", ":all:"]
SERIES, SAMPLES, OLDER_MAJORS = 20, 8, 3
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
CHECKING_CALLS = {"find_spec", "_is_package_available", "is_package_available"}
# A package's own helper of that kind, by its name: pyconfs' `delayed_import("toml")`,
# `import_or_raise`, `_import_optional`. The argument must still name a known module.
IMPORTING_NAME = re.compile(r"(?:^|_)import(?:_|$)")
AVAILABILITY_CHECK = re.compile(r"_?is_(\w+?)_available")  # is_xformers_available(): asks about xformers
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}  # an except clause for these guards an optional import
# A lazy import reached from more public names than this sits under plumbing most calls go
# through (scikit-learn's pandas dtype check under check_array, under every fit): whether it
# runs depends on what the functions are given, which no reading of the calls can tell, so it
# is no edge; unless it is an accelerator tried first (orjson over json): then it is used
# whenever the package is.
MAX_WHERE = 100
READER = 8  # what read_wheel reads; cached facts of an older reader are read again
# Reader 4 changed which imports of others count and reads namespaces deeper, reader 5 records
# an import of another package by its module path, reader 6 counts the bytes of Python source
# pip compiles, reader 7 tells an alternative from a placeholder, reader 8 follows a package's
# own import helpers (`delayed_import("toml")`) and an sdist's `package_dir`, `py_modules` and
# `packages`. Entries read before a full rebuild keep their older reading. A wheel of reader 3 or later
# that imports nothing of others is not fetched again unless it is small and lacks py_bytes:
# the large ones are CUDA and other native libraries (the nvidia-* wheels, some 15 GB) with
# next to no Python; their ``py_bytes`` stays unknown.
KEPT_READERS, LARGE_WHEEL = {3, 4, 5, 6}, 50_000_000
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def canonical(name: str) -> str:
    return canonicalize_name(name)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# -- the cache ------------------------------------------------------------------------------


class Cache:
    """One JSON file per answer: versions/NAME.json, metadata/NAME/VERSION.json, wheels/NAME.json
    (the newest wheel), earlier/NAME/VERSION.json (an older wheel, ``earlier_wheel``)."""

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
    argvs = [
        ["index", "versions", name, "--pre", *TARGET, "--disable-pip-version-check", "--no-input"] for name in names
    ]
    result = subprocess.run([sys.executable, "-c", _PIP_MANY], input=json.dumps(argvs), capture_output=True,
                            text=True, timeout=3600)  # fmt: skip
    for name, (_, output) in zip(names, json.loads(result.stdout), strict=True):
        match = re.search(r"Available versions: (.*)", output)
        listed = [item.strip() for item in match.group(1).split(",")] if match else []
        final, previews = [], []
        for item in listed:
            try:
                version = Version(item)
            except InvalidVersion:
                continue
            if not version.is_prerelease and not version.is_devrelease:
                final.append(item)
            elif not version.is_devrelease:
                previews.append(item)
        # A distribution that publishes only pre-releases (opentelemetry-distro's 0.60b1)
        # is installed at them: pip takes a pre-release when no final release is there.
        final = final or previews
        source = f"pip index versions {name} (CPython {PYTHON_VERSION}, {PLATFORM} and older)"
        cache.put({"versions": final, "source": source}, "versions", name)


def sample(listed: list[str]) -> list[str]:
    """The newest release of each of the last SERIES minor series, at most SAMPLES spread
    evenly, then the newest release of each of the OLDER_MAJORS major series before those:
    a package that moves fast (openai 3.x has more than SERIES minor series) is still read
    as an image pinning its last 0.x or 1.x installs it."""
    newest: dict[tuple, str] = {}
    for item in listed:  # newest first
        release = Version(item).release
        newest.setdefault(release[:2], item)
    series = list(newest.values())[:SERIES]
    if len(series) <= SAMPLES or SAMPLES < 2:
        chosen = series[: max(SAMPLES, 1)]
    else:
        step = (len(series) - 1) / (SAMPLES - 1)
        chosen = list(dict.fromkeys(series[round(index * step)] for index in range(SAMPLES)))
    sampled = {key[0] for key in list(newest)[:SERIES]}
    older = {}
    for key, item in newest.items():
        if key[0] not in sampled:
            older.setdefault(key[0], item)
    return chosen + list(older.values())[:OLDER_MAJORS]


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
        requirement = _requirement(text)
        if requirement is None:
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


# A Requires-Dist entry with a version range packaging no longer parses: the legacy forms
# `pytz (>dev)` (celery 4.x-5.2), `azure-core (>=1.11.0<2)`, `PyYAML (>=5.1.*)`. pip before
# 24.1 installed such packages and the name they require; the range is what it could not read.
_LEGACY_REQUIREMENT = re.compile(
    r"\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<extras>\[[^\]]*\])?\s*(?:\([^)]*\)|[<>=!~][^;]*)?\s*(?:;(?P<marker>.*))?\Z"
)


def _requirement(text: str) -> Requirement | None:
    """The requirement, or its name, extras and marker when its version range is a legacy one
    (a wrong range must not lose the name: the package is still required)."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        pass
    legacy = _LEGACY_REQUIREMENT.match(text)
    if legacy is None:
        return None
    marker = (legacy["marker"] or "").strip()
    try:
        return Requirement(legacy["name"] + (legacy["extras"] or "") + (f"; {marker}" if marker else ""))
    except InvalidRequirement:  # the marker too is unreadable: required under every condition
        return Requirement(legacy["name"] + (legacy["extras"] or ""))


def _marker_extras(marker: Marker, provided: list[str]) -> list[str | None]:
    """The extras (None: none) under which the marker holds for some Python on Linux."""
    return _marker_extras_of(str(marker), tuple(provided))


@functools.cache
def _marker_extras_of(text: str, provided: tuple[str, ...]) -> list[str | None]:
    marker = Marker(text)
    named = {canonical(found) for found in re.findall(r"extra\s*==\s*['\"]([^'\"]+)['\"]", text)}
    candidates = [None] + [extra for extra in provided if canonical(extra) in named]
    if "extra" in text and not named:  # `extra != "x"`, `"x" in extra`: ask every extra
        candidates = [None, *provided]
    found: list[str | None] = []
    for extra in candidates:
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
               if _stale(cache.get("wheels", name), version)]  # fmt: skip
    if cache.offline or not missing:
        return
    batches = [missing[start : start + BATCH] for start in range(0, len(missing), BATCH)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in pool.map(lambda batch: _download(cache, batch), batches):
            pass


def _stale(facts: dict | None, version: str | None = None) -> bool:
    """Whether the cached facts of a wheel are for another version (when one is asked for)
    or were read by an older reader that would read them differently."""
    if facts is None or (version is not None and facts.get("version") != version):
        return True
    if facts.get("missing") or facts.get("reader") == READER:
        return False
    if facts.get("uses") or facts.get("reader") not in KEPT_READERS:
        return True
    # nothing imported of others reads the same; only py_bytes may be missing, and the large
    # wheels go without it
    return "py_bytes" not in facts and (facts.get("size") or 0) < LARGE_WHEEL


def _download(cache: Cache, pairs: list[tuple[str, str]], earlier: bool = False) -> None:
    """Read the wheels of ``pairs`` into the cache: ``wheels/NAME`` for the newest release,
    ``earlier/NAME/VERSION`` for an older one (``earlier_wheel``)."""

    def key(name: str, version: str) -> tuple[str, ...]:
        return ("earlier", name, version) if earlier else ("wheels", name)

    with tempfile.TemporaryDirectory() as folder:
        result = pip("download", "--no-deps", "--no-cache-dir", *TARGET, "-d", folder,
                     *(f"{name}=={version}" for name, version in pairs))  # fmt: skip
        if result.returncode != 0:
            if len(pairs) > 1:
                middle = len(pairs) // 2
                _download(cache, pairs[:middle], earlier)
                _download(cache, pairs[middle:], earlier)
            else:
                name, version = pairs[0]
                cache.put({"version": version, "missing": True, "source": f"pip download {name}=={version}: no wheel"},
                          *key(name, version))  # fmt: skip
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
            cache.put(facts, *key(name, versions[name]))
            wheel.unlink()  # only the facts are kept


EARLIER_TRIES = 6  # older wheels read, at most, for one distribution whose newest holds no modules


def earlier_wheel(cache: Cache, name: str, listed: list[str], ranges: list[tuple[str, dict]]) -> dict | None:
    """For a distribution whose newest wheel holds no modules (its code moved to what it
    requires: apache-airflow 3 is apache-airflow-core's), the facts of the newest older
    wheel that holds some, with ``before``: the first release of the requirement range
    after that wheel's, where the code is taken to have moved. The wheels looked at are of
    the release just before each range starts, found by bisection (apache-airflow has some
    fifteen ranges of meta-package releases since 3.0)."""
    candidates = []  # (range start, the release just before it), oldest first
    for start, _ in ranges[1:]:
        position = listed.index(start) if start in listed else -1  # listed: newest first
        if 0 <= position < len(listed) - 1:
            candidates.append((start, listed[position + 1]))
    low, high, found = -1, len(candidates), None
    for _ in range(EARLIER_TRIES):
        if high - low <= 1:
            break
        middle = (low + high) // 2
        start, version = candidates[middle]
        facts = cache.get("earlier", name, version)
        if _stale(facts, version) and not cache.offline:
            _download(cache, [(name, version)], earlier=True)
            facts = cache.get("earlier", name, version)
        if facts is not None and not facts.get("missing") and facts.get("modules"):
            low, found = middle, {**facts, "before": start}
        else:
            high = middle
    return found


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
        uses = _uses(lambda file: wheel.read(file), files, modules)
        metadata = _metadata(wheel.read(f"{dist_info}/METADATA").decode("utf-8", "replace")) if dist_info else None
    return {
        "metadata": metadata,
        "modules": modules,
        "commands": commands,
        "groups": sorted(entry_points),
        "size": size,
        "py_bytes": sum(info.file_size for info in infos if _compiled_at_install(info.filename)),
        "cuda_bytes": cuda,
        "uses": uses,
        "reader": READER,
    }


def _compiled_at_install(file: str) -> bool:
    """A ``.py`` file pip installs into site-packages, where it writes a ``.pyc`` beside it
    (not the wheel's metadata, scripts, headers or data)."""
    if not file.endswith(".py"):
        return False
    top, _, rest = file.partition("/")
    if top.endswith(".dist-info"):
        return False
    return not top.endswith(".data") or rest.startswith(("purelib/", "platlib/"))


# -- distributions PyPI has no wheel of: their sdist, read as files --------------------------------
#
# pip prepares an sdist's metadata by running its build (setup.py), so pip is asked only where
# the newest sdist is (its finder, as `pip download` uses it); the archive is then read as
# files: PKG-INFO, the egg-info folder, pyproject.toml, setup.cfg, and setup.py's literal
# arguments through `ast`. Nothing in it is run.

_SDIST_FIND = """
import json, sys
from pip._internal.commands import create_command
command = create_command("download")
options, _ = command.parse_args(["--no-deps", "--no-binary", ":all:", "x"])
found = {}
with command.main_context():
    session = command.get_default_session(options)
    finder = command._build_package_finder(options=options, session=session)
    for name in json.load(sys.stdin):
        best = finder.find_best_candidate(name).best_candidate
        if best is None:
            found[name] = None
            continue
        target = sys.argv[1] + "/" + best.link.filename
        with open(target, "wb") as handle:
            handle.write(session.get(best.link.url).content)
        found[name] = [str(best.version), target]
json.dump(found, sys.stdout)
"""


def fetch_sdists(cache: Cache, names: list[str]) -> None:
    missing = [name for name in names if _stale(cache.get("sdists", name))]
    if cache.offline or not missing:
        return
    for start in range(0, len(missing), BATCH):
        batch = missing[start : start + BATCH]
        with tempfile.TemporaryDirectory() as folder:
            result = subprocess.run([sys.executable, "-c", _SDIST_FIND, folder], input=json.dumps(batch),
                                    capture_output=True, text=True, timeout=3600)  # fmt: skip
            try:
                found = json.loads(result.stdout)
            except ValueError:
                log(f"sdists of {batch[0]}...: {result.stderr[-300:]}")
                continue
            for name in batch:
                if found.get(name) is None:
                    cache.put({"missing": True, "source": "pip's finder: no wheel and no sdist"}, "sdists", name)
                    continue
                version, path = found[name]
                try:
                    facts = read_sdist(Path(path))
                except (OSError, tarfile.TarError, zipfile.BadZipFile, ValueError) as error:
                    facts = {"missing": True, "error": str(error)}
                facts.update(version=version, source=f"the sdist {Path(path).name}, read as files (no wheel on PyPI)")
                cache.put(facts, "sdists", name)


def read_sdist(path: Path) -> dict:
    """What an sdist says without being built: requirements, import names, commands, the
    size of its package files, and what its Python imports of others."""
    members = _archive(path)
    prefix = os.path.commonprefix([name for name in members if "/" in name]).split("/", 1)[0] + "/"
    files = {name[len(prefix) :]: data for name, data in members.items() if name.startswith(prefix)}
    text = {name: data.decode("utf-8", "replace") for name, data in files.items()
            if name.endswith((".txt", ".toml", ".cfg", ".py", "PKG-INFO")) and len(data) < 2_000_000}  # fmt: skip
    egg = next((name.rsplit("/", 1)[0] for name in sorted(files) if re.fullmatch(r"(?:src/)?[^/]+\.egg-info/PKG-INFO",
                                                                                    name)), None)  # fmt: skip
    pyproject = _toml(text.get("pyproject.toml", "")).get("project", {})
    setup = _setup_literals(text.get("setup.py", ""))
    metadata = _metadata(text.get("PKG-INFO", ""))
    if not metadata["requires_dist"] and egg and f"{egg}/requires.txt" in text:
        metadata = _egg_requires(text[f"{egg}/requires.txt"])
    if not metadata["requires_dist"] and pyproject.get("dependencies"):
        optional = pyproject.get("optional-dependencies", {})
        metadata = {"requires_dist": list(pyproject["dependencies"]) + [
            f"{item}; extra == \"{extra}\"" for extra, items in optional.items() for item in items],
            "provides_extra": list(optional)}  # fmt: skip
    if not metadata["requires_dist"]:
        requires = setup.get("install_requires")
        if isinstance(requires, str) and requires in text:  # read from a file the sdist holds
            requires = [line.split("#", 1)[0].strip() for line in text[requires].splitlines()]
        extras = setup.get("extras_require") if isinstance(setup.get("extras_require"), dict) else {}
        if isinstance(requires, list):
            metadata = {"requires_dist": [item for item in requires if isinstance(item, str) and item
                                          and not item.startswith("-")] + [
                f"{item}; extra == \"{extra}\"" for extra, items in extras.items() if isinstance(items, list)
                for item in items if isinstance(item, str)],
                "provides_extra": [extra for extra in extras if isinstance(extra, str)]}  # fmt: skip
    root = "src/" if any(name.startswith("src/") and name.endswith("__init__.py") for name in files) else ""
    package_dir = setup.get("package_dir")
    if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str) and package_dir[""].strip("./"):
        root = package_dir[""].strip("./") + "/"  # setup(package_dir={"": "lib"}): pydotplus's lib/pydotplus
    package_files = [
        name[len(root) :] for name in files if name.startswith(root) and name.count("/") >= (1 if root else 0)
    ]
    declared = _declared_modules(setup)
    if egg and f"{egg}/top_level.txt" in text:
        modules = sorted({line.strip() for line in text[f"{egg}/top_level.txt"].splitlines() if line.strip()})
    elif declared:
        modules = declared
    else:
        modules = [module for module in _modules(package_files) if module not in ("setup", "conftest")]
    commands = set()
    if egg and f"{egg}/entry_points.txt" in text:
        commands.update(_entry_points(text[f"{egg}/entry_points.txt"]).get("console_scripts", ()))
    commands.update(pyproject.get("scripts", {}))
    entry_points = setup.get("entry_points")
    if isinstance(entry_points, dict) and isinstance(entry_points.get("console_scripts"), list):
        commands.update(
            item.split("=", 1)[0].strip() for item in entry_points["console_scripts"] if isinstance(item, str)
        )
    owned = [name for name in package_files if name.split("/", 1)[0] in {m.split(".")[0] for m in modules}
             or name.split("/", 1)[0].removesuffix(".py") in modules]  # fmt: skip
    # A compiled extension (setup's ext_modules, or C/C++ sources to build): what installs is
    # what the compiler makes, which no file of the sdist tells (dlib's 1 kB of Python).
    compiled = "ext_modules" in setup or any(name.endswith(_NATIVE_SOURCES) for name in files)
    return {
        "metadata": metadata,
        "modules": modules,
        "commands": sorted(commands),
        "groups": [],
        "size": None if compiled else sum(len(files[root + name]) for name in owned),
        "py_bytes": sum(len(files[root + name]) for name in owned if name.endswith(".py")),
        "cuda_bytes": 0,
        "uses": _uses(lambda name: files.get(root + name), owned, modules),
        "reader": READER,
    }


def _archive(path: Path) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.is_dir() and info.file_size < 50_000_000:
                    members[info.filename] = archive.read(info)
        return members
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            if member.isfile() and member.size < 50_000_000:
                handle = archive.extractfile(member)
                if handle is not None:
                    members[member.name] = handle.read()
    return members


def _toml(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except ValueError:
        return {}


def _egg_requires(text: str) -> dict:
    """setuptools' requires.txt: plain lines, then ``[extra]``, ``[:marker]`` or ``[extra:marker]`` sections."""
    requires, extras, section = [], [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            extra, _, marker = section.partition(":")
            if extra and extra not in extras:
                extras.append(extra)
            continue
        if section is None:
            requires.append(line)
            continue
        extra, _, marker = section.partition(":")
        conditions = [f"({marker})"] if marker else []
        if extra:
            conditions.append(f'extra == "{extra}"')
        requires.append(f"{line}; {' and '.join(conditions)}" if conditions else line)
    return {"requires_dist": requires, "provides_extra": extras}


_NATIVE_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".cu", "CMakeLists.txt")


def _declared_modules(setup: dict) -> list[str]:
    """The top-level modules setup() names itself, when it names them as literals
    (``py_modules=["typing"]``, ``packages=["pydotplus"]``): the sdist's folders may hold
    other trees beside them (typing's python2/ and src/ copies)."""
    names = set()
    for key in ("py_modules", "packages"):
        value = setup.get(key)
        for item in value if isinstance(value, list) else ():
            top = item.split(".", 1)[0] if isinstance(item, str) else ""
            if top.isidentifier():
                names.add(top)
    return sorted(names)


def _setup_literals(text: str) -> dict:
    """The literal keyword arguments of setup() in a setup.py (names assigned a literal at
    module level are followed; ``open("requirements.txt")`` gives that file's name)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    assigned: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
    found: dict = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup":
            for keyword in node.keywords:
                if keyword.arg:
                    found[keyword.arg] = _literal(keyword.value, assigned)
    return found


def _literal(node, assigned: dict, depth: int = 0):
    if isinstance(node, ast.Name) and node.id in assigned and depth < 5:
        return _literal(assigned[node.id], assigned, depth + 1)
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        pass
    for inner in ast.walk(node):  # e.g. open("requirements.txt").read().splitlines()
        if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and inner.value.endswith(".txt"):
            return inner.value
    return None


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


# Folders without ``__init__`` walked down to a package: opentelemetry.exporter.otlp.proto.grpc
# is four namespaces deep.
NAMESPACE_DEPTH = 6


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
            elif depth < NAMESPACE_DEPTH and _holds_python(children):
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


# -- what a package imports of others ---------------------------------------------------------


# Methods a class's construction runs: they count as the class (``Wrapper(...)`` reaches what
# they import). Pydantic runs a model's validators when it is built: LangChain's wrappers import
# their optional package in one (``validate_environment`` under ``model_validator`` or, before
# pydantic 2, ``root_validator``; docs.pydantic.dev/latest/concepts/validators).
_CONSTRUCTION_METHODS = frozenset({"__init__", "__new__", "__post_init__", "__call__"})
_CONSTRUCTION_VALIDATORS = frozenset({"model_validator", "root_validator", "field_validator", "validator"})


def _decorator_name(decorator: ast.expr) -> str | None:
    """``model_validator`` of ``@model_validator(mode="before")`` or ``@pydantic.root_validator``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return getattr(target, "attr", getattr(target, "id", None))


class _Reader(ast.NodeVisitor):
    """The imports of one module: of its own package's modules and of others at load time
    (module level, in a class body, under ``try``/``if``; not under TYPE_CHECKING), and of
    others inside functions; and the call graph's raw material: which names each function
    mentions. A function is known by its simple name; a class by its ``__init__``
    and the validators its construction runs.

    An import the code does without is no use of what it imports: one under ``try`` whose
    ``except ImportError`` goes on with a placeholder (``pd = None``) or nothing, or under
    ``if is_x_available():`` (scikit-learn works with pandas frames when the service has
    pandas; it never needs pandas). The names such an import binds count only in the
    functions that raise when the module is missing (diffusers' xformers switch). An
    ``except ImportError`` that raises makes the import required; one that imports an
    alternative makes it preferred when installed (orjson over json, uvloop over asyncio):
    both are uses as before."""

    def __init__(self, own: set[str], module: str, package: bool) -> None:
        self.own = own
        self.base = module if package else module.rpartition(".")[0]  # what `from .` means here
        self.functions: list[str] = []  # enclosing defs, innermost last (a class's __init__ counts as the class)
        self.type_checking = 0
        self.loads: set[str] = set()  # own modules imported at load time (names that may be modules)
        self.refs: set[str] = set()  # own modules imported inside functions
        self.aliases: dict[str, str] = {}  # local name -> own module or own module.name it stands for
        self.at_load: dict[str, set[str]] = {}  # another package's module (_import_key) -> names bound at load
        self.lazy: dict[str, set[str]] = {}  # another package's module -> functions that import it
        self.mentions: dict[str, set[str]] = {}  # function -> names its body mentions
        self.defined: set[str] = set()
        self.optional = 0  # inside code that runs only when an import worked, or goes on without it
        self.optional_bound: dict[str, str] = {}  # local name -> another package's module it may stand for
        self.requires: dict[str, set[str]] = {}  # function -> other packages' modules it raises without
        self.preferring = 0  # inside code that imports an alternative when an import fails
        self.preferred: set[str] = set()  # other packages' modules imported there (orjson over json)
        self.trying: list[list[str]] = []  # per optional try being read: the keys it imports
        self.flags: dict[str, list[str]] = {}  # name an optional try sets -> the keys it imports
        self.chosen: set[str] = set()  # optional imports the module's load-time code chooses by

    def _add(self, module: str | None, names=(), bound: tuple[str, ...] = ()) -> None:
        if not module or self.type_checking:
            return
        top = module.split(".", 1)[0]
        if top in self.own or top in STDLIB or not top.isidentifier():
            self._add_key(top, module, names, bound)
        elif names:  # `from google.cloud import storage`: keyed google.cloud.storage, bound storage
            for name, local in zip(names, bound, strict=False):
                self._add_key(
                    top, module, (name,), (local,), _import_key(f"{module}.{name}" if name != "*" else module)
                )
        else:
            self._add_key(top, module, names, bound, _import_key(module))

    def _add_key(self, top: str, module: str, names, bound: tuple[str, ...], key: str | None = None) -> None:
        """Record an import of ``module``; one of another package's under ``key``: the module
        path imported, so far as it can tell apart the distributions sharing a namespace."""
        if not top.isidentifier() or top in STDLIB:
            return
        if top in self.own:
            found = {module, *(f"{module}.{name}" for name in names if name != "*")}
            (self.refs if self.functions else self.loads).update(found)
            return
        if top.startswith("_") and top[1:] in self.own:
            return
        key = key or top
        if self.preferring:
            self.preferred.add(key)
        if self.trying:
            self.trying[-1].append(key)
        if self.optional:
            if not self.functions:
                for name in bound:
                    self.optional_bound[name] = key
            return
        if self.functions:
            self.lazy.setdefault(key, set()).update(self.functions)
        else:
            self.at_load.setdefault(key, set()).update(bound)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            local = alias.asname or alias.name.split(".", 1)[0]
            if alias.name.split(".", 1)[0] in self.own:
                self.aliases[local] = alias.name if alias.asname else local
            self._add(alias.name, bound=(local,))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = [alias.name for alias in node.names]
        module = node.module
        if node.level:
            parts = self.base.split(".") if self.base else []
            if node.level - 1 > len(parts) or not parts:
                return
            base = ".".join(parts[: len(parts) - (node.level - 1)])
            module = f"{base}.{node.module}" if node.module else base
        if module and module.split(".", 1)[0] in self.own:
            for alias in node.names:
                if alias.name != "*":
                    self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        self._add(module, names, tuple(alias.asname or alias.name for alias in node.names))

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        called = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
        importing = called in IMPORTING_CALLS or bool(called and IMPORTING_NAME.search(called))
        if importing and node.args and isinstance(node.args[0], ast.Constant):
            # an availability check at load time only decides whether a later call imports it
            if isinstance(node.args[0].value, str) and (self.functions or called not in CHECKING_CALLS):
                self._add(node.args[0].value)
        self.generic_visit(node)

    def _mention(self, name: str) -> None:
        for function in self.functions:
            self.mentions.setdefault(function, set()).add(name)

    def visit_Name(self, node: ast.Name) -> None:
        self._mention(node.id)
        if not self.functions and not self.optional and isinstance(node.ctx, ast.Load):
            # read at load time: the module chooses by it whenever it is imported
            # (aiohttp's `DefaultResolver = AsyncResolver if aiodns_default else ...`)
            if node.id in self.optional_bound:
                self.chosen.add(self.optional_bound[node.id])
            self.chosen.update(self.flags.get(node.id, ()))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._mention(node.attr)
        self.generic_visit(node)

    def visit_FunctionDef(self, node, owner: str | None = None) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        runs_on_construction = node.name in _CONSTRUCTION_METHODS or any(
            _decorator_name(decorator) in _CONSTRUCTION_VALIDATORS for decorator in node.decorator_list
        )
        name = owner if owner and runs_on_construction else node.name
        self.defined.add(node.name)
        self.functions.append(name)
        for statement in node.body:
            self.visit(statement)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for part in (*node.bases, *node.decorator_list):
            self.visit(part)
        self.defined.add(node.name)
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.visit_FunctionDef(statement, owner=node.name)
            else:
                self.visit(statement)

    def visit_If(self, node: ast.If) -> None:
        checking = any(
            getattr(part, "id", getattr(part, "attr", None)) == "TYPE_CHECKING" for part in ast.walk(node.test)
        )
        self.visit(node.test)
        checked = self._availability_checked(node.test)
        if self.functions and checked and any(isinstance(part, ast.Raise) for part in (*node.body, *node.orelse)):
            self.requires.setdefault(self.functions[-1], set()).update(checked)
        # `if is_x_available(): import x` goes on without x, unless its `else` imports another
        optional = bool(checked) and not _imports_any(node.orelse)
        self.type_checking += checking
        self.optional += optional
        for statement in node.body:
            self.visit(statement)
        self.type_checking -= checking
        for statement in node.orelse:
            self.visit(statement)
        self.optional -= optional

    def _availability_checked(self, test: ast.expr) -> set[str]:
        """Other top-level modules a condition asks about: ``is_xformers_available()``,
        ``find_spec("pandas")``, or a name an optional import binds (``pd is None``)."""
        found = set()
        for part in ast.walk(test):
            if isinstance(part, ast.Call):
                called = getattr(part.func, "attr", getattr(part.func, "id", None)) or ""
                asked = AVAILABILITY_CHECK.fullmatch(called)
                if called in CHECKING_CALLS:
                    if part.args and isinstance(part.args[0], ast.Constant) and isinstance(part.args[0].value, str):
                        found.add(part.args[0].value.split(".", 1)[0])
                elif asked:
                    found.add(asked.group(1))
            elif isinstance(part, ast.Name) and part.id in self.optional_bound:
                found.add(self.optional_bound[part.id])
        return {key for key in found if key.split(".")[0].isidentifier() and key.split(".")[0] not in STDLIB
                and key.split(".")[0] not in self.own}  # fmt: skip

    def visit_Try(self, node: ast.Try) -> None:
        handlers = [handler for handler in node.handlers if _catches_import_error(handler)]
        raising = any(isinstance(statement, ast.Raise) for handler in handlers for statement in handler.body)
        preferring = not raising and any(_alternative(handler.body) for handler in handlers)
        # an import the code goes on without: no handler raises or provides an alternative
        optional = bool(handlers) and not raising and not preferring
        self.optional += optional
        self.preferring += preferring
        self.trying.append([])
        for statement in (*node.body, *node.orelse):
            self.visit(statement)
        self.optional -= optional
        self.preferring -= preferring
        keys = self.trying.pop()
        if optional and keys and not self.functions:
            for name in _assigned((*node.body, *node.orelse, *(s for h in handlers for s in h.body))):
                self.flags.setdefault(name, []).extend(keys)
        for handler in node.handlers:
            self.visit(handler)
        for statement in node.finalbody:
            self.visit(statement)

    visit_TryStar = visit_Try

    def visit_With(self, node: ast.With) -> None:
        # `with suppress(ImportError): import x`
        optional = any(
            isinstance(item.context_expr, ast.Call)
            and getattr(item.context_expr.func, "attr", getattr(item.context_expr.func, "id", None)) == "suppress"
            and any(getattr(argument, "id", None) in IMPORT_ERRORS for argument in item.context_expr.args)
            for item in node.items
        )
        self.optional += optional
        self.generic_visit(node)
        self.optional -= optional


# An import of another package is recorded by its module path, this many names deep: enough
# to tell google.cloud.storage from google.protobuf, or opentelemetry.exporter.otlp from
# opentelemetry.instrumentation, when the distributions owning them are told apart.
IMPORT_KEY_DEPTH = 3


def _import_key(module: str) -> str:
    return ".".join(module.split(".")[:IMPORT_KEY_DEPTH])


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(getattr(kind, "id", getattr(kind, "attr", None)) in IMPORT_ERRORS for kind in caught)


def _alternative(statements) -> bool:
    """Whether an ``except ImportError`` provides what the import would have: another
    import, a function or class of its own (botocore's ``def where()`` when certifi is
    missing), or a name bound to something other than a constant (``ujson = json``); not a
    placeholder (``pd = None``, ``HAS_YAML = False``) or a warning."""
    if _imports_any(statements):
        return True
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            # a stub (`class Mixin: pass`, a function that raises) stands in for nothing
            if not all(isinstance(inner, (ast.Pass, ast.Raise)) or (isinstance(inner, ast.Expr)
                       and isinstance(inner.value, ast.Constant)) for inner in statement.body):  # fmt: skip
                return True
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            if not isinstance(statement.value, ast.Constant):
                return True
    return False


def _assigned(statements) -> set[str]:
    """Names the statements bind at their own level (``aiodns_default = True``)."""
    names = set()
    for statement in statements:
        targets = statement.targets if isinstance(statement, ast.Assign) else (
            [statement.target] if isinstance(statement, ast.AnnAssign) else [])  # fmt: skip
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def _imports_any(statements) -> bool:
    """Whether statements import something (at any depth but inside functions)."""
    pending = list(statements)
    while pending:
        statement = pending.pop()
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return True
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(statement))
    return False


def _python_modules(files: list[str]) -> dict[str, str]:
    """Dotted module name -> file, for the Python files a package installs (tests, vendored
    copies and data folders left out)."""
    found = {}
    for file in files:
        if not file.endswith(".py"):
            continue
        parts = file[:-3].split("/")
        if parts[0].endswith((".dist-info", ".data")) or any(
            part in NOT_MODULES or part == "_vendor" for part in parts
        ):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(part.isidentifier() for part in parts):
            found[".".join(parts)] = file
    return found


# A name defined in more modules of a package than this is too common (``forward``, ``load``)
# to follow from a mention in another module: the call graph links it within its module only.
# Across modules, a mention links to a definition in a module the mentioning one imports, or
# anywhere when the name is long enough to name one thing (methods of one protocol, like
# diffusers' ``set_use_memory_efficient_attention_xformers``, share it on purpose).
SHARED_NAME_MODULES = 3
DISTINCT_NAME = 20
# A call reaches an import through at most this many callers: `pipe.enable_xformers_memory_
# efficient_attention()` reaches diffusers' xformers import in three steps, while `r.ping()`
# reaches redis' OCSP check (and its `requests` import) only after five, through connecting,
# which imports it only on an SSL connection that asks for OCSP.
CALL_DEPTH = 3


def _own_modules(reader: _Reader, python: dict[str, str]) -> set[str]:
    """The package's modules a module imports (at load time or in its functions)."""
    found = set()
    for name in (*reader.loads, *reader.aliases.values(), *reader.refs):
        while name and name not in python:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def _uses(read, files: list[str], modules: list[str]) -> dict[str, dict[str, list[str]]]:
    """Modules of other packages (by ``_import_key``) the package imports without requiring
    them to be listed:
    ``at``: the package's own modules whose import loads such an import (the fewest that
    cover it: a module inside one listed is left out; a top-level module listed means
    whenever it is imported), ``calls``: the public names of functions, methods and classes
    from which a call reaches such an import (inside a function, or a use of the name a
    load-time import binds)."""
    own = {module.split(".")[0] for module in modules}
    python = _python_modules(files)
    readers: dict[str, _Reader] = {}
    for module, file in sorted(python.items()):
        data = read(file)
        if data is None or len(data) > 2_000_000:
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        reader = _Reader(own, module, file.endswith("__init__.py"))
        try:
            reader.visit(tree)
        except RecursionError:
            continue
        readers[module] = reader
    result: dict[str, dict[str, list[str]]] = {}
    # load time: importing a module loads its parent packages and its load-time imports
    loaded_by: dict[str, set[str]] = {}
    for module in python:
        parent = module.rpartition(".")[0]
        if parent in python:
            loaded_by.setdefault(parent, set()).add(module)
        for name in readers[module].loads if module in readers else ():
            while name and name not in python:  # `from pkg.mod import function`: pkg.mod
                name = name.rpartition(".")[0]
            if name and name != module:
                loaded_by.setdefault(name, set()).add(module)
    importers: dict[str, set[str]] = {}
    for module, reader in readers.items():
        for top in (*reader.at_load, *reader.chosen):
            importers.setdefault(top, set()).add(module)
    for top, found in sorted(importers.items()):
        reached = set(found)
        pending = list(found)
        while pending:
            for other in loaded_by.get(pending.pop(), ()):
                if other not in reached:
                    reached.add(other)
                    pending.append(other)
        result.setdefault(top, {})["at"] = sorted(module for module in reached if not _inside_any(module, reached))
    # calls: a function reaches an import it makes, or a name a load-time import bound in its module
    where: dict[str, list[str]] = {}  # function name -> modules defining it
    for module, reader in readers.items():
        for name in reader.defined:
            where.setdefault(name, []).append(module)
    imported = {module: _own_modules(reader, python) for module, reader in readers.items()}
    callers: dict[tuple[str, str], set[tuple[str, str]]] = {}
    starts: dict[str, set[tuple[str, str]]] = {}
    for module, reader in readers.items():
        bound = {name: top for top, names in reader.at_load.items() for name in names}
        for top, functions in reader.lazy.items():
            starts.setdefault(top, set()).update((module, function) for function in functions)
        for function, tops in reader.requires.items():
            for top in tops:
                starts.setdefault(top, set()).add((module, function))
        for function, mentioned in reader.mentions.items():
            node = (module, function)
            for name in mentioned:
                if name in bound:
                    starts.setdefault(bound[name], set()).add(node)
                if name in reader.defined:
                    callers.setdefault((module, name), set()).add(node)
                alias = reader.aliases.get(name)
                if alias is not None:
                    target_module, _, target = alias.rpartition(".")
                    if alias in python:
                        continue  # a module: its functions are mentioned by their own names
                    callers.setdefault((target_module, target), set()).add(node)
                defining = where.get(name, ())
                distinct = len(name) >= DISTINCT_NAME
                if distinct or len(defining) <= SHARED_NAME_MODULES:
                    for other in defining:
                        if other != module and (distinct or other in imported[module]):
                            callers.setdefault((other, name), set()).add(node)
    for top, nodes in sorted(starts.items()):
        reached = set(nodes)
        layer = list(nodes)
        for _ in range(CALL_DEPTH):  # callers of callers, so far: deeper paths are conditions, not uses
            layer = [caller for node in layer for caller in callers.get(node, ()) if caller not in reached]
            reached.update(layer)
        public = sorted({name for _, name in reached if not name.startswith("_")})
        entry = result.setdefault(top, {})
        if len(public) > MAX_WHERE or len(reached) > 20 * MAX_WHERE:
            if any(top in reader.preferred for reader in readers.values()):
                entry["at"] = sorted(set(entry.get("at", ())) | (own & set(python) or own))
            elif not entry:
                del result[top]
        elif public:
            entry["calls"] = public
    return {top: entry for top, entry in result.items() if entry}


def _inside_any(module: str, modules: set[str]) -> bool:
    parent = module.rpartition(".")[0]
    while parent:
        if parent in modules:
            return True
        parent = parent.rpartition(".")[0]
    return False


# -- putting it together ----------------------------------------------------------------------


def _tiers(names: dict[str, str]) -> list[list[str]]:
    """The override file's and the first part of the seed list first, then each further
    part, then the most downloaded: an interrupted build has the names that matter most."""
    order = sorted({_tier(why) for why in names.values()}, key=lambda tier: (tier == "rank", tier))
    return [sorted(name for name, why in names.items() if _tier(why) == tier) for tier in order]


def _tier(why: str) -> str:
    """ "seed list, part 2 of 3" -> "seed list, part 2"; every "rank N of ..." -> "rank"."""
    tier = why.split(" of ")[0]
    return "rank" if tier.startswith("rank") else tier


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
    pins = _pins()
    while pending:
        listed = versions(cache, pending)
        log(f"{len(listed)} of {len(pending)} names have wheels, {time.time() - started:.0f} s")
        fetch_wheels(cache, {name: found[0] for name, found in listed.items()})  # its METADATA serves the newest
        log(f"wheels read, {time.time() - started:.0f} s")
        without = [name for name in pending if name not in listed or (cache.get("wheels", name) or {}).get("missing")]
        fetch_sdists(cache, without)
        log(f"sdists of {len(without)} names read, {time.time() - started:.0f} s")
        wanted = [
            (name, version)
            for name, found in listed.items()
            for version in sample(found) + [pin for pin in pins.get(name, ()) if pin in found]
        ]
        fetch_metadata(cache, wanted)
        log(f"samples read, {time.time() - started:.0f} s")
        for step in range(12 if not cache.offline else 0):  # bisection: each step halves every open interval
            wanted = [pair for name, found in listed.items() for pair in bisection_points(cache, name, found)]
            if not wanted:
                break
            fetch_metadata(cache, wanted)
            log(f"bisection step {step + 1}: {len(wanted)} releases, {time.time() - started:.0f} s")
        new = []
        for name in sorted(pending):
            if name not in without:
                ranges = requirement_ranges(cache, name, listed[name])
                facts = cache.get("wheels", name)
            else:
                facts = cache.get("sdists", name)
                if not facts or facts.get("missing"):
                    continue
                ranges = [(facts["version"], {**facts["metadata"], "source": facts["source"]})]
            if not ranges:
                continue
            records[name] = {"why": names.get(name, "required by another listed distribution"),
                             "ranges": ranges, "wheel": facts}  # fmt: skip
            if name not in without and not facts.get("missing") and not facts.get("modules") and len(ranges) > 1:
                records[name]["earlier"] = earlier_wheel(cache, name, listed[name], ranges)
            if closure:
                for required in requirement_names(ranges[-1][1])[0]:
                    required = required.split("[", 1)[0]
                    if required not in seen:
                        seen.add(required)
                        new.append(required)
        pending = sorted(new)


def _pins() -> dict[str, list[str]]:
    """name -> versions real images pin (scripts/package_index_pins.txt): read whatever the sampling skips."""
    found: dict[str, list[str]] = {}
    if PINS.is_file():
        for line in PINS.read_text().splitlines():
            name, _, version = line.split("#", 1)[0].strip().partition("==")
            if name and version:
                found.setdefault(canonical(name), []).append(version)
    return found


def _wheel_uses(wheel: dict) -> dict[str, dict[str, list[str]]]:
    """The wheel's imports of others as the current reader records them (``at``/``calls``).
    Facts of the first reader (``lazy``: top module -> the names reaching it, or None for
    imported whenever the package is) are read as ``calls`` edges; its None edges mixed
    load-time imports with imports reached from too many names, so they are left out rather
    than read as load-time ones (an online rebuild reads the wheel again)."""
    if "uses" in wheel:
        return wheel["uses"]
    return {top: {"calls": where} for top, where in wheel.get("lazy", {}).items() if where}


def _owners_of(key: str, owners: dict[str, list[str]], records: dict[str, dict]) -> list[str]:
    """The distributions an import recorded under ``key`` (a module path, or for facts of
    older readers a top-level name) may be of: of a namespace many share (``google``), those
    owning a module on that path (``google.protobuf.message``: protobuf, not
    google-cloud-storage); all of them for a bare top-level name."""
    top = key.split(".", 1)[0]
    found = owners.get(top, [])
    if len(found) <= 1 or key == top:
        return found

    def on_path(module: str) -> bool:
        return key == module or key.startswith(module + ".") or module.startswith(key + ".")

    return [
        other
        for other in found
        if any(on_path(module) for module in (records[other]["wheel"] or {}).get("modules", ()))
    ]


MAX_IMPORT_NAMES = 100  # more than this from one wheel are files of a collection, not import names


def _import_names(modules: list[str]) -> list[str]:
    """The import names shipped for a wheel: a wheel whose namespace folders hold thousands
    of modules (ansible's ansible_collections.<namespace>.<collection>.plugins...) is named by
    the deepest prefixes that stay within MAX_IMPORT_NAMES."""
    if len(modules) <= MAX_IMPORT_NAMES:
        return modules
    depth, names = 1, sorted({module.split(".")[0] for module in modules})
    while True:
        deeper = sorted({".".join(module.split(".")[: depth + 1]) for module in modules})
        if len(deeper) > MAX_IMPORT_NAMES or deeper == names:
            return names
        depth, names = depth + 1, deeper


def _fewest(modules: set[str]) -> set[str]:
    """The modules not inside another listed one (``transformers`` covers its submodules)."""
    return {module for module in modules if not _inside_any(module, modules)}


def assemble(records: dict[str, dict], indexed: dict[str, dict] | None = None) -> dict:
    """The shipped data: compact, sorted, with where each fact came from. ``indexed``: the
    records of an index these are added to, whose modules the new records' may-use edges
    may point at too."""
    owners: dict[str, list[str]] = {}
    known = {name: {"wheel": {"modules": record.get("modules") or []}} for name, record in (indexed or {}).items()}
    for name, record in {**known, **records}.items():
        wheel = record["wheel"] or {}
        for module in wheel.get("modules", ()):
            owners.setdefault(module.split(".")[0], []).append(name)
    everything = {**known, **records}
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
        entry["oldest_read"] = record["ranges"][0][0]  # older pins are read by it, not known
        sources = [f"{record['ranges'][-1][1]['source']} ({len(record['ranges'])} ranges)"]
        if wheel is not None:
            # Required by every release read: an edge the requirements already give. One that
            # some releases require and others leave to an extra (pyTelegramBotAPI's aiohttp,
            # an extra before 4.34) is a "may use" for the releases without it.
            required = set.intersection(*({item.split("[", 1)[0] for item in found["requires"]} for found in ranges))
            may_use: dict[str, dict[str, set[str]]] = {}
            for key, uses in _wheel_uses(wheel).items():
                for other in _owners_of(key, owners, everything):
                    if other != name and other not in required:
                        edge = may_use.setdefault(other, {})
                        for kind, where in uses.items():
                            edge.setdefault(kind, set()).update(where)
            entry.update(modules=_import_names(wheel["modules"]), commands=wheel["commands"], size=wheel["size"])
            if wheel["groups"]:
                entry["groups"] = wheel["groups"]
            if wheel["cuda_bytes"]:
                entry["cuda_bytes"] = wheel["cuda_bytes"]
            if wheel.get("py_bytes"):
                entry["py_bytes"] = wheel["py_bytes"]
            if may_use:
                entry["may_use"] = {other: {kind: sorted(_fewest(where) if kind == "at" else where)
                                            for kind, where in sorted(edge.items())}
                                    for other, edge in sorted(may_use.items())}  # fmt: skip
            sources.append(wheel["source"])
            earlier = record.get("earlier")
            if earlier:
                entry["earlier"] = {key: earlier[key] for key in ("before", "version", "modules", "commands", "size",
                                                                  "py_bytes") if key in earlier}  # fmt: skip
                entry["earlier"]["modules"] = _import_names(earlier["modules"])
                sources.append(f"{earlier['source']} (releases before {earlier['before']})")
        entry["why"] = record["why"]
        entry["source"] = sources
        distributions[name] = entry
    return {
        "format": 2,
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
    parser.add_argument(
        "--add", nargs="+", metavar="NAME", help="add these distributions to the index --output holds (no closure)"
    )
    options = parser.parse_args()
    cache = Cache(options.cache, options.offline)
    globals()["SAMPLES"] = options.samples
    names_file = cache.path("names")
    if options.add:
        data = read_index(options.output)
        names = {canonical(name): "added on the command line" for name in options.add}
        added = assemble(build(cache, names, False), data["distributions"])["distributions"]
        data["distributions"].update(added)
        written = write_index(data, options.output)
        log(f"added {', '.join(sorted(added))} -> " + ", ".join(f"{path} ({size:,} bytes)" for path, size in written))
        return
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
    written = write_index(data, options.output)
    log(
        f"{len(data['distributions'])} distributions -> "
        + ", ".join(f"{path} ({size:,} bytes)" for path, size in written)
    )


def _required_names(records: dict[str, dict]) -> list[str]:
    """Every name some distribution requires, at some version or through an extra: what a
    lint asks of an install it cannot name, answered here once instead of by decoding every
    record on each run."""
    found = set()
    for record in records.values():
        for item in record.get("ranges", ()):
            for requirement in [*item["requires"], *itertools.chain.from_iterable(item.get("extras", {}).values())]:
                found.add(requirement.partition("[")[0])
    return sorted(found)


def read_index(output: Path) -> dict:
    """The data ``write_index`` wrote to ``output`` (and its calls file beside it): what
    ``--add`` adds records to, without the cache the index was built from."""
    parts = {}
    for path in (output, output.with_name(CALLS_NAME)):
        content = path.read_bytes()
        newline = content.index(b"\n")
        header, body = json.loads(content[:newline]), content[newline + 1 :]
        parts[path] = (
            header,
            {
                name: json.loads(zlib.decompress(body[offset : offset + length]))
                for name, (offset, length) in header["at"].items()
            },
        )
    header, records = parts[output]
    calls = parts[output.with_name(CALLS_NAME)][1]
    for name, record in records.items():
        edges = {other: {"at": at} for other, at in record.pop("may_use", {}).items()}
        for other, names in calls.get(name, {}).items():
            edges.setdefault(other, {})["calls"] = names
        if edges:
            record["may_use"] = edges
    data = {key: value for key, value in header.items() if key not in ("at", "owners", "distributions", "required")}
    return {**data, "distributions": records}


def write_index(data: dict, output: Path) -> list[tuple[Path, int]]:
    """Two files a run opens without decoding them whole: a JSON header line (``at``: name
    -> [offset, length] of its record; in ``packages.index`` also the import-name and command
    owners, what the build used, and where the ``lists`` are), then the records, each a
    zlib-compressed JSON object, then those lists.
    ``packages.index``: one record per distribution; ``packages.calls``: the names through
    which each distribution's functions reach others (``{other: [names]}``), opened only
    when a lint asks whether code calls one of them."""
    compact = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"))
    owners: dict[str, dict[str, list[str]]] = {"modules": {}, "commands": {}}
    records, calls = {}, {}
    for name, record in sorted(data["distributions"].items()):
        for module in record.get("modules", ()):
            owners["modules"].setdefault(module, []).append(name)
        for command in record.get("commands", ()):
            owners["commands"].setdefault(command, []).append(name)
        record = dict(record)
        edges = record.pop("may_use", {})
        at = {other: edge["at"] for other, edge in edges.items() if "at" in edge}
        reached = {other: edge["calls"] for other, edge in edges.items() if "calls" in edge}
        if at:
            record["may_use"] = at
        records[name] = record
        if reached:
            calls[name] = reached
    header = {key: value for key, value in data.items() if key != "distributions"}
    header.update(distributions=len(records), owners=owners)
    lists = {"required": _required_names(records)}  # large, and seldom asked: kept out of the header
    written = []
    for path, entries, extra in ((output, records, header), (output.with_name(CALLS_NAME), calls, {})):
        blobs, at, offset = [], {}, 0
        for name, entry in entries.items():
            blob = zlib.compress(compact(entry).encode(), 9)
            at[name] = [offset, len(blob)]
            blobs.append(blob)
            offset += len(blob)
        if extra:
            for key, value in lists.items():
                blob = zlib.compress(compact(value).encode(), 9)
                extra[key] = [offset, len(blob)]
                blobs.append(blob)
                offset += len(blob)
        content = compact({**extra, "at": at}).encode() + b"\n" + b"".join(blobs)
        path.write_bytes(content)
        written.append((path, len(content)))
    return written


if __name__ == "__main__":
    os.environ.setdefault("PIP_NO_INPUT", "1")
    main()

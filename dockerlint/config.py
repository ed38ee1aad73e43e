"""Configuration: ``[tool.dockerlint]`` in pyproject.toml, or ``.dockerlint.toml``.

Invalid configuration is an error that names the file and the key (exit 2): a linter
that silently drops a misspelt ``ignore`` list is worse than one that refuses to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from msgspec import Struct, field

from dockerlint.findings import Severity
from dockerlint.paths import real_path
from dockerlint.regex import glob_match

CONFIG_NAMES = (".dockerlint.toml", "pyproject.toml")


class ConfigError(Exception):
    """A problem with configuration or arguments: reported as is, exit code 2."""


class Config(Struct):
    path: Path | None = None  # the file it came from
    root: Path = field(default_factory=Path.cwd)  # relative paths in the config start here
    select: tuple[str, ...] | None = None  # None: every rule that is on by default
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fail_level: Severity = Severity.WARNING
    exclude: tuple[str, ...] = ()
    contexts: dict[str, str] = field(default_factory=dict)  # Dockerfile glob -> context dir
    targets: dict[str, str] = field(default_factory=dict)  # Dockerfile glob -> final stage name
    gpu: dict[str, bool] = field(default_factory=dict)  # Dockerfile glob -> has a GPU at run time
    budget: dict[str, int] = field(default_factory=dict)  # Dockerfile glob -> largest size in bytes (IMG006)
    large_file_size: int = 50_000_000  # bytes: a context file above this is reported (CTX004)
    known_modules: dict[str, list[str]] = field(default_factory=dict)  # distribution -> import names
    fix: bool = False  # apply safe fixes (as --fix)
    unsafe_fixes: bool = False  # and unsafe ones (as --unsafe-fixes)
    fixable: tuple[str, ...] = ("ALL",)  # selectors whose fixes may be applied
    unfixable: tuple[str, ...] = ()  # selectors whose fixes are never applied
    trusted_registries: tuple[str, ...] = ()  # DL3026: registries images may come from (empty: any)
    label_schema: dict[str, str] = field(default_factory=dict)  # DL3049-DL3058: label -> value type
    strict_labels: bool = False  # DL3050: no labels outside label_schema
    exit_zero: bool = False  # exit 0 whatever is found (hadolint's `no-fail`)
    keys: frozenset[str] = frozenset()  # the keys the configuration file set

    def fixable_codes(self, rules: Mapping) -> frozenset[str]:
        return frozenset(_expand(self.fixable, rules) - _expand(self.unfixable, rules))

    def rule_settings(self) -> dict:
        """What checks read from the configuration (``Image.settings``)."""
        return {
            "large-file-size": self.large_file_size,
            "trusted-registries": self.trusted_registries,
            "label-schema": self.label_schema,
            "strict-labels": self.strict_labels,
            "budget": tuple(self.budget.items()),
            "root": self.root,
        }

    # -- rule selection ---------------------------------------------------------------
    def enabled_codes(self, rules: Mapping) -> set[str]:
        """Codes that run: select (or the defaults), plus extend-select, minus ignore.

        A selector is a code, a prefix (``DL``, ``DL30``) or ``ALL``.
        """
        if self.select is None:
            base = {code for code, rule in rules.items() if rule.enabled}
        else:
            base = _expand(self.select, rules)
        base |= _expand(self.extend_select, rules)
        return base - _expand(self.ignore, rules)

    def ignored_for(self, relative_path: str) -> set[str]:
        """Codes ignored for one file by ``per-file-ignores`` (globs relative to root)."""
        codes: set[str] = set()
        for pattern, selectors in self.per_file_ignores.items():
            if path_matches(relative_path, pattern):
                codes.update(selectors)
        return codes

    def for_dockerfile(self, table: Mapping[str, object], dockerfile: Path):
        """The value of a per-Dockerfile table (contexts, targets, gpu) for one Dockerfile."""
        if not table:
            return None
        relative = _relative(dockerfile, self.root)
        for pattern, value in table.items():
            if relative is not None and path_matches(relative, pattern):
                return value
        return None

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        relative = _relative(path, self.root)
        return relative is not None and any(path_matches(relative, pattern) for pattern in self.exclude)


def path_matches(relative: str, pattern: str) -> bool:
    """Whether a root-relative path (or one of its parent folders) matches a glob."""
    pattern = pattern.strip("/").removeprefix("./")
    parts = PurePosixPath(relative).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if "/" not in pattern:  # a bare name matches at any depth, like `node_modules`
        return any(glob_match(part, pattern) for part in parts) or glob_match(relative, pattern)
    return any(glob_match(candidate, pattern) for candidate in candidates)


def _relative(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root``; resolves symlinks only when the plain paths differ
    (the walk hands over real paths already, and realpath costs an lstat per component)."""
    for candidate, base in ((path, root), (real_path(path), real_path(root))):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return None


def _expand(selectors: Iterable[str], rules: Mapping) -> set[str]:
    codes: set[str] = set()
    for selector in selectors:
        if selector == "ALL":
            codes.update(rules)
        else:
            codes.update(code for code in rules if code.startswith(selector))
    return codes


# -- loading ------------------------------------------------------------------------

_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "severity",
    "per-file-ignores",
    "fail-level",
    "exclude",
    "contexts",
    "targets",
    "gpu",
    "large-file-size",
    "known-modules",
    "fix",
    "unsafe-fixes",
    "fixable",
    "unfixable",
    "trusted-registries",
    "label-schema",
    "strict-labels",
    "budget",
}
LABEL_TYPES = ("text", "url", "semver", "hash", "rfc3339", "spdx", "email")


def find_config(start: Path) -> Path | None:
    """The nearest config file at or above ``start``, stopping at a repository root."""
    start = real_path(start)
    folder = start if os.path.isdir(start) else start.parent
    for candidate in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            path = candidate / name
            if os.path.isfile(path) and (name != "pyproject.toml" or _has_tool_table(path)):
                return path
        if os.path.exists(candidate / ".git"):
            break
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return b"[tool.dockerlint" in path.read_bytes()
    except OSError:
        return False


def load_config(path: Path | None, rules: Mapping, *, default_root: Path | None = None) -> Config:
    if path is None:
        return Config(root=real_path(default_root or Path.cwd()))
    from dockerlint.tomlparser import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{path}: invalid TOML: nested too deeply or too large to read") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("dockerlint", {})
        prefix = "tool.dockerlint."
    else:
        table, prefix = data, ""
    return config_from_table(table, path, rules, prefix)


def config_from_table(table: Mapping, path: Path | None, rules: Mapping, prefix: str = "") -> Config:
    where = str(path) if path else "configuration"

    def fail(key: str, message: str):
        raise ConfigError(f"{where}: `{prefix}{key}`: {message}")

    if not isinstance(table, Mapping):
        fail("", "must be a table")
    for key in table:
        if key not in _KEYS:
            fail(key, f"unknown key (known keys: {', '.join(sorted(_KEYS))})")

    def selectors(key: str) -> tuple[str, ...]:
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            fail(key, "must be a list of rule codes or prefixes")
        check_selectors(value, rules, lambda message: fail(key, message))
        return tuple(value)

    def path_table(key: str, kind: type) -> dict:
        value = table[key]
        if not isinstance(value, Mapping) or not all(isinstance(v, kind) for v in value.values()):
            fail(key, f"must be a table of Dockerfile paths to {kind.__name__} values")
        return dict(value)

    config = Config(path=path, root=real_path(path.parent if path else Path.cwd()), keys=frozenset(table))
    if "select" in table:
        config.select = selectors("select")
    if "extend-select" in table:
        config.extend_select = selectors("extend-select")
    if "ignore" in table:
        config.ignore = selectors("ignore")
    if "severity" in table:
        levels = path_table("severity", str)
        for code, level in levels.items():
            where_key = f"severity.{code}"
            check_selectors([code], rules, lambda message, key=where_key: fail(key, message))
            config.severity[code] = parse_level(level, lambda message, key=where_key: fail(key, message))
    if "per-file-ignores" in table:
        value = table["per-file-ignores"]
        if not isinstance(value, Mapping):
            fail("per-file-ignores", "must be a table of path globs to lists of codes")
        for pattern, codes in value.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                fail(f"per-file-ignores.{pattern}", "must be a list of rule codes")
            where_key = f"per-file-ignores.{pattern}"
            check_selectors(codes, rules, lambda message, key=where_key: fail(key, message))
            config.per_file_ignores[pattern] = tuple(_expand(codes, rules))
    if "fail-level" in table:
        if not isinstance(table["fail-level"], str):
            fail("fail-level", "must be one of error, warning, info")
        config.fail_level = parse_level(table["fail-level"], lambda message: fail("fail-level", message))
    if "exclude" in table:
        value = table["exclude"]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            fail("exclude", "must be a list of path globs")
        config.exclude = tuple(value)
    if "large-file-size" in table:
        value = table["large-file-size"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            fail("large-file-size", "must be a positive number of bytes")
        config.large_file_size = value
    if "known-modules" in table:
        value = table["known-modules"]
        if not isinstance(value, Mapping) or not all(
            isinstance(modules, list) and modules and all(isinstance(m, str) and m for m in modules)
            for modules in value.values()
        ):
            fail("known-modules", "must be a table of distribution names to lists of import names")
        config.known_modules = {name: list(modules) for name, modules in value.items()}
    for key in ("fix", "unsafe-fixes"):
        if key in table:
            if not isinstance(table[key], bool):
                fail(key, "must be true or false")
            setattr(config, key.replace("-", "_"), table[key])
    if "fixable" in table:
        config.fixable = selectors("fixable")
    if "unfixable" in table:
        config.unfixable = selectors("unfixable")
    if "trusted-registries" in table:
        value = table["trusted-registries"]
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            fail("trusted-registries", "must be a list of registry names (`*` wildcards allowed)")
        config.trusted_registries = tuple(value)
    if "label-schema" in table:
        value = table["label-schema"]
        if not isinstance(value, Mapping) or not all(v in LABEL_TYPES for v in value.values()):
            fail("label-schema", f"must be a table of label names to one of {', '.join(LABEL_TYPES)}")
        config.label_schema = dict(value)
    if "strict-labels" in table:
        if not isinstance(table["strict-labels"], bool):
            fail("strict-labels", "must be true or false")
        config.strict_labels = table["strict-labels"]
    if "contexts" in table:
        config.contexts = path_table("contexts", str)
    if "targets" in table:
        config.targets = path_table("targets", str)
    if "gpu" in table:
        config.gpu = path_table("gpu", bool)
    if "budget" in table:
        value = table["budget"]
        if not isinstance(value, Mapping):
            fail("budget", 'must be a table of Dockerfile paths to sizes ("2 GB")')
        for pattern, size in value.items():
            parsed = parse_size(size)
            if parsed is None:
                fail(f"budget.{pattern}", f'must be a size such as "2 GB", "500 MB" or a number of bytes, not {size!r}')
            config.budget[pattern] = parsed
    return config


_UNITS = {
    "": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
}  # fmt: skip


def parse_size(value) -> int | None:
    """``"2 GB"``, ``"1.5GiB"``, ``"500 MB"`` or a number of bytes; None when not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", value)
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    return size if size > 0 else None


def check_selectors(selectors: Iterable[str], rules: Mapping, fail) -> None:
    for selector in selectors:
        if selector != "ALL" and not any(code.startswith(selector) for code in rules):
            fail(f"unknown rule code or prefix `{selector}`")


def parse_level(value: str, fail) -> Severity:
    try:
        return Severity.parse(value)
    except KeyError:
        fail(f"unknown level `{value}` (use error, warning or info)")
        raise  # unreachable: fail raises

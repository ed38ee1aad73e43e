"""hadolint's configuration, for repositories that move from hadolint to dockerlint.

``.hadolint.yaml`` (or ``.hadolint.yml``) at or above the linted path, and the
``HADOLINT_*`` environment variables, are read as hadolint reads them (the environment
first, then the file: lists add up, a setting in the file wins), and each setting is
used where no dockerlint setting says otherwise:

- ``ignored``: those codes are not run, unless the dockerlint configuration selects the
  code by name;
- ``override``: the level of those codes (hadolint's ``style`` is dockerlint's ``info``),
  unless a dockerlint ``severity`` entry covers the code; a rule that is off by default
  (DL1001, DL3057) is turned on, as in hadolint;
- ``trustedRegistries``, ``label-schema``, ``strict-labels``: unless the dockerlint keys
  ``trusted-registries``, ``label-schema``, ``strict-labels`` are set;
- ``failure-threshold`` and ``no-fail``: unless dockerlint's ``fail-level`` is set.

Output settings (``format``, ``no-color``, ``verbose``) and ``disable-ignore-pragma``
are accepted and not used. A file that is not valid YAML, an unknown key or a value of
the wrong kind is an error that names the file and the key, where hadolint would carry
on silently with its defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from msgspec import Struct, field

from dockerlint.config import LABEL_TYPES, Config, ConfigError
from dockerlint.findings import Severity
from dockerlint.paths import real_path

NAMES = (".hadolint.yaml", ".hadolint.yml")
LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO, "style": Severity.INFO}
# hadolint's failure threshold: fail on findings at or above it; `ignore` and `none`
# mean "fail on anything", which is dockerlint's `info`.
THRESHOLDS = {**LEVELS, "ignore": Severity.INFO, "none": Severity.INFO}
_UNUSED_KEYS = ("format", "formats", "no-color", "verbose", "disable-ignore-pragma")
_TRUTHY = ("1", "y", "on", "true", "yes")


class HadolintConfig(Struct):
    path: Path | None = None  # the file read, if any
    ignored: list[str] = field(default_factory=list)
    override: dict[str, list[str]] = field(default_factory=dict)  # level -> codes
    trusted_registries: list[str] = field(default_factory=list)
    label_schema: dict[str, str] = field(default_factory=dict)
    strict_labels: bool | None = None
    failure_threshold: str | None = None
    no_fail: bool | None = None

    @property
    def empty(self) -> bool:
        """Nothing that dockerlint uses is set."""
        return not (
            self.ignored
            or any(self.override.values())
            or self.trusted_registries
            or self.label_schema
            or self.strict_labels is not None
            or self.failure_threshold is not None
            or self.no_fail is not None
        )


def find_hadolint_config(start: Path) -> Path | None:
    """The nearest ``.hadolint.yaml``/``.hadolint.yml`` at or above ``start``, stopping
    at the repository root (the folder holding ``.git``)."""
    start = real_path(start)
    folder = start if os.path.isdir(start) else start.parent
    for candidate in (folder, *folder.parents):
        for name in NAMES:
            path = candidate / name
            if os.path.isfile(path):
                return path
        if os.path.exists(candidate / ".git"):
            break
    return None


def read_hadolint_config(path: Path | None, environ: Mapping[str, str]) -> HadolintConfig:
    settings = HadolintConfig(path=path)
    _from_environment(settings, environ)
    if path is not None:
        _from_file(settings, path)
    return settings


def _from_environment(settings: HadolintConfig, environ: Mapping[str, str]) -> None:
    def codes(name: str) -> list[str]:
        return [code.strip() for code in environ.get(name, "").split(",") if code.strip()]

    settings.ignored += codes("HADOLINT_IGNORE")
    for level in LEVELS:
        settings.override.setdefault(level, []).extend(codes(f"HADOLINT_OVERRIDE_{level.upper()}"))
    settings.trusted_registries += codes("HADOLINT_TRUSTED_REGISTRIES")
    for item in codes("HADOLINT_REQUIRE_LABELS"):
        name, _, kind = item.partition(":")
        settings.label_schema[name] = _label_type(kind or "text", "HADOLINT_REQUIRE_LABELS", name)
    for name, attribute in (("HADOLINT_STRICT_LABELS", "strict_labels"), ("HADOLINT_NOFAIL", "no_fail")):
        if name in environ:
            setattr(settings, attribute, environ[name].strip().lower() in _TRUTHY)
    if "HADOLINT_FAILURE_THRESHOLD" in environ:
        settings.failure_threshold = _threshold(environ["HADOLINT_FAILURE_THRESHOLD"], "HADOLINT_FAILURE_THRESHOLD")


def _from_file(settings: HadolintConfig, path: Path) -> None:
    import yaml

    def fail(key: str, message: str):
        raise ConfigError(f"{path}: `{key}`: {message}" if key else f"{path}: {message}")

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the hadolint configuration: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: invalid YAML: {error}") from None
    if data is None:
        return
    if not isinstance(data, dict):
        fail("", "must be a mapping of hadolint settings")
    known = (
        "ignored",
        "override",
        "trustedRegistries",
        "label-schema",
        "strict-labels",
        "failure-threshold",
        "no-fail",
    )
    for key in data:
        if key not in known and key not in _UNUSED_KEYS:
            fail(str(key), f"unknown hadolint setting (known: {', '.join(known + _UNUSED_KEYS)})")

    def code_list(value, key: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            fail(key, "must be a list of rule codes")
        return [item.strip() for item in value]

    settings.ignored += code_list(data.get("ignored"), "ignored")
    override = data.get("override") or {}
    if not isinstance(override, dict) or any(level not in LEVELS for level in override):
        fail("override", "must map error, warning, info or style to lists of rule codes")
    for level, codes in override.items():
        settings.override.setdefault(level, []).extend(code_list(codes, f"override.{level}"))
    settings.trusted_registries += code_list(data.get("trustedRegistries"), "trustedRegistries")
    schema = data.get("label-schema") or {}
    if not isinstance(schema, dict):
        fail("label-schema", "must map label names to types")
    for name, kind in schema.items():
        settings.label_schema[str(name)] = _label_type(kind or "text", path, f"label-schema.{name}")
    for key, attribute in (("strict-labels", "strict_labels"), ("no-fail", "no_fail")):
        if key in data:
            if not isinstance(data[key], bool):
                fail(key, "must be true or false")
            setattr(settings, attribute, data[key])
    if "failure-threshold" in data:
        settings.failure_threshold = _threshold(data["failure-threshold"], path, "failure-threshold")


def _label_type(kind, where, key: str = "") -> str:
    if kind not in LABEL_TYPES:
        raise ConfigError(f"{where}: `{key}`: unknown label type `{kind}` (use {', '.join(LABEL_TYPES)})")
    return kind


def _threshold(value, where, key: str = "") -> str:
    if not isinstance(value, str) or value.strip().lower() not in THRESHOLDS:
        raise ConfigError(
            f"{where}: {f'`{key}`: ' if key else ''}unknown failure threshold `{value}` (use {', '.join(THRESHOLDS)})"
        )
    return value.strip().lower()


def apply_hadolint_config(config: Config, settings: HadolintConfig, rules: Mapping) -> None:
    """Use hadolint's settings where the dockerlint configuration says nothing."""
    named = set(config.select or ()) | set(config.extend_select)
    ignored = [code for code in settings.ignored if code in rules and code not in named]
    config.ignore = config.ignore + tuple(code for code in ignored if code not in config.ignore)
    own = tuple(config.severity)  # dockerlint's own severity selectors win
    # error wins over warning over info over style, as in hadolint
    for level in ("style", "info", "warning", "error"):
        for code in settings.override.get(level, ()):
            if code not in rules or any(code.startswith(selector) or selector == "ALL" for selector in own):
                continue
            config.severity[code] = LEVELS[level]
            if not rules[code].enabled and code not in config.extend_select:
                config.extend_select = config.extend_select + (code,)
    for key, attribute in (
        ("trusted-registries", "trusted_registries"),
        ("label-schema", "label_schema"),
        ("strict-labels", "strict_labels"),
    ):
        value = getattr(settings, attribute)
        if key not in config.keys and value not in (None, [], {}):
            setattr(config, attribute, tuple(value) if isinstance(value, list) else value)
    if "fail-level" not in config.keys:
        if settings.failure_threshold is not None:
            config.fail_level = THRESHOLDS[settings.failure_threshold]
        if settings.no_fail:
            config.exit_zero = True

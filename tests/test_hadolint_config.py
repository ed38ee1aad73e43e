"""hadolint's configuration (.hadolint.yaml and HADOLINT_* variables), read where no
dockerlint setting says otherwise: the same selection and levels, through the CLI as a
user runs it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dockerlint.cli import main
from dockerlint.config import Config, ConfigError
from dockerlint.findings import Severity
from dockerlint.hadolint_config import apply_hadolint_config, find_hadolint_config, read_hadolint_config
from dockerlint.rulebook import load_rules

RULES = load_rules()
DOCKERFILE = """FROM debian:12
RUN apt-get update && apt-get install -y curl
USER app
LABEL Owner="search"
"""


@pytest.fixture(autouse=True)
def _no_hadolint_environment(monkeypatch):
    for name in [
        "HADOLINT_IGNORE",
        "HADOLINT_OVERRIDE_ERROR",
        "HADOLINT_OVERRIDE_WARNING",
        "HADOLINT_OVERRIDE_INFO",
        "HADOLINT_OVERRIDE_STYLE",
        "HADOLINT_TRUSTED_REGISTRIES",
        "HADOLINT_REQUIRE_LABELS",
        "HADOLINT_STRICT_LABELS",
        "HADOLINT_NOFAIL",
        "HADOLINT_FAILURE_THRESHOLD",
    ]:
        monkeypatch.delenv(name, raising=False)


def run(root, *args, env=None):
    result = CliRunner().invoke(main, [".", "--output-format", "json", *args], env=env, catch_exceptions=False)
    return result


def codes_and_levels(result) -> dict[str, str]:
    data = json.loads(result.output)
    return {finding["code"]: finding["severity"] for finding in data["findings"] if finding["code"].startswith("DL")}


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_hadolint_configuration(project):
    found = codes_and_levels(run(project))
    assert found == {
        "DL3008": "warning",
        "DL3009": "info",
        "DL3015": "info",
        "DL3048": "info",
        "DL3066": "info",
    }


def test_ignored_and_override_carry_over(project):
    (project / ".hadolint.yaml").write_text(
        "ignored:\n  - DL3008\n  - SC2086\n"
        "override:\n  error: [DL3015]\n  warning: [DL3066]\n  style: [DL3009]\n  info: [DL3057]\n"
    )
    found = codes_and_levels(run(project))
    # DL3057 is off by default in both tools; an override turns it on
    assert found == {"DL3009": "info", "DL3015": "error", "DL3048": "info", "DL3057": "info", "DL3066": "warning"}


def test_error_wins_when_a_code_is_overridden_twice(project):
    (project / ".hadolint.yml").write_text("override:\n  info: [DL3008]\n  error: [DL3008]\n")
    assert codes_and_levels(run(project))["DL3008"] == "error"


def test_dockerlint_settings_say_otherwise(project):
    (project / ".hadolint.yaml").write_text("ignored: [DL3008, DL3066]\noverride:\n  error: [DL3015, DL3009]\n")
    (project / ".dockerlint.toml").write_text('extend-select = ["DL3008"]\n[severity]\nDL30 = "warning"\n')
    found = codes_and_levels(run(project))
    # DL3008 is named by dockerlint's own configuration; DL3066 stays ignored; the DL30
    # severity selector covers DL3015 and DL3009, so hadolint's override does not apply
    assert found == {"DL3008": "warning", "DL3009": "warning", "DL3015": "warning", "DL3048": "warning"}


def test_failure_threshold_and_no_fail(project):
    (project / "Dockerfile").write_text("FROM debian:12\nRUN apt-get update\n")  # DL3009 (info) only
    select = ("--select", "DL3009")
    assert run(project, *select).exit_code == 0  # dockerlint fails on warnings by default
    (project / ".hadolint.yaml").write_text("failure-threshold: style\n")
    assert run(project, *select).exit_code == 1  # style and ignore mean "fail on anything": info here
    (project / ".hadolint.yaml").write_text("failure-threshold: info\nno-fail: true\n")
    assert run(project, *select).exit_code == 0
    assert run(project, *select, "--fail-level", "info").exit_code == 1  # the command line says otherwise
    (project / ".hadolint.yaml").write_text("failure-threshold: error\n")
    assert run(project, *select).exit_code == 0
    (project / ".dockerlint.toml").write_text('fail-level = "info"\n')
    assert run(project, *select).exit_code == 1


def test_environment_variables(project):
    env = {
        "HADOLINT_IGNORE": "DL3008,DL3048",
        "HADOLINT_OVERRIDE_ERROR": "DL3009",
        "HADOLINT_FAILURE_THRESHOLD": "error",
    }
    result = run(project, "--select", "DL", env=env)
    assert codes_and_levels(result) == {"DL3009": "error", "DL3015": "info", "DL3057": "info", "DL3066": "info"}
    assert result.exit_code == 1
    assert run(project, "--select", "DL", env={**env, "HADOLINT_NOFAIL": "yes"}).exit_code == 0


def test_the_file_wins_over_the_environment_and_lists_add_up(tmp_path):
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL3008]\nfailure-threshold: warning\nstrict-labels: false\n")
    environ = {"HADOLINT_IGNORE": "DL3015", "HADOLINT_FAILURE_THRESHOLD": "error", "HADOLINT_STRICT_LABELS": "1"}
    settings = read_hadolint_config(tmp_path / ".hadolint.yaml", environ)
    assert settings.ignored == ["DL3015", "DL3008"]
    assert settings.failure_threshold == "warning" and settings.strict_labels is False


def test_trusted_registries_and_label_schema(project):
    (project / "Dockerfile").write_text(
        'FROM quay.io/example/base:1.0\nLABEL org.opencontainers.image.version="v1" team="x"\n'
    )
    (project / ".hadolint.yaml").write_text(
        "trustedRegistries: [docker.io, '*.gcr.io']\n"
        "label-schema:\n  org.opencontainers.image.version: semver\n  org.opencontainers.image.source: url\n"
        "strict-labels: true\n"
    )
    found = codes_and_levels(run(project))
    assert {code: found[code] for code in ("DL3026", "DL3049", "DL3050", "DL3056")} == {
        "DL3026": "error",
        "DL3049": "info",
        "DL3050": "info",
        "DL3056": "warning",
    }
    # dockerlint's own keys win
    (project / ".dockerlint.toml").write_text('trusted-registries = ["quay.io"]\nstrict-labels = false\n')
    found = codes_and_levels(run(project))
    assert "DL3026" not in found and "DL3050" not in found and "DL3056" in found


def test_isolated_ignores_hadolint_settings(project):
    (project / ".hadolint.yaml").write_text("ignored: [DL3008]\n")
    assert "DL3008" not in codes_and_levels(run(project))
    assert "DL3008" in codes_and_levels(run(project, "--isolated"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("ignored: [DL3008\n", "invalid YAML"),
        ("ignorred: [DL3008]\n", "`ignorred`: unknown hadolint setting"),
        ("ignored: DL3008\n", "`ignored`: must be a list of rule codes"),
        ("override:\n  fatal: [DL3008]\n", "`override`: must map error, warning, info or style"),
        ("trustedRegistries: docker.io\n", "`trustedRegistries`: must be a list"),
        ("label-schema:\n  version: number\n", "unknown label type `number`"),
        ("failure-threshold: high\n", "unknown failure threshold `high`"),
        ("no-fail: 1\n", "`no-fail`: must be true or false"),
        ("- DL3008\n", "must be a mapping of hadolint settings"),
    ],
)
def test_invalid_hadolint_configuration_is_an_error(project, text, message):
    (project / ".hadolint.yaml").write_text(text)
    result = CliRunner().invoke(main, ["."])
    assert result.exit_code == 2
    assert ".hadolint.yaml" in result.output and message in result.output


def test_unused_hadolint_settings_are_accepted(tmp_path):
    (tmp_path / ".hadolint.yaml").write_text(
        "format: json\nno-color: true\nverbose: true\ndisable-ignore-pragma: false\n"
    )
    assert read_hadolint_config(tmp_path / ".hadolint.yaml", {}).empty


def test_found_at_or_above_the_path_up_to_the_repository_root(tmp_path):
    (tmp_path / ".hadolint.yaml").write_text("{}\n")
    inner = tmp_path / "repo" / "services" / "api"
    inner.mkdir(parents=True)
    assert find_hadolint_config(inner) == (tmp_path / ".hadolint.yaml").resolve()
    (tmp_path / "repo" / ".git").mkdir()
    assert find_hadolint_config(inner) is None
    (tmp_path / "repo" / "services" / ".hadolint.yml").write_text("{}\n")
    assert find_hadolint_config(inner).name == ".hadolint.yml"


def test_unknown_codes_and_shellcheck_codes_are_left_alone():
    config = Config()
    settings = read_hadolint_config(
        None, {"HADOLINT_IGNORE": "SC2086,DL3005,DL3008", "HADOLINT_OVERRIDE_ERROR": "SC1000"}
    )
    apply_hadolint_config(config, settings, RULES)
    assert config.ignore == ("DL3008",) and config.severity == {}


def test_style_is_info():
    config = Config()
    apply_hadolint_config(config, read_hadolint_config(None, {"HADOLINT_OVERRIDE_STYLE": "DL3008"}), RULES)
    assert config.severity == {"DL3008": Severity.INFO}


def test_bad_environment_values_are_errors():
    with pytest.raises(ConfigError, match="HADOLINT_FAILURE_THRESHOLD"):
        read_hadolint_config(None, {"HADOLINT_FAILURE_THRESHOLD": "loud"})
    with pytest.raises(ConfigError, match="unknown label type"):
        read_hadolint_config(None, {"HADOLINT_REQUIRE_LABELS": "version:number"})

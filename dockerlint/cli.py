"""Command line: ``dockerlint [PATH]...`` (the ``check`` command), ``dockerlint rule CODE``
and ``dockerlint rules``.

Start-up cost is paid on every commit by pre-commit, so heavy modules (the engine, the
parsers, packaging, tree-sitter, SARIF) are imported inside the commands, never here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dockerlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "concise", "json", "sarif", "github")


class DefaultGroup(click.Group):
    """Runs ``check`` when the first argument is not a command, so that ``dockerlint .``
    and ``dockerlint --output-format sarif .`` work like ``dockerlint check ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(code.strip() for code in value.split(",") if code.strip())


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dockerlint")
def main() -> None:
    """Find what bloats and breaks container images of Python and ML services.

    `dockerlint [PATH]...` lints the Dockerfiles, build contexts, .dockerignore,
    requirements and pyproject files under each PATH (default: the current directory).
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    envvar="DOCKERLINT_OUTPUT_FORMAT",
    default="text",
    show_default=True,
    help="How to print findings.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--select", help="Comma-separated codes or prefixes to run instead of the configured set (ALL for every rule)."
)
@click.option("--extend-select", help="Codes or prefixes to run in addition to the configured set.")
@click.option("--ignore", help="Codes or prefixes not to run.")
@click.option(
    "--fail-level",
    type=click.Choice(["error", "warning", "info"]),
    help="Lowest severity that makes the exit code 1 (default: warning).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings (errors in usage still exit 2).")
@click.option("--statistics", is_flag=True, help="Add a count of findings per rule.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read configuration from this file (pyproject.toml or .dockerlint.toml).",
)
@click.option(
    "--isolated", is_flag=True, help="Ignore every configuration file (and hadolint's, with its HADOLINT_* variables)."
)
@click.option("--force-exclude", is_flag=True, help="Apply configured excludes to files named on the command line too.")
@click.option(
    "--no-cache",
    is_flag=True,
    envvar="DOCKERLINT_NO_CACHE",
    help="Scan every Python file again instead of reusing the import scans of earlier runs.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DOCKERLINT_CACHE_DIR",
    help="Where to keep import scans between runs (default: dockerlint/ in the user's cache folder).",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the text output.",
)
def check(paths: tuple[Path, ...], **options) -> None:
    """Lint PATHS (default: the current directory)."""
    from dockerlint.config import ConfigError

    try:
        code = _check(list(paths) or [Path(".")], **options)
    except ConfigError as error:
        click.echo(f"dockerlint: error: {error}", err=True)
        code = EXIT_ERROR
    sys.exit(code)


def _check(
    paths: list[Path],
    *,
    output_format: str,
    output: Path | None,
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    fail_level: str | None,
    exit_zero: bool,
    statistics: bool,
    config_path: Path | None,
    isolated: bool,
    force_exclude: bool,
    no_cache: bool,
    cache_dir: Path | None,
    color: str,
) -> int:
    from dockerlint.config import ConfigError, check_selectors, find_config, load_config, parse_level
    from dockerlint.engine import lint, project_root
    from dockerlint.model.scan_cache import default_cache_dir
    from dockerlint.report import Report, render
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"{config_path}: configuration file not found")
    path = None if isolated else (config_path or find_config(paths[0]))
    config = load_config(path, rules)
    if not isolated:
        from dockerlint.hadolint_config import apply_hadolint_config, find_hadolint_config, read_hadolint_config

        hadolint = read_hadolint_config(find_hadolint_config(paths[0]), os.environ)
        apply_hadolint_config(config, hadolint, rules)

    def cli_fail(option: str):
        def fail(message: str):
            raise ConfigError(f"command line: {option}: {message}")

        return fail

    for option, value in (("--select", select), ("--extend-select", extend_select), ("--ignore", ignore)):
        selectors = _codes(value)
        if selectors is None:
            continue
        check_selectors(selectors, rules, cli_fail(option))
        if option == "--select":
            config.select = selectors
        elif option == "--extend-select":
            config.extend_select = config.extend_select + selectors
        else:
            config.ignore = config.ignore + selectors
    if fail_level:
        config.fail_level = parse_level(fail_level, cli_fail("--fail-level"))
        config.exit_zero = False

    if no_cache:
        cache_dir = None
    elif cache_dir is None:
        cache_dir = default_cache_dir(project_root(paths, config))
    result = lint(paths, config, rules, force_exclude=force_exclude, cache_dir=cache_dir)
    enabled = config.enabled_codes(rules)
    report = Report(
        findings=tuple(result.findings),
        notes=tuple(result.notes),
        rules={code: rule for code, rule in rules.items() if code in enabled},
        files_checked=result.files_checked,
        root=Path.cwd(),
        fail_level=config.fail_level,
        source_line=result.workspace.source_line,
    )
    use_color = color == "always" or (
        color == "auto" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    text = render(output_format, report, color=use_color, statistics=statistics)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"{output}: cannot write the report: {error.strerror or error}") from None
    else:
        click.echo(text, nl=False)
    if exit_zero or config.exit_zero:
        return EXIT_OK
    return result.exit_code(config.fail_level)


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Print the documentation of rule CODE."""
    from dockerlint.docs import rule_markdown
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    rule = rules.get(code.upper())
    if rule is None:
        click.echo(f"dockerlint: error: unknown rule `{code}` (see `dockerlint rules`)", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(rule_markdown(rule))


@main.command("rules")
def rules_command() -> None:
    """List every rule: code, default severity, name and summary."""
    from dockerlint.rulebook import load_rules

    for rule in load_rules().values():
        state = "" if rule.enabled else " (off by default)"
        click.echo(f"{rule.code:<7} {rule.severity.label:<8} {rule.name}{state}: {rule.summary}")

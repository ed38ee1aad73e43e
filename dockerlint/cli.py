"""Command line: ``dockerlint [PATH]...`` (the ``check`` command), ``dockerlint rule CODE``,
``dockerlint rules`` and ``dockerlint server``.

Start-up cost is paid on every commit by pre-commit, so heavy modules (the engine, the
parsers, packaging, tree-sitter, SARIF) are imported inside the commands, never here.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import click

from dockerlint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ("text", "concise", "json", "sarif", "github")


class DefaultGroup(click.Group):
    """Runs ``check`` when the first argument is not a command, so that ``dockerlint .``
    and ``dockerlint --output-format sarif .`` work like ``dockerlint check ...``;
    ``dockerlint --help`` shows the lint options too, since linting is what it does."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] != "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


class CheckCommand(click.Command):
    """``check`` is the default command: its usage line and help read as the program's."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage("dockerlint", "[OPTIONS] [PATH]...")
        formatter.write_text("       dockerlint size [PATH]... | rule CODE | rules | server | --version")

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(
                [
                    ("size [PATH]...", "Print what each image weighs, part by part, and what each fix saves."),
                    ("rule CODE", "Print the documentation of rule CODE."),
                    ("rules", "List every rule: code, default severity, name and summary."),
                    ("server", "Run the language server for editors (needs `dockerlint[server]`)."),
                    ("check [PATH]...", "Lint PATHs: the default command, named only when a PATH is a command's name."),
                ]
            )


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(code.strip() for code in value.split(",") if code.strip())


# Options the lint and size commands share.
GC_YOUNG_THRESHOLD = 10_000  # allocations between two collections of the youngest objects (default 700)
OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read configuration from this file (pyproject.toml or .dockerlint.toml).",
)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dockerlint")
def main() -> None:
    """Find what bloats and breaks container images of Python and ML services.

    `dockerlint [PATH]...` lints the Dockerfiles, build contexts, .dockerignore,
    requirements and pyproject files under each PATH (default: the current directory).
    """
    # A run makes hundreds of thousands of small objects that live until the report and are
    # seldom in a cycle: at the default thresholds the cycle collector walks that whole heap
    # again and again (a quarter of the CPU time of 1,000 Dockerfiles). Young garbage is
    # still collected, less often.
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


@main.command(cls=CheckCommand)
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
@OUTPUT_OPTION
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
@CONFIG_OPTION
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
    "-v",
    "--verbose",
    is_flag=True,
    help="Say on standard error, for each image, which build context is used and where it comes from.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the text output.",
)
@click.option("--fix/--no-fix", default=None, help="Apply safe fixes, then report what remains (config: fix).")
@click.option(
    "--unsafe-fixes/--no-unsafe-fixes",
    default=None,
    help="Apply unsafe fixes too: they change what gets installed or copied (config: unsafe-fixes).",
)
@click.option("--diff", is_flag=True, help="Print the changes --fix would make, write nothing; exit 1 if any.")
@click.option("--show-fixes", is_flag=True, help="List the findings that were fixed.")
@click.option("--fix-only", is_flag=True, help="Apply fixes and report nothing else (exit 0 unless an error).")
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only findings that this baseline file (from --write-baseline) does not hold.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every current finding to this baseline file and exit 0.",
)
@click.option("--add-noqa", is_flag=True, help="Write a suppression comment for every current finding.")
def check(paths: tuple[Path, ...], **options) -> None:
    """Find what bloats and breaks container images of Python and ML services.

    Lints the Dockerfiles, build contexts, .dockerignore, requirements, pyproject and
    compose files under each PATH (default: the current directory), or the images that
    the files named as PATHs take part in.

    Exit codes: 0 nothing at or above the fail level, 1 findings, 2 an error (usage,
    configuration, a path that does not exist, or a failure of dockerlint itself).
    """
    from dockerlint.config import ConfigError
    from dockerlint.errors import InternalError

    try:
        code = _check(list(paths) or [Path(".")], **options)
    except ConfigError as error:
        _error(str(error))
        code = EXIT_ERROR
    except InternalError as error:
        where = f" on {_shown_path(error.path)}" if error.path is not None else ""
        _error(f"internal error{where}: {_one_line(str(error))} (this is a bug in dockerlint; please report it)")
        code = EXIT_ERROR
    except BrokenPipeError:
        code = _reader_gone()
    except Exception as error:  # noqa: BLE001 - a bug outside any file: still one line, exit 2
        _error(f"internal error: {type(error).__name__}: {_one_line(str(error))} (please report it)")
        code = EXIT_ERROR
    sys.exit(code)


def _error(message: str) -> None:
    click.echo(f"dockerlint: error: {message}", err=True)


EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command whose reader went away


def _reader_gone() -> int:
    """What stdout was piped into stopped reading (``dockerlint . | head``): no error to
    report, and nothing more is written (stdout points at the null device, so the flush
    at exit cannot fail again)."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
    return EXIT_PIPE_CLOSED


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown_path(path: Path) -> str:
    """Relative to the current directory when inside it, as the reports show paths."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


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
    fix: bool | None,
    unsafe_fixes: bool | None,
    diff: bool,
    show_fixes: bool,
    fix_only: bool,
    baseline_path: Path | None,
    write_baseline: Path | None,
    add_noqa: bool,
    verbose: bool = False,
) -> int:
    from dockerlint.config import ConfigError, check_selectors, parse_level
    from dockerlint.engine import lint, lint_and_fix, project_root
    from dockerlint.fixes import FixSettings, unified_diff
    from dockerlint.model.scan_cache import default_cache_dir
    from dockerlint.report import ImageInfo, Report, describe_image, render_chunks
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    config = _configuration(paths, config_path, isolated, rules)

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
    if fix is not None:
        config.fix = fix
    if unsafe_fixes is not None:
        config.unsafe_fixes = unsafe_fixes
    settings = FixSettings(unsafe=config.unsafe_fixes, fixable=config.fixable_codes(rules))
    enabled = config.enabled_codes(rules)
    # The bill of bytes of each image, for the size lines of the text report and the
    # `images` of the JSON one (not for a run of the hadolint-compatible rules alone).
    with_sizes = output_format in ("text", "json") and any(not code.startswith("DL") for code in enabled)
    # Each image is summarized and let go once checked (in several processes for a large
    # repository), unless sizes are wanted and a baseline will take findings away after
    # the run: an image's savings count only the findings that remain.
    keep_images = with_sizes and baseline_path is not None
    options = {
        "force_exclude": force_exclude,
        "cache_dir": cache_dir,
        "keep_images": keep_images,
        "summarize": None if keep_images else _image_info(with_sizes),
        "jobs": 1 if keep_images else jobs_setting(),
    }
    outcome = None
    if diff:
        result, outcome = lint_and_fix(paths, config, rules, settings, write=False, **options)
        text = unified_diff(outcome.before, outcome.after, _shown_path)
        click.echo(text, nl=False)
        count = len(outcome.fixed)
        click.echo(
            f"Would fix {count} finding{'s' if count != 1 else ''}." if count else "No fixes to apply.", err=True
        )
        return EXIT_FINDINGS if text else EXIT_OK
    if config.fix or fix_only:
        result, outcome = lint_and_fix(paths, config, rules, settings, write=True, **options)
        result.notes[:0] = outcome.notes
    else:
        result = lint(paths, config, rules, **options)
    if fix_only:
        count = len(outcome.fixed)
        click.echo(f"Fixed {count} finding{'s' if count != 1 else ''}.")
        if show_fixes:
            click.echo(_fixed_list(outcome.fixed), nl=False)
        return EXIT_OK
    if add_noqa:
        return _add_noqa(paths, result)
    if write_baseline is not None:
        from dockerlint.baseline import write_baseline as write

        try:
            count = write(write_baseline, result.findings, project_root(paths, config), result.workspace)
        except OSError as error:
            raise ConfigError(f"{write_baseline}: cannot write the baseline: {error.strerror or error}") from None
        click.echo(f"Wrote {count} finding{'s' if count != 1 else ''} to {write_baseline}.")
        return EXIT_OK
    known: list = []
    if baseline_path is not None:
        from dockerlint.baseline import BaselineError, read_baseline, split_by_baseline

        try:
            baseline = read_baseline(baseline_path)
        except BaselineError as error:
            raise ConfigError(str(error)) from None
        root = project_root(paths, config)
        result.findings, known = split_by_baseline(result.findings, baseline, root, result.workspace)
    if keep_images:
        sizes = image_sizes(result)
        images = tuple(ImageInfo.of(image, sizes.get(index)) for index, image in enumerate(result.images))
    else:
        images = tuple(result.summaries)
    report = Report(
        findings=tuple(result.findings),
        notes=tuple(result.notes),
        rules={code: rule for code, rule in rules.items() if code in enabled},
        files_checked=result.files_checked,
        root=Path.cwd(),
        fail_level=config.fail_level,
        source_line=result.workspace.source_line,
        fixed=tuple(outcome.fixed) if outcome else (),
        fix_settings=settings,
        baseline=tuple(known) if baseline_path is not None else None,
        images=images,
    )
    if verbose:
        for image in report.images:
            click.echo(f"dockerlint: {describe_image(report, image)}", err=True)
    use_color = color == "always" or (
        color == "auto" and output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    chunks = render_chunks(output_format, report, color=use_color, statistics=statistics)
    if output is not None:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.writelines(chunks)
        except OSError as error:
            raise ConfigError(f"{output}: cannot write the report: {error.strerror or error}") from None
    else:
        for chunk in chunks:
            click.echo(chunk, nl=False, color=use_color)  # click strips colours off a terminal unless told
    if show_fixes and outcome is not None and output_format in ("text", "concise"):
        click.echo(_fixed_list(outcome.fixed), nl=False)
    if exit_zero or config.exit_zero:
        return EXIT_OK
    return result.exit_code(config.fail_level)


def _image_info(with_size: bool):
    """What a report keeps of each image: how it is built and, if wanted, its size (the
    totals and savings a report prints, not the parts ``dockerlint size`` lists)."""

    def summarize(image, findings):
        from dockerlint.report import ImageInfo

        if not with_size:
            return ImageInfo.of(image)
        from msgspec.structs import replace

        from dockerlint.model.size.summary import image_size

        size = image_size(image, findings)
        return ImageInfo.of(image, size and replace(size, parts=(), instructions=()))

    return summarize


def jobs_setting() -> int | None:
    """``DOCKERLINT_JOBS``: how many processes check the images of a large repository
    (1: one process); unset or empty, one per core when there are enough images."""
    from dockerlint.config import ConfigError

    value = os.environ.get("DOCKERLINT_JOBS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"DOCKERLINT_JOBS={value}: expected a number of processes (1 or more)")
    return int(value)


def _add_noqa(paths: list[Path], result) -> int:
    """``--add-noqa``: a suppression comment for every finding, written as fixes are
    (only inside the linted paths, never over a file that changed since it was read)."""
    from dockerlint.baseline import noqa_edits
    from dockerlint.engine import writable_paths
    from dockerlint.fixes import apply_edits, write_if_unchanged

    edits, skipped = noqa_edits(result.findings, result.workspace)
    writable = writable_paths(paths)
    files: dict[Path, list] = {}
    for edit in edits:
        if writable(edit.path, result.workspace):
            files.setdefault(edit.path, []).append(edit)
        else:
            skipped += 1
    written = 0
    for path, file_edits in sorted(files.items()):
        _, before = result.workspace.bytes_read(path)
        after = apply_edits(before, file_edits)
        problem = "not changed: the file is not UTF-8 or mixes line endings" if after is None else None
        problem = problem or write_if_unchanged(path, before, after)
        if problem:
            click.echo(f"dockerlint: {_shown_path(path)}: {problem}", err=True)
            continue
        written += len(file_edits)
    click.echo(f"Added {written} suppression comment{'s' if written != 1 else ''}.")
    if skipped:
        click.echo(
            f"{skipped} finding{'s' if skipped != 1 else ''} in files without a comment syntax "
            "(or outside the linted paths) got none: use per-file-ignores for those."
        )
    return EXIT_OK


def _fixed_list(fixed) -> str:
    """``--show-fixes``: one line per file and code, as ruff lists them."""
    if not fixed:
        return ""
    counts: dict[tuple[str, str], int] = {}
    for finding in fixed:
        key = (_shown_path(finding.path), finding.code)
        counts[key] = counts.get(key, 0) + 1
    lines = ["Fixed:"] + [f"  {path}: {count} × {code}" for (path, code), count in sorted(counts.items())]
    return "\n".join(lines) + "\n"


def _configuration(paths: tuple[Path, ...], config_path: Path | None, isolated: bool, rules):
    """The configuration a run uses: ``--config`` or the one found above the first path,
    with hadolint's (its file and HADOLINT_* variables) under it; none with ``--isolated``.
    A named file or path that does not exist is an error."""
    from dockerlint.config import ConfigError, find_config, load_config

    if config_path is not None and not os.path.isfile(config_path):
        raise ConfigError(f"{config_path}: configuration file not found")
    for path in paths:
        if not os.path.lexists(path):
            raise ConfigError(f"{path}: no such file or directory")
    config = load_config(None if isolated else (config_path or find_config(paths[0])), rules)
    if not isolated:
        from dockerlint.hadolint_config import apply_hadolint_config, find_hadolint_config, read_hadolint_config

        apply_hadolint_config(config, read_hadolint_config(find_hadolint_config(paths[0]), os.environ), rules)
    return config


@main.command("size")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(("text", "json", "markdown")),
    default="text",
    show_default=True,
    help="text: tables with bars; json: data; markdown: for a pull-request comment or $GITHUB_STEP_SUMMARY.",
)
@OUTPUT_OPTION
@CONFIG_OPTION
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--budget-diff",
    "budget_diff",
    metavar="REF",
    help="Also estimate the images as they are at git REF (read with `git archive`) and show the growth.",
)
def size_command(paths: tuple[Path, ...], **options) -> None:
    """Print what each image weighs, part by part, and what fixing each finding saves.

    Estimates every image the PATHs build (default: the current directory) before anything
    is built: the base image, system and Python packages, models, files copied from the
    build context and caches left in layers, each figure with its source. Exit codes: 0,
    or 1 when an image is over its budget (`[tool.dockerlint.budget]`), 2 on an error.
    """
    from dockerlint.config import ConfigError

    try:
        code = _size(list(paths) or [Path(".")], **options)
    except ConfigError as error:
        _error(str(error))
        code = EXIT_ERROR
    except BrokenPipeError:
        code = _reader_gone()
    except Exception as error:  # noqa: BLE001 - a bug: still one line, exit 2
        _error(f"internal error: {type(error).__name__}: {_one_line(str(error))} (please report it)")
        code = EXIT_ERROR
    sys.exit(code)


def _size(
    paths: list[Path],
    *,
    output_format: str,
    output: Path | None,
    config_path: Path | None,
    isolated: bool,
    budget_diff: str | None,
) -> int:
    from dockerlint.config import ConfigError
    from dockerlint.engine import lint, project_root
    from dockerlint.model.scan_cache import default_cache_dir
    from dockerlint.report.size import render_size
    from dockerlint.rulebook import load_rules

    rules = load_rules()
    config = _configuration(paths, config_path, isolated, rules)  # the same findings as a lint
    from dockerlint.model.size.summary import image_size

    result = lint(
        paths,
        config,
        rules,
        cache_dir=default_cache_dir(project_root(paths, config)),
        keep_images=False,
        summarize=image_size,
        jobs=jobs_setting(),
    )
    sizes = [size for size in result.summaries if size is not None]
    text = render_size(output_format, sizes, Path.cwd(), rules)
    if budget_diff:
        from dockerlint.sizediff import budget_diff as diff

        text = diff(budget_diff, paths, config, rules, sizes, output_format, text)
    if output is not None:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"{output}: cannot write the report: {error.strerror or error}") from None
    else:
        click.echo(text, nl=False)
    return EXIT_FINDINGS if any(finding.code == "IMG006" for finding in result.findings) else EXIT_OK


def image_sizes(result) -> dict[int, object]:
    """Image index -> its size and what its findings' fixes save (``ImageSize``)."""
    from dockerlint.engine import origin_key
    from dockerlint.model.size.summary import image_size

    by_image: dict[int, list] = {index: [] for index in range(len(result.images))}
    for finding in result.findings:
        for index in result.origins.get(origin_key(finding), ()):
            by_image[index].append(finding)
    sizes = {}
    for index, image in enumerate(result.images):
        size = image_size(image, by_image[index])
        if size is not None:
            sizes[index] = size
    return sizes


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


@main.command("server")
def server_command() -> None:
    """Run the language server: LSP over standard input and output, for editors."""
    from dockerlint.server import run

    sys.exit(run())

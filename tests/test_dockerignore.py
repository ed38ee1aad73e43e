"""Docker's .dockerignore semantics (moby/patternmatcher), case by case.

Every row of the differential table in notes/ecosystem.md §5.4 is here (marked
"§5.4"); the other rows cover one rule of §5.3 each.
"""

from __future__ import annotations

import fnmatch
import random
import time

import pytest

from dockerlint.parse.dockerignore import IgnoreFile, Pattern, parse_dockerignore

BOM = "\ufeff"

# (ignore-file text, context-relative path, excluded?)
CASES = [
    # --- reading the file ---
    (BOM + ".git", ".git/config", True),  # §5.4: the BOM is dropped
    (BOM + "# generated\nbuild", "# generated", False),  # comment after the BOM
    ("  # not a comment", "# not a comment", True),  # §5.4: '#' must be the first byte
    ("# just a comment", "# just a comment", False),
    ("#", "#", False),
    ("\tbuild  \n", "build/out.bin", True),  # surrounding whitespace trimmed
    ("foo\r\n\r\nbar\r\n", "bar", True),  # CRLF lines and blank lines
    ("*.txt\n!   keep.txt", "keep.txt", False),  # whitespace trimmed again after '!'
    ("./a", "a", True),  # filepath.Clean
    ("a/", "a", True),  # a trailing slash means nothing: also matches a file
    ("node_modules/", "node_modules", True),  # §5.4
    ("a//b", "a/b", True),
    ("a/../b", "b", True),
    ("a/../b", "a/x", False),
    ("./dist/../out", "out/a", True),  # §5.4
    ("/foo", "foo", True),  # a leading '/' is stripped
    ("/foo", "sub/foo", False),
    ("../outside", "outside", False),  # '..' above the root is kept, so it never matches
    # --- anchoring, '*' and '?' ---
    ("*.pyc", "a.pyc", True),
    ("*.pyc", "sub/a.pyc", False),  # §5.4: anchored at the root, unlike gitignore
    ("node_modules", "node_modules/left-pad/index.js", True),
    ("node_modules", "web/node_modules/z.js", False),  # §5.4
    ("src/*.py", "src/app.py", True),
    ("src/*.py", "src/pkg/app.py", False),  # '*' does not cross '/'
    ("*.py", ".py", True),  # '*' may match nothing
    ("*", ".env", True),  # no special case for dot files
    ("file?.txt", "file1.txt", True),
    ("file?.txt", "file10.txt", False),
    ("a?b", "a/b", False),  # '?' does not match '/'
    ("*/temp*", "x/temp1/file", True),  # a wildcard pattern matching an ancestor
    # --- '**' ---
    ("**/*.pyc", "a.pyc", True),  # '**' may be no directory at all
    ("**/*.pyc", "x/y/a.pyc", True),
    ("**/foo", "foo", True),
    ("**/foo", "x/y/foo/z", True),  # §5.4
    ("**/foo", "x/barfoo", False),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b/c", True),  # §5.4
    ("a/**/b", "a/xb", False),
    ("foo/**", "foo", False),  # a trailing '**' is a prefix test on "foo/"
    ("foo/**", "foo/x/y", True),
    ("foo**", "foobar/x", True),
    ("foo**", "foo", True),
    ("**foo", "barfoo", True),  # §5.4: leading '**' + literal text is a suffix test
    ("**foo", "x/barfoo", True),
    ("**foo", "foox", False),
    ("**", "any/thing/at/all", True),
    ("**/", "top", True),  # cleaned to '**'
    ("a**b", "ax/b", True),  # '**' inside a name still means "directories"
    ("a**b", "axb", False),
    ("**/**/*.md", "c.md", True),
    ("data/**/*.pt", "data/m.pt", True),
    ("data/**/*.pt", "data/a/b/m.pt", True),
    ("data/**/*.pt", "other/m.pt", False),
    # --- classes ---
    ("[!a]bc", "abc", True),  # §5.4: '[!a]' means "'!' or 'a'"
    ("[!a]bc", "xbc", False),  # §5.4
    ("[!a]bc", "!bc", True),
    ("[^a]bc", "abc", False),  # §5.4: '[^a]' negates
    ("[^a]bc", "xbc", True),  # §5.4
    ("[a-c]?.txt", "b1.txt", True),
    ("[a-c]?.txt", "d1.txt", False),
    # Docker turns the '*' inside '[*]' into "[^/]*" without tracking the class, so
    # the regex is "[[^/]*]": any run of '[', '^', '/' and then a ']'.
    ("[*]", "]", True),
    ("[*]", "*", False),
    # --- escapes and regex metacharacters ---
    ("foo\\*bar", "foo*bar", True),  # §5.4
    ("foo\\*bar", "fooxbar", False),
    ("\\?", "?", True),
    ("\\?", "a", False),
    ("\\#notes", "#notes", True),
    ("a.b", "a.b", True),
    ("a.b", "axb", False),
    ("a.*", "a.x", True),
    ("a.*", "ab", False),
    ("v1+(x)|{y}$", "v1+(x)|{y}$", True),
    ("^a*", "abc", True),  # '^' reaches Go's regex raw, where it is a second anchor
    ("^a*", "^abc", False),
    ("a^b", "a^b", True),  # without wildcards the pattern is compared as a string
    ("file\\d", "file1", True),  # Go's regex reads '\d' as a digit
    ("file\\d", "filed", False),
    # --- case ---
    ("*.MD", "README.md", False),  # §5.4: case-sensitive
    ("Dockerfile", "dockerfile", False),
    # --- order: the last matching pattern wins ---
    ("*.md\n!README.md", "docs/x.md", False),  # §5.4
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "CHANGES.md", True),
    ("*.txt\n!keep.txt\n*.txt", "keep.txt", True),
    ("!keep.txt\n*.txt", "keep.txt", True),
    ("!a", "a", False),
    # --- ancestors, and exceptions below an excluded directory ---
    ("dir", "dir/a/b", True),
    ("build", "buildx/a", False),
    ("docs\n!docs/keep.md", "docs/keep.md", False),
    ("docs\n!docs/keep.md", "docs/other.md", True),
    ("docs\n!docs/keep.md", "docs", True),
    ("docs\n!docs/api", "docs/api/x.md", False),
    ("data\n!data/**/*.json", "data/a/b.json", False),
    ("data\n!data/**/*.json", "data/a/b.bin", True),
    (".dockerignore", ".dockerignore", True),  # §5.4: nothing is protected
    ("*", ".", False),  # the context root itself is never excluded
    ("résumé*", "résumé.pdf", True),
]


@pytest.mark.parametrize(("text", "path", "excluded"), CASES)
def test_matches_like_docker(text: str, path: str, excluded: bool) -> None:
    ignore = parse_dockerignore(text)
    assert ignore.problems == ()
    assert ignore.excludes(path) is excluded


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 74


def test_patterns_are_cleaned_and_numbered() -> None:
    ignore = parse_dockerignore("# header\n\n  /build/  \n!  ./keep//me.txt\n")
    assert ignore.patterns == (
        Pattern("build", exclusion=False, line=3),
        Pattern("keep/me.txt", exclusion=True, line=4),
    )


def test_ignore_file_built_directly_from_patterns() -> None:
    ignore = IgnoreFile((Pattern("**/*.pyc", False, 1), Pattern("keep.pyc", True, 2)))
    assert ignore.excludes("pkg/mod.pyc")
    assert not ignore.excludes("keep.pyc")


def test_paths_are_normalised_before_matching() -> None:
    ignore = parse_dockerignore("build")
    assert ignore.excludes("./build/")
    assert ignore.excludes("build//x")
    assert not ignore.excludes("./")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[abc", "never closed"),
        ("[]a]", "cannot start"),
        ("[a-]", "cannot start"),
        ("[z-a]", "not a valid"),  # filepath.Match accepts it; Go's regexp does not
        ("foo\\", "escapes nothing"),
        ("foo\\ ", "escapes nothing"),  # the trailing space is trimmed first
        ("\\q", "invalid escape"),
        ("\\x41", "does not evaluate"),
        ("!", "'!' with nothing"),
        ("!   ", "'!' with nothing"),
        ("!/", "'!' with nothing"),  # cleaned to a bare '!'
    ],
)
def test_bad_pattern_is_a_problem_and_skipped(line: str, reason: str) -> None:
    ignore = parse_dockerignore(f"*.log\n{line}\nbuild\n")
    assert [p.text for p in ignore.patterns] == ["*.log", "build"]
    (problem,) = ignore.problems
    assert problem.code == "SYN001"
    assert reason in problem.message
    assert (problem.span.line, problem.span.column) == (2, 1)
    assert problem.span.end_column == len(line) + 1
    assert ignore.excludes("app.log") and ignore.excludes("build/x")


@pytest.mark.parametrize(
    "text",
    ["\x00\x01\x02[[[", "\\" * 1000, "[" * 5000, "!" * 300, "**/" * 2000 + "x", "\ud800"],
)
def test_hostile_input_never_raises(text: str) -> None:
    ignore = parse_dockerignore(text)
    ignore.excludes("a/b/c")
    ignore.may_prune("a")


@pytest.mark.parametrize(
    ("text", "directory", "prunable"),
    [
        (".git", ".git", True),
        (".git", "src", False),  # not excluded at all
        (".git\n!docs/**/*.md", ".git", True),
        ("cache\n!c[a-z]che/x", "cache", False),
        ("cache\n!d[a-z]/x", "cache", True),
        ("docs\n!docs/keep.md", "docs", False),
        ("docs\n!README.md", "docs", True),
        ("docs\n!*.md", "docs", True),  # '*.md' is anchored: nothing under docs/
        ("data\n!**/keep", "data", False),
        ("node_modules\n!node_modules/*/package.json", "node_modules", False),
        ("a\n!a/b/c", "a/x", True),
        ("a\n!a/b/c", "a/b", False),
        ("a\n!a", "a", False),
        ("*\n!src", "tests", True),
        ("*\n!src/**", "tests", True),
        ("*\n!s*/**", "src", False),
        ("*\n!x\\/y", "x", False),  # an escape: judged "might"
        ("x\n!x[^a]y/keep", "x", False),  # '[^a]' matches the '/' in x/y/keep
        ("**/cache\n!**/cache/keep", "cache", False),  # '**': judged "might"
        ("**/__pycache__\n!keep/**", "pkg/__pycache__", True),
    ],
)
def test_may_prune(text: str, directory: str, prunable: bool) -> None:
    assert parse_dockerignore(text).may_prune(directory) is prunable


PRUNE_FILES = [
    ".git\n.venv\n!.venv/bin/python",
    "docs\n!docs/keep.md\n!docs/api",
    "*\n!src\n!src/**/*.py\nsrc/gen",
    "**/cache\n!src/cache/keep",
    "data\n!d*/a/*.json",
    "a\n!a/b/c\nb\n!b/*",
    ".git\na\n!a[^z]b/c",  # the negated class matches the '/' of a/b/c
]
PRUNE_UNIVERSE = [
    f"{top}/{mid}/{leaf}"
    for top in (".git", ".venv", "docs", "src", "data", "a", "b", "cache")
    for mid in ("a", "b", "api", "bin", "cache", "gen")
    for leaf in ("c", "keep", "keep.md", "x.py", "x.json", "python")
]


@pytest.mark.parametrize("text", PRUNE_FILES)
def test_pruned_directory_holds_only_excluded_paths(text: str) -> None:
    """may_prune must never hide a path that Docker would send."""
    ignore = parse_dockerignore(text)
    directories = {path.rsplit("/", n)[0] for path in PRUNE_UNIVERSE for n in (1, 2)}
    pruned = [d for d in directories if ignore.may_prune(d)]
    assert pruned  # each file prunes something, so the check below is not vacuous
    for directory in pruned:
        below = [p for p in PRUNE_UNIVERSE if p.startswith(directory + "/")]
        assert all(ignore.excludes(p) for p in below), directory


def test_matching_is_fast() -> None:
    text = "\n".join(
        [
            ".git",
            ".venv",
            "**/__pycache__",
            "**/*.pyc",
            "node_modules",
            "data/**/*.pt",
            "!data/keep/*.pt",
            "docs",
            "!docs/**/*.md",
            "*.log",
            ".env",
            "**/.DS_Store",
            "build",
            "dist",
            "*.egg-info",
            ".pytest_cache",
            "tests/**/*.json",
            "[Cc]overage*",
            "!coverage.md",
            "src/**/gen_?.py",
        ]
    )
    ignore = parse_dockerignore(text)
    assert len(ignore.patterns) == 20
    paths = [f"src/pkg{i % 97}/sub{i % 13}/module_{i}.py" for i in range(100_000)]
    start = time.perf_counter()
    excluded = sum(ignore.excludes(path) for path in paths)
    assert time.perf_counter() - start < 5.0  # a blow-up guard, not a speed target
    assert excluded == 0


def test_star_chunks_agree_with_fnmatch() -> None:
    """The leftmost-commit rewrite of '*x*' must not change which names match."""
    rng = random.Random(5)
    names = ["".join(rng.choice("ab.") for _ in range(rng.randint(0, 9))) for _ in range(300)]
    for _ in range(300):
        pattern = "".join(rng.choice(["a", "b", ".", "*", "?", "ab"]) for _ in range(6))
        if "**" in pattern:
            continue
        ignore = parse_dockerignore(pattern)
        for name in names:
            expected = name != "" and fnmatch.fnmatchcase(name, pattern)
            assert ignore.excludes(name) is expected, (pattern, name)


@pytest.mark.parametrize("pattern", ["*a*a*a*a*a*a*a*b", "x/*a*a*a*a*a*a*a*b/y"])
def test_many_stars_do_not_backtrack_forever(pattern: str) -> None:
    ignore = parse_dockerignore(pattern)
    start = time.perf_counter()
    assert not ignore.excludes("a" * 200)
    assert not ignore.excludes("x/" + "a" * 200 + "/y")
    assert ignore.excludes("x/" + "a" * 200 + "b/y") is pattern.startswith("x/")
    assert time.perf_counter() - start < 5.0  # a blow-up guard, not a speed target

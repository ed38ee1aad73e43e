"""dockerlint: a linter for container builds of Python and ML services."""

__version__ = "0.1.0"


def run() -> None:
    """The console script. ``--version`` answers before the command line library loads:
    tools and editors ask for it often, and it should cost no more than Python's start."""
    import sys

    if sys.argv[1:] == ["--version"]:
        print(f"dockerlint, version {__version__}")
        raise SystemExit(0)
    from dockerlint.cli import main

    main()

"""dockerlint: a linter for container builds of Python and ML services."""

__version__ = "0.1.0"

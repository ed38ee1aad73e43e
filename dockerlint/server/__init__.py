"""``dockerlint server``: a language server (LSP over standard input and output).

It needs the ``server`` extra (pygls and lsprotocol); nothing of it is imported unless
the server runs, so the command line stays as quick to start without it.
"""

from __future__ import annotations

import sys

INSTALL_HINT = "pip install 'dockerlint[server]'"


def run() -> int:
    """Serve until the client says exit; 2 when the extra is not installed."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError as error:
        print(
            f"dockerlint: error: the language server needs pygls and lsprotocol ({error.name} is missing): "
            f"install them with `{INSTALL_HINT}`",
            file=sys.stderr,
        )
        return 2
    from dockerlint.server.lsp import serve

    serve()
    return 0

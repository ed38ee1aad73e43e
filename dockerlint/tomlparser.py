"""The TOML parser: ``tomllib``, or ``tomli`` (the same code) before Python 3.11.

Imported inside the functions that parse a file, not at the top of a module: it and the
``string`` module it loads cost ~2 ms, which a run that reads no configuration file and
finds its data files in the per-installation cache (``datafiles``) never needs.
"""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["tomllib"]

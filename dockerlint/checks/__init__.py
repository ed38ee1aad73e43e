"""Checks: plain functions from an image model to findings, registered by code.

A check holds no state and does no I/O of its own: the model has read every file. One
function may report several related codes (DL3002 and SEC001 look at the same USER
state); the engine runs it when any of its codes is selected and drops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dockerlint.findings import Finding

CheckFunction = Callable[..., Iterable[Finding]]

CHECKS: dict[CheckFunction, tuple[str, ...]] = {}
# Codes reported from parse problems (the parsers return them as data).
PROBLEM_CODES: set[str] = set()


def check(*codes: str) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        CHECKS[function] = codes
        return function

    return register


def problem_codes(*codes: str) -> None:
    PROBLEM_CODES.update(codes)


# The code prefixes each module's checks report, so that a run that selects only some
# families imports only their modules (a module not listed here is always imported).
MODULE_FAMILIES = {
    "alpine": ("IMG",),
    "ctx": ("CTX",),
    "dep": ("DEP",),
    "dl": ("DL",),
    "gpu": ("GPU",),
    "img": ("IMG",),
    "lay": ("LAY",),
    "mdl": ("MDL",),
    "req": ("REQ",),
    "sec": ("SEC",),
    "secrets": ("SEC",),
    "stg": ("STG",),
}


def load_checks(codes: set[str] | None = None) -> dict[CheckFunction, tuple[str, ...]]:
    """Import the modules of this package once (with ``codes``, only those that can report
    one of them): each registers its checks. Returns every check registered so far."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        families = MODULE_FAMILIES.get(module.name)
        if codes is not None and families is not None and not any(code.startswith(families) for code in codes):
            continue
        importlib.import_module(f"{__name__}.{module.name}")
    return CHECKS


def registered_codes() -> set[str]:
    load_checks()
    codes = set(PROBLEM_CODES)
    for function_codes in CHECKS.values():
        codes.update(function_codes)
    return codes

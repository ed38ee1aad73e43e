"""The modules a pickle names, read from its opcodes and never unpickled.

A model saved with ``pickle`` or ``joblib`` (a scikit-learn pipeline, an XGBoost
classifier) imports the modules of the classes it holds when it is loaded: an image that
copies one in needs those packages even when no line of its code imports them. The
opcodes are walked with ``pickletools.genops``, which decodes them without running any;
a joblib file's raw array bytes, a compressed file or a truncated head end the walk, with
what was found before them.
"""

from __future__ import annotations

import io

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
# Suffixes a pickled model is also saved under (`model.bin`, scikit-learn's `.sav`), beside
# files of other formats (a zip of PyTorch weights): read as a pickle when its head is one.
MAYBE_PICKLED_SUFFIXES = (".bin", ".sav", ".model", ".pk", ".p")


def is_pickle_head(data: bytes) -> bool:
    """Whether bytes start as a pickle of protocol 2 to 5 does (PROTO opcode, then version)."""
    return len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5


HEAD_BYTES = 8 * 1024 * 1024  # the classes come first; what follows is their data
MAX_OPCODES = 100_000  # ~80 ms: a pickle of millions of small values is data past its classes
_STRINGS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}
)
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_NOT_PACKAGES = frozenset({"__main__", "__builtin__", "builtins", "copyreg", "copy_reg", "_codecs"})


def pickled_modules(data: bytes) -> set[str]:
    """Top-level names of the modules whose classes or functions the pickle refers to
    (``GLOBAL``, ``INST`` and protocol 4's ``STACK_GLOBAL``, whose two strings may come
    from the memo)."""
    import pickletools  # here, not at the top: most runs read no pickle, and it costs start-up

    found: set[str] = set()
    memo: dict[int, object] = {}
    pushed: list[object] = [None, None]  # the last two values pushed: STACK_GLOBAL's module and name
    try:
        for count, (opcode, argument, _) in enumerate(pickletools.genops(io.BytesIO(data))):
            if count >= MAX_OPCODES:
                break
            name = opcode.name
            if name in ("GLOBAL", "INST"):
                found.add(str(argument).split(" ", 1)[0])
            elif name == "STACK_GLOBAL":
                if isinstance(pushed[-2], str):
                    found.add(pushed[-2])
            elif name == "MEMOIZE":
                memo[len(memo)] = pushed[-1]
            elif name in _PUTS:
                memo[argument] = pushed[-1]
            if name in _GETS:
                pushed.append(memo.get(argument))
            elif name in _STRINGS:
                pushed.append(argument if isinstance(argument, str) else None)
            elif opcode.stack_after and name != "MEMOIZE" and name not in _PUTS:
                pushed.append(None)  # whatever else ends on top is no string
            del pushed[:-2]
    except (ValueError, EOFError, OverflowError, MemoryError, UnicodeDecodeError, KeyError, IndexError):
        pass  # not a pickle, or its data begins: what was named so far stands
    tops = {module.split(".", 1)[0] for module in found if module}
    return {top for top in tops if top.isidentifier() and top not in _NOT_PACKAGES}

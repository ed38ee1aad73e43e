import subprocess
import sys
import textwrap
import time

import pytest

from dockerlint.parse import python
from dockerlint.parse.python import Import, scan_imports


def imports_of(source: str) -> list[Import]:
    result = scan_imports(textwrap.dedent(source))
    assert result.problems == ()
    assert result.parsed_by == "ast"
    return list(result.imports)


def plain(module, level=0, names=(), line=1, column=1, optional=False, type_checking=False, dynamic=False):
    return Import(module, level, names, line, column, optional, type_checking, dynamic)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import os", [plain("os", column=8)]),
        ("import os, sys as system", [plain("os", column=8), plain("sys", column=12)]),
        ("import a.b.c as d", [plain("a.b.c", column=8)]),
        ("from x.y import (p,\n    q as r)", [plain("x.y", names=("p", "q"))]),
        ("from . import sibling", [plain("", level=1, names=("sibling",))]),
        ("from ..pkg.mod import thing", [plain("pkg.mod", level=2, names=("thing",))]),
        ("from .mod import *", [plain("mod", level=1, names=("*",))]),
        ("x = 1; import os", [plain("os", column=15)]),
        ('s = "é€"; import os', [plain("os", column=18)]),  # columns count code points, not bytes
    ],
)
def test_import_forms(source, expected):
    assert imports_of(source) == expected


@pytest.mark.parametrize(
    "handler, optional",
    [
        ("except ImportError:", True),
        ("except ModuleNotFoundError as error:", True),
        ("except Exception:", True),
        ("except:", True),
        ("except (ValueError, ImportError):", True),
        ("except builtins.ImportError:", True),
        ("except KeyError:", False),
        ("except (KeyError, ValueError):", False),
    ],
)
def test_try_body_import_is_optional_when_a_handler_catches_import_errors(handler, optional):
    found = imports_of(f"try:\n    import ujson\n{handler}\n    pass\n")
    assert [(i.module, i.optional) for i in found] == [("ujson", optional)]


def test_fallback_in_handler_and_else_are_required():
    found = imports_of(
        """
        try:
            import ujson as json
        except ImportError:
            import json
        else:
            import orjson
        finally:
            import atexit
        """
    )
    assert [(i.module, i.optional) for i in found] == [
        ("ujson", True),
        ("json", False),
        ("orjson", False),
        ("atexit", False),
    ]


def test_a_fallback_names_the_imports_it_stands_in_for():
    """The handler's import runs only when the try's imports fail (ast and libcst agree)."""
    source = """
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            from tensorflow.lite.python.interpreter import Interpreter
        import numpy
    """
    found = imports_of(source)
    assert [(i.module, i.optional, i.fallback_for) for i in found] == [
        ("tflite_runtime.interpreter", True, ()),
        ("tensorflow.lite.python.interpreter", False, ("tflite_runtime.interpreter",)),
        ("numpy", False, ()),
    ]


def test_nested_try_inside_function_stays_optional():
    found = imports_of(
        """
        def load():
            try:
                if fast:
                    import simdjson
            except ImportError:
                return None
        """
    )
    assert [(i.module, i.optional, i.line) for i in found] == [("simdjson", True, 5)]


def test_contextlib_suppress_import_error_is_optional():
    found = imports_of(
        """
        with contextlib.suppress(ImportError):
            import rich
        with open("f"):
            import requests
        """
    )
    assert [(i.module, i.optional) for i in found] == [("rich", True), ("requests", False)]


def test_type_checking_blocks():
    found = imports_of(
        """
        from typing import TYPE_CHECKING
        import typing
        if TYPE_CHECKING:
            import pandas
        else:
            import csv
        if typing.TYPE_CHECKING:
            from numpy import ndarray
        if DEBUG:
            import pdb
        """
    )
    assert [(i.module, i.type_checking) for i in found] == [
        ("typing", False),
        ("typing", False),
        ("pandas", True),
        ("csv", False),
        ("numpy", True),
        ("pdb", False),
    ]


def test_dynamic_imports_in_any_expression_position():
    found = imports_of(
        """
        import importlib
        torch = importlib.import_module("torch.cuda")
        use(importlib.import_module("yaml"))
        spec = importlib.util.find_spec(name="orjson")
        etree = __import__("lxml.etree")
        mod = import_module(f"plugins.{name}")
        other = __import__(name)
        """
    )
    dynamic = [(i.module, i.level, i.line, i.column) for i in found if i.dynamic]
    assert dynamic == [
        ("torch.cuda", 0, 3, 9),
        ("yaml", 0, 4, 5),
        ("orjson", 0, 5, 8),
        ("lxml.etree", 0, 6, 9),
        ("", 0, 7, 7),
        ("", 0, 8, 9),
    ]


def test_relative_dynamic_import_resolves_against_a_literal_package():
    found = imports_of(
        """
        a = importlib.import_module(".sub", package="pkg")
        b = importlib.import_module("..sibling", "pkg.inner")
        c = importlib.import_module(".sub", package=__package__)
        """
    )
    assert [(i.module, i.level) for i in found] == [("pkg.sub", 0), ("pkg.sibling", 0), ("sub", 1)]


def test_method_named_like_a_dynamic_import_is_not_one():
    assert imports_of('loader.import_module("x")\nregistry.find_spec("y")\n') == []


def test_dynamic_import_carries_optional_and_type_checking_flags():
    found = imports_of(
        """
        try:
            backend = importlib.import_module("cupy")
        except ImportError:
            backend = None
        """
    )
    assert [(i.module, i.optional, i.dynamic) for i in found] == [("cupy", True, True)]


def test_imports_inside_functions_classes_and_match():
    found = imports_of(
        """
        def f():
            import inside_function
        class C:
            from deep import thing
            async def g(self):
                async with lock:
                    import in_async
        match command:
            case "gpu":
                import torch
        """
    )
    assert [(i.module, i.line) for i in found] == [
        ("inside_function", 3),
        ("deep", 5),
        ("in_async", 8),
        ("torch", 11),
    ]


def test_deep_but_valid_tree_does_not_hit_the_recursion_limit():
    # 2,000 terms parse with ast; a recursive walk would need over 2,000 frames.
    source = "import os\nx = " + " + ".join(["__import__('a')"] * 2000) + "\n"
    found = scan_imports(source)
    assert found.parsed_by == "ast"
    assert len(found.imports) == 2001


PEP_695_SOURCE = """\
type Vector = list[float]

def first[T](items: list[T]) -> T:
    import inner
    return items[0]

try:
    import ujson
except ImportError:
    ujson = None

if TYPE_CHECKING:
    from numpy import ndarray
mod = importlib.import_module(".sub", package="pkg")
"""


def test_newer_syntax_falls_back_to_libcst_with_the_same_classification():
    result = scan_imports(PEP_695_SOURCE)
    assert result.parsed_by == ("ast" if sys.version_info >= (3, 12) else "libcst")
    assert result.problems == ()
    assert list(result.imports) == [
        plain("inner", line=4, column=12),
        plain("ujson", line=8, column=12, optional=True),
        plain("numpy", names=("ndarray",), line=13, column=5, type_checking=True),
        plain("pkg.sub", line=14, column=7, dynamic=True),
    ]


def test_pep_701_and_758_syntax_use_the_fallback():
    source = 'import os\nprint(f"{"nested"}")\ntry:\n    import a\nexcept ValueError, ImportError:\n    pass\n'
    result = scan_imports(source)
    assert result.parsed_by == ("ast" if sys.version_info >= (3, 14) else "libcst")
    assert [(i.module, i.optional) for i in result.imports] == [("os", False), ("a", True)]


def test_libcst_child_agrees_with_ast_on_every_form():
    source = textwrap.dedent(
        """
        import os, sys as system
        import a.b.c as d
        from x.y import (p, q as r)
        from . import sibling
        from ..pkg.mod import *
        s = "é"; import after_unicode
        try:
            import ujson as json
        except (KeyError, ModuleNotFoundError):
            import json
        with contextlib.suppress(ImportError):
            import rich
        if typing.TYPE_CHECKING:
            import pandas
        else:
            import csv
        use(importlib.import_module("torch"), __import__(name), importlib.util.find_spec(name="orjson"))
        def f():
            import inside
        """
    )
    from_ast = scan_imports(source)
    assert from_ast.parsed_by == "ast"
    assert python._scan_with_libcst(source) == from_ast.imports


def test_libcst_crash_on_deep_nesting_is_contained_in_the_child():
    started = time.monotonic()
    assert python._scan_with_libcst("x = " + "[" * 5000 + "]" * 5000 + "\n") is None
    assert time.monotonic() - started < python.LIBCST_TIMEOUT_SECONDS + 2


def test_libcst_child_that_runs_too_long_is_abandoned(monkeypatch):
    monkeypatch.setattr(python, "LIBCST_TIMEOUT_SECONDS", 0.01)
    assert python._scan_with_libcst("type X = int\n") is None


def test_deeply_nested_brackets_give_a_problem_not_a_crash():
    result = scan_imports("import os\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    assert result.parsed_by == "none"
    assert result.imports == ()
    [problem] = result.problems
    assert problem.code == "SYN001"
    assert f"on Python {sys.version_info.major}.{sys.version_info.minor}" in problem.message
    assert problem.span.line == 2


@pytest.mark.parametrize(
    "source, line",
    [
        ("import os\x00\n", 1),  # NUL byte
        ("import os\nprint 'hello'\nexec code\n", 2),  # Python 2
        ("if x:\n        import a\n\timport b\n", 3),  # tabs and spaces
        ("def f(:\n", 1),
    ],
)
def test_unparsable_source_gives_a_problem(source, line):
    result = scan_imports(source)
    assert result.parsed_by == "none"
    assert result.imports == ()
    assert [(p.code, p.span.line) for p in result.problems] == [("SYN001", line)]
    assert "could not parse" in result.problems[0].message


def test_very_long_expression_never_crashes():
    # Python 3.11 raises RecursionError while building this tree; 3.10 builds it.
    result = scan_imports("import os\nx = " + "+".join(["a"] * 20000) + "\n")
    if result.parsed_by == "ast":
        assert [i.module for i in result.imports] == ["os"]
    else:
        assert [p.code for p in result.problems] == ["SYN001"]
        assert "RecursionError" in result.problems[0].message


def test_large_file_with_newer_syntax_is_not_sent_to_libcst(monkeypatch):
    def fail(text):
        raise AssertionError("libcst fallback used for a file over the size limit")

    monkeypatch.setattr(python, "_scan_with_libcst", fail)
    source = "x = 1\n" * (python.LIBCST_MAX_BYTES // 6 + 1) + "type X = int\n"
    result = scan_imports(source)
    assert result.parsed_by == "none"
    assert result.problems[0].span.line == python.LIBCST_MAX_BYTES // 6 + 2


def test_importing_the_module_does_not_import_libcst():
    code = "import sys, dockerlint.parse.python; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


CALLS_SOURCE = textwrap.dedent(
    """
    import torch as t, os.path
    from huggingface_hub import snapshot_download as fetch, hf_hub_download
    from . import local_thing
    label = "é"; fetch("BAAI/bge-small-en-v1.5", local_dir="/m", force=True, workers=4)
    model = t.hub.load(
        "pytorch/vision",
        "resnet18",
        weights=WEIGHTS,
    )
    get_client().download("not dotted")
    hf_hub_download(repo_id, "x.gguf", local_files_only=False)
    def f():
        import nltk as n
        n.download("punkt")
    """
)


def test_scan_calls_reports_dotted_calls_aliases_and_literal_arguments():
    result = python.scan_calls(CALLS_SOURCE)
    assert result.parsed_by == "ast"
    assert result.aliases == (
        ("t", "torch"),
        ("os", "os"),
        ("fetch", "huggingface_hub.snapshot_download"),
        ("hf_hub_download", "huggingface_hub.hf_hub_download"),
        ("n", "nltk"),
    )
    calls = {call.function: call for call in result.calls}
    assert "get_client().download" not in calls and "get_client" in calls
    fetch = calls["fetch"]
    assert (fetch.line, fetch.column, fetch.first) == (5, 14, "BAAI/bge-small-en-v1.5")  # code points
    assert fetch.keywords == (("local_dir", "/m"), ("force", True), ("workers", 4))
    load = calls["t.hub.load"]
    assert (load.line, load.end_line, load.end_column, load.keywords) == (6, 10, 2, (("weights", None),))
    assert calls["hf_hub_download"].first is None


def test_libcst_child_reports_the_same_calls_for_newer_syntax():
    newer = CALLS_SOURCE + "type Alias = int\n"
    from_ast = python.scan_calls(CALLS_SOURCE)
    from_libcst = python.scan_calls(newer)
    assert from_libcst.parsed_by == ("ast" if sys.version_info >= (3, 12) else "libcst")
    assert (from_libcst.aliases, from_libcst.calls) == (from_ast.aliases, from_ast.calls)


SCOPED_SOURCE = textwrap.dedent(
    """
    from .inference import CLIP
    from . import data
    import open_clip


    @register(load("x"))
    class Net:
        def __init__(self, name="ViT", pretrained=default_tag()):
            self.m = open_clip.create_model_and_transforms(name, pretrained=pretrained, cache_dir=None)
            self.load()

        def load(self):
            helper()


    net = Net()
    if __name__ == "__main__":
        CLIP()
    if "__main__" == __name__ and ready():
        data.run()
    """
)


def test_scan_calls_tells_scopes_the_main_guard_literal_nones_and_relative_imports():
    """What following a program needs: which definition holds each call (decorators and
    defaults run where the definition stands), the `__main__` guard, and relative imports."""
    for text in (SCOPED_SOURCE, SCOPED_SOURCE + "type Alias = int\n"):
        result = python.scan_calls(text)
        assert result.aliases == (("open_clip", "open_clip"),)
        assert result.relative == (("CLIP", ".inference.CLIP"), ("data", ".data"))
        rows = [(call.function, call.scope, call.guarded, call.nones) for call in result.calls]
        assert rows == [
            ("register", "", False, ()),
            ("load", "", False, ()),
            ("default_tag", "Net", False, ()),  # a default runs in the class body
            ("open_clip.create_model_and_transforms", "Net.__init__", False, ("cache_dir",)),
            ("self.load", "Net.__init__", False, ()),
            ("helper", "Net.load", False, ()),
            ("Net", "", False, ()),
            ("CLIP", "", True, ()),
            ("ready", "", False, ()),
            ("data.run", "", False, ()),  # a guard with more conditions is not the plain __main__ test
        ]


def test_a_module_constant_read_from_the_environment_with_a_default_is_that_default():
    source = textwrap.dedent(
        """
        import os
        from os import getenv

        MODEL = os.getenv("MODEL_NAME", "BAAI/bge-small-en-v1.5")
        RERANKER = getenv("RERANKER", default="cross-encoder/ms-marco-MiniLM-L-6-v2")
        DEVICE = os.environ.get("DEVICE", "cpu")
        TOKEN = os.environ["HF_TOKEN"]

        def load(name=MODEL):
            MODEL = "shadowed"
            return SentenceTransformer(MODEL, device=DEVICE)

        model = SentenceTransformer(MODEL, token=TOKEN)
        ranker = CrossEncoder(RERANKER)
        """
    )
    calls = {call.line: call for call in python.scan_calls(source).calls}
    model = calls[14]
    assert (model.first, dict(model.keywords)["token"], model.settings) == (
        "BAAI/bge-small-en-v1.5",
        None,
        ("MODEL_NAME",),
    )
    assert (calls[15].first, calls[15].settings) == (None, ())  # a keyword default is not read
    inner = calls[12]  # the function binds MODEL itself; DEVICE is the module's
    assert (inner.first, dict(inner.keywords)["device"], inner.settings) == (None, "cpu", ("DEVICE",))


def test_scan_calls_on_unparsable_crashing_or_slow_code_finds_nothing(monkeypatch):
    assert python.scan_calls("print 'x'\nnltk.download('punkt')\n").parsed_by == "none"
    deep = "type X = int\nx = " + "[" * 5000 + "]" * 5000 + "\n"
    assert python.scan_calls(deep).calls == ()
    monkeypatch.setattr(python, "LIBCST_TIMEOUT_SECONDS", 0.01)
    assert python.scan_calls("type X = int\nnltk.download('punkt')\n").parsed_by == "none"


# -- the line scan --------------------------------------------------------------------------


def line_and_ast(source: str) -> tuple[list[tuple], list[tuple]]:
    text = textwrap.dedent(source)
    fast = python.line_scan_imports(text)
    assert fast is not None, "the line scan should read this file"
    keep = lambda item: (item.module, item.level, item.names, item.line, item.optional, item.type_checking)  # noqa: E731
    return [keep(item) for item in fast], [keep(item) for item in scan_imports(text).imports]


@pytest.mark.parametrize(
    "source",
    [
        "import os, sys as system\nimport a.b.c as d\n",
        "from x.y import (p,  # the first\n    q as r)\nfrom . import sibling\nfrom ..pkg.mod import thing\n",
        "from .mod import *\nfrom .import sibling\nfrom x import(a, b)\nfrom x \\\n    import y\n",
        "from sympy import \\\n    (a as\n     b, c)\n",
        *(
            f"try:\n    import ujson\n{handler}\n    pass\n"
            for handler in (
                "except ImportError:",
                "except ModuleNotFoundError as error:",
                "except Exception:",
                "except:",
                "except (ValueError, ImportError):",
                "except builtins.ImportError:",
                "except KeyError:",
                "except (KeyError, ValueError):",
                "except* ImportError:",
                "finally:",
            )
        ),
        """
        try:
            import ujson as json

            # a comment at the left edge
        except ValueError:
            pass
        except ImportError:
            import json
        else:
            import orjson
        finally:
            import atexit
        """,
        """
        def load():
            try:
                if fast:
                    import simdjson
            except ImportError:
                return None
            import requests
        import yaml
        """,
        """
        with contextlib.suppress(ImportError):
            import rich
        with suppress(KeyError):
            import tomli
        with open("f"):
            import requests
        """,
        """
        from typing import TYPE_CHECKING
        import typing
        if TYPE_CHECKING:  # only for the type checker
            import pandas
            try:
                import numpy
            except ImportError:
                pass
        else:
            import csv
        if typing.TYPE_CHECKING:
            from numpy import ndarray
        elif TYPE_CHECKING:
            import polars
        if DEBUG:
            import pdb
        if not TYPE_CHECKING:
            import ctypes
        """,
    ],
)
def test_line_scan_agrees_with_ast_on_every_form(source):
    fast, exact = line_and_ast(source)
    assert fast == exact


@pytest.mark.parametrize(
    "source",
    [
        "if DEBUG: import pdb\n",
        "x = 1; import os\n",
        "try: import ujson\nexcept ImportError: ujson = None\n",
        "plugin = importlib.import_module('plugins.fast')\n",
        "spec = importlib.util.find_spec('torch')\n",
        "json = __import__('json')\n",
    ],
)
def test_line_scan_leaves_inline_and_dynamic_imports_to_ast(source):
    assert python.line_scan_imports(source) is None


def test_line_scan_errs_only_towards_imported():
    """Where lines alone mislead, the line scan reads more imports (one in a string) or
    fewer marks (a block a string interrupts, a handler written over several lines)."""
    fast, exact = line_and_ast(
        '''
        HELP = """Use it like this:
        import matplotlib
        """
        try:
            import ujson
        except (
            ImportError
        ):
            ujson = None
        if TYPE_CHECKING:
            SQL = """
        select 1
        """
            import pandas
        '''
    )
    assert ("matplotlib", 0, (), 3, False, False) in fast and all(row[0] != "matplotlib" for row in exact)
    assert ("ujson", 0, (), 6, False, False) in fast and ("ujson", 0, (), 6, True, False) in exact
    assert ("pandas", 0, (), 15, False, False) in fast and ("pandas", 0, (), 15, False, True) in exact


def test_line_scan_agrees_with_ast_on_the_standard_library():
    """A differential test over the ~700 modules of the standard library outside its
    tests: the line scan never misses an import ast finds, and never marks one optional
    or TYPE_CHECKING that ast does not."""
    import sysconfig
    import warnings
    from pathlib import Path

    from dockerlint.source import decode

    root = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"site-packages", "test", "tests", "idle_test", "lib2to3"}
    files = sorted(path for path in root.rglob("*.py") if skipped.isdisjoint(path.relative_to(root).parts))
    assert len(files) > 500
    compared = 0
    for path in files:
        text = decode(path.read_bytes())[0]
        fast = python.line_scan_imports(text)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old modules
            exact = scan_imports(text)
        if fast is None or exact.parsed_by != "ast":
            continue
        compared += 1
        read = {(item.module, item.level, item.line): item for item in fast}
        for item in exact.imports:
            found = read.get((item.module, item.level, item.line))
            assert found is not None, (path, item)
            assert set(found.names) == set(item.names), (path, item)
            assert not (found.optional and not item.optional), (path, item)
            assert not (found.type_checking and not item.type_checking), (path, item)
    assert compared > 500


@pytest.mark.parametrize(
    "text, readable",
    [
        ("".join(" " * depth + "try:\n" for depth in range(3000)) + "import x\n", False),  # 4.5 MB of nesting
        ("if TYPE_CHECKING:\n    import x\n" * 20_000, False),  # more blocks than the line scan tracks
        ("import a \\\n" * 20_000 + "b\n", True),  # one import continued over 20,000 lines
        ("try:\n" + "import x  # import try import\n" * 20_000, True),
    ],
)
def test_line_scan_on_hostile_input_is_fast_or_declines(text, readable):
    start = time.perf_counter()
    result = python.line_scan_imports(text)
    assert time.perf_counter() - start < 2.0
    assert (result is not None) == readable


def test_aliases_and_a_long_blank_continued_import():
    # `\s+as\s+` tried every start in a long run of blanks (a continued import line of
    # backslashes): quadratic, minutes. Aliases with any spacing still come off.
    assert [i.names for i in python.line_scan_imports("from x import (a  as  b,\n    c\tas\td, e)\n")] == [
        ("a", "c", "e")
    ]
    started = time.process_time()
    python.line_scan_imports("from typing import TYPE_CHEC" + "\\" * 60_000 + "\nimport os\n")
    assert time.process_time() - started < 2


def test_a_module_constant_names_the_argument_where_nothing_rebinds_it():
    source = textwrap.dedent(
        """
        from sentence_transformers import SentenceTransformer

        MODEL_NAME = "all-MiniLM-L6-v2"
        CACHE: str = "/models"
        TWICE = "a"
        TWICE = "b"

        encoder = SentenceTransformer(MODEL_NAME, cache_folder=CACHE)
        other = SentenceTransformer(TWICE)

        def load():
            return SentenceTransformer(MODEL_NAME)

        def load_named(MODEL_NAME):
            return SentenceTransformer(MODEL_NAME)

        def load_local():
            MODEL_NAME = "./weights"
            return SentenceTransformer(MODEL_NAME)
        """
    )
    calls = [call for call in python.scan_calls(source).calls if call.function == "SentenceTransformer"]
    assert [(call.scope, call.first) for call in calls] == [
        ("", "all-MiniLM-L6-v2"),
        ("", None),  # bound twice: which one holds is not known
        ("load", "all-MiniLM-L6-v2"),
        ("load_named", None),  # the parameter
        ("load_local", None),  # a local of the same name
    ]
    assert dict(calls[0].keywords)["cache_folder"] == "/models"

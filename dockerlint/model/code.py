"""The Python code in an image, what it imports, and what else names a package.

The code is the ``.py`` files (and notebooks) that COPY/ADD bring into the final stage
(and the stages it is built FROM) from the build context after the ignore file, the
files a ``COPY --from`` carries there from another stage, and the source of local
projects the image pip-installs. Each file is read and scanned at most once per run;
several images sharing a file share the scan.

Besides imports, a scan keeps the *mentions* that make a distribution used without an
import: the first name of every string literal (``"uvicorn.workers.UvicornWorker"``,
``INSTALLED_APPS = ["rest_framework"]``, ``["python", "-m", "celery"]``), connection
URLs (``postgresql+psycopg2://``), framework setting strings and a few calls. Shell
scripts and config files in the image contribute every word they hold.

The rules mostly ask about an image as a whole, so ``image_code`` answers with an
``ImportSummary``. With a cache between runs (``use_scan_cache``), the summary of an
image whose files are unchanged comes from the cache whole, without reading, scanning
or decoding any file; per-file scans are decoded only when a finding needs one.
"""

from __future__ import annotations

import gc
import posixpath
import re
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import NamedTuple

from msgspec import Struct, field

from dockerlint.errors import blame
from dockerlint.model.distributions import model_providers, setting_strings, url_drivers
from dockerlint.model.gpu_signals import gpu_lines
from dockerlint.model.image import Image, StageModel
from dockerlint.model.queries import final_chain
from dockerlint.model.scan_cache import ScanCache, content_key
from dockerlint.parse.pickled import (
    HEAD_BYTES,
    MAYBE_PICKLED_SUFFIXES,
    PICKLE_SUFFIXES,
    is_pickle_head,
    pickled_modules,
)
from dockerlint.parse.python import Import, line_scan_imports, scan_imports
from dockerlint.source import decode

# Files whose words count as mentions (scripts the image runs, service configs).
TEXT_SUFFIXES = (".sh", ".bash", ".ini", ".cfg", ".conf", ".toml", ".yaml", ".yml", ".env")
# Scripts without a suffix by convention; `serve` and `train` are what SageMaker runs an
# inference or training image with (`docker run <image> serve`, SageMaker developer guide).
TEXT_NAMES = ("Procfile", "entrypoint", "docker-entrypoint", "start", "run", "serve", "train")
MAX_MENTION_BYTES = 2_000_000  # a bigger config file is data, not configuration
# Files that declare dependencies, and the configuration of tools developers and CI run
# over the repository (pre-commit's hooks name poetry, ruff, mypy): naming a package there
# is no use of it by the service.
DECLARATION_NAMES = frozenset({
    "pyproject.toml", "setup.cfg", ".pre-commit-config.yaml", ".pre-commit-hooks.yaml", ".readthedocs.yaml",
    ".readthedocs.yml", "mkdocs.yml", "mkdocs.yaml", "codecov.yml", ".codecov.yml", ".gitlab-ci.yml",
    ".travis.yml", "tox.ini", ".coveragerc", ".flake8", ".pylintrc", ".yamllint", ".yamllint.yml",
})  # fmt: skip

# The first name inside a string literal (a closing quote followed by a name is rare and
# only makes a package look used).
# The name a string starts with (`"django.contrib.admin"`, `'dvc'`), not a word of a longer
# hyphenated name (`'dvc-pipeline-runs'` names no module).
# (not a URL's scheme, `"mysql+pymysql://..."` or `"redis://..."`: URLs are read on their own)
_STRING_START = re.compile(r"""["']([A-Za-z_]\w*)(?![\w+-]|://)""")
# A string that is a whole dotted path ("allauth.socialaccount", "app.tasks.send_mail"): a
# module a framework imports by name (Django's INSTALLED_APPS and MIDDLEWARE, Celery's
# include), kept whole beside its first name.
_DOTTED_STRING = re.compile(r"""["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)["']""")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_DOTTED_WORD = re.compile(r"[A-Za-z_][\w.-]*")
# A `dialect+driver` string of its own, which a URL builder takes as the scheme:
# `MultiHostUrl.build(scheme="postgresql+asyncpg", ...)`, `URL.create(drivername="mysql+pymysql")`.
_SCHEME = re.compile(r"""["']([a-z][a-z0-9]*)\+([a-z_][a-z0-9_]*)["']""")
# OpenCV's window functions (highgui.hpp): opencv-python-headless has no GUI backend, so each
# raises "The function is not implemented" there.
GUI_CALLS = (
    "imshow", "namedWindow", "waitKey", "createTrackbar", "selectROI", "selectROIs", "setMouseCallback",
    "destroyWindow", "destroyAllWindows", "moveWindow", "resizeWindow", "setWindowProperty", "setWindowTitle",
    "startWindowThread", "displayOverlay", "displayStatusBar", "createButton",
)  # fmt: skip
_CALL = re.compile(rf"\b({'|'.join(GUI_CALLS)})\s*\(")


@cache
def _compile_call() -> tuple[tuple[str, ...], re.Pattern]:
    """The calls that compile code as the service runs (build_tools.toml), with a pattern
    that finds them called or used as a decorator (``@torch.compile``)."""
    from dockerlint.knowledge import load

    calls = tuple(load("build_tools")["compile"]["runtime_compile_calls"])
    return calls, re.compile(rf"(?<![\w.])({'|'.join(re.escape(call) for call in calls)})\b(?!\.)")


_PROVIDER_PREFIX = re.compile(r"""["']([a-z_]+):(?!//)[\w.\-/]""")  # "openai:gpt-4.1", not a URL
_PROVIDER_ARGUMENT = re.compile(r"""\bmodel_provider\s*=\s*["']([a-z_]+)["']""")
# A chat model chosen as the service runs: `init_chat_model()` with no model, a model that is
# no string written out (a setting, `f"{provider}:{name}"`, `**config`), `configurable_fields`;
# `create_agent` given the environment's model. Any installed integration may be the one loaded.
_RUNTIME_MODEL_CALL = re.compile(r"\b(init_chat_model|create_agent)\(")
_LITERAL_START = ("'", '"')
_ENVIRONMENT_READS = ("os.environ", "os.getenv", "getenv(", "environ[", "environ.get(")

EMPTY: frozenset = frozenset()


class Mentions(NamedTuple):
    names: frozenset[str] = EMPTY  # module or command names named outside imports (dotted ones whole too)
    drivers: frozenset[str] = EMPTY  # the `driver` of `scheme+driver://`
    schemes: frozenset[str] = EMPTY  # URL schemes
    settings: frozenset[str] = EMPTY  # keys of the setting_strings table found
    calls: frozenset[str] = EMPTY  # GUI calls (DEP004) and calls that compile as the service runs (STG001)
    programs: frozenset[str] = EMPTY  # strings a file that starts processes holds whole ("yt-dlp")


class Scan(NamedTuple):
    """What one Python file tells: imports (None when it could not be parsed) and mentions."""

    imports: tuple[Import, ...] | None
    mentions: Mentions
    exact: bool = True  # False: read by the line scan (see scan_python)
    gpu: tuple = ()  # what the file says about GPUs (gpu_signals.gpu_lines)
    foreign: tuple = ()  # (line, how) where the file runs code the image does not hold (foreign_code)


_TEST_FOLDERS = frozenset({"tests", "test", "testing", "docs"})


class CodeFile(Struct, frozen=True, dict=True):
    image_path: str
    location: str  # the file on disk (a string: paths of thousands of files are built each run)
    stat: tuple[int, int] | None = None  # (size, mtime_ns) seen by the context walk; None: ask the disk

    @cached_property
    def path(self) -> Path:
        return Path(self.location)

    @cached_property  # asked for every file by every rule
    def is_test(self) -> bool:
        """Tests, fixtures, build scripts and notebooks, which the service itself never runs."""
        *folders, name = self.image_path.split("/")
        return (
            not _TEST_FOLDERS.isdisjoint(folders)
            or name.startswith("test_")
            or name.endswith(("_test.py", ".ipynb"))
            or name in ("conftest.py", "test.py", "tests.py", "setup.py", "noxfile.py", "fabfile.py")
        )


class ImportSummary(NamedTuple):
    """An image's imports in the form the rules ask about them (and the cache keeps)."""

    run_time: frozenset[str]  # dotted paths imported by any file, not only under TYPE_CHECKING
    by_service: frozenset[str]  # the same, by the service's own files (not tests or build scripts)
    required: frozenset[tuple[str, tuple[str, ...]]]  # (module, names) the service needs: DEP002's candidates
    unsure: frozenset[str]  # paths a line scan put under TYPE_CHECKING only: confirm before a finding rests on it


class ImageCode(Struct):
    files: list[CodeFile] = field(default_factory=list)  # Python files and notebooks, by image path
    imports: ImportSummary = ImportSummary(EMPTY, EMPTY, EMPTY, EMPTY)
    mentions: Mentions = Mentions()
    # ("check",) when a service file asks whether a GPU is there, else (image path, line,
    # text) of the first unconditional GPU use in the service's files, else ()
    gpu: tuple = ()
    first_party: set[str] = field(default_factory=set)
    pickles: bool = False  # pickled files are copied in (the modules of their classes are in mentions)
    foreign: tuple = ()  # (image path, line, how) of the first service file that runs code the image lacks


# -- scanning one file ----------------------------------------------------------------------


def mentions_in_text(text: str) -> Mentions:
    """Every word of a script or config file, and its URLs and setting strings."""
    names = set(_WORD.findall(text))
    names.update(word.split(".", 1)[0] for word in _DOTTED_WORD.findall(text))
    return _with_urls(text, Mentions(names=frozenset(names)))


# A field of a pydantic settings class (`database_url: str`), which the class reads from the
# environment variable of that name in any case: named as that variable.
_SETTINGS_FIELD = re.compile(r"^[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?!=)", re.MULTILINE)


def _mentions_in_python(text: str) -> Mentions:
    names = frozenset(_STRING_START.findall(text))
    if "." in text:  # a module path in a comment line (`# "django.db.backends.mysql"`) names nothing
        dotted = (found for found in _DOTTED_STRING.finditer(text) if not on_comment_line(text, found.start()))
        names |= frozenset(found.group(1) for found in dotted)
    if "BaseSettings" in text:
        names |= {field.upper() for field in _SETTINGS_FIELD.findall(text)}
    providers = model_providers()
    if ("init_chat_model" in text or "create_agent" in text) and _chooses_model_at_run_time(text):
        names |= set(providers.values())
    elif not names.isdisjoint(providers) or "model_provider" in text:
        names |= _provider_modules(text, providers)
    # The regex costs a third of a scan; a substring test rules most files out first.
    calls = frozenset(_CALL.findall(text)) if any(name in text for name in GUI_CALLS) else EMPTY
    compile_calls, compile_call = _compile_call()
    if any(call in text for call in compile_calls):
        calls |= frozenset(compile_call.findall(text))
    programs = frozenset(_WHOLE_STRING.findall(text)) if any(word in text for word in _STARTS_PROCESSES) else EMPTY
    return _with_urls(text, Mentions(names=names, calls=calls, programs=programs), python=True)


def on_comment_line(text: str, position: int) -> bool:
    """Whether ``position`` is on a line that is a comment (`# 'ENGINE': '...mysql'`)."""
    start = text.rfind("\n", 0, position) + 1
    return text[start:position].lstrip(" \t").startswith("#")


# A file that starts processes (subprocess.run(["yt-dlp", url]), asyncio's
# create_subprocess_exec, os.system): a string it holds whole may be the program it runs.
_STARTS_PROCESSES = ("subprocess", "Popen", "os.system", "os.exec", "os.spawn", "sh.Command", "pexpect")
_WHOLE_STRING = re.compile(r"""["']([A-Za-z0-9][\w.+-]*)["']""")


def _provider_modules(text: str, providers: dict[str, str]) -> set[str]:
    """The integration modules LangChain loads for the providers the code names: a
    "provider:model" string, or a ``model_provider=`` argument."""
    named = _PROVIDER_PREFIX.findall(text) + _PROVIDER_ARGUMENT.findall(text)
    return {providers[name] for name in named if name in providers}


def _chooses_model_at_run_time(text: str) -> bool:
    """Whether a call of LangChain's ``init_chat_model`` (or ``create_agent``, which calls it)
    leaves the provider to the service's settings: then any integration may be loaded."""
    for found in _RUNTIME_MODEL_CALL.finditer(text):
        arguments = _call_arguments(text, found.end())
        if found.group(1) == "create_agent":
            model = arguments.split(",", 1)[0]
            if any(read in model for read in _ENVIRONMENT_READS):
                return True
            continue
        provider_chosen = "model_provider" in arguments and not _PROVIDER_ARGUMENT.search(arguments)
        if "configurable_fields" in arguments or provider_chosen:
            return True
        first = arguments.split(",", 1)[0].strip()
        if first.startswith("model") and "=" in first and not first.startswith("model_"):
            first = first.split("=", 1)[1].strip()
        elif "=" in first.split("(", 1)[0]:  # a keyword first: the model, if any, is named below
            model = re.search(r"\bmodel\s*=\s*(\S)", arguments)
            first = model.group(1) if model else ""
        if not first.startswith(_LITERAL_START):
            return True
    return False


# Code a file runs that the image does not hold: (a substring that must be there, the
# pattern, a second pattern the file must also match or None, how the finding says it).
_FOREIGN_CODE = (
    # `[sys.executable, script_path]`: a script named by a variable (not `"-m", "scrapy"`, not a literal)
    ("sys.executable", re.compile(r"\bsys\.executable\s*,\s*(?![\s'\"\])])"),
     re.compile(r"\b(?:subprocess|create_subprocess_exec|Popen)\b"),
     "runs Python scripts with the image's interpreter"),
    ("hub.load(", re.compile(r"\bhub\.load\(\s*['\"][\w.-]+/[\w.-]+"), None,
     "runs a repository's code that torch.hub.load fetches"),
    ("trust_remote_code", re.compile(r"\btrust_remote_code\s*=\s*True\b"), None,
     "runs a Hub model's own code (`trust_remote_code=True`)"),
    # PaddleHub downloads a module's Python code by its name and imports it (ch_pp-ocrv3
    # imports shapely and pyclipper)
    ("hub.Module(", re.compile(r"\bhub\.Module\(\s*(?:name\s*=\s*)?['\"][\w.-]+['\"]"), re.compile(r"\bpaddlehub\b"),
     "runs a PaddleHub module's own code, which `hub.Module` downloads by its name"),
)  # fmt: skip


def foreign_code(text: str) -> tuple:
    """(line, how) of the first place a Python file runs code the image does not hold: a
    script by a variable with the image's interpreter, a torch.hub repository, a Hub
    model's own code; () when it runs none."""
    for needle, marker, beside, what in _FOREIGN_CODE:
        if needle in text:
            found = marker.search(text)
            if found is not None and (beside is None or beside.search(text)):
                return (text.count("\n", 0, found.start()) + 1, what)
    return ()


def _call_arguments(text: str, start: int, limit: int = 2000) -> str:
    """The text between a call's parentheses, from just after ``(`` (cut at ``limit``)."""
    depth = 1
    for index in range(start, min(len(text), start + limit)):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if not depth:
                return text[start:index]
    return text[start : start + limit]


def _with_urls(text: str, mentions: Mentions, python: bool = False) -> Mentions:
    """The mentions with the text's connection URLs and setting strings; in Python, not
    those of a comment line, which configures nothing (a commented-out DATABASES block)."""
    drivers, schemes = set(), set()
    matches = _url_schemes(text)
    if "+" in text:
        matches += [(match.group(1), match.group(2), match.start()) for match in _SCHEME.finditer(text)]
    found = [(scheme, driver) for scheme, driver, at in matches if not python or not on_comment_line(text, at)]
    known_drivers = url_drivers() if found else {}
    for scheme, driver in found:
        if driver:
            drivers.add(driver)
            schemes.add(f"{scheme}+{driver}")  # a scheme of its own too: mongodb+srv://
        if not driver or driver.lower() not in known_drivers:
            schemes.add(scheme)  # `postgresql+asyncpg://` asks for asyncpg, not the scheme's default driver
    settings = frozenset(
        key for key in setting_strings() if key in text and (not python or _outside_comments(text, key))
    )
    return Mentions(mentions.names, frozenset(drivers), frozenset(schemes), settings, mentions.calls, mentions.programs)


# The scheme (and driver) right before a `://`, read backwards from it: searching the whole
# text for `\bscheme://` tried every word of it, a third of a file's scan.
_URL_TAIL = re.compile(r"(?<!\w)([a-z][a-z0-9]*)(?:\+([a-z_][a-z0-9_]*))?(?:\+[a-z]+)?$")


def _url_schemes(text: str) -> list[tuple[str, str, int]]:
    """(scheme, driver or "", where it starts) of each `scheme+driver://` of the text."""
    found = []
    position = text.find("://")
    while position >= 0:
        head = text[max(0, position - 64) : position]
        match = _URL_TAIL.search(head)
        if match is not None:
            found.append((match.group(1), match.group(2) or "", position - len(head) + match.start()))
        position = text.find("://", position + 3)
    return found


def _outside_comments(text: str, word: str) -> bool:
    """Whether ``word`` occurs in the text on a line that is no comment."""
    position = text.find(word)
    while position >= 0:
        if not on_comment_line(text, position):
            return True
        position = text.find(word, position + len(word))
    return False


def scan_python(text: str, exact: bool = False) -> Scan:
    """Imports and mentions of a Python file.

    Most files are read by ``line_scan_imports``, whose answer errs only towards
    "imported" (see there); a caller that needs the exact answer (a finding rests on
    it) asks again with ``exact=True``, which parses with ``ast`` (or libcst).
    """
    if not exact:
        imports = line_scan_imports(text)
        if imports is not None:
            return Scan(imports, _mentions_in_python(text), False, gpu_lines(text), foreign_code(text))
    scanned = scan_imports(text)
    if scanned.parsed_by == "none":
        return Scan(None, mentions_in_text(text), True, gpu_lines(text), foreign_code(text))
    return Scan(scanned.imports, _mentions_in_python(text), True, gpu_lines(text), foreign_code(text))


def scan_notebook(data: bytes, exact: bool = False) -> Scan | None:
    """A notebook's code cells as a Python scan, lines mapped to the .ipynb file, and the
    words of its shell commands (``!pip install``, ``%%bash``) and magics
    (``%matplotlib inline``) as mentions."""
    from dockerlint.parse.notebook import notebook_source

    source = notebook_source(data)
    if source is None:
        return None
    scan = scan_python(source.text, exact)
    imports = scan.imports
    if imports is not None:
        last = len(source.lines)
        imports = tuple(item._replace(line=source.lines[min(item.line, last) - 1]) for item in imports if last)
    if source.shell_commands or source.magics:
        words = mentions_in_text("\n".join(source.shell_commands + source.magics))
        return Scan(imports, merge_all([scan.mentions, words]), scan.exact)
    return Scan(imports, scan.mentions, scan.exact)


# -- which files are in the image -------------------------------------------------------


class _RunState:
    """One run's scans by file location, and the cache between runs if one is open."""

    def __init__(self) -> None:
        self.scans: dict[tuple[str, str], Scan | None] = {}  # by (location, kind)
        self.cache: ScanCache | None = None


_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # workspace -> _RunState


def _state(workspace) -> _RunState:
    state = _STATES.get(workspace)
    if state is None:
        state = _STATES[workspace] = _RunState()
    return state


def forget_scans(workspace) -> None:
    """Let go of this run's scans by file location (a run over thousands of images does,
    every few images); a file asked for again is scanned again, or found in the cache."""
    state = _STATES.get(workspace)
    if state is not None:
        state.scans.clear()


def use_scan_cache(workspace, directory: Path | ScanCache | None) -> ScanCache | None:
    """Let this run's scans come from, and go to, the cache in ``directory`` (None: no
    cache; a ``ScanCache``: one kept open across runs). The caller saves it when the run
    is over."""
    if directory is None:
        return None
    cache = directory if isinstance(directory, ScanCache) else ScanCache(directory)
    _state(workspace).cache = cache
    return cache


def image_code(image: Image, local_projects: list[Path] = ()) -> ImageCode:
    """The code the final image holds and its summary: from the cache whole when it holds
    the summary of exactly these files with these contents, else from each file's scan
    (worked out once per image: several rules and the engine ask)."""
    return image.memoized(("image_code", tuple(local_projects)), lambda: _image_code(image, local_projects))


def service_mentions(image: Image, local_projects: list[Path] = ()) -> Mentions:
    """What the files the service runs or reads name: ``image_code``'s mentions without
    those of its tests and build scripts (a packaging test's `data["tool"]["pdm"]`)."""

    def mentions() -> Mentions:
        scans = (file_scan(image, file) for file in _image_files(image, local_projects) if not file.is_test)
        return merge_all([scan.mentions for scan in scans if scan is not None])

    return image.memoized(("service_mentions", tuple(local_projects)), mentions)


def service_sources(image: Image, code: ImageCode) -> Iterator[str]:
    """The text of each Python file of the service (not its tests or build scripts), for a
    search a scan does not keep; the workspace reads each file once per run."""
    for file in code.files:
        if not file.is_test and file.image_path.endswith(".py"):
            loaded = image.workspace.text(file.path, quiet=True)
            if loaded is not None:
                yield loaded[0].text


def _image_code(image: Image, local_projects: list[Path]) -> ImageCode:
    files = _image_files(image, local_projects)
    code = ImageCode(files=[file for file in files if _is_code(file.image_path)])
    code.pickles = any(_is_pickle(image, file) for file in files)
    folders: set[str] = set()
    for file in code.files:
        folder, _, name = file.image_path.rpartition("/")
        if name.endswith(".py"):
            code.first_party.add(name[:-3])
            folders.add(folder)
    for folder in folders:
        _add_first_party(code.first_party, folder)
    state = _state(image.workspace)
    cache = state.cache
    summary_key = _summary_key(image.workspace, cache, files) if cache is not None else None
    cached = _decode_summary(cache.summary(summary_key)) if summary_key is not None else None
    if cached is not None:
        code.imports, code.mentions, unscanned, code.gpu, code.foreign = cached
        code.files = [file for file in code.files if file.image_path not in unscanned]
        return code
    found: list[Mentions] = []
    scanned: list[tuple[CodeFile, Scan]] = []
    with _no_cycle_collection():
        for file in files:
            scan = file_scan(image, file)
            if scan is None:
                continue
            if not file.image_path.endswith("/setup.py"):  # it names its requirements; it uses none
                found.append(scan.mentions)
            if _is_code(file.image_path):
                scanned.append((file, scan))
    code.mentions = merge_all(found)
    unscanned = {file.image_path for file in code.files} - {file.image_path for file, _ in scanned}
    code.files = [file for file, _ in scanned]
    code.imports = summarise(scanned)
    code.gpu = _gpu_of(scanned)
    code.foreign = next(
        ((file.image_path, *scan.foreign) for file, scan in scanned if scan.foreign and not file.is_test), ()
    )
    if cache is not None:
        summary_key = summary_key or _summary_key(image.workspace, cache, files)  # files read now are known next time
        if summary_key is not None:
            record = _encode_summary(code.imports, code.mentions, unscanned, code.gpu, code.foreign)
            cache.put_summary(summary_key, record)
    return code


def _gpu_of(scanned: list[tuple[CodeFile, Scan]]) -> tuple:
    """The image's GPU use (see ImageCode.gpu) from its service files, in path order."""
    found: tuple = ()
    for file, scan in scanned:
        if file.is_test or not file.image_path.endswith(".py") or not scan.gpu:
            continue
        if scan.gpu[0] == "check":
            return ("check",)
        found = found or (file.image_path, *scan.gpu)
    return found


@contextmanager
def _no_cycle_collection():
    """Scans are many small objects without cycles: while thousands are made, the cycle
    collector would walk the growing heap again and again for nothing (a fifth of a cold
    run over 10,000 files). Garbage made meanwhile is collected once it runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def confirmed_imports(image: Image, code: ImageCode) -> ImportSummary:
    """The summary again, with every TYPE_CHECKING block a line scan found read by ``ast``
    (asked only when a finding would rest on one of them)."""
    scanned = []
    for file in code.files:
        scan = file_scan(image, file)
        if scan is None:
            continue
        if not scan.exact and any(item.type_checking for item in scan.imports or ()):
            scan = exact_scan(image, file) or scan
        scanned.append((file, scan))
    return summarise(scanned)


def summarise(scanned: list[tuple[CodeFile, Scan]]) -> ImportSummary:
    """Absolute imports only: relative ones are the code's own."""
    run_time: set[str] = set()
    by_service: set[str] = set()
    required: set[tuple[str, tuple[str, ...]]] = set()
    unsure: set[str] = set()
    for file, scan in scanned:
        service = not file.is_test
        for item in scan.imports or ():
            if item.level or not item.module:
                continue
            paths = _dotted(item)
            if item.type_checking:
                if not scan.exact:
                    unsure.update(paths)
                continue
            run_time.update(paths)
            if service:
                by_service.update(paths)
                if not (item.optional or item.dynamic):
                    required.add((item.module, item.names))
    return ImportSummary(frozenset(run_time), frozenset(by_service), frozenset(required), frozenset(unsure))


def _dotted(item: Import) -> list[str]:
    """The dotted paths an import names: ``from a.b import c`` names ``a.b`` and ``a.b.c``."""
    return [item.module] + [f"{item.module}.{name}" for name in item.names if name != "*"]


def file_scan(image: Image, file: CodeFile) -> Scan | None:
    """This run's scan of a file: from memory, the cache (known by timestamp, else by
    reading), or a fresh scan. None when it cannot be read or is not what its name says."""
    state = _state(image.workspace)
    kind = _kind(file.image_path)
    if (file.location, kind) in state.scans:
        return state.scans[file.location, kind]
    cache = state.cache
    # An overlaid file (an editor's unsaved buffer) is read, never known by its timestamp,
    # and what it held is not kept: the cache describes files on disk only.
    overlaid = image.workspace.overlaid(file.location)
    scan = _ABSENT
    key = cache.known_key(file.location, file.stat) if cache is not None and not overlaid else None
    if key is not None:
        scan = _cached_scan(cache, f"{kind}:{key}", 0)
    if scan is _ABSENT:
        scan = None
        read_at = time.time_ns()
        data = _source_bytes(image, file.location)
        if data is not None:
            key = content_key(data) if cache is not None else None  # no digest without a cache
            scan = _cached_scan(cache, f"{kind}:{key}", 0) if cache is not None else _ABSENT
            if scan is _ABSENT:
                with blame(Path(file.location)):
                    scan = _scan_bytes(data, kind)
                if cache is not None and not overlaid:
                    cache.put_record(f"{kind}:{key}", 0, _encode_scan(scan))
            if cache is not None and not overlaid:
                cache.remember(file.location, key, read_at, file.stat)
    state.scans[file.location, kind] = scan
    return scan


def exact_scan(image: Image, file: CodeFile) -> Scan | None:
    """The ``ast`` scan of a file (for answers a finding rests on); a file that neither
    ``ast`` nor libcst can parse gets a note."""
    scan = file_scan(image, file)
    if scan is None or scan.exact:
        return scan
    state = _state(image.workspace)
    cache = state.cache
    kind = _kind(file.image_path)
    data = None
    overlaid = image.workspace.overlaid(file.location)
    key = cache.known_key(file.location, file.stat) if cache is not None and not overlaid else None
    if cache is not None and key is None:
        data = _source_bytes(image, file.location)
        key = content_key(data) if data is not None else None
    exact = _cached_scan(cache, f"{kind}:{key}", 1) if key is not None else _ABSENT
    if exact is _ABSENT:
        data = data if data is not None else _source_bytes(image, file.location)
        with blame(Path(file.location)):
            exact = _scan_bytes(data, kind, exact=True) if data is not None else None
        if key is not None and not overlaid:
            cache.put_record(f"{kind}:{key}", 1, _encode_scan(exact))
    if exact is None:
        return scan
    if exact.imports is None:
        image.workspace.note(file.path, "could not be parsed as Python; its imports are not checked", "info")
    state.scans[file.location, kind] = exact
    return exact


def _scan_bytes(data: bytes, kind: str, exact: bool = False) -> Scan | None:
    if kind == "notebook":
        return scan_notebook(data, exact)
    if kind == "pickle" or kind == "maybe-pickle" and is_pickle_head(data):
        return Scan((), Mentions(names=frozenset(pickled_modules(data))))
    if kind == "maybe-pickle":
        return Scan((), Mentions())
    text = decode(data)[0]
    if kind in ("text", "compose"):
        if len(text) > MAX_MENTION_BYTES:
            return None
        return Scan((), mentions_in_text(_compose_text(text) if kind == "compose" else _COMMENT_LINE.sub("", text)))
    return scan_python(text, exact)


def _compose_text(text: str) -> str:
    """What a compose file the image holds says of the images built from source: their
    services' environment (`REDIS_URL=redis://redis:6379`) and commands. A service that
    runs a published image (`mher/flower` with `celery flower`, `redis:7`) runs in that
    image, not in one of the repository's."""
    from dockerlint.parse.compose import parse_compose

    lines = []
    for service in parse_compose(text).services:
        if service.context is None and service.dockerfile is None:
            continue
        lines += service.environment.values()
        for command in (service.command, service.entrypoint):
            lines.append(" ".join(command) if isinstance(command, tuple) else command or "")
    return "\n".join(lines)


def _is_pickle(image: Image, file: CodeFile) -> bool:
    kind = _kind(file.image_path)
    if kind == "maybe-pickle":
        return is_pickle_head(image.workspace.read_bytes(file.location, quiet=True, head=2) or b"")
    return kind == "pickle"


def _source_bytes(image: Image, location: str) -> bytes | None:
    if location.endswith(PICKLE_SUFFIXES):  # binary, of any size: the head names its classes
        return image.workspace.read_bytes(location, quiet=True, head=HEAD_BYTES)
    if location.endswith(MAYBE_PICKLED_SUFFIXES):  # a pickle's head, or nothing to read
        head = image.workspace.read_bytes(location, quiet=True, head=2)
        return image.workspace.read_bytes(location, quiet=True, head=HEAD_BYTES) if is_pickle_head(head or b"") else b""
    data = image.workspace.read_bytes(location, quiet=True, keep=False)
    if data is None or b"\0" in data[:8192]:
        return None
    return data


# A whole-line comment of the shell scripts and configuration files read as text (YAML,
# TOML, INI, .env, Procfile): a service commented out of a compose file names nothing.
_COMMENT_LINE = re.compile(r"^[ \t]*[#;].*$", re.MULTILINE)


def merge_all(items: list[Mentions]) -> Mentions:
    merged: list[set[str]] = [set() for _ in Mentions._fields]
    for item in items:
        for found, values in zip(merged, item, strict=True):
            found |= values
    return Mentions(*map(frozenset, merged))


# -- what the cache keeps: plain JSON data --------------------------------------------------


def _summary_key(workspace, cache: ScanCache, files: list[CodeFile]) -> str | None:
    """A digest of every file's in-image path and content, known without reading any
    (None when one is unknown: changed, new, never settled, or overlaid)."""
    import hashlib  # only with a cache: a run with --no-cache needs no digest

    digest = hashlib.blake2b(digest_size=16)
    for file in files:
        key = None if workspace.overlaid(file.location) else cache.known_key(file.location, file.stat)
        if key is None:
            return None
        digest.update(f"{file.image_path}\0{key}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


_ABSENT = object()  # not in the cache (None is a file that cannot be scanned)


def _encode_scan(scan: Scan | None) -> list | bool:
    if scan is None:
        return False
    # plain JSON: an Import is a tuple, so it is written as a list
    return [scan.imports, [list(values) for values in scan.mentions], scan.exact, list(scan.gpu), list(scan.foreign)]


def _cached_scan(cache: ScanCache, key: str, slot: int) -> Scan | None | object:
    """A record of the cache as a scan, decoded once per cache object."""
    found = cache.decoded.get((key, slot), _ABSENT)
    if found is _ABSENT:
        found = _decode_scan(cache.record(key, slot))
        if found is not _ABSENT:
            cache.decoded[key, slot] = found
    return found


def _decode_scan(record) -> Scan | None | object:
    """A scan from the cache: None for a file that cannot be scanned, ``_ABSENT`` when
    the cache does not hold it or holds something this code did not write."""
    if record is None:
        return _ABSENT
    if record is False:
        return None
    try:
        imports, mentions, exact, gpu, foreign = record  # a record of another layout is not this code's
        if imports is not None:
            imports = tuple(
                [Import(m, lv, tuple(n), ln, c, o, t, d, tuple(f)) for m, lv, n, ln, c, o, t, d, f in imports]
            )
        return Scan(imports, Mentions(*map(frozenset, mentions)), bool(exact), tuple(gpu), tuple(foreign))
    except (TypeError, ValueError):
        return _ABSENT


def _encode_summary(
    summary: ImportSummary, mentions: Mentions, unscanned: set[str], gpu: tuple, foreign: tuple
) -> list:
    run_time, by_service, required, unsure = summary
    return [
        list(run_time - by_service),  # by_service is a subset: keep each path once
        list(by_service),
        [[module, list(names)] for module, names in required],
        list(unsure),
        [list(values) for values in mentions],
        list(unscanned),
        list(gpu),
        list(foreign),
    ]


def _decode_summary(record) -> tuple[ImportSummary, Mentions, set[str], tuple, tuple] | None:
    if record is None:
        return None
    try:
        others, by_service, required, unsure, mentions, unscanned, gpu, foreign = record
        service = frozenset(by_service)
        summary = ImportSummary(
            service.union(others),
            service,
            frozenset((module, tuple(names)) for module, names in required),
            frozenset(unsure),
        )
        return summary, Mentions(*map(frozenset, mentions)), set(unscanned), tuple(gpu), tuple(foreign)
    except (TypeError, ValueError):
        return None


# -- mapping COPY/ADD to files ----------------------------------------------------------------


def _kind(image_path: str) -> str:
    from dockerlint.discover import is_compose_name

    if image_path.endswith(".py"):
        return "python"
    if is_compose_name(image_path.rpartition("/")[2]):
        return "compose"
    if image_path.endswith(".ipynb"):
        return "notebook"
    if image_path.endswith(PICKLE_SUFFIXES):
        return "pickle"
    if image_path.endswith(MAYBE_PICKLED_SUFFIXES):
        return "maybe-pickle"
    return "text"


def _is_code(image_path: str) -> bool:
    return _kind(image_path) in ("python", "notebook")


def _is_text(name: str) -> bool:
    if name in DECLARATION_NAMES:
        return False
    return name.endswith(TEXT_SUFFIXES) or name in TEXT_NAMES or name.startswith(".env")


def _wanted(name: str) -> bool:
    return name.endswith((".py", ".ipynb", *PICKLE_SUFFIXES, *MAYBE_PICKLED_SUFFIXES)) or _is_text(name)


def _add_first_party(names: set[str], folder: str) -> None:
    """Every folder name on a Python file's path (and the file's module name) may be a
    top-level import name, depending on WORKDIR and PYTHONPATH: all count as first-party."""
    for part in folder.split("/"):
        if part not in ("", "."):
            names.add(part[:-3] if part.endswith(".py") else part)


def _image_files(image: Image, local_projects: list[Path]) -> list[CodeFile]:
    """The wanted files of the final image, by in-image path."""
    files: dict[str, CodeFile] = {}
    memo: dict[int, dict[str, CodeFile]] = {}
    for stage in reversed(final_chain(image)):  # later stages overwrite earlier paths
        files.update(_stage_files(image, stage, 0, memo))
    for target, folder in image.mounts:
        _mount(image, files, target, folder)
    if local_projects:
        brought = _brought_from_context(image)
        for folder in local_projects:
            for relative, file in _project_files(image, folder):
                if file.location in brought:
                    files.setdefault(f"/site-packages/{relative}", file)
    return [files[image_path] for image_path in sorted(files)]


def _brought_from_context(image: Image) -> set[str]:
    """The build-context files some COPY, ADD or bind mount of a stage the image is built
    from brings in: what a local project's build can hold (a folder of the repository no
    instruction copies is not in the image, whatever pyproject.toml sits above it)."""
    found: set[str] = set()
    for stage in image.stages:
        if not stage.reachable:
            continue
        for copy in stage.copies:
            if copy.from_stage is not None or copy.heredoc or copy.from_image:
                continue
            for source in copy.sources:
                found.update(
                    file.location for file in _context_files(image, source.value, copy.dest, copy.dest_is_dir).values()
                )
    return found


def _mount(image: Image, files: dict[str, CodeFile], target: str, folder: Path) -> None:
    """A compose bind mount of a repository folder: the container sees the folder's files
    at ``target`` and none of what the image put there. Its version-control, dependency and
    virtualenv folders are left out, as discovery leaves them (a developer's ``.venv`` is
    not the service's code)."""
    from dockerlint.discover import SKIP_DIRS

    prefix = target.rstrip("/") + "/"
    for image_path in [path for path in files if path == target or path.startswith(prefix)]:
        del files[image_path]
    context = image.workspace.context(folder, None)
    environments = tuple(
        file.path[: -len("pyvenv.cfg")] for file in context.files if file.path.rpartition("/")[2] == "pyvenv.cfg"
    )
    root = str(folder)
    for file in context.files:
        *folders, name = file.path.split("/")
        if not _wanted(name) or SKIP_DIRS.intersection(folders) or file.path.startswith(environments):
            continue
        if _runs_elsewhere(file.path):
            continue
        stat = None if file.is_symlink else (file.size, file.mtime_ns)
        files[f"{prefix}{file.path}"] = CodeFile(f"{prefix}{file.path}", f"{root}/{file.path}", stat)


def _stage_files(image: Image, stage: StageModel, depth: int, memo: dict) -> dict[str, CodeFile]:
    """In-image path -> context file, for the wanted files COPY/ADD put into ``stage``.
    ``memo`` holds the answer per stage: a stage reached both as a parent and through
    ``COPY --from`` is worked out once (a chain of such stages doubled the work per stage)."""
    if stage.index in memo:
        return memo[stage.index]
    files: dict[str, CodeFile] = {}
    if depth > len(image.stages):
        return files
    if stage.parent is not None:
        files.update(_stage_files(image, image.stages[stage.parent], depth + 1, memo))
    for copy in stage.copies:
        if copy.mount_only or copy.heredoc or copy.from_image:
            continue
        for source in copy.sources:
            if copy.from_stage is not None:
                origin = _stage_files(image, image.stages[copy.from_stage], depth + 1, memo)
                files.update(_carried_files(origin, source.value, copy.dest, copy.dest_is_dir))
            else:
                files.update(_context_files(image, source.value, copy.dest, copy.dest_is_dir))
    memo[stage.index] = files
    return files


def _context_files(image: Image, source: str, dest: str, dest_is_dir: bool) -> dict[str, CodeFile]:
    """Docker's COPY: a matched file lands in dest (or dest/<name>); a matched directory's
    contents land under dest."""
    clean = posixpath.normpath(source.lstrip("/")) if source.strip("/.") else "."
    depth = 0 if clean == "." else clean.count("/") + 1
    root = str(image.context_root)
    under = posixpath.normpath(dest) if dest else "."
    prefix = "" if under == "." else "/" if under == "/" else under + "/"
    found = {}
    skipped = _not_code(image)
    for file in image.context.glob(source):
        name = file.path.rpartition("/")[2]
        if not _wanted(name) or skipped(file.path):
            continue
        if depth == 0:  # context paths are clean: no normpath needed
            target = f"{prefix}{file.path}"
        elif file.path.count("/") + 1 == depth:  # the source matched the file itself
            target = posixpath.normpath(posixpath.join(dest, name) if dest_is_dir else dest)
        else:
            target = posixpath.normpath(posixpath.join(dest, *file.path.split("/")[depth:]))
        stat = None if file.is_symlink else (file.size, file.mtime_ns)
        found[target] = CodeFile(target, f"{root}/{file.path}", stat)
    return found


def _not_code(image: Image):
    """A test for context paths that are no code of the service, though a COPY takes them:
    files inside a virtualenv (a folder holding ``pyvenv.cfg``: a developer's committed
    ``venv38/``, with its packages' own examples) or a dependency, cache or version-control
    folder (discovery's SKIP_DIRS)."""
    from dockerlint.discover import SKIP_DIRS
    from dockerlint.model.buildcontext import virtualenvs

    def build():
        environments = virtualenvs(image)
        return lambda path: (
            path.startswith(environments) or not SKIP_DIRS.isdisjoint(path.split("/")[:-1]) or _runs_elsewhere(path)
        )

    return image.memoized(("not_code",), build)


def _runs_elsewhere(path: str) -> bool:
    """A CI pipeline's file (a GitHub workflow, ``.gitlab-ci.yml``): its commands run on the
    CI runner, so what it names is no use by the container that happens to hold it."""
    from dockerlint.discover import build_file_kind

    return build_file_kind(tuple(path.split("/"))) in ("github", "gitlab", "circleci", "azure")


def _carried_files(origin: dict[str, CodeFile], source: str, dest: str, dest_is_dir: bool) -> dict[str, CodeFile]:
    source = posixpath.normpath("/" + source.lstrip("/"))
    found = {}
    for path, file in origin.items():
        if path == source:
            target = posixpath.join(dest, posixpath.basename(path)) if dest_is_dir else dest
        elif source == "/" or path.startswith(source + "/"):
            target = posixpath.normpath(posixpath.join(dest, path[len(source) :].lstrip("/")))
        else:
            continue
        found[target] = CodeFile(target, file.location, file.stat)
    return found


def _project_files(image: Image, folder: Path) -> list[tuple[str, CodeFile]]:
    """The source files of a local project the image installs (its build puts them into
    site-packages even when no COPY brings them into the final stage)."""
    try:
        relative = folder.relative_to(image.context_root).as_posix()
    except ValueError:
        return []
    prefix = "" if relative == "." else relative + "/"
    root = str(image.context_root)
    return [
        (
            file.path[len(prefix) :],
            CodeFile(
                f"/site-packages/{file.path[len(prefix) :]}",
                f"{root}/{file.path}",
                None if file.is_symlink else (file.size, file.mtime_ns),
            ),
        )
        for file in image.context.files
        if file.path.startswith(prefix) and file.path.endswith(".py")
    ]

"""The package index build script: how it reads a wheel, requirement markers and version
samples (on wheels written here, no network), and what the shipped index looks like."""

from __future__ import annotations

import importlib.util
import io
import zipfile

import pytest

from dockerlint.knowledge import PackageIndex
from tests.conftest import REPO_ROOT

_spec = importlib.util.spec_from_file_location("build_package_index", REPO_ROOT / "scripts" / "build_package_index.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def make_wheel(path, files: dict[str, str]):
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
    return path


def test_import_names_of_a_wheel_with_a_namespace_package_an_extension_and_a_module(tmp_path):
    wheel = make_wheel(
        tmp_path / "acme-1.0-py3-none-any.whl",
        {
            "acme/__init__.py": "",
            "acme/core.py": "",
            "google/cloud/acme/__init__.py": "",  # a namespace: google and google.cloud have no __init__
            "opentelemetry/exporter/acme/proto/grpc/__init__.py": "",  # four namespaces deep
            "_acme_speedups.cpython-311-x86_64-linux-gnu.so": "",
            "acme_compat.py": "",
            "tests/__init__.py": "",  # shipped by mistake: not an import name to own
            "acme.libs/libz.so": "",
            "acme-1.0.dist-info/METADATA": "Name: acme\nVersion: 1.0\nRequires-Dist: idna\n",
            "acme-1.0.dist-info/entry_points.txt": "[console_scripts]\nacme = acme.cli:main\n[pytest11]\nx = acme.x\n",
            "acme-1.0.data/scripts/acme-legacy": "#!python\n",
        },
    )
    facts = build.read_wheel(wheel)
    assert facts["modules"] == [
        "_acme_speedups", "acme", "acme_compat", "google.cloud.acme", "opentelemetry.exporter.acme.proto.grpc"]  # fmt: skip
    assert facts["commands"] == ["acme", "acme-legacy"]
    assert facts["groups"] == ["pytest11"]
    assert facts["metadata"]["requires_dist"] == ["idna"]
    assert facts["size"] > 0 and facts["cuda_bytes"] == 0
    assert facts["py_bytes"] == 0  # the Python files are empty; scripts and metadata are not compiled


def test_the_python_source_pip_compiles_is_counted(tmp_path):
    wheel = make_wheel(
        tmp_path / "pure-1.0-py3-none-any.whl",
        {
            "pure/__init__.py": "x = 1\n" * 100,  # 600 bytes
            "pure/data.json": "{}" * 1000,
            "pure-1.0.data/purelib/pure_extra.py": "y = 2\n" * 10,  # 60 bytes, installed in site-packages
            "pure-1.0.data/scripts/pure-tool.py": "print()\n" * 50,  # a script: not compiled
            "pure-1.0.dist-info/METADATA": "Name: pure\nVersion: 1.0\n",
        },
    )
    facts = build.read_wheel(wheel)
    assert facts["py_bytes"] == 660 and facts["size"] > 2660


def test_a_collection_of_thousands_of_namespace_modules_is_named_by_its_prefixes(monkeypatch):
    """ansible's wheel holds ansible_collections.<namespace>.<collection>.plugins.modules.*
    in folders without __init__: those are files of collections, not names to own."""
    monkeypatch.setattr(build, "MAX_IMPORT_NAMES", 4)
    modules = ["ansible"] + [f"ansible_collections.{ns}.{coll}.plugins.modules.m{i}"
                             for ns in ("amazon", "cisco") for coll in ("aws", "ios") for i in range(3)]  # fmt: skip
    assert build._import_names(modules) == ["ansible", "ansible_collections.amazon", "ansible_collections.cisco"]
    assert build._import_names(["acme", "acme_compat"]) == ["acme", "acme_compat"]


def test_bundled_cuda_libraries_are_counted(tmp_path):
    wheel = make_wheel(
        tmp_path / "gpu-1.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        {"gpu/__init__.py": "", "gpu/lib/libcudart.so.12": "x" * 1000, "gpu/lib/libgpu.so": "y" * 10},
    )
    assert build.read_wheel(wheel)["cuda_bytes"] == 1000


def test_imports_of_other_packages_are_edges_with_where_they_happen(tmp_path):
    wheel = make_wheel(
        tmp_path / "pipes-1.0-py3-none-any.whl",
        {
            "pipes_lib/__init__.py": """
try:
    import orjson as json
except ImportError:
    import json

if is_available("speedups"):
    import speedups
""",
            "pipes_lib/pipeline.py": """
import numpy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

class Pipeline:
    def enable_fast_attention(self):
        import fastattn
        return fastattn.patch(self)

    def _private(self):
        return importlib.import_module("pdfreader.io")

def load_pdf(path):
    return Pipeline()._private()
""",
            "pipes_lib/pytest_plugin.py": "import pytest\n",
        },
    )
    uses = build.read_wheel(wheel)["uses"]
    # at load time: the modules whose import runs it (the package itself: whenever it is imported)
    assert uses["orjson"] == {"at": ["pipes_lib"]} and uses["speedups"] == {"at": ["pipes_lib"]}
    assert uses["numpy"] == {"at": ["pipes_lib.pipeline"]}  # a requirement, or optional with that module
    assert uses["pytest"] == {"at": ["pipes_lib.pytest_plugin"]}  # an optional module of its own
    assert "pandas" not in uses  # type checking only
    # inside functions: the public names whose call reaches the import
    assert uses["fastattn"] == {"calls": ["enable_fast_attention"]}
    assert uses["pdfreader.io"] == {"calls": ["load_pdf"]}  # through the private method it calls; by module path


def test_a_validator_that_imports_counts_as_the_class_it_validates(tmp_path):
    """A pydantic model runs its validators when it is built: LangChain's wrappers import
    their optional package in one, so constructing the wrapper reaches that import."""
    wheel = make_wheel(
        tmp_path / "wrappers-1.0-py3-none-any.whl",
        {
            "wrappers/pubmed.py": """
from pydantic import BaseModel, model_validator, root_validator

class PubMedWrapper(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def validate_environment(cls, values):
        import xmltodict
        return values

class OldWrapper(BaseModel):
    @root_validator(pre=True)
    def validate_environment(cls, values):
        import feedparser
        return values

    def search(self, query):
        import arxiv
        return arxiv.Search(query)
""",
        },
    )
    uses = build.read_wheel(wheel)["uses"]
    assert uses["xmltodict"] == {"calls": ["PubMedWrapper"]}
    assert uses["feedparser"] == {"calls": ["OldWrapper"]}
    assert uses["arxiv"] == {"calls": ["search"]}  # a plain method stays known by its name


def test_a_package_helper_named_for_importing_imports_its_literal_argument(tmp_path):
    """pyconfs' `toml = delayed_import("toml")`, `_import_optional("yaml")`: a package's own
    import helper, known by its name, with a module name as its argument; a function whose
    name only contains the word (`important`, `reimported`) is not one."""
    wheel = make_wheel(
        tmp_path / "confs-1.0-py3-none-any.whl",
        {
            "confs/__init__.py": "",
            "confs/readers/toml.py": 'from confs._util import delayed_import\ntoml = delayed_import("toml")\n',
            "confs/readers/yaml.py": 'def load(text):\n    return _import_optional("yaml").safe_load(text)\n',
            "confs/notes.py": 'important("rich")\nreimported("colorama")\n',
        },
    )
    uses = build.read_wheel(wheel)["uses"]
    assert uses["toml"] == {"at": ["confs.readers.toml"]}
    assert uses["yaml"] == {"calls": ["load"]}
    assert "rich" not in uses and "colorama" not in uses


def test_an_import_the_package_goes_on_without_is_no_use_unless_a_function_raises_without_it(tmp_path):
    wheel = make_wheel(
        tmp_path / "learn-1.0-py3-none-any.whl",
        {
            "learn/__init__.py": "from learn.fixes import pd\n",
            "learn/fixes.py": """
try:
    import pandas as pd
except ImportError:
    pd = None

if is_attn_available():
    import attn
else:
    attn = None
""",
            "learn/estimator.py": """
from contextlib import suppress
from learn.fixes import pd, attn

def fit(X):
    if pd is not None and isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    with suppress(ImportError):
        import polars
    try:
        import pyarrow
    except ImportError:
        pass
    return X

def enable_fast_attention(model):
    if not is_attn_available():
        raise ImportError("attn is needed")
    return attn.patch(model)

def load_frame(path):
    try:
        import pandas
    except ImportError as error:
        raise ImportError("load_frame requires pandas") from error
    return pandas.read_csv(path)
""",
        },
    )
    uses = build.read_wheel(wheel)["uses"]
    # scikit-learn's `pd = None`: frames are handled when the service has pandas, never needed
    assert "polars" not in uses and "pyarrow" not in uses
    assert uses["pandas"] == {"calls": ["load_frame"]}  # raising without it: a use, by that call
    assert uses["attn"] == {"calls": ["enable_fast_attention"]}  # diffusers' xformers switch


def test_an_import_with_an_alternative_or_chosen_by_at_load_time_is_a_use(tmp_path):
    """botocore defines its own `where()` when certifi is missing, and aiohttp picks its DNS
    resolver at load time by whether aiodns imported: both use the package when installed,
    unlike a placeholder read only inside functions (scikit-learn's `pd = None`)."""
    wheel = make_wheel(
        tmp_path / "netlib-1.0-py3-none-any.whl",
        {
            "netlib/__init__.py": "from netlib import certs, resolver, frames\n",
            "netlib/certs.py": """
try:
    from certifi import where
except ImportError:
    def where():
        return "/etc/ssl/certs/ca-certificates.crt"
""",
            "netlib/resolver.py": """
try:
    import aiodns
    aiodns_default = True
except ImportError:
    aiodns = None
    aiodns_default = False

class ThreadedResolver: ...
class AsyncResolver: ...
DefaultResolver = AsyncResolver if aiodns_default else ThreadedResolver
""",
            "netlib/frames.py": """
try:
    import pandas as pd
except ImportError:
    pd = None

try:
    from pyarrow import Table
except ImportError:
    class Table:  # a stub for isinstance checks
        pass

def to_rows(data):
    return data.to_dict("records") if pd is not None and isinstance(data, pd.DataFrame) else data
""",
        },
    )
    uses = build.read_wheel(wheel)["uses"]
    assert uses["certifi.where"] == {"at": ["netlib"]}
    assert uses["aiodns"] == {"at": ["netlib"]}
    assert "pandas" not in uses and "pyarrow.Table" not in uses


def test_a_lazy_import_reached_from_most_of_the_package_is_no_edge_unless_tried_first(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "MAX_WHERE", 2)
    wheel = make_wheel(
        tmp_path / "plumb-1.0-py3-none-any.whl",
        {
            "plumb/__init__.py": "",
            "plumb/core.py": """
def _check(X):
    if hasattr(X, "dtypes"):
        import pandas
        return pandas.api.types.is_bool_dtype(X.dtypes)

def _dumps(value):
    try:
        import orjson
        return orjson.dumps(value)
    except ImportError:
        import json
        return json.dumps(value).encode()

def fit(X): return _check(X), _dumps(X)
def predict(X): return _check(X), _dumps(X)
def transform(X): return _check(X), _dumps(X)
""",
        },
    )
    uses = build.read_wheel(wheel)["uses"]
    assert "pandas" not in uses  # whether it runs depends on the data, not on what is called
    assert uses["orjson"] == {"at": ["plumb"]}  # an accelerator every call tries


def test_an_import_in_a_namespace_many_share_is_an_edge_to_the_distribution_owning_it(tmp_path):
    """protobuf, google-cloud-storage and google-cloud-bigquery all put modules under
    `google/`: an import of google.protobuf is protobuf's, not every google-* one's."""
    code = "from google.protobuf import message\n\ndef upload():\n    import google.cloud.storage\n"
    wheel = make_wheel(tmp_path / "gsync-1.0-py3-none-any.whl", {"gsync/__init__.py": code})
    facts = {**build.read_wheel(wheel), "version": "1.0", "source": "s"}

    def record(modules, wheel_facts=None):
        facts = wheel_facts or {"version": "1.0", "modules": modules, "commands": [], "size": 1, "groups": [],
                                "cuda_bytes": 0, "source": "s"}  # fmt: skip
        return {"why": "seed list", "ranges": [("1.0", {"requires_dist": [], "source": "s"})], "wheel": facts}

    records = {
        "gsync": record(None, facts),
        "protobuf": record(["google._upb", "google.protobuf"]),
        "google-cloud-storage": record(["google.cloud.storage"]),
        "google-cloud-bigquery": record(["google.cloud.bigquery"]),
    }
    may_use = build.assemble(records)["distributions"]["gsync"]["may_use"]
    assert may_use == {"google-cloud-storage": {"calls": ["upload"]}, "protobuf": {"at": ["gsync"]}}
    # facts of an older reader name only the top-level module: every owner, as before
    records["gsync"]["wheel"] = {**facts, "uses": {"google": {"at": ["gsync"]}}}
    assert set(build.assemble(records)["distributions"]["gsync"]["may_use"]) == {
        "protobuf", "google-cloud-storage", "google-cloud-bigquery"}  # fmt: skip


def test_an_import_some_releases_leave_to_an_extra_is_a_may_use_edge(tmp_path):
    """A bot library whose async helper imports aiohttp, required from 2.0 and an extra
    before: the releases before 2.0 may use it (the edge); one every release requires is
    not an edge (the requirements give it)."""
    code = "import aiohttp\nimport requests\n"
    wheel = make_wheel(tmp_path / "tgbot-2.0-py3-none-any.whl", {"tgbot/__init__.py": "", "tgbot/aio.py": code})
    facts = {**build.read_wheel(wheel), "version": "2.0", "source": "s"}

    def metadata(*requires):
        return {"requires_dist": list(requires), "source": "s"}

    def record(modules):
        return {"why": "seed list", "ranges": [("1.0", metadata())], "wheel": {
            "version": "1.0", "modules": modules, "commands": [], "size": 1, "groups": [], "cuda_bytes": 0,
            "source": "s"}}  # fmt: skip

    records = {
        "tgbot": {
            "why": "seed list",
            "ranges": [
                ("1.0", metadata("requests", 'aiohttp; extra == "async"')),
                ("2.0", metadata("requests", "aiohttp")),
            ],
            "wheel": facts,
        },
        "aiohttp": record(["aiohttp"]),
        "requests": record(["requests"]),
    }
    assert build.assemble(records)["distributions"]["tgbot"]["may_use"] == {"aiohttp": {"at": ["tgbot.aio"]}}


@pytest.mark.parametrize(
    "requires, extras, expected",
    [
        (["idna (>=2.5)"], [], (["idna"], {})),
        (['chardet<5,>=3.0.2; python_version < "3"'], [], ([], {})),  # no Python 3.8+ has it
        (['async-timeout>=4.0.2; python_full_version <= "3.11.2"'], [], (["async-timeout"], {})),
        (['pywin32; sys_platform == "win32"'], [], ([], {})),
        (['hiredis>=1.0.0; extra == "hiredis"'], ["hiredis"], ([], {"hiredis": ["hiredis"]})),
        (['PySocks!=1.5.7; extra == "socks"', "PySocks"], ["socks"], (["pysocks"], {})),
        # legacy ranges packaging no longer reads: the name is still required (celery 5.0.5)
        (["pytz (>dev)", "kombu (<6.0,>=5.0.0)"], [], (["kombu", "pytz"], {})),
        (["azure-core (>=1.11.0<2)"], [], (["azure-core"], {})),
        (["tinycss2 (>=1.1.0<1.2) ; extra == 'css'"], ["css"], ([], {"css": ["tinycss2"]})),
        (["pydantic (>=1.0.0<1.9.0) ; (python_version <= \"3.6\") and extra == 'pydantic'"], ["pydantic"], ([], {})),
        (["not a requirement at all ("], [], ([], {})),
    ],
)
def test_requirement_names_on_linux_for_some_python_3(requires, extras, expected):
    assert build.requirement_names({"requires_dist": requires, "provides_extra": extras}) == expected


def test_samples_are_the_newest_of_each_minor_series_spread_over_the_last_ones():
    listed = [f"1.{minor}.{patch}" for minor in range(40, 0, -1) for patch in (2, 1, 0)]
    chosen = build.sample(listed)
    assert len(chosen) == build.SAMPLES
    assert chosen[0] == "1.40.2" and all(version.endswith(".2") for version in chosen)
    assert chosen[-1] == f"1.{40 - build.SERIES + 1}.2"


def test_the_last_release_of_each_older_major_series_is_read_too():
    """openai 3.x alone has more minor series than are sampled: an image pinning
    openai==0.28.1 installs what 0.28's metadata asks for (aiohttp, requests)."""
    listed = [f"3.{minor}.0" for minor in range(60, 0, -1)] + ["2.9.1", "2.9.0", "1.5.0", "0.28.1", "0.27.0"]
    chosen = build.sample(listed)
    assert chosen[: build.SAMPLES] == build.sample(listed[:60])
    assert chosen[build.SAMPLES :] == ["2.9.1", "1.5.0", "0.28.1"][: build.OLDER_MAJORS]


def test_the_shipped_index_records_where_each_entry_comes_from():
    from dockerlint.knowledge import load_packages

    index = load_packages()
    assert index.header["platform"].endswith("x86_64")
    entry = index.record("redis")
    assert any(source.startswith("pip download --no-deps: redis-") for source in entry["source"])
    assert entry["ranges"][0]["from"] is None
    assert index.header["distributions"] == len(list(index)) >= 1000
    assert "redis" in index.owners["modules"]["redis"] and index.record("no-such-distribution") is None


def test_first_reader_facts_give_only_the_names_they_recorded():
    """Wheels read before the reader recorded where an import happens: their names stay
    call edges, their 'whenever imported' edges are left out rather than guessed."""
    wheel = {"modules": ["acme"], "lazy": {"pypdf": None, "faiss": ["FAISS", "save_local"], "numpy": []}}
    assert build._wheel_uses(wheel) == {"faiss": {"calls": ["FAISS", "save_local"]}}
    current = {"modules": ["acme"], "uses": {"orjson": {"at": ["acme"]}}}
    assert build._wheel_uses(current) == current["uses"]


def test_a_meta_package_today_gets_the_modules_of_the_newest_older_wheel_that_has_some(tmp_path):
    """apache-airflow 3 holds no modules (its code is apache-airflow-core's): the wheels of
    the releases just before each requirement range starts are read, newest first, until
    one holds modules; the releases before that range are taken to hold the same."""
    cache = build.Cache(tmp_path, offline=True)
    listed = ["3.1.0", "3.0.1", "3.0.0", "2.11.2", "2.11.1", "1.0"]  # newest first
    ranges = [("1.0", {}), ("2.11.1", {}), ("3.0.0", {}), ("3.0.1", {})]
    cache.put({"version": "3.0.0", "modules": [], "commands": [], "size": 900}, "earlier", "acme", "3.0.0")
    cache.put({"version": "2.11.2", "modules": ["acme"], "commands": ["acme"], "size": 9_000_000,
               "source": "pip download --no-deps: acme-2.11.2-py3-none-any.whl"}, "earlier", "acme", "2.11.2")  # fmt: skip
    found = build.earlier_wheel(cache, "acme", listed, ranges)
    assert (found["version"], found["modules"], found["before"]) == ("2.11.2", ["acme"], "3.0.0")
    assert build.earlier_wheel(cache, "acme", listed, ranges[:1]) is None  # one range: nothing to go back to

    record = {"why": "seed list", "ranges": [(v, {"requires_dist": [], "source": "s"}) for v, _ in ranges],
              "wheel": {"version": "3.1.0", "modules": [], "commands": [], "size": 900, "groups": [], "cuda_bytes": 0,
                        "source": "pip download --no-deps: acme-3.1.0-py3-none-any.whl"},
              "earlier": found}  # fmt: skip
    entry = build.assemble({"acme": record})["distributions"]["acme"]
    assert entry["earlier"] == {"before": "3.0.0", "version": "2.11.2", "modules": ["acme"], "commands": ["acme"],
                                "size": 9_000_000}  # fmt: skip
    assert entry["source"][-1].endswith("acme-2.11.2-py3-none-any.whl (releases before 3.0.0)")


def test_lookup_reads_a_meta_package_by_the_release_pinned():
    from dockerlint.model.distributions import _from_entry

    ranges = [{"from": None, "requires": ["sqlalchemy"]}, {"from": "3.0.0", "requires": ["acme-core"]}]
    earlier = {"before": "3.0.0", "version": "2.11.2", "modules": ["acme"], "commands": ["acme"], "size": 9_000_000}
    entry = {"modules": [], "commands": [], "size": 900, "ranges": ranges, "earlier": earlier}
    old, new = _from_entry("acme", entry, {}, 0), _from_entry("acme", entry, {}, 1)
    assert (old.modules, old.commands, old.size, old.known) == (("acme",), ("acme",), 9_000_000, True)
    assert (new.modules, new.size, new.known) == ((), 900, True)
    unread = _from_entry("acme", {**entry, "earlier": None}, {}, 0)
    assert (unread.known, unread.size) == (False, None)


def test_the_most_downloaded_names_are_one_tier_after_the_seed_list():
    names = {"a": "override file", "b": "seed list, part 1 of 2", "c": "rank 12 of 15000", "d": "rank 3 of 15000",
             "e": "seed list, part 2 of 2"}  # fmt: skip
    assert build._tiers(names) == [["a"], ["b"], ["e"], ["c", "d"]]


def test_the_move_is_found_by_bisection_among_many_ranges_of_meta_package_releases(tmp_path):
    """apache-airflow has some fifteen requirement ranges since its code moved: the wheel
    before the move is found in a few reads, not by walking back range after range."""
    cache = build.Cache(tmp_path, offline=True)
    starts = ["1.0.0", "2.0.0", "2.5.0", *(f"3.{minor}.0" for minor in range(16))]  # each release starts a range
    listed = list(reversed(starts))  # newest first
    for version in listed[1:]:
        modules = [] if version.startswith("3.") else ["acme"]
        cache.put({"version": version, "modules": modules, "commands": [], "size": 1, "source": "s"},
                  "earlier", "acme", version)  # fmt: skip
    read = []
    get = cache.get
    cache.get = lambda *parts: read.append(parts[-1]) or get(*parts)
    found = build.earlier_wheel(cache, "acme", listed, [(start, {}) for start in starts])
    assert (found["version"], found["before"]) == ("2.5.0", "3.0.0")
    assert len(read) <= build.EARLIER_TRIES < 16  # walking back from 3.15 would not have reached it


def test_the_index_lists_every_name_some_range_or_extra_requires(tmp_path):
    records = {
        "acme": {"ranges": [{"requires": ["numpy", "cuda-toolkit[cublas]"], "extras": {"plot": ["matplotlib"]}},
                            {"requires": ["scipy"]}]},
        "numpy": {"ranges": [{"requires": []}]},
    }  # fmt: skip
    build.write_index({"distributions": records}, tmp_path / "packages.index")
    index = PackageIndex((tmp_path / "packages.index").read_bytes())
    assert index.listed("required") == ["cuda-toolkit", "matplotlib", "numpy", "scipy"]
    assert sorted(index) == ["acme", "numpy"] and index.record("acme") == records["acme"]


def test_the_shipped_index_lists_what_its_records_require():
    """The header's list is what a pass over every record finds (a rebuilt header never
    drifts from its records)."""
    from dockerlint.knowledge import load_packages

    index = load_packages()
    found = set()
    for name in index:
        for item in index.decode(name)["ranges"]:
            for requirement in [*item["requires"], *(n for names in item.get("extras", {}).values() for n in names)]:
                found.add(requirement.partition("[")[0])
    assert index.listed("required") == sorted(found)


def test_an_index_read_back_is_the_data_it_was_written_from(tmp_path):
    """`--add` reads the shipped index to add records to it: the records, their may-use
    edges split over the two files, and the build's facts come back as written."""
    data = {
        "format": 2,
        "python": "3.11",
        "platform": "manylinux_2_28_x86_64",
        "distributions": {
            "acme": {
                "version": "1.0",
                "modules": ["acme"],
                "ranges": [{"from": None, "requires": ["numpy"]}],
                "may_use": {"pandas": {"at": ["acme.frame"], "calls": ["to_frame"]}, "scipy": {"at": ["acme.fit"]}},
            },
            "numpy": {"version": "2.1.3", "modules": ["numpy"], "ranges": [{"from": None, "requires": []}]},
        },
    }
    output = tmp_path / "packages.index"
    build.write_index(data, output)
    assert build.read_index(output) == data
    first = output.read_bytes()
    build.write_index(build.read_index(output), output)
    assert output.read_bytes() == first


def test_an_sdist_is_named_by_the_modules_its_setup_declares_and_where_it_keeps_them(tmp_path):
    """No wheel on PyPI: the sdist's setup.py says what installs. pydotplus keeps its package
    in lib/ (`package_dir={"": "lib"}`); the typing backport holds a python2/ and a src/ copy
    of one module (`py_modules=["typing"]`): neither is a module named `lib` or `python2`."""
    import tarfile

    def sdist(name: str, files: dict[str, str]):
        path = tmp_path / f"{name}-1.0.tar.gz"
        with tarfile.open(path, "w:gz") as archive:
            for member, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(f"{name}-1.0/{member}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return path

    lib = sdist(
        "dotlib",
        {
            "setup.py": 'from setuptools import setup\nsetup(name="dotlib", package_dir={"": "lib"}, '
            'packages=["dotlib"], install_requires=["pyparsing>=2.0.1"])\n',
            "lib/dotlib/__init__.py": "import pyparsing\n",
            "lib/dotlib/parser.py": "",
        },
    )
    facts = build.read_sdist(lib)
    assert facts["modules"] == ["dotlib"] and facts["metadata"]["requires_dist"] == ["pyparsing>=2.0.1"]
    assert facts["size"] == len("import pyparsing\n")
    two = sdist(
        "typed",
        {
            "setup.py": "import sys\nfrom setuptools import setup\n"
            'package_dir = {"": "python2" if sys.version_info[0] == 2 else "src"}\n'
            'setup(name="typed", py_modules=["typed"], package_dir=package_dir)\n',
            "python2/typed.py": "",
            "src/typed.py": "",
            "src/test_typed.py": "",
        },
    )
    assert build.read_sdist(two)["modules"] == ["typed"]
    # a compiled extension installs what the compiler makes: its size is not the sdist's
    native = sdist(
        "facekit",
        {
            "setup.py": 'from setuptools import setup\nsetup(name="facekit", package_dir={"": "tools/python"}, '
            'packages=["facekit"], ext_modules=[])\n',
            "tools/python/facekit/__init__.py": "from _facekit import *\n",
            "tools/python/src/facekit.cpp": "int main() { return 0; }\n",
        },
    )
    facts = build.read_sdist(native)
    assert facts["modules"] == ["facekit"] and facts["size"] is None

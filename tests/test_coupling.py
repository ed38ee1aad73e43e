"""The torch coupling table: well-formed data, and the answers the REQ001 and LAY003 rules rest on."""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from dockerlint.knowledge import load
from dockerlint.model import coupling


def test_table_rows_parse_and_names_pass_the_cheap_prefilter():
    table = load("torch_coupling")
    for name, rows in table["requires_torch"].items():
        assert coupling.coupled(name)
        for release, requirement in rows.items():
            Version(release)
            SpecifierSet(requirement)
    releases = table["torch_releases"]["versions"]
    assert [Version(v) for v in releases] == sorted(Version(v) for v in releases)
    for python, newest in table["torch_newest"].items():
        assert newest in releases, python


def test_allowed_torch_follows_the_rows_and_newer_releases():
    accepted, rows = coupling.torch_allowed("torchvision", "==0.17.0")
    assert accepted == {"2.2.0"} and rows == (("0.17.0", "==2.2.0"),)
    accepted, rows = coupling.torch_allowed("torchvision", ">=0.18")
    assert "2.0.1" not in accepted and {"2.3.0", coupling.FUTURE} <= accepted
    assert rows[-1][0].startswith("newer than")
    assert coupling.torch_allowed("torchvision", "==0.18.1+cu121")[0] == {"2.3.1"}
    assert coupling.torch_allowed("torchvision", "==9.0") is None
    assert coupling.torch_allowed("numpy", "==1.26.4") is None
    assert coupling.torch_matching("==2.3.1+cpu") == {"2.3.1"}


def test_newest_torch_per_python():
    assert coupling.newest_torch("3.8") == ("2.4.1", True)
    release, final = coupling.newest_torch("3.12")
    assert not final and Version(release) >= Version("2.15.0")
    assert coupling.newest_torch("2.7") is None

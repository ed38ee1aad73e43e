"""The modules a pickled model names, read without unpickling it."""

from __future__ import annotations

import pickle
import sys
import types
from datetime import date

import pytest

from dockerlint.parse.pickled import pickled_modules


@pytest.fixture
def model(monkeypatch):
    """A fitted pipeline whose classes live in ``xgboost.sklearn`` and
    ``sklearn.preprocessing``, libraries the test machine need not have."""
    classes = {}
    for module_name, name in (("xgboost.sklearn", "XGBClassifier"), ("sklearn.preprocessing", "StandardScaler")):
        top = module_name.split(".")[0]
        module = types.ModuleType(module_name)
        classes[name] = type(name, (), {"__module__": module_name, "__qualname__": name})
        setattr(module, name, classes[name])
        monkeypatch.setitem(sys.modules, top, types.ModuleType(top))
        monkeypatch.setitem(sys.modules, module_name, module)
    classifier = classes["XGBClassifier"]()
    classifier.n_estimators = 200
    return {"steps": [classes["StandardScaler"](), classifier, classes["XGBClassifier"]()], "trained": date(2025, 3, 1)}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_protocol_names_the_modules_of_its_classes(model, protocol):
    # protocol 4 and 5 name a repeated module through the memo (STACK_GLOBAL after BINGET)
    assert pickled_modules(pickle.dumps(model, protocol=protocol)) == {"xgboost", "sklearn", "datetime"}


def test_array_bytes_after_the_objects_end_the_walk_with_what_was_named(model):
    """joblib writes each array's raw bytes after the pickled wrapper: they are no opcodes."""
    data = pickle.dumps(model, protocol=4)[:-1] + bytes(range(256)) * 64
    assert {"xgboost", "sklearn"} <= pickled_modules(data)


def test_what_is_no_pickle_names_nothing():
    assert pickled_modules(b"") == set()
    assert pickled_modules(b"model weights, not a pickle") == set()
    assert pickled_modules(b"\x80\x04\x95\xff\xff\xff\xff") == set()  # a frame cut short
    assert pickled_modules(b"PK\x03\x04" + bytes(100)) == set()  # a zip (torch.save) is not read


def test_a_pickle_that_would_run_a_command_is_only_read(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (__import__("os").system, (f"touch {marker}",))

    data = pickle.dumps(Payload(), protocol=2)
    assert pickled_modules(data) <= {"os", "posix", "nt"}
    assert not marker.exists()


def test_a_module_name_the_pickle_wrote_before_is_read_from_the_memo(monkeypatch):
    module = types.ModuleType("lightgbm.sklearn")
    module.LGBMClassifier = type("LGBMClassifier", (), {"__module__": "lightgbm.sklearn"})
    monkeypatch.setitem(sys.modules, "lightgbm", types.ModuleType("lightgbm"))
    monkeypatch.setitem(sys.modules, "lightgbm.sklearn", module)
    # the string comes first as data; the class's STACK_GLOBAL then takes it from the memo
    data = pickle.dumps({"library": "lightgbm.sklearn", "model": module.LGBMClassifier()}, protocol=4)
    assert b"lightgbm.sklearn" in data and data.count(b"lightgbm.sklearn") == 1
    assert pickled_modules(data) == {"lightgbm"}

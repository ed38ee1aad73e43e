import ast
import json
import random
import time
from pathlib import Path

import pytest

from dockerlint.parse import notebook as notebook_module
from dockerlint.parse.notebook import notebook_source
from dockerlint.parse.python import scan_imports

DATA = Path(__file__).parent / "data" / "notebook"
CHURN = (DATA / "churn.ipynb").read_bytes()  # written as Jupyter writes: indent 1, sorted keys


def notebook(*cells, metadata=None, minor=5) -> bytes:
    """A notebook file as Jupyter writes it; a cell is a source (code) or a (type, source) pair."""
    rows = []
    for number, cell in enumerate(cells, 1):
        cell_type, source = cell if isinstance(cell, tuple) else ("code", cell)
        row = {"cell_type": cell_type, "id": f"cell-{number}", "metadata": {}, "source": source}
        if cell_type == "code":
            row.update(execution_count=number, outputs=[])
        rows.append(row)
    if metadata is None:
        metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    document = {"cells": rows, "metadata": metadata, "nbformat": 4, "nbformat_minor": minor}
    return (json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def cell_lines(source: list[str] | str) -> list[str]:
    result = notebook_source(notebook(source))
    return result.text.split("\n")[:-1]


def imports_with_ipynb_lines(data: bytes) -> list[tuple[str, int]]:
    result = notebook_source(data)
    return [(found.module, result.lines[found.line - 1]) for found in scan_imports(result.text).imports]


def test_data_science_notebook():
    result = notebook_source(CHURN)
    assert result.language == "python"
    ast.parse(result.text)  # no IPython syntax left
    assert imports_with_ipynb_lines(CHURN) == [
        ("pandas", 30),
        ("numpy", 31),
        ("sklearn.model_selection", 32),
        ("seaborn", 72),  # the body of a %%time cell
        ("xgboost", 102),  # `%time import xgboost` inside a function
    ]
    assert result.shell_commands == (
        "pip install -q transformers",
        "nvidia-smi\npython -c 'import torch'",  # the %%bash cell
        "ls data",  # files = !ls data
    )
    assert "not_a_cell" not in result.text  # an output's "source" key is no cell
    assert "raw_not_code" not in result.text and "Customer churn" not in result.text


def test_every_line_maps_to_the_ipynb_line_that_writes_it():
    result = notebook_source(CHURN)
    ipynb_lines = CHURN.decode().split("\n")
    text_lines = result.text.split("\n")[:-1]
    assert len(text_lines) == len(result.lines) == result.text.count("\n")
    for line, ipynb_line in zip(text_lines, result.lines, strict=True):
        if line.strip() and line.strip() != "pass":
            assert json.dumps(line.strip())[1:-1] in ipynb_lines[ipynb_line - 1]


def test_nbformat_3_notebook():
    data = b"""{
 "metadata": {
  "name": "",
  "signature": "sha256:0f6c8e1d"
 },
 "nbformat": 3,
 "nbformat_minor": 0,
 "worksheets": [
  {
   "cells": [
    {
     "cell_type": "heading",
     "level": 1,
     "metadata": {},
     "source": [
      "Regression"
     ]
    },
    {
     "cell_type": "code",
     "collapsed": false,
     "input": [
      "%pylab inline\\n",
      "import statsmodels.api as sm"
     ],
     "language": "python",
     "metadata": {},
     "outputs": [
      {
       "output_type": "stream",
       "stream": "stdout",
       "text": [
        "Populating the interactive namespace from numpy and matplotlib\\n"
       ]
      }
     ],
     "prompt_number": 1
    },
    {
     "cell_type": "code",
     "collapsed": false,
     "input": [
      "from patsy import dmatrices"
     ],
     "language": "python",
     "metadata": {},
     "outputs": [],
     "prompt_number": 2
    }
   ],
   "metadata": {}
  }
 ]
}
"""
    assert imports_with_ipynb_lines(data) == [("statsmodels.api", 24), ("patsy", 43)]
    assert notebook_source(data).text == "pass\nimport statsmodels.api as sm\n\nfrom patsy import dmatrices\n"


@pytest.mark.parametrize(
    "metadata",
    [
        {"kernelspec": {"display_name": "R", "language": "R", "name": "ir"}, "language_info": {"name": "R"}},
        {"language_info": {"name": "julia", "version": "1.9.3"}},
        {"kernelspec": {"display_name": "SageMath 10.0", "language": "sage", "name": "sagemath"}},
    ],
)
def test_notebook_of_another_language_is_not_read(metadata):
    assert notebook_source(notebook("library(ggplot2)", metadata=metadata)) is None


@pytest.mark.parametrize(
    "metadata, language",
    [
        ({}, "python"),
        ({"language_info": {"name": "python", "version": "3.10.12"}}, "python"),
        ({"kernelspec": {"language": "Python", "name": "conda-env-ml-py"}}, "python"),
    ],
)
def test_python_notebooks(metadata, language):
    assert notebook_source(notebook("import os", metadata=metadata)).language == language


def test_source_as_one_string_maps_every_line_to_that_string():
    data = notebook("import requests\nimport boto3\n", ("markdown", "# Notes"), "import yaml")
    result = notebook_source(data)
    assert result.text == "import requests\nimport boto3\n\nimport yaml\n"
    lines = data.decode().split("\n")
    first = next(n for n, line in enumerate(lines, 1) if "import requests" in line)
    last = next(n for n, line in enumerate(lines, 1) if "import yaml" in line)
    assert result.lines == (first, first, first, last)


def test_minified_notebook_maps_to_its_one_line():
    document = json.loads(CHURN)
    data = json.dumps(document, separators=(",", ":")).encode()  # ensure_ascii, no newline
    result = notebook_source(data)
    assert result.text == notebook_source(CHURN).text
    assert set(result.lines) == {1}


def test_escaped_strings_and_crlf_are_located():
    source = ['# caf\u00e9 \u2014 \\"quoted\\"\r\n', "import torch\r\n", "x = 1"]
    data = json.dumps(
        {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": source}], "nbformat": 4},
        indent=2,
    ).encode()  # \u escapes
    data = data.replace(b"\n", b"\r\n")
    result = notebook_source(data)
    assert result.text == '# caf\u00e9 \u2014 \\"quoted\\"\nimport torch\nx = 1\n'
    assert imports_with_ipynb_lines(data) == [("torch", 9)]
    assert data.split(b"\r\n")[8].strip() == rb'"import torch\r\n",'


def test_a_string_holding_several_lines_or_half_a_line():
    data = notebook(["import a\nimport b\n", "import ", "c\n", "import d"])
    assert imports_with_ipynb_lines(data)[0][1] == imports_with_ipynb_lines(data)[1][1]
    lines = data.decode().split("\n")
    assert [(module, lines[line - 1].strip()) for module, line in imports_with_ipynb_lines(data)] == [
        ("a", '"import a\\nimport b\\n",'),
        ("b", '"import a\\nimport b\\n",'),
        ("c", '"import ",'),  # the line starts in this string
        ("d", '"import d"'),
    ]


def test_cells_after_one_that_cannot_be_located_map_to_the_last_line_found():
    data = notebook("import first", "import second", "import third").replace(
        b'"source": "import second"', b'"sourc\\u0065": "import second"', 1
    )
    lines = data.decode().split("\n")
    first = next(n for n, line in enumerate(lines, 1) if "import first" in line)
    assert imports_with_ipynb_lines(data) == [("first", first), ("second", first), ("third", first)]


def test_identical_cells_map_to_their_own_lines():
    data = notebook(["import json\n", "print(1)"], ["import json\n", "print(1)"])
    first, second = imports_with_ipynb_lines(data)
    assert second[1] > first[1]


@pytest.mark.parametrize(
    "source, expected, commands",
    [
        (["%matplotlib inline\n", "import matplotlib.pyplot as plt"], ["pass", "import matplotlib.pyplot as plt"], []),
        (
            ["%pip install torch==2.1\n", "%conda install -y faiss-cpu"],
            ["pass", "pass"],
            ["pip install torch==2.1", "conda install -y faiss-cpu"],
        ),
        (["!pip install -q transformers"], ["pass"], ["pip install -q transformers"]),
        (["!!ls -la"], ["pass"], ["ls -la"]),
        (["files = !ls data/*.csv"], ["pass"], ["ls data/*.csv"]),
        (["out = %sx nvidia-smi"], ["pass"], []),
        (["%sx nvidia-smi"], ["pass"], ["nvidia-smi"]),
        (["pip install -U accelerate"], ["pass"], ["pip install -U accelerate"]),  # automagic
        (["np.mean?"], ["pass"], []),
        (["??pd.read_csv"], ["pass"], []),
        (["/print 1 2"], ["pass"], []),
        ([",print a b"], ["pass"], []),
        (["%time import torch"], ["import torch"], []),
        (["%timeit -n 3 sum(range(9))"], ["pass"], []),
        (
            ["if GPU:\n", "    !nvidia-smi\n", "else:\n", "    %env CUDA_VISIBLE_DEVICES=\n"],
            ["if GPU:", "    pass", "else:", "    pass"],
            ["nvidia-smi"],
        ),
        (
            ["!pip install \\\n", "    peft \\\n", "    bitsandbytes\n", "import peft"],
            ["pass", "", "", "import peft"],
            ["pip install peft bitsandbytes"],
        ),
        (["%%time\n", "import scipy\n", "%load_ext autoreload"], ["", "import scipy", "pass"], []),
        (
            ["\n", "%%capture log\n", "!pip install lightgbm\n", "import lightgbm"],
            ["", "", "pass", "import lightgbm"],
            ["pip install lightgbm"],
        ),
        (["%%bash\n", "set -e\n", "apt-get install -y ffmpeg"], ["", "", ""], ["set -e\napt-get install -y ffmpeg"]),
        (["%%script bash\n", "echo hi"], ["", ""], ["echo hi"]),
        (["%%writefile app.py\n", "import flask\n", "app = flask.Flask(__name__)"], ["", "", ""], []),
        (["%%sql\n", "SELECT 1"], ["", ""], []),
        (["%%R -i df\n", "library(ggplot2)"], ["", ""], []),
    ],
)
def test_ipython_syntax_is_replaced(source, expected, commands):
    result = notebook_source(notebook(source))
    assert result.text.split("\n")[:-1] == expected
    assert list(result.shell_commands) == commands
    ast.parse(result.text)


@pytest.mark.parametrize(
    "source",
    [
        ["x = (width\n", "     % height)"],  # an operator on a continued line
        ["total = price \\\n", "    % 7"],
        ['help_text = """\n', "!not a command\n", "%not a magic\n", "what?\n", '"""'],
        ["values = [\n", "    1,\n", "    /2,\n", "]"],  # not valid Python, yet not IPython either
        ["ratio = a % b\n", "flag = a != b"],
        ["print('?')  # why?"],
    ],
)
def test_python_that_looks_like_ipython_is_kept(source):
    assert cell_lines(source) == "".join(source).split("\n")


def test_cell_indented_as_a_whole_is_dedented_as_ipython_does():
    assert cell_lines(["    import os\n", "    if os.sep:\n", "        !echo hi"]) == [
        "import os",
        "if os.sep:",
        "    pass",
    ]


def test_a_cell_that_does_not_parse_is_kept_and_leaves_later_cells_alone():
    data = notebook(
        ["def broken(:\n", "    import pydantic"], ["s = '''unterminated\n"], ["%pip install x\n", "import fastapi"]
    )
    result = notebook_source(data)
    assert result.text == "def broken(:\n    import pydantic\n\ns = '''unterminated\n\npass\nimport fastapi\n"
    assert result.shell_commands == ("pip install x",)


def test_markdown_raw_and_empty_cells_contribute_nothing():
    data = notebook(("markdown", ["import markdown_word"]), ("raw", "import raw_word"), [], "", "import os")
    assert notebook_source(data).text == "import os\n"


def test_notebook_without_code_gives_empty_text():
    result = notebook_source(notebook(("markdown", "# Title")))
    assert (result.text, result.lines, result.shell_commands) == ("", (), ())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"import pandas as pd\n",
        b"[]",
        b'{"cells": [], "metadata": {}}',  # no nbformat
        b'{"nbformat": 4}',  # no cells
        b'{"nbformat": 4, "cells": {"cell_type": "code"}}',
        b'{"nbformat": 3, "worksheets": "cells"}',
        b'{"nbformat": 5, "cells": []}',
        b'{"nbformat": "4", "cells": []}',
        b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": ["import os\\n"',  # cut short
        b'{"nbformat": 4, "cells": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        '{"nbformat": 4, "cells": []}'.encode("utf-16"),
    ],
)
def test_not_a_readable_notebook(data):
    assert notebook_source(data) is None


@pytest.mark.parametrize(
    "document, text",
    [
        ({"nbformat": 4, "metadata": [], "cells": [{"cell_type": "code", "source": "import os"}]}, "import os\n"),
        ({"nbformat": 4, "metadata": {"kernelspec": "python3", "language_info": {"name": 3}}, "cells": []}, ""),
        (
            {
                "nbformat": 4,
                "cells": [{"cell_type": "code", "source": 7}, {"cell_type": "code", "source": ["import a"]}],
            },
            "import a\n",
        ),
        ({"nbformat": 4, "cells": [{"cell_type": "code", "source": ["import a\n", None]}, "cell", None, 3]}, ""),
        ({"nbformat": 4, "cells": [{"source": "import a"}, {"cell_type": ["code"], "source": "import b"}]}, ""),
        (
            {
                "nbformat": 3,
                "worksheets": [None, {"cells": "x"}, {"cells": [{"cell_type": "code", "input": "import c"}]}],
            },
            "import c\n",
        ),
        (
            {
                "nbformat": 3,
                "worksheets": [{"cells": [{"cell_type": "code", "language": "julia", "input": "using CSV"}]}],
            },
            "",
        ),
    ],
)
def test_wrong_types_give_a_best_effort_result(document, text):
    assert notebook_source(json.dumps(document).encode()).text == text


def test_byte_order_mark_is_accepted():
    assert notebook_source(b"\xef\xbb\xbf" + CHURN).text == notebook_source(CHURN).text


def test_notebook_over_the_size_limit_is_not_read(monkeypatch):
    monkeypatch.setattr(notebook_module, "MAX_NOTEBOOK_BYTES", len(CHURN) - 1)
    assert notebook_source(CHURN) is None


def test_damaged_notebooks_never_raise():
    shuffle = random.Random(20240611)
    for _ in range(400):
        data = bytearray(CHURN)
        for _ in range(shuffle.randint(1, 6)):
            at = shuffle.randrange(len(data))
            data[at : at + shuffle.randint(0, 3)] = bytes([shuffle.choice(b"\"[]{}:,\\ \n%!?#('x\x00\xff")])
        result = notebook_source(bytes(data))
        if result is not None:
            assert len(result.lines) == result.text.count("\n")


def test_hostile_lines_stay_fast():
    lines = ["a," * 50_000 + "\n", "?" + " " * 100_000 + "x\n", "x" * 100_000 + "\n", "!" + "\\" * 50_000]
    started = time.perf_counter()
    result = notebook_source(notebook(lines))
    assert time.perf_counter() - started < 1
    assert len(result.lines) == 4


def test_ten_megabyte_notebook_with_outputs_reads_fast():
    image = "iVBORw0KGgo" * 10_000  # a base64 PNG of ~110 kB
    cells = []
    for number in range(90):
        outputs = [
            {
                "name": "stdout",
                "output_type": "stream",
                "text": [f"epoch {step} loss 0.{step:04d}\n" for step in range(400)],
            },
            {
                "data": {"image/png": image, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                "metadata": {},
                "output_type": "display_data",
            },
        ]
        source = [f"import module_{number}\n", "%matplotlib inline\n"] + [f"plot({step})\n" for step in range(15)]
        cells.append(
            {"cell_type": "code", "execution_count": number, "metadata": {}, "outputs": outputs, "source": source}
        )
    data = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1).encode()
    assert len(data) > 10_000_000
    started = time.perf_counter()
    result = notebook_source(data)
    assert time.perf_counter() - started < 1  # ~40 ms measured
    assert [found.module for found in scan_imports(result.text).imports] == [f"module_{n}" for n in range(90)]


def test_other_magics_are_kept_by_name():
    result = notebook_source(
        notebook(
            ["%matplotlib inline\n", "%load_ext tensorboard\n", "%time import torch"], ["%%sql sqlite://\n", "SELECT 1"]
        )
    )
    assert result.magics == ("matplotlib inline", "load_ext tensorboard", "sql sqlite://")
    assert result.shell_commands == ()

import os
import subprocess
import sys
import time

import pytest

from dockerlint.parse import shell
from dockerlint.parse.shell import Command, Script, Word, parse_script


def argvs(script: Script) -> list[list[str]]:
    return [list(command.argv) for command in script.commands]


def names(script: Script) -> list[str]:
    return [command.name for command in script.commands]


def only(script: Script, name: str) -> Command:
    [command] = [command for command in script.commands if command.name == name]
    return command


def assert_words_slice_back(text: str, script: Script) -> None:
    for command in script.commands:
        for word in command.words:
            assert text[word.start : word.end] == word.raw, (word, command)
        assert 0 <= command.start <= command.end <= len(text)


@pytest.fixture
def without_tree_sitter(monkeypatch):
    """parse_script as it runs when tree-sitter is not installed."""
    monkeypatch.setattr(shell, "_tree_sitter_parser", lambda: None)


# --- lists, pipelines, words -----------------------------------------------------------


def test_and_or_semicolon_newline_chain():
    text = "apt-get update && apt-get install -y curl || true; echo done\nrm -rf /var/lib/apt/lists/*"
    script = parse_script(text)
    assert argvs(script) == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "curl"],
        ["true"],
        ["echo", "done"],
        ["rm", "-rf", "/var/lib/apt/lists/*"],
    ]
    assert not script.has_error
    assert all(command.pipe_length == 1 and command.pipe_position == 0 for command in script.commands)
    assert len({command.pipeline for command in script.commands}) == 5
    assert_words_slice_back(text, script)


def test_curl_pipe_sh_is_one_pipeline_of_two():
    text = "curl -fsSL https://example.com/install.sh | sh"
    curl, sh = parse_script(text).commands
    assert curl.argv == ("curl", "-fsSL", "https://example.com/install.sh")
    assert sh.argv == ("sh",)
    assert curl.pipeline == sh.pipeline
    assert (curl.pipe_position, curl.pipe_length) == (0, 2)
    assert (sh.pipe_position, sh.pipe_length) == (1, 2)
    assert not sh.nested


def test_three_stage_pipeline_beside_a_plain_command():
    script = parse_script("pip freeze | grep torch | wc -l && echo ok")
    assert [(c.name, c.pipe_position, c.pipe_length) for c in script.commands] == [
        ("pip", 0, 3),
        ("grep", 1, 3),
        ("wc", 2, 3),
        ("echo", 0, 1),
    ]
    assert len({c.pipeline for c in script.commands[:3]}) == 1
    assert script.commands[3].pipeline != script.commands[0].pipeline


def test_words_are_dequoted_but_variables_are_not_expanded():
    text = """pip install "$PKG" 'torch==2.3.1' "${EXTRA:-x}"y a"b"c\\ d $'tab\\there' "say \\"hi\\" \\$HOME" '$NOT'"""
    command = parse_script(text).commands[0]
    assert command.argv == (
        "pip",
        "install",
        "$PKG",
        "torch==2.3.1",
        "${EXTRA:-x}y",
        "abc d",
        "tab\there",
        'say "hi" $HOME',
        "$NOT",
    )
    assert [word.raw for word in command.words][2:4] == ['"$PKG"', "'torch==2.3.1'"]
    assert_words_slice_back(text, parse_script(text))


@pytest.mark.parametrize("tree_sitter", [True, False])
def test_words_after_a_redirect_target_are_the_commands(request, tree_sitter):
    """An unquoted ``torch>=1.11.0`` writes a file named ``=1.11.0``: the words after it
    still reach pip (its CPU index among them)."""
    if not tree_sitter:
        request.getfixturevalue("without_tree_sitter")
    text = (
        "pip install torch>=1.11.0 --extra-index-url https://download.pytorch.org/whl/cpu && make build >/dev/null 2>&1"
    )
    script = parse_script(text)
    assert argvs(script) == [
        ["pip", "install", "torch", "--extra-index-url", "https://download.pytorch.org/whl/cpu"],
        ["make", "build"],
    ]
    assert_words_slice_back(text, script)


@pytest.mark.parametrize("tree_sitter", [True, False])
def test_redirections_after_the_last_command_of_a_list_are_that_commands(request, tree_sitter):
    """tree-sitter files `>=1.52.2 vllm>=0.6.3 x` under the whole `a && pip install ...`
    list; bash gives the redirections to the last command and the words after each target
    to it as arguments."""
    if not tree_sitter:
        request.getfixturevalue("without_tree_sitter")
    text = "pip install --upgrade pip && pip install openai>=1.52.2 vllm>=0.6.3 python-dotenv"
    script = parse_script(text)
    assert argvs(script) == [
        ["pip", "install", "--upgrade", "pip"],
        ["pip", "install", "openai", "vllm", "python-dotenv"],
    ]
    assert script.commands[1].glued == ("openai>=1.52.2", "vllm>=0.6.3")
    assert_words_slice_back(text, script)


@pytest.mark.parametrize("tree_sitter", [True, False])
def test_a_word_goes_on_past_a_closing_bracket_to_the_next_blank(request, tree_sitter):
    """``uvicorn[standard]\\>=0.29`` is one word to bash; tree-sitter ends a node at ``]``."""
    if not tree_sitter:
        request.getfixturevalue("without_tree_sitter")
    text = "pip install uvicorn[standard]\\>=0.29 'x[a]'\"y\"z c[d] e[f]$V"
    script = parse_script(text)
    assert argvs(script) == [["pip", "install", "uvicorn[standard]>=0.29", "x[a]yz", "c[d]", "e[f]$V"]]
    assert_words_slice_back(text, script)


def test_backslash_in_double_quotes_is_kept_unless_it_escapes():
    command = parse_script(r"""echo "a\nb" "c\\d" 'e\f' g\\h""").commands[0]
    assert command.argv == ("echo", r"a\nb", "c\\d", r"e\f", "g\\h")


def test_line_continuations_between_words():
    text = "apt-get install -y --no-install-recommends \\\n    curl \\\n    git"
    command = parse_script(text).commands[0]
    assert command.argv == ("apt-get", "install", "-y", "--no-install-recommends", "curl", "git")
    assert (command.start, command.end) == (0, len(text))


def test_name_is_the_base_name():
    script = parse_script("/usr/bin/pip3 install x && ./venv/bin/python -m pip install y && true")
    assert names(script) == ["pip3", "python", "true"]
    assert Command((), (), 0, 0, 0, 0, 1).name == ""


# --- assignments, declarations, redirections --------------------------------------------


def test_env_prefixes_are_assignments_not_words():
    text = 'A=1 B="two words" PIP_NO_CACHE_DIR= pip install x'
    command = parse_script(text).commands[0]
    assert command.assignments == (("A", "1"), ("B", "two words"), ("PIP_NO_CACHE_DIR", ""))
    assert command.argv == ("pip", "install", "x")
    assert command.start == 0
    assert command.words[0].start == text.index("pip")


def test_a_prefix_that_is_not_a_variable_name_is_a_word():
    command = parse_script("--mount=type=cache,target=/root/.cache pip install x").commands[0]
    assert command.assignments == ()
    assert command.argv == ("--mount=type=cache,target=/root/.cache", "pip", "install", "x")


def test_bare_assignments_are_not_commands_but_their_substitutions_are():
    script = parse_script("VERSION=$(cat VERSION); A=1")
    assert argvs(script) == [["cat", "VERSION"]]
    assert script.commands[0].nested


def test_export_and_other_declarations_are_commands_with_words():
    script = parse_script('export PATH="/opt/venv/bin:$PATH" DEBIAN_FRONTEND=noninteractive X; local y=1; unset Z')
    assert argvs(script) == [
        ["export", "PATH=/opt/venv/bin:$PATH", "DEBIAN_FRONTEND=noninteractive", "X"],
        ["local", "y=1"],
        ["unset", "Z"],
    ]
    assert script.commands[0].assignments == ()


def test_redirections_are_not_words():
    text = 'pip install -r requirements.txt > /dev/null 2>&1 && cat < in.txt >> out.log && wc -l <<< "$X"'
    script = parse_script(text)
    assert argvs(script) == [["pip", "install", "-r", "requirements.txt"], ["cat"], ["wc", "-l"]]


def test_heredoc_inside_the_script_is_data_not_commands():
    text = "cat <<EOF > /etc/pip.conf\n[global]\nno-cache-dir = $(rm -rf /)\nEOF\npip install x"
    script = parse_script(text)
    assert argvs(script) == [["cat"], ["pip", "install", "x"]]


def test_heredoc_piped_into_a_shell_keeps_the_pipeline():
    text = "cat <<-EOF | sh -s && echo ok\n\tapt-get install -y curl\n\tEOF\nls"
    script = parse_script(text)
    assert [(c.name, c.pipe_position, c.pipe_length) for c in script.commands] == [
        ("cat", 0, 2),
        ("sh", 1, 2),
        ("echo", 0, 1),
        ("ls", 0, 1),
    ]
    assert script.commands[0].pipeline == script.commands[1].pipeline


# --- compound commands --------------------------------------------------------------------


def test_subshells_and_brace_groups():
    script = parse_script("(cd /src && make) ; { pip install . ; rm -rf build ; }")
    assert argvs(script) == [["cd", "/src"], ["make"], ["pip", "install", "."], ["rm", "-rf", "build"]]
    assert not any(command.nested for command in script.commands)


def test_command_substitution_and_backticks_are_nested():
    text = 'pip install "torch==$(cat /torch-version)" && echo `uname -m` && diff <(pip freeze) lock.txt'
    script = parse_script(text)
    assert [(c.argv, c.nested) for c in script.commands] == [
        (("pip", "install", "torch==$(cat /torch-version)"), False),
        (("cat", "/torch-version"), True),
        (("echo", "`uname -m`"), False),
        (("uname", "-m"), True),
        (("diff", "<(pip freeze)", "lock.txt"), False),
        (("pip", "freeze"), True),
    ]
    assert_words_slice_back(text, script)


def test_nested_substitution_inside_a_pipeline_has_its_own_pipeline():
    script = parse_script("echo $(date | tr -d :) | tee stamp")
    echo, date, tr, tee = script.commands
    assert (echo.pipe_position, echo.pipe_length, tee.pipe_position) == (0, 2, 1)
    assert (date.pipe_position, tr.pipe_position, date.pipe_length) == (0, 1, 2)
    assert date.pipeline == tr.pipeline != echo.pipeline


def test_if_then_elif_else_with_tests_skipped():
    text = (
        'if [ "$TARGETARCH" = "arm64" ]; then pip install a; '
        "elif [[ -f /etc/alpine-release ]]; then apk add b; "
        "else apt-get install -y c; fi"
    )
    assert argvs(parse_script(text)) == [
        ["pip", "install", "a"],
        ["apk", "add", "b"],
        ["apt-get", "install", "-y", "c"],
    ]


def test_substitution_inside_a_test_is_still_found():
    assert argvs(parse_script('[ "$(uname -m)" = x86_64 ] && echo amd')) == [["uname", "-m"], ["echo", "amd"]]


def test_for_and_while_loops():
    text = 'for pkg in numpy scipy; do pip install "$pkg"; done; while read -r line; do echo "$line"; done < reqs.txt'
    assert argvs(parse_script(text)) == [["pip", "install", "$pkg"], ["read", "-r", "line"], ["echo", "$line"]]


def test_for_list_substitution_is_found():
    assert argvs(parse_script("for f in $(ls /wheels); do pip install /wheels/$f; done")) == [
        ["ls", "/wheels"],
        ["pip", "install", "/wheels/$f"],
    ]


def test_case_patterns_are_not_commands():
    text = (
        'case "$(uname -m)" in x86_64|amd64) ARCH=amd64 ;; '
        "aarch64) apt-get install -y gcc ;; *) echo unknown; exit 1 ;; esac"
    )
    assert argvs(parse_script(text)) == [
        ["uname", "-m"],
        ["apt-get", "install", "-y", "gcc"],
        ["echo", "unknown"],
        ["exit", "1"],
    ]


def test_functions_negation_and_background():
    script = parse_script('install() { pip install "$@"; }; ! grep -q x f & install torch')
    assert argvs(script) == [["pip", "install", "$@"], ["grep", "-q", "x", "f"], ["install", "torch"]]


def test_time_is_kept_as_the_command_name():
    assert argvs(parse_script("time pip install x")) == [["time", "pip", "install", "x"]]


# --- sh -c strings ------------------------------------------------------------------------


def test_sh_c_single_quoted_string_is_parsed_with_exact_offsets():
    text = "sh -c 'apt-get update && apt-get install -y \"$PKG\"'"
    script = parse_script(text)
    assert [(c.argv, c.nested) for c in script.commands] == [
        (("sh", "-c", 'apt-get update && apt-get install -y "$PKG"'), False),
        (("apt-get", "update"), True),
        (("apt-get", "install", "-y", "$PKG"), True),
    ]
    assert_words_slice_back(text, script)
    inner = script.commands[2]
    assert text[inner.start : inner.end] == 'apt-get install -y "$PKG"'


@pytest.mark.parametrize(
    "text",
    [
        'bash -c "pip install x | tee log"',
        "bash -lc 'pip install x | tee log'",
        "/bin/sh -ec 'pip install x | tee log'",
        "/bin/bash -o pipefail -c 'pip install x | tee log'",
        "sh -c -- 'pip install x | tee log'",
        "sh -c 'pip install x | tee log' my-name arg1",
        "bash -x -c 'pip install x | tee log'",
    ],
)
def test_shell_c_forms(text):
    script = parse_script(text)
    assert argvs(script)[1:] == [["pip", "install", "x"], ["tee", "log"]]
    pip, tee = script.commands[1:]
    assert pip.nested and tee.nested
    assert pip.pipeline == tee.pipeline and (pip.pipe_length, tee.pipe_position) == (2, 1)
    assert text[pip.start : pip.end] == "pip install x"


def test_sh_without_c_is_not_parsed_as_a_string():
    assert argvs(parse_script("sh ./install.sh -c 'not code'; bash")) == [
        ["sh", "./install.sh", "-c", "not code"],
        ["bash"],
    ]


def test_double_quoted_sh_c_maps_offsets_through_escapes():
    text = 'bash -c "pip install \\"$PKG\\" && echo \\$HOME"'
    script = parse_script(text)
    pip, echo = script.commands[1:]
    assert pip.argv == ("pip", "install", "$PKG")
    assert echo.argv == ("echo", "$HOME")
    assert text[pip.words[2].start : pip.words[2].end] == '\\"$PKG\\"'
    assert text[echo.words[1].start : echo.words[1].end] == "\\$HOME"


def test_substitution_in_a_double_quoted_sh_c_string_is_found_once():
    script = parse_script('sh -c "echo $(id -u)"')
    assert argvs(script) == [["sh", "-c", "echo $(id -u)"], ["echo", "$(id -u)"], ["id", "-u"]]


def test_nested_sh_c_inside_sh_c():
    text = "sh -c 'bash -c \"pip install x\"'"
    script = parse_script(text)
    assert names(script) == ["sh", "bash", "pip"]
    pip = script.commands[2]
    assert text[pip.start : pip.end] == "pip install x"


# --- pipefail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "set -o pipefail && curl -fsSL https://x | sh",
        "set -eo pipefail; curl https://x | sh",
        "set -euxo pipefail\ncurl https://x | bash -",
        "set -o errexit -o pipefail; a | b",
        "set -Eeuo pipefail",
        "bash -o pipefail -c 'curl https://x | sh'",
        "sh -c 'set -o pipefail; curl https://x | sh'",
    ],
)
def test_pipefail_set_before_every_pipe(text):
    assert parse_script(text).pipefail


@pytest.mark.parametrize(
    "text",
    [
        "curl -fsSL https://x | sh",
        "apt-get update && apt-get install -y curl",
        "set -eux; curl https://x | sh",
        "curl https://x | sh; set -o pipefail",
        "set -o pipefail; set +o pipefail; a | b",
        "set -o pipefail; bash -c 'a | b'",
        "echo $(set -o pipefail); a | b",
        "set -o",
        "",
    ],
)
def test_pipefail_missing(text):
    assert not parse_script(text).pipefail


# --- offsets ------------------------------------------------------------------------------


def test_offsets_are_characters_after_non_ascii_text():
    text = 'echo "Größe: 🚀 ok" && pip install — "naïve" && ls'
    script = parse_script(text)
    assert argvs(script) == [["echo", "Größe: 🚀 ok"], ["pip", "install", "—", "naïve"], ["ls"]]
    assert_words_slice_back(text, script)
    ls = script.commands[2]
    assert (ls.start, ls.end) == (len(text) - 2, len(text))


def test_non_ascii_inside_sh_c_string():
    text = "sh -c 'echo ünï && pip install x'"
    pip = parse_script(text).commands[-1]
    assert text[pip.start : pip.end] == "pip install x"


def test_heredoc_body_script_offsets():
    body = "set -eux\n# install\npython -m pip install --no-cache-dir -r /tmp/requirements.txt\nrm -rf /root/.cache\n"
    script = parse_script(body)
    assert argvs(script) == [
        ["set", "-eux"],
        ["python", "-m", "pip", "install", "--no-cache-dir", "-r", "/tmp/requirements.txt"],
        ["rm", "-rf", "/root/.cache"],
    ]
    assert_words_slice_back(body, script)
    assert body[script.commands[2].start : script.commands[2].end] == "rm -rf /root/.cache"


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t", "# just a comment\n  # another"])
def test_nothing_to_run(text):
    script = parse_script(text)
    assert script.commands == () and not script.has_error and not script.pipefail


def test_unterminated_quote_keeps_what_was_recognised():
    script = parse_script("apt-get update && echo 'unterminated")
    assert script.has_error
    assert argvs(script)[0] == ["apt-get", "update"]


@pytest.mark.parametrize(
    "text,recognised",
    [
        ("if true; then ls", ["true"]),
        ("pip install x )", ["pip"]),
        ("&& ||", []),
        ("echo $(ls", ["echo", "ls"]),
        ("apt-get update && { ls", ["apt-get"]),
    ],
)
def test_syntax_errors_are_reported_not_raised(text, recognised):
    script = parse_script(text)
    assert script.has_error
    assert names(script) == recognised


def test_binary_garbage_nul_and_lone_surrogates():
    garbage = bytes(range(256)).decode("latin-1") * 20 + "\x00\udcff\ud800"
    script = parse_script(garbage)
    assert isinstance(script, Script)
    assert_words_slice_back(garbage, script)
    assert argvs(parse_script("echo a\x00b \udcff && ls")) == [["echo", "a\x00b", "\udcff"], ["ls"]]


def test_deep_nesting_does_not_hit_the_recursion_limit():
    depth = sys.getrecursionlimit() * 2
    script = parse_script("( " * depth + "pip install x" + " )" * depth)
    assert argvs(script) == [["pip", "install", "x"]]
    nested = parse_script("echo " + "$(" * 20 + "pip install x" + ")" * 20)
    assert len(nested.commands) == 21 and not nested.has_error
    assert argvs(nested)[-1] == ["pip", "install", "x"]


def test_hostile_substitution_nesting_is_bounded():
    """Each command inside 20,000 nested ``$(`` would hold the text of every level inside
    it (1.2 GB); past 32 levels the rest is not read, and the script says so."""
    script = parse_script("echo " + "$(" * 20_000)
    assert script.has_error
    assert len(script.commands) <= 33
    deep = parse_script("echo " + "$(" * 500 + "ls" + ")" * 500)
    assert deep.has_error and len(deep.commands) == 33


def test_a_script_of_hundreds_of_thousands_of_words_is_read_up_to_a_bound():
    """A 1.8 MB `pip install -r -r -r ...` line made 600,000 words (~180 MB); the plain
    splitter stops at MAX_FALLBACK_TOKENS and says the script was not fully parsed."""
    script = parse_script("pip install " + "-r " * 600_000 + "&& ls")
    assert script.has_error
    assert names(script) == ["pip"]
    assert len(script.commands[0].words) == shell.MAX_FALLBACK_TOKENS
    many = parse_script("true;" * 200_000)
    assert many.has_error and len(many.commands) <= shell.MAX_FALLBACK_TOKENS
    below = parse_script("pip install " + "-r requirements-dev.txt " * 6_000 + "&& ls")  # past tree-sitter's limit
    assert not below.has_error and names(below) == ["pip", "ls"]


def test_one_megabyte_script():
    text = "pip install " + "a" * 1_000_000 + " && ls"
    assert names(parse_script(text)) == ["pip", "ls"]


def test_tree_sitter_is_not_imported_at_start_up():
    code = "import sys, dockerlint.parse.shell; assert 'tree_sitter' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(__file__)))


def test_a_thousand_line_script_parses_fast():
    lines = "\n".join(
        f"pip install --no-cache-dir 'pkg{i}==1.{i}' && echo \"done $i\" | tee -a /log" for i in range(1000)
    )
    parse_script("true")  # import and parser set-up are not part of the budget
    started = time.perf_counter()
    script = parse_script(lines)
    elapsed = time.perf_counter() - started
    assert len(script.commands) == 3000
    assert elapsed < 5.0  # about 50 ms measured; the bound only catches a blow-up


# --- a realistic RUN corpus ---------------------------------------------------------------

CORPUS = [
    (
        "apt-get update && apt-get install -y --no-install-recommends build-essential curl git "
        "&& rm -rf /var/lib/apt/lists/*",
        ["apt-get", "apt-get", "rm"],
    ),
    ("pip install --no-cache-dir --upgrade pip setuptools wheel", ["pip"]),
    (
        "pip install --no-cache-dir -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cu121",
        ["pip"],
    ),
    ("python -m pip install --user --no-warn-script-location -r /tmp/requirements.txt", ["python"]),
    ("curl -fsSL https://install.python-poetry.org | python3 -", ["curl", "python3"]),
    ("curl -LsSf https://astral.sh/uv/install.sh | sh", ["curl", "sh"]),
    (
        "wget -qO- https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs",
        ["wget", "bash", "apt-get"],
    ),
    ('python -c "import torch; print(torch.__version__)"', ["python"]),
    (
        "python -c 'from transformers import AutoModel; AutoModel.from_pretrained(\"bert-base-uncased\")'",
        ["python"],
    ),
    (
        "set -eux; apt-get update; apt-get install -y libgomp1; rm -rf /var/lib/apt/lists/*",
        ["set", "apt-get", "apt-get", "rm"],
    ),
    (
        "apk add --no-cache --virtual .build-deps gcc musl-dev && pip install cryptography && apk del .build-deps",
        ["apk", "pip", "apk"],
    ),
    ("useradd -m -u 1000 app && chown -R app:app /app", ["useradd", "chown"]),
    ("uv pip install --system --no-cache -r requirements.txt", ["uv"]),
    (
        "poetry config virtualenvs.create false && poetry install --no-interaction --no-ansi --only main",
        ["poetry", "poetry"],
    ),
    ("conda install -y -c conda-forge numpy && conda clean -afy", ["conda", "conda"]),
    ('for req in requirements/*.txt; do pip install -r "$req"; done', ["pip"]),
    (
        'case "$TARGETPLATFORM" in linux/amd64) ARCH=x86_64;; linux/arm64) ARCH=aarch64;; esac '
        '&& curl -fsSLo /usr/local/bin/tini "https://github.com/krallin/tini/releases/download/v0.19.0/tini-${ARCH}"',
        ["curl"],
    ),
    ('if [ "$INSTALL_DEV" = "true" ]; then pip install -r dev.txt; else echo skip; fi', ["pip", "echo"]),
    (
        'pip install --no-cache-dir "jax[cuda12]" -f https://storage.googleapis.com/jax-releases/jax_cuda_releases.html',
        ["pip"],
    ),
    (
        'echo "deb http://deb.debian.org/debian bookworm main" > /etc/apt/sources.list && apt-get update',
        ["echo", "apt-get"],
    ),
    ("ln -s /usr/bin/python3 /usr/bin/python && python --version", ["ln", "python"]),
    ("pip download -d /wheels torch==2.3.1 && pip install --no-index --find-links=/wheels torch", ["pip", "pip"]),
    ("huggingface-cli download bert-base-uncased --local-dir /models/bert", ["huggingface-cli"]),
    ("npm ci --omit=dev && npm cache clean --force", ["npm", "npm"]),
    ("export PIP_NO_CACHE_DIR=1 && pip install .", ["export", "pip"]),
    ("DEBIAN_FRONTEND=noninteractive apt-get install -y tzdata 2>&1 | tail -n 5", ["apt-get", "tail"]),
    ("find / -name '*.pyc' -delete && find / -name __pycache__ -type d -exec rm -rf {} +", ["find", "find"]),
    ("pip install $(grep -v '^#' requirements.txt | tr '\\n' ' ')", ["pip", "grep", "tr"]),
    ("test -f /app/config.yaml || cp /app/config.example.yaml /app/config.yaml", ["test", "cp"]),
    (
        "set -eux\napt-get update\napt-get install -y --no-install-recommends ca-certificates\n"
        "cat > /etc/profile.d/venv.sh <<EOF\nexport PATH=/opt/venv/bin:\\$PATH\nEOF\n"
        "python -m venv /opt/venv\n/opt/venv/bin/pip install -U pip\n",
        ["set", "apt-get", "apt-get", "cat", "python", "pip"],
    ),
]


@pytest.mark.parametrize("text,expected", CORPUS)
def test_realistic_run_lines(text, expected):
    script = parse_script(text)
    assert names(script) == expected
    assert not script.has_error
    assert_words_slice_back(text, script)


def test_realistic_run_lines_argv_details():
    script = parse_script(CORPUS[7][0])
    assert script.commands[0].argv == ("python", "-c", "import torch; print(torch.__version__)")
    apt = only(parse_script(CORPUS[25][0]), "apt-get")
    assert apt.assignments == (("DEBIAN_FRONTEND", "noninteractive"),)
    assert apt.argv == ("apt-get", "install", "-y", "tzdata")
    assert apt.pipe_length == 2


# --- the fallback without tree-sitter -----------------------------------------------------


def test_fallback_splits_chains_and_pipes(without_tree_sitter):
    text = "A=1 B='x y' /usr/bin/pip3 install \"$PKG\" > /dev/null 2>&1 && curl -fsSL https://x | sh; echo $'a\\tb'"
    script = parse_script(text)
    assert argvs(script) == [
        ["/usr/bin/pip3", "install", "$PKG"],
        ["curl", "-fsSL", "https://x"],
        ["sh"],
        ["echo", "a\tb"],
    ]
    pip, curl, sh, _ = script.commands
    assert pip.assignments == (("A", "1"), ("B", "x y")) and pip.name == "pip3"
    assert curl.pipeline == sh.pipeline and (curl.pipe_length, sh.pipe_position) == (2, 1)
    assert_words_slice_back(text, script)


def test_fallback_drops_keywords_tests_patterns_and_heredoc_bodies(without_tree_sitter):
    text = (
        "if [ -f x ]; then pip install a; fi\n"
        "for p in a b; do pip install $p; done\n"
        "case $X in (a|b) apt-get install c;; *) echo d;; esac\n"
        "cat <<EOF > /f\nrm -rf /\nEOF\n"
        "ls"
    )
    assert argvs(parse_script(text)) == [
        ["pip", "install", "a"],
        ["pip", "install", "$p"],
        ["apt-get", "install", "c"],
        ["echo", "d"],
        ["cat"],
        ["ls"],
    ]


def test_fallback_keeps_quoted_operators_and_substitutions_inside_words(without_tree_sitter):
    script = parse_script('python -c "import a; print(1 && 2)" && echo $(a | b) done')
    assert argvs(script) == [["python", "-c", "import a; print(1 && 2)"], ["echo", "$(a | b)", "done"]]


def test_fallback_sh_c_and_pipefail(without_tree_sitter):
    text = "set -euxo pipefail; sh -c 'set -o pipefail; curl x | sh'"
    script = parse_script(text)
    assert names(script) == ["set", "sh", "set", "curl", "sh"]
    curl = script.commands[3]
    assert curl.nested and text[curl.start : curl.end] == "curl x"
    assert script.pipefail
    assert not parse_script("curl x | sh").pipefail


def test_fallback_reports_unterminated_quotes(without_tree_sitter):
    script = parse_script("apt-get update && echo 'oops")
    assert script.has_error
    assert argvs(script)[0] == ["apt-get", "update"]


@pytest.mark.parametrize(
    "text", ["", "# c", "&& ;; |", "<<", "echo \\", "x" * 100_000, bytes(range(256)).decode("latin-1")]
)
def test_fallback_never_raises(without_tree_sitter, text):
    assert isinstance(parse_script(text), Script)


def test_word_is_plain_data():
    assert Word("'a'", "a", 0, 3) == Word("'a'", "a", 0, 3)


def test_commands_in_if_branches_carry_their_conditions():
    script = parse_script(
        'apt-get update && if [ "$INSTALL_DEV" = "true" ]; then poetry install; '
        'elif test -n "$EXTRAS"; then pip install ".[$EXTRAS]"; else poetry install --without dev; fi && echo done'
    )
    dev, extras = '[ "$INSTALL_DEV" = "true" ]', 'test -n "$EXTRAS"'
    assert [(command.argv[:3], command.guards) for command in script.commands] == [
        (("apt-get", "update"), ()),
        (("poetry", "install"), ((dev, True),)),
        (("test", "-n", "$EXTRAS"), ((dev, False),)),  # an elif's test runs when the if's did not hold
        (("pip", "install", ".[$EXTRAS]"), ((dev, False), (extras, True))),
        (("poetry", "install", "--without"), ((dev, False), (extras, False))),  # else: neither held
        (("echo", "done"), ()),
    ]
    # inside `bash -c "..."` as well
    inner = parse_script(
        "bash -c \"if [ $DEV == 'true' ] ; then poetry install ; else poetry install --only main ; fi\""
    )
    assert [command.guards for command in inner.commands[1:]] == [
        (("[ $DEV == 'true' ]", True),),
        (("[ $DEV == 'true' ]", False),),
    ]


@pytest.mark.parametrize("tree_sitter", [True, False])
def test_a_command_after_or_runs_only_when_the_list_before_it_failed(tree_sitter, monkeypatch):
    if not tree_sitter:
        monkeypatch.setattr(shell, "_tree_sitter_parser", lambda: None)
    text = (
        "python -c 'fetch(\"big\")' || \\\n    python -c 'fetch(\"small\")'\n"
        "pip install x && (apt-get update || true); echo done | tee log"
    )
    script = parse_script(text)
    assert [(command.name, command.fallback) for command in script.commands] == [
        ("python", False), ("python", True), ("pip", False), ("apt-get", False), ("true", True),
        ("echo", False), ("tee", False),
    ]  # fmt: skip

"""The Dockerfile reader: BuildKit's reading of directives, continuations, heredocs,
flags, exec form, stages and ARG expansion, with exact positions."""

from __future__ import annotations

import io
import random
import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockerlint.model.image import _shell_words
from dockerlint.parse.dockerfile import Positions, expand, expand_word, parse_dockerfile
from dockerlint.source import Span, decode


def keywords(dockerfile):
    return [instruction.keyword for instruction in dockerfile.instructions]


def messages(dockerfile):
    return [problem.message for problem in dockerfile.problems]


def word_span(instruction, word):
    start = instruction.args.index(word)
    return instruction.span_of(start, start + len(word))


ML_BUILD = """\
# syntax=docker/dockerfile:1.7
# check=skip=JSONArgsRecommended
ARG PY=3.11
ARG CUDA=12.1.1
FROM --platform=$BUILDPLATFORM nvidia/cuda:${CUDA}-cudnn8-devel-ubuntu22.04 AS Builder
# dockerlint: ignore=DL3008
RUN apt-get update \\
    # compilers for the wheels below
    && apt-get install -y --no-install-recommends \\
        build-essential python${PY}-dev \\

    && rm -rf /var/lib/apt/lists/*
COPY --chown=app:app --chmod=0644 requirements.txt /tmp/
RUN --mount=type=cache,target=/root/.cache/pip \\
    pip wheel -r /tmp/requirements.txt -w /wheels

FROM python:${PY:-3.9}-slim as runtime
COPY --from=builder --link /wheels /wheels
RUN pip install --no-index /wheels/*.whl
CMD ["python", "-m", "serve", "--port", "8080"]
"""


# --- directives -------------------------------------------------------------------------


def test_directives_are_read_at_the_top_and_kept_out_of_comments():
    dockerfile = parse_dockerfile(ML_BUILD)
    assert dockerfile.directives == {"syntax": "docker/dockerfile:1.7", "check": "skip=JSONArgsRecommended"}
    assert dockerfile.escape == "\\"
    assert [comment.line for comment in dockerfile.comments] == [6, 8]
    assert dockerfile.problems == ()


def test_directive_keys_are_case_insensitive_and_allow_blanks():
    dockerfile = parse_dockerfile("#  SYNTAX = docker/dockerfile:1  \n#Escape=`\nFROM alpine\n")
    assert dockerfile.directives == {"syntax": "docker/dockerfile:1", "escape": "`"}
    assert dockerfile.escape == "`"


def test_first_ordinary_comment_ends_the_directives():
    text = "# a note\n# escape=`\nFROM alpine\nRUN echo `\n  done\n"
    dockerfile = parse_dockerfile(text)
    assert dockerfile.directives == {}
    assert dockerfile.escape == "\\"
    assert [(c.line, c.text) for c in dockerfile.comments] == [(1, "a note"), (2, "escape=`")]
    # the backtick is not a continuation here, so "done" is an (unknown) instruction
    assert keywords(dockerfile) == ["FROM", "RUN"]
    assert messages(dockerfile) == ["unknown instruction: done"]


def test_unknown_directive_key_and_blank_line_end_the_directives():
    assert parse_dockerfile("# foo=bar\n# syntax=x\nFROM a\n").directives == {}
    assert parse_dockerfile("# syntax=x\n\n# escape=`\nFROM a\n").directives == {"syntax": "x"}


def test_repeated_directive_is_a_problem_and_the_first_value_stays():
    dockerfile = parse_dockerfile("# escape=`\n# ESCAPE=\\\nFROM a\n")
    assert dockerfile.escape == "`"
    assert [(p.code, p.message, p.span.line) for p in dockerfile.problems] == [
        ("SYN001", "only one escape parser directive can be used", 2)
    ]


def test_invalid_escape_token_is_a_problem():
    dockerfile = parse_dockerfile("# escape=x\nFROM a\n")
    assert dockerfile.escape == "\\"
    assert messages(dockerfile) == ["invalid escape token 'x': use ` or \\"]


def test_check_directive_before_escape_still_counts():
    text = "# check=skip=all\n# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir `\n  C:\\\n"
    dockerfile = parse_dockerfile(text)
    assert dockerfile.escape == "`"
    assert keywords(dockerfile) == ["FROM", "RUN"]
    assert dockerfile.instructions[1].args == "dir   C:\\"


def test_backtick_escape_makes_backtick_the_continuation_and_backslash_plain():
    text = (
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        "WORKDIR C:\\app\\\n"
        "RUN powershell -Command `\n"
        "    Invoke-WebRequest https://example.com/x.zip -OutFile C:\\x.zip ; `\n"
        "    Expand-Archive C:\\x.zip\n"
        "COPY . C:\\app\\\n"
    )
    dockerfile = parse_dockerfile(text)
    assert keywords(dockerfile) == ["FROM", "WORKDIR", "RUN", "COPY"]
    workdir, run, copy = dockerfile.instructions[1:]
    assert workdir.args == "C:\\app\\"
    assert workdir.span == Span(3, 1, 3, 16)
    assert run.args == (
        "powershell -Command     Invoke-WebRequest https://example.com/x.zip -OutFile C:\\x.zip ;     "
        "Expand-Archive C:\\x.zip"
    )
    assert run.span == Span(4, 1, 6, 28)
    assert word_span(run, "Expand-Archive") == Span(6, 5, 6, 19)
    assert copy.args == ". C:\\app\\"


# --- instructions, flags, spans ------------------------------------------------------------


def test_lowercase_keywords_are_stored_upper_case():
    dockerfile = parse_dockerfile("from python:3.12-slim\nworkdir /app\nRun pip install flask\ncmd python app.py\n")
    assert keywords(dockerfile) == ["FROM", "WORKDIR", "RUN", "CMD"]
    assert dockerfile.instructions[2].args == "pip install flask"
    assert [i.index for i in dockerfile.instructions] == [0, 1, 2, 3]


def test_flags_are_split_with_exact_spans():
    text = "FROM python:3.12 AS build\n  COPY --from=build --chown=app:app --chmod=755 --link  /src /dst\n"
    copy = parse_dockerfile(text).instructions[1]
    assert [(f.name, f.value) for f in copy.flags] == [
        ("from", "build"),
        ("chown", "app:app"),
        ("chmod", "755"),
        ("link", None),
    ]
    assert copy.flag("from").span == Span(2, 8, 2, 20)
    assert copy.flag("link").span == Span(2, 49, 2, 55)
    assert copy.span == Span(2, 3, 2, 66)
    assert copy.args == "/src /dst"
    assert copy.positions[0] == (2, 57)
    assert word_span(copy, "/dst") == Span(2, 62, 2, 66)


def test_flags_on_continuation_lines_and_quoted_values():
    text = (
        "FROM python:3.12\n"
        "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
        '    --mount="type=secret,id=netrc,target=/root/.netrc" \\\n'
        "    --network=none --security=insecure \\\n"
        "    pip install -r requirements.txt\n"
    )
    run = parse_dockerfile(text).instructions[1]
    assert [(f.name, f.value) for f in run.flags] == [
        ("mount", "type=cache,target=/root/.cache/pip"),
        ("mount", "type=secret,id=netrc,target=/root/.netrc"),
        ("network", "none"),
        ("security", "insecure"),
    ]
    assert run.flags_named("mount")[1].span == Span(3, 5, 3, 55)
    assert run.flag("network").span == Span(4, 5, 4, 19)
    assert run.args == "pip install -r requirements.txt"
    assert run.span_of(0, 3) == Span(5, 5, 5, 8)


def test_copy_and_add_flags_from_newer_buildkit():
    text = (
        "FROM alpine\n"
        "COPY --parents --exclude=*.pyc --exclude=tests/ src/./pkg /app/\n"
        "ADD --keep-git-dir=true --checksum=sha256:abc https://example.com/repo.git /src\n"
        "COPY -- --weird-name /dst\n"
    )
    copy, add, weird = parse_dockerfile(text).instructions[1:]
    assert [(f.name, f.value) for f in copy.flags] == [("parents", None), ("exclude", "*.pyc"), ("exclude", "tests/")]
    assert [(f.name, f.value) for f in add.flags] == [("keep-git-dir", "true"), ("checksum", "sha256:abc")]
    assert weird.flags == () and weird.args == "--weird-name /dst"


def test_flag_names_are_lower_cased_and_bare_flag_has_no_value():
    run = parse_dockerfile("FROM a\nCOPY --LINK --Chown= x /y\n").instructions[1]
    assert [(f.name, f.value) for f in run.flags] == [("link", None), ("chown", "")]


# --- continuations -------------------------------------------------------------------------


def test_apt_cleanup_across_comments_blank_lines_and_trailing_blanks():
    dockerfile = parse_dockerfile(ML_BUILD)
    run = dockerfile.instructions[3]
    assert run.keyword == "RUN"
    assert run.args == (
        "apt-get update     && apt-get install -y --no-install-recommends         "
        "build-essential python${PY}-dev     && rm -rf /var/lib/apt/lists/*"
    )
    assert run.span == Span(7, 1, 12, 35)
    assert len(run.positions) == len(run.args)
    assert word_span(run, "build-essential") == Span(10, 9, 10, 24)
    assert word_span(run, "rm") == Span(12, 8, 12, 10)
    # a word across the join keeps both ends at their real place
    start = run.args.index("update")
    assert run.span_of(start, run.args.index("&&") + 2) == Span(7, 13, 9, 7)


def test_blank_after_continuation_escape_is_allowed():
    text = "FROM a\nRUN echo one \\   \n    two\n"
    run = parse_dockerfile(text).instructions[1]
    assert run.args == "echo one     two"
    assert run.span == Span(2, 1, 3, 8)


def test_escaped_escape_at_end_of_line_is_not_a_continuation():
    dockerfile = parse_dockerfile("FROM a\nRUN echo \\\\\nCMD x\n")
    assert keywords(dockerfile) == ["FROM", "RUN", "CMD"]
    assert dockerfile.instructions[1].args == "echo \\\\"


def test_lone_trailing_backslash_at_end_of_file_keeps_the_instruction():
    dockerfile = parse_dockerfile("FROM python:3.12\nRUN pip install flask \\")
    assert keywords(dockerfile) == ["FROM", "RUN"]
    run = dockerfile.instructions[1]
    assert run.args == "pip install flask"
    assert run.span == Span(2, 1, 2, 24)
    assert dockerfile.problems == ()


def test_continuation_followed_only_by_comments_and_blanks_at_end_of_file():
    dockerfile = parse_dockerfile("FROM a\nRUN make \\\n# done\n\n")
    assert keywords(dockerfile) == ["FROM", "RUN"]
    assert dockerfile.instructions[1].span == Span(2, 1, 2, 11)
    assert [c.line for c in dockerfile.comments] == [3]


def test_comments_everywhere_are_collected_with_their_lines():
    text = (
        "# hadolint ignore=DL3006\n"
        "FROM ubuntu\n"
        "  # dockerlint: ignore=DL3008 apt pins are managed by renovate\n"
        "RUN apt-get install -y curl \\\n"
        "#inside\n"
        "    wget\n"
        "#\n"
    )
    comments = parse_dockerfile(text).comments
    assert [(c.line, c.text) for c in comments] == [
        (1, "hadolint ignore=DL3006"),
        (3, "dockerlint: ignore=DL3008 apt pins are managed by renovate"),
        (5, "inside"),
        (7, ""),
    ]


# --- heredocs -------------------------------------------------------------------------------


def test_heredoc_run_with_python_code():
    text = (
        "FROM python:3.12-slim\n"
        "RUN python3 <<'PY'\n"
        "import json, sys\n"
        "# not a Dockerfile comment\n"
        "FROM = 'not an instruction'\n"
        "print(json.dumps({'ok': True}))\n"
        "PY\n"
        'CMD ["python3"]\n'
    )
    dockerfile = parse_dockerfile(text)
    assert keywords(dockerfile) == ["FROM", "RUN", "CMD"]
    assert dockerfile.comments == ()
    run = dockerfile.instructions[1]
    assert run.args == "python3 <<'PY'"
    assert run.span == Span(2, 1, 7, 3)
    (heredoc,) = run.heredocs
    assert heredoc.name == "PY" and heredoc.quoted and not heredoc.strip_tabs and heredoc.fd is None
    assert heredoc.body == (
        "import json, sys\n# not a Dockerfile comment\nFROM = 'not an instruction'\nprint(json.dumps({'ok': True}))"
    )
    assert heredoc.body_line == 3
    assert heredoc.span == Span(3, 1, 7, 3)


def test_heredoc_copy_to_a_file():
    text = "FROM nginx\nCOPY <<EOF /etc/nginx/conf.d/default.conf\nserver { listen 8080; }\nEOF\nEXPOSE 8080\n"
    dockerfile = parse_dockerfile(text)
    copy = dockerfile.instructions[1]
    assert copy.args == "<<EOF /etc/nginx/conf.d/default.conf"
    assert copy.heredocs[0].body == "server { listen 8080; }"
    assert not copy.heredocs[0].quoted
    assert keywords(dockerfile) == ["FROM", "COPY", "EXPOSE"]


def test_several_heredocs_strip_tabs_and_fd():
    text = 'FROM alpine\nRUN <<A cat >/a && 3<<-"B" cat >/b\nfirst $HOME\nA\n\t\tsecond\n\tB\nUSER nobody\n'
    dockerfile = parse_dockerfile(text)
    first, second = dockerfile.instructions[1].heredocs
    assert (first.name, first.body, first.quoted, first.strip_tabs, first.fd) == ("A", "first $HOME", 0, 0, None)
    assert (second.name, second.body, second.quoted, second.strip_tabs, second.fd) == ("B", "second", 1, 1, 3)
    assert (first.span, second.span) == (Span(3, 1, 4, 2), Span(5, 1, 6, 3))
    assert dockerfile.instructions[1].span == Span(2, 1, 6, 3)
    assert keywords(dockerfile) == ["FROM", "RUN", "USER"]


def test_shell_form_cat_heredoc_after_a_continuation_is_a_dockerfile_heredoc():
    text = "FROM alpine\nRUN set -e; \\\n    cat <<EOF > /etc/motd\nhello\nEOF\n"
    run = parse_dockerfile(text).instructions[1]
    assert run.heredocs[0].body == "hello"
    assert run.heredocs[0].body_line == 4
    assert run.span == Span(2, 1, 5, 4)


def test_quoted_double_less_than_and_here_strings_are_not_heredocs():
    text = 'FROM alpine\nRUN echo \'<<EOF\' "a <<B" && cat <<<"$x" && grep x <<<y\nUSER app\n'
    dockerfile = parse_dockerfile(text)
    assert dockerfile.instructions[1].heredocs == ()
    assert keywords(dockerfile) == ["FROM", "RUN", "USER"]


def test_heredoc_only_on_run_copy_add_and_not_in_exec_form():
    text = 'FROM alpine\nENV A=<<EOF\nRUN ["cat", "<<EOF"]\nUSER app\n'
    dockerfile = parse_dockerfile(text)
    assert keywords(dockerfile) == ["FROM", "ENV", "RUN", "USER"]
    assert all(i.heredocs == () for i in dockerfile.instructions)


def test_unterminated_heredoc_runs_to_end_of_file_with_a_problem():
    text = "FROM alpine\nRUN <<EOT sh\necho hi\nUSER app\n"
    dockerfile = parse_dockerfile(text)
    assert keywords(dockerfile) == ["FROM", "RUN"]
    run = dockerfile.instructions[1]
    assert run.heredocs[0].body == "echo hi\nUSER app"
    assert run.span == Span(2, 1, 4, 9)
    (problem,) = dockerfile.problems
    assert problem.code == "SYN001" and "EOT" in problem.message
    assert problem.span == Span(2, 5, 2, 10)


def test_onbuild_inner_instruction_with_heredoc():
    text = (
        "FROM python:3.12\n"
        "ONBUILD COPY --chown=app requirements.txt /app/\n"
        "onbuild RUN <<EOF\n"
        "pip install -r /app/requirements.txt\n"
        "EOF\n"
    )
    dockerfile = parse_dockerfile(text)
    copy_trigger, run_trigger = dockerfile.instructions[1:]
    assert copy_trigger.keyword == "ONBUILD" and copy_trigger.args == "COPY --chown=app requirements.txt /app/"
    inner = copy_trigger.onbuild
    assert (inner.keyword, inner.args, inner.flags[0].name, inner.flags[0].value) == (
        "COPY",
        "requirements.txt /app/",
        "chown",
        "app",
    )
    assert inner.flags[0].span == Span(2, 14, 2, 25)
    assert inner.span == Span(2, 9, 2, 48)
    assert run_trigger.onbuild.heredocs[0].body == "pip install -r /app/requirements.txt"
    assert run_trigger.span == Span(3, 1, 5, 4)


def test_onbuild_refuses_onbuild_from_and_unknown_triggers():
    dockerfile = parse_dockerfile("FROM a\nONBUILD ONBUILD RUN x\nONBUILD FROM b\nONBUILD frob\nUSER app\n")
    assert keywords(dockerfile) == ["FROM", "ONBUILD", "ONBUILD", "USER"]  # refused triggers are kept
    assert [i.onbuild.keyword for i in dockerfile.instructions if i.onbuild] == ["ONBUILD", "FROM"]
    assert messages(dockerfile) == [
        "ONBUILD isn't allowed as an ONBUILD trigger",
        "FROM isn't allowed as an ONBUILD trigger",
        "unknown instruction after ONBUILD: frob",
    ]


# --- exec form -------------------------------------------------------------------------------


def test_json_form_and_shell_fallback():
    text = (
        "FROM python:3.12\n"
        'ENTRYPOINT ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "app.main:app"]\n'
        "CMD [python, app.py]\n"
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'
        'HEALTHCHECK --interval=30s CMD ["curl", "-f", "http://localhost:8080/health"]\n'
        'ENV JSON=["a"]\n'
    )
    entrypoint, cmd, shell, health, env = parse_dockerfile(text).instructions[1:]
    assert entrypoint.json_args == ("gunicorn", "-k", "uvicorn.workers.UvicornWorker", "app.main:app")
    assert cmd.json_args is None and cmd.args == "[python, app.py]"
    assert shell.json_args == ("/bin/bash", "-o", "pipefail", "-c")
    assert health.json_args == ("curl", "-f", "http://localhost:8080/health")
    assert health.flag("interval").value == "30s"
    assert env.json_args is None


def test_json_array_of_non_strings_is_a_problem():
    dockerfile = parse_dockerfile('FROM a\nCMD ["sleep", 10]\n')
    assert dockerfile.instructions[1].json_args is None
    assert messages(dockerfile) == ["CMD: a JSON array form must hold only strings"]


# --- stages and ARG expansion ----------------------------------------------------------------


def test_multi_stage_ml_build_stages_and_global_args():
    dockerfile = parse_dockerfile(ML_BUILD)
    assert dockerfile.global_args == (("PY", "3.11"), ("CUDA", "12.1.1"))
    builder, runtime = dockerfile.stages
    assert (builder.index, builder.name, builder.platform) == (0, "builder", "$BUILDPLATFORM")
    assert builder.base == "nvidia/cuda:${CUDA}-cudnn8-devel-ubuntu22.04"
    assert builder.base_resolved == "nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04"
    assert [i.keyword for i in builder.instructions] == ["FROM", "RUN", "COPY", "RUN"]
    assert builder.from_instruction.flag("platform").span == Span(5, 6, 5, 31)
    assert (runtime.index, runtime.name, runtime.platform) == (1, "runtime", None)
    assert runtime.base == "python:${PY:-3.9}-slim"
    assert runtime.base_resolved == "python:3.11-slim"
    assert [i.keyword for i in runtime.instructions] == ["FROM", "COPY", "RUN", "CMD"]
    assert runtime.instructions[1].flag("from").value == "builder"


def test_from_defaults_apply_when_the_global_arg_has_no_value():
    text = 'ARG PY\nARG VARIANT="slim"\nARG BASE=python:${PY:-3.9}-${VARIANT}\nFROM ${BASE}\nFROM $UNSET\n'
    dockerfile = parse_dockerfile(text)
    assert dockerfile.global_args == (("PY", None), ("VARIANT", "slim"), ("BASE", "python:3.9-slim"))
    assert [stage.base_resolved for stage in dockerfile.stages] == ["python:3.9-slim", ""]


def test_instruction_before_first_from_and_from_problems():
    dockerfile = parse_dockerfile("ARG X=1\nRUN echo hi\nFROM\nFROM a AS\nFROM b as B extra\n")
    assert keywords(dockerfile) == ["ARG", "RUN", "FROM", "FROM"]
    assert [(p.message, p.span.line) for p in dockerfile.problems] == [
        ("RUN before the first FROM: only ARG may come before FROM", 2),
        ("FROM requires an image", 3),
        ("FROM takes an image and optionally `AS name`", 4),
        ("FROM takes an image and optionally `AS name`", 5),
    ]
    assert [(s.base, s.name) for s in dockerfile.stages] == [("a", None), ("b", None)]


def test_missing_arguments_are_skipped_with_a_problem():
    dockerfile = parse_dockerfile("FROM a\nUSER\nWORKDIR   \nCOPY --link\nRUN\nEXPOSE 80\n")
    assert keywords(dockerfile) == ["FROM", "RUN", "EXPOSE"]
    assert [(p.message, p.span) for p in dockerfile.problems] == [
        ("USER requires at least one argument", Span(2, 1, 2, 5)),
        ("WORKDIR requires at least one argument", Span(3, 1, 3, 8)),
        ("COPY requires at least one argument", Span(4, 1, 4, 12)),
    ]


def test_a_copy_with_one_argument_has_no_destination():
    """BuildKit refuses `COPY requirements.txt.` (no destination): most often a space is
    missing before the `.`, which the message suggests. Two arguments, or a heredoc, are fine."""
    text = (
        'FROM python:3.12-slim\nCOPY requirements.txt.\nADD --chmod=644 app.py\nCOPY ["main.py"]\n'
        "COPY requirements.txt .\nCOPY <<EOF /app/run.sh\necho hi\nEOF\nCOPY --from=build /wheels /wheels\n"
    )
    dockerfile = parse_dockerfile(text)
    assert [(p.span.line, p.message) for p in dockerfile.problems] == [
        (
            2,
            "COPY requires a source and a destination; `requirements.txt.` is one argument "
            "(a space missing before the destination: `COPY requirements.txt .`?)",
        ),
        (3, "ADD requires a source and a destination; `app.py` is one argument"),
        (4, "COPY requires a source and a destination; `main.py` is one argument"),
    ]
    assert keywords(dockerfile).count("COPY") == 5  # kept: the other rules still read them


def test_unknown_instruction_is_skipped_and_parsing_goes_on():
    text = "FROM python:3.12\nRUNN pip install x\nMAINTAINER me\nRUN pip install y\n"
    dockerfile = parse_dockerfile(text)
    assert keywords(dockerfile) == ["FROM", "MAINTAINER", "RUN"]
    (problem,) = dockerfile.problems
    assert (problem.code, problem.message, problem.span) == ("SYN001", "unknown instruction: RUNN", Span(2, 1, 2, 5))


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "# syntax=docker/dockerfile:1\n"])
def test_file_with_no_instructions(text):
    dockerfile = parse_dockerfile(text)
    assert dockerfile.instructions == () and dockerfile.stages == ()
    assert messages(dockerfile) == ["file with no instructions"]


# --- expansion --------------------------------------------------------------------------------


ENV = {"PY": "3.11", "EMPTY": "", "NAME": "app"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ("python:$PY-slim", "python:3.11-slim"),
        ("python:${PY}-slim", "python:3.11-slim"),
        ("${UNSET}x$UNSET", "x"),
        ("${UNSET:-3.9}", "3.9"),
        ("${EMPTY:-dflt}", "dflt"),
        ("${EMPTY-dflt}", ""),
        ("${UNSET-dflt}", "dflt"),
        ("${PY:+set}", "set"),
        ("${EMPTY:+set}", ""),
        ("${EMPTY+set}", "set"),
        ("${UNSET+set}", ""),
        ("${UNSET:-${NAME}-${PY:-x}}", "app-3.11"),
        ("${UNSET:-a}}", "a}"),
        ("\\$PY costs \\${PY}", "$PY costs ${PY}"),
        ("${PY?must be set} ${UNSET:?no}", "${PY?must be set} ${UNSET:?no}"),
        ("${PY#3.} ${NAME/a/b}", "${PY#3.} ${NAME/a/b}"),
        ("'$PY' \"$PY\"", "'$PY' \"3.11\""),
        ("$ cost $5 ${", "$ cost  ${"),
        ("${UNSET:-unterminated", "${UNSET:-unterminated"),
        ("C:\\dir\\$NAME \\\\$NAME", "C:\\dir$NAME \\\\app"),
    ],
)
def test_expand(value, expected):
    assert expand(value, ENV) == expected


def test_expand_with_backtick_escape_and_word_processing():
    assert expand("C:\\$NAME `$NAME", ENV, "`") == "C:\\app $NAME"
    assert expand_word("\"a $NAME\" 'b $NAME' c\\ d", ENV) == "a app b $NAME c d"


def test_expand_survives_hostile_nesting():
    deep = "${A:-" * 5000 + "x" + "}" * 5000
    assert isinstance(expand(deep, {}), str)


# --- robustness ---------------------------------------------------------------------------------


def test_crlf_input_after_decode_and_stray_carriage_returns():
    raw = b"\xef\xbb\xbfFROM python:3.12\r\nRUN pip install \\\r\n    flask\r\n"
    text, bad = decode(raw)
    decoded = parse_dockerfile(text)
    stray = parse_dockerfile("\ufeffFROM python:3.12\r\nRUN pip install \\\r\n    flask\r\n")
    for dockerfile in (decoded, stray):
        assert keywords(dockerfile) == ["FROM", "RUN"]
        assert dockerfile.instructions[1].args == "pip install     flask"
        assert dockerfile.instructions[1].span == Span(2, 1, 3, 10)
    assert decoded.instructions[0].span == Span(1, 1, 1, 17)
    assert stray.instructions[0].span == Span(1, 2, 1, 18)  # the BOM is a column of that text


def test_garbage_and_binary_text_never_raise():
    garbage = "\x00\x01\x02ÿþ\x7f<<\\\n\x1b[31m$\\{\n--\n\\\n\u202e<<EOF\n" + "".join(map(chr, range(1, 300)))
    dockerfile = parse_dockerfile(garbage)
    assert dockerfile.instructions == ()
    assert dockerfile.problems and all(p.code == "SYN001" for p in dockerfile.problems)


def test_random_dockerfile_fragments_never_raise_and_positions_match_args():
    fragments = [
        "FROM", "RUN", "COPY", "ONBUILD", "add", "ARG", "--from=x", "--mount=\"a b\"", "<<EOF", "<<-'E'",
        "3<<X", "EOF", "E", "X", "\\", "`", "#", "# escape=`", '"', "'", "[", "]", '["a",', "${A:-", "}",
        "$B", "\t", " ", "\n", "\n", "\n", "AS", "x", "\r", "\ufeff", "--", "=",
    ]  # fmt: skip
    rng = random.Random(20261123)
    for _ in range(400):
        text = " ".join(rng.choice(fragments) for _ in range(rng.randrange(1, 40)))
        dockerfile = parse_dockerfile(text)
        for instruction in dockerfile.instructions:
            assert len(instruction.positions) == len(instruction.args)
            assert list(instruction.positions) == [instruction.positions[i] for i in range(len(instruction.args))]


def test_positions_behave_like_a_tuple_of_pairs():
    run = parse_dockerfile("FROM a\nRUN a \\\n  bc\n").instructions[1]
    assert run.args == "a   bc"
    expected = ((2, 5), (2, 6), (3, 1), (3, 2), (3, 3), (3, 4))
    assert run.positions == expected
    assert tuple(run.positions) == expected
    assert run.positions[-1] == (3, 4) and run.positions[1:3] == ((2, 6), (3, 1))
    assert isinstance(run.positions, Positions)
    with pytest.raises(IndexError):
        run.positions[6]


def test_ten_megabytes_parse_completely():
    block = (
        "FROM python:3.12-slim AS stage{n}\n"
        "# build step {n}\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y --no-install-recommends curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "COPY --chown=app:app requirements.txt /app/\n"
        "RUN <<EOF\n"
        "pip install -r /app/requirements.txt\n"
        "EOF\n"
        'CMD ["python", "-m", "app"]\n'
    )
    blocks = []
    size = 0
    while size < 10_000_000:
        blocks.append(block.format(n=len(blocks)))
        size += len(blocks[-1])
    dockerfile = parse_dockerfile("".join(blocks))
    assert len(dockerfile.instructions) == 5 * len(blocks)
    assert len(dockerfile.stages) == len(blocks)
    assert dockerfile.problems == ()


# --- differential test against dockerfile-parse ---------------------------------------------


ORACLE_CORPUS = [
    """\
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["python", "app.py"]
""",
    ML_BUILD.replace("\n\n    && rm", "\n    && rm").replace("${PY:-3.9}", "${PY}"),
    """\
FROM node:20 AS web
RUN npm ci \\
 && npm run build
FROM nginx:alpine
COPY --from=web /app/dist /usr/share/nginx/html
EXPOSE 80
""",
    """\
from alpine:3.19
run apk add --no-cache curl
user nobody
entrypoint ["curl"]
""",
    """\
ARG BASE=ubuntu:22.04
FROM $BASE
ENV DEBIAN_FRONTEND=noninteractive \\
    LANG=C.UTF-8
RUN apt-get update && \\
    apt-get install -y python3 && \\
    rm -rf /var/lib/apt/lists/*
""",
    """\
FROM python:3.11
LABEL org.opencontainers.image.source="https://example.com" \\
      org.opencontainers.image.licenses=MIT
VOLUME ["/data"]
STOPSIGNAL SIGTERM
""",
    """\
FROM python:3.11
# comment before
RUN pip install \\
    # why torch cpu
    torch --index-url https://download.pytorch.org/whl/cpu \\
    numpy
HEALTHCHECK --interval=30s --timeout=3s \\
  CMD curl -f http://localhost/ || exit 1
""",
    """\
# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
WORKDIR C:\\app\\
RUN powershell -Command `
    Get-ChildItem
COPY . C:\\app\\
""",
    """\
FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app
FROM gcr.io/distroless/static
COPY --from=build /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
""",
    """\
FROM python:3.12-slim
ONBUILD COPY requirements.txt /app/
ONBUILD RUN pip install -r /app/requirements.txt
SHELL ["/bin/bash", "-c"]
""",
    """\
FROM --platform=$BUILDPLATFORM python:3.12 AS deps
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
FROM python:3.12-slim
COPY --from=deps /usr/local /usr/local
CMD python -m app
""",
    """\
FROM ubuntu:22.04
MAINTAINER someone@example.com
ADD https://example.com/file.tar.gz /tmp/
RUN tar -xzf /tmp/file.tar.gz -C /opt \\
    && rm /tmp/file.tar.gz
EXPOSE 8080/tcp 9090
""",
    """\
FROM pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime
ENV HF_HOME=/models PYTHONUNBUFFERED=1
COPY requirements.txt .
RUN pip install -r requirements.txt \\
    && python -c "import torch; print(torch.__version__)"
COPY src/ /app/src/
WORKDIR /app
CMD ["python", "-m", "src.serve"]
""",
    """\
FROM alpine
ARG VERSION=1.0
RUN echo $VERSION > /version
RUN echo done
USER 1000
""",
    """\
FROM debian:12
RUN set -eux; \\
    apt-get update; \\
    apt-get install -y --no-install-recommends ca-certificates; \\
    rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH
""",
]


@pytest.mark.parametrize("text", ORACLE_CORPUS)
def test_instruction_lines_agree_with_dockerfile_parse(text):
    """dockerfile-parse is an oracle here only, on ordinary files where it is right.

    It is never imported by dockerlint: library-probe.md §1 records that it silently
    mis-parses heredocs (every body line becomes an instruction), ends an instruction at a
    blank line inside a continuation, keeps a BOM in the first keyword, expands
    ``${V:-d}`` wrongly, ignores an escape directive after ``# check=``, and drops an
    instruction whose last line ends in ``\\`` at end of file. The corpus avoids all of those.
    """
    from dockerfile_parse import DockerfileParser

    oracle = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    expected = [
        (entry["instruction"], entry["startline"] + 1, entry["endline"] + 1)
        for entry in oracle.structure
        if entry["instruction"] != "COMMENT"
    ]
    ours = [(i.keyword, i.span.line, i.span.end_line) for i in parse_dockerfile(text).instructions]
    assert ours == sorted(expected, key=lambda entry: entry[1])


@given(st.text(alphabet="ab=1 \t\n\"'\\$#x", max_size=24))
def test_env_words_are_read_as_the_shell_reads_them(text):
    """ENV, LABEL and ARG values are split with POSIX quoting (shlex's reading, done with a
    regular expression: shlex reads a character at a time); an open quote splits on spaces."""
    try:
        expected = shlex.split(text, posix=True)
    except ValueError:
        expected = text.split()
    assert _shell_words(text) == expected

"""Reading the test of an `if` in a RUN script with the build's ARG and ENV values."""

from __future__ import annotations

import pytest

from dockerlint.model.conditions import holds, runs

ENV = {"INSTALL_DEV": "false", "EMPTY": "", "TARGET": "prod"}


@pytest.mark.parametrize(
    "condition, expected",
    [
        ('[ "$INSTALL_DEV" = "true" ]', False),
        ("[ $INSTALL_DEV == 'false' ] ", True),
        ('[[ "$TARGET" != "dev" ]]', True),
        ('test -n "$EMPTY"', False),
        ('[ -z "${EMPTY}" ]', True),
        ('! [ "$TARGET" = dev ]', True),
        ('[ ! "$TARGET" = prod ]', False),
        ('[ "${EMPTY:-dev}" = dev ]', True),
        # undecided: a variable the Dockerfile does not set, a file test, a pattern, an
        # unquoted empty value, single quotes, a modifier not read, a command substitution
        ('[ "$FROM_THE_BASE" = x ]', None),
        ("[ -f /run/secrets/dev ]", None),
        ("[[ $TARGET == pro* ]]", None),
        ("[ -n $EMPTY ]", None),
        ("[ '$TARGET' = prod ]", None),
        ('[ "${TARGET:+x}" = x ]', None),
        ('[ "$(cat /etc/debian_version)" = 12 ]', None),
        ("grep -q prod /etc/target", None),
    ],
)
def test_plain_tests_are_read_and_anything_else_is_undecided(condition, expected):
    assert holds(condition, ENV) is expected


def test_a_command_runs_unless_one_of_its_conditions_goes_the_other_way():
    dev = '[ "$INSTALL_DEV" = "true" ]'
    assert runs(((dev, False),), ENV) is True
    assert runs(((dev, True),), ENV) is False
    assert runs((("[ -f /x ]", True), (dev, False)), ENV) is True  # undecided and held

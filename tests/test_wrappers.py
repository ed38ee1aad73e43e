"""The words that only wrap a command (model/installs.py's wrapper_words), which every
reading of a RUN or start command skips to find the program that runs."""

import pytest

from dockerlint.model.installs import wrapper_words


@pytest.mark.parametrize(
    ("command", "program"),
    [
        ("pip install torch", "pip"),
        ("sudo -E -u app pip install torch", "pip"),
        ("env A=1 B=2 python -m app", "python"),
        ("conda run -n serve python -m app", "python"),
        ("poetry run python -m app", "python"),
        ("uv run --no-sync python -m nltk.downloader punkt", "python"),
        ("uv run --with rich python -m app", "python"),
        # global options before `run`
        ("uv --directory a2a run --no-sync python -m nltk.downloader punkt", "python"),
        ("poetry -C services/api run gunicorn app:app", "gunicorn"),
        ("hatch -e prod run python -m app", "python"),
        # no `run`: the runner itself is the program
        ("uv --directory a2a sync --locked", "uv"),
        ("poetry install --only main", "poetry"),
    ],
)
def test_the_program_a_wrapped_command_runs(command, program):
    argv = tuple(command.split())
    assert argv[wrapper_words(argv)] == program

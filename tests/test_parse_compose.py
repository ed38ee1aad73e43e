import subprocess
import sys
import textwrap
import time

import pytest

from dockerlint.parse.compose import Volume, parse_compose

ML_STACK = """\
x-defaults: &defaults
  restart: unless-stopped
  environment:
    LOG_LEVEL: info
    HF_HOME: /root/.cache/huggingface

services:
  inference:
    <<: *defaults
    build:
      context: ./services/inference
      dockerfile: docker/Dockerfile.gpu
      target: runtime
      args:
        - PYTHON_VERSION=3.11
        - PIP_INDEX_URL
    image: registry.example.com/inference:latest
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 1
              capabilities: [gpu]
    volumes:
      - ./models:/models:ro
      - hf-cache:/root/.cache/huggingface
      - /tmp/scratch
      - type: volume
        source: weights
        target: /weights
      - type: tmpfs
        target: /run
    command: ["python", "-m", "serve", "--port", "8000"]

  web:
    <<: *defaults
    build: ./web
    environment:
      - LOG_LEVEL=debug
      - API_URL=http://inference:8000
      - SECRET
    command: gunicorn app:app -b 0.0.0.0:80

  redis:
    image: redis:7

volumes:
  hf-cache: {}
  weights: {}
"""


def line_of(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


def services(text: str) -> dict:
    result = parse_compose(textwrap.dedent(text))
    assert result.problems == ()
    return {service.name: service for service in result.services}


def test_realistic_ml_stack():
    found = services(ML_STACK)
    assert list(found) == ["inference", "web", "redis"]
    inference, web, redis = found.values()

    assert inference.line == line_of(ML_STACK, "  inference:") == 8
    assert inference.context == "./services/inference"
    assert inference.dockerfile == "docker/Dockerfile.gpu"
    assert inference.target == "runtime"
    assert inference.args == {"PYTHON_VERSION": "3.11", "PIP_INDEX_URL": ""}
    assert inference.image == "registry.example.com/inference:latest"
    assert inference.gpu is True
    assert inference.volumes == (
        Volume("/models", "./models"),
        Volume("/root/.cache/huggingface", "hf-cache"),
        Volume("/tmp/scratch", None),
        Volume("/weights", "weights"),
        Volume("/run", None),
    )
    assert inference.environment == {"LOG_LEVEL": "info", "HF_HOME": "/root/.cache/huggingface"}
    assert inference.command == ("python", "-m", "serve", "--port", "8000")

    assert web.line == line_of(ML_STACK, "  web:")
    assert (web.context, web.dockerfile, web.target, web.args) == ("./web", None, None, {})
    assert web.gpu is False
    # The service's own environment replaces the merged one entirely (a merge is shallow).
    assert web.environment == {"LOG_LEVEL": "debug", "API_URL": "http://inference:8000", "SECRET": ""}
    assert web.command == "gunicorn app:app -b 0.0.0.0:80"

    assert redis.line == line_of(ML_STACK, "  redis:")
    assert (redis.image, redis.context, redis.command) == ("redis:7", None, None)


def test_build_mapping_without_context_means_the_compose_folder():
    found = services("services:\n  app:\n    build:\n      dockerfile: Dockerfile.cpu\n")
    assert (found["app"].context, found["app"].dockerfile) == (".", "Dockerfile.cpu")


def test_build_args_as_mapping_keep_the_written_scalars():
    found = services(
        """
        services:
          app:
            build:
              context: .
              args:
                TORCH_VERSION: 2.1.0
                CUDA: 012
                EMPTY:
        """
    )
    assert found["app"].args == {"TORCH_VERSION": "2.1.0", "CUDA": "012", "EMPTY": ""}


@pytest.mark.parametrize(
    "config, gpu",
    [
        ("deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}", True),
        ("deploy: {resources: {reservations: {devices: [{capabilities: [[gpu, utility]]}]}}}", True),
        ("deploy: {resources: {reservations: {devices: [{driver: nvidia, count: all}]}}}", True),
        ("gpus: all", True),
        ("gpus: [{driver: nvidia, count: 1}]", True),
        ("runtime: nvidia", True),
        ("deploy: {resources: {reservations: {devices: [{capabilities: [tpu]}]}}}", False),
        ("deploy: {resources: {limits: {cpus: '2'}}}", False),
        ("runtime: runc", False),
        ("image: pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime", False),
    ],
)
def test_gpu_requests(config, gpu):
    assert services(f"services:\n  app:\n    {config}\n")["app"].gpu is gpu


@pytest.mark.parametrize(
    "entry, volume",
    [
        ("./models:/models:ro", Volume("/models", "./models")),
        ("cache:/root/.cache", Volume("/root/.cache", "cache")),
        ("/data", Volume("/data", None)),
        ("~/.aws:/root/.aws:ro,z", Volume("/root/.aws", "~/.aws")),
        ("'C:\\data:/data'", Volume("/data", "C:\\data")),
        ("{type: bind, source: ./src, target: /app}", Volume("/app", "./src")),
        ("{type: volume, target: /anon}", Volume("/anon", None)),
        # compose reads variables first: a default stands for an unset variable
        ("${HOST_DATA:-./app_data}:${DATA_ROOT:-/app_data}", Volume("/app_data", "./app_data")),
        ("${MODELS:-${HOME:-/srv}/models}:/models:ro", Volume("/models", "/srv/models")),
        ("${DATA:?set DATA}:/data", Volume("/data", "${DATA:?set DATA}")),
        ("./data:${DATA_ROOT}", Volume("${DATA_ROOT}", "./data")),
    ],
)
def test_volume_forms(entry, volume):
    assert services(f"services:\n  app:\n    volumes:\n      - {entry}\n")["app"].volumes == (volume,)


@pytest.mark.parametrize(
    "value, read",
    [
        ("${PORT:-8000}:8000", "8000:8000"),
        ("${EMPTY-}", ""),
        ("sh -c 'echo $$HOME'", "sh -c 'echo $HOME'"),
        ("$${NOT_READ:-x}", "${NOT_READ:-x}"),
        ("${SET_OR:+on}${NEEDED?}", "${SET_OR:+on}${NEEDED?}"),  # unknown: kept as written
        ("${TAG}", "${TAG}"),
    ],
)
def test_values_are_read_with_no_variable_set(value, read):
    assert services(f'services:\n  app:\n    image: "{value}"\n')["app"].image == read


EXTENDING = """
services:
  prod:
    build:
      context: ..
      dockerfile: docker/Dockerfile
      target: app-prod
      args:
        - USERID=10003
        - PIP_INDEX=https://pypi.org/simple
    volumes: ["/srv/data:/data"]
    command: python -m app.bot
  dev:
    extends:
      service: prod
    build:
      target: app-dev
      args:
        USERID: "1000"
    volumes: ["..:/app"]
  test:
    extends: dev
    command: pytest
  elsewhere:
    extends:
      file: common.yml
      service: base
    command: python -m app.other
  first:
    extends: second
  second:
    extends: first
    image: example/second
"""


def test_a_service_extends_another_of_the_file_key_by_key():
    """`dev` sets only its target and one argument: it builds with prod's context and
    Dockerfile; volumes add up, a command replaces; a loop or another file is not merged."""
    found = services(EXTENDING)
    dev, test = found["dev"], found["test"]
    assert (dev.context, dev.dockerfile, dev.target) == ("..", "docker/Dockerfile", "app-dev")
    assert dev.args == {"USERID": "1000", "PIP_INDEX": "https://pypi.org/simple"}
    assert dev.volumes == (Volume("/data", "/srv/data"), Volume("/app", ".."))
    assert (test.context, test.target, test.command) == ("..", "app-dev", "pytest")
    assert found["elsewhere"].context is None and found["elsewhere"].command == "python -m app.other"
    assert found["second"].image == "example/second"  # a loop ends where it closes


@pytest.mark.parametrize(
    "entry, files",
    [
        (".env", (".env",)),
        ("[.env, config/app.env]", (".env", "config/app.env")),
        ("[{path: .env, required: false}]", (".env",)),
    ],
)
def test_env_file_forms(entry, files):
    assert services(f"services:\n  app:\n    env_file: {entry}\n")["app"].env_files == files


def test_service_with_no_configuration():
    found = services("services:\n  worker:\n")
    assert found["worker"].image is None and found["worker"].volumes == ()


def test_merge_key_precedence():
    found = services(
        """
        x-base: &base {image: base:1, command: base}
        x-gpu: &gpu {image: gpu:1, runtime: nvidia}
        services:
          app:
            <<: [*gpu, *base]
            command: own
        """
    )
    app = found["app"]
    # Explicit keys win over merged ones; earlier merge sources win over later ones.
    assert (app.command, app.image, app.gpu) == ("own", "gpu:1", True)


def test_unsafe_tags_are_never_constructed(tmp_path):
    marker = tmp_path / "executed"
    found = services(
        f"""
        services:
          evil:
            image: !!python/object/apply:os.system ["touch {marker}"]
            command: !!python/object/apply:builtins.open ["{marker}", "w"]
          ok:
            image: nginx
            environment: !reset {{}}
            command: !override ["run"]
        """
    )
    assert not marker.exists()
    assert found["evil"].image is None  # a tagged sequence is not an image name
    assert found["ok"].image == "nginx" and found["ok"].command == ("run",)


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    return "\n".join(lines) + "\nservices:\n  app:\n    environment: *j\n"


def merge_bomb() -> str:
    lines = ["m0: &m0 {k0: 1}"]
    for level in range(1, 40):
        lines.append(f"m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}], k{level}: 1}}")
    return "\n".join(lines) + "\nservices:\n  app:\n    <<: *m39\n"


@pytest.mark.parametrize("text", [billion_laughs(), merge_bomb()], ids=["aliases", "merge-keys"])
def test_alias_bombs_stop_quickly_with_a_problem(text):
    started = time.monotonic()
    result = parse_compose(text)
    assert time.monotonic() - started < 2
    assert result.services == ()
    assert [p.code for p in result.problems] == ["SYN001"]
    assert "alias bomb" in result.problems[0].message


@pytest.mark.parametrize(
    "text",
    ["services: &s {app: {volumes: *s}}", "services: {app: &a {<<: *a}}", "&a [*a]"],
)
def test_recursive_aliases_give_a_problem(text):
    assert [p.code for p in parse_compose(text).problems] == ["SYN001"]


def test_shared_anchor_used_by_many_services_is_fine():
    lines = ["x-svc: &svc {image: 'app:1', volumes: ['./m:/m']}", "services:"]
    lines += [f"  s{i}: *svc" for i in range(200)]
    found = services("\n".join(lines) + "\n")
    assert len(found) == 200 and found["s199"].volumes == (Volume("/m", "./m"),)


def test_yaml_error_reports_its_line():
    result = parse_compose("services:\n  app:\n    image: [unclosed\n  other: {}\n")
    [problem] = result.problems
    assert problem.code == "SYN001"
    assert problem.span.line == 4
    assert "line 4" in problem.message


@pytest.mark.parametrize(
    "text, message",
    [
        ("- just\n- a list\n", "must be a mapping"),
        ("services: [web, db]\n", "'services' must be a mapping"),
        ("[" * 5000, "nested too deeply"),
        ("\x00\x01binary", "U+0000 is not allowed"),
    ],
)
def test_malformed_files_give_a_problem(text, message):
    result = parse_compose(text)
    assert result.services == ()
    assert [p.code for p in result.problems] == ["SYN001"]
    assert message in result.problems[0].message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "version: '3.8'\n", "services:\n"])
def test_files_without_services(text):
    assert parse_compose(text).services == () and parse_compose(text).problems == ()


def test_documents_of_one_file_are_merged_in_order():
    found = services(
        """
        services:
          app: {image: app:1, command: a}
        ---
        services:
          app: {command: b}
          worker: {image: w}
        """
    )
    # The text starts with a newline: the first document's `app:` is on line 3.
    assert (found["app"].image, found["app"].command, found["app"].line) == ("app:1", "b", 3)
    assert found["worker"].line == 7


def test_importing_the_module_does_not_import_yaml():
    code = "import sys, dockerlint.parse.compose; print('yaml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    "text",
    [
        ML_STACK,
        "services:\n  app:\n    image: [unclosed\n  other: {}\n",
        "services:\n  job:\n    command: |\n      python train.py\n      --epochs 3\n",
    ],
)
def test_libyaml_and_the_pure_python_parser_read_the_same(monkeypatch, text):
    """Files are read by libyaml when PyYAML has it, and by its pure-Python parser when
    not (or when libyaml fails): services, lines and problems are the same either way."""
    import yaml

    if getattr(yaml, "CSafeLoader", None) is None:
        pytest.skip("this PyYAML is built without libyaml")
    fast = parse_compose(text)
    monkeypatch.delattr(yaml, "CSafeLoader")
    assert parse_compose(text) == fast

"""SEC002: secret files copied into the final image and secret ARG/ENV values; messages
never show a value."""

from __future__ import annotations

from tests.conftest import found, run_lint

TOKEN = "ghp_" + "A1b2C3d4" * 5
PASSWORD = "s3cr3t-Pa55word"


def lint(root):
    return run_lint(root, select=["SEC002"])


def test_secret_files_copied_into_the_final_image(repo):
    root = repo(
        {
            ".dockerignore": ".git\n**/__pycache__\n",
            ".env": "DATABASE_URL=postgres://app:pw@db/app\n",
            ".env.example": "DATABASE_URL=\n",
            ".env.production": "SENTRY_DSN=x\n",
            "certs/ca-bundle.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "certs/server.key": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
            "deploy/gcp-service-account.json": "{}",
            "home/.ssh/known_hosts": "github.com ssh-ed25519 AAAA\n",
            "app/main.py": "print(1)\n",
            "Dockerfile": """
            FROM python:3.11-slim AS build
            COPY deploy/ /deploy/
            FROM python:3.11-slim
            WORKDIR /app
            COPY app/ app/
            COPY certs/ /etc/ssl/private/
            COPY . .
            COPY home/.ssh /root/.ssh
        """,
        }
    )
    result = lint(root)
    # the builder's copy is not in the final image; the CA bundle holds no private key
    assert found(result) == [("SEC002", "Dockerfile", 6), ("SEC002", "Dockerfile", 7), ("SEC002", "Dockerfile", 8)]
    by_line = {f.span.line: f.message for f in result.findings}
    assert "`certs/server.key`" in by_line[6] and "ca-bundle" not in by_line[6]
    assert "`.env`" in by_line[7] and "`.env.production`" in by_line[7] and ".env.example" not in by_line[7]
    assert "`deploy/gcp-service-account.json`" in by_line[7]
    assert "`home/.ssh/known_hosts`" in by_line[8]


def test_an_env_file_whose_every_variable_is_empty_is_a_template_whatever_its_name(repo):
    files = {
        "app.py": "print(1)\n",
        "Dockerfile": 'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n',
        ".env.exemple": '# fill in\nexport DATABASE_URL=\nSECRET_KEY=""\nDEBUG= # on or off\n',
    }
    assert found(lint(repo(files))) == []
    files[".env.exemple"] += "OPENAI_API_KEY=sk-live\n"
    assert found(lint(repo(files))) == [("SEC002", "Dockerfile", 3)]


def test_ignored_secrets_and_build_secret_mounts_are_fine(repo):
    root = repo(
        {
            ".dockerignore": ".git\n.env\n*.pem\n",
            ".env": "TOKEN=x\n",
            "key.pem": "-----BEGIN PRIVATE KEY-----\n",
            "app.py": "print(1)\n",
            "Dockerfile": """
            # syntax=docker/dockerfile:1
            FROM python:3.11-slim
            COPY . /app
            RUN --mount=type=secret,id=netrc,target=/root/.netrc pip install --no-cache-dir private-lib==1.2.0
        """,
        }
    )
    assert found(lint(root)) == []


def test_secret_values_in_arg_and_env_never_shown(repo):
    root = repo(
        {
            "Dockerfile": f"""
            FROM python:3.11-slim AS build
            ENV BUILD_PASSWORD={PASSWORD}
            FROM python:3.11-slim
            ARG HF_TOKEN
            ARG GITHUB_TOKEN={TOKEN}
            ENV HF_TOKEN=$HF_TOKEN \\
                DB_PASSWORD="{PASSWORD}"
            ENV SOME_SETTING={TOKEN}
            ENV PIP_EXTRA_INDEX_URL=https://__token__:{PASSWORD}@pypi.example.com/simple
            ENV DJANGO_SECRET_KEY {PASSWORD}
        """,
        }
    )
    result = lint(root)
    assert found(result) == [("SEC002", "Dockerfile", line) for line in (5, 6, 7, 8, 9, 10)]
    for finding in result.findings:
        assert TOKEN not in finding.message and PASSWORD not in finding.message
    columns = {(f.span.line, f.span.column) for f in result.findings}
    assert (7, 5) in columns  # DB_PASSWORD on the continuation line


def test_names_that_only_look_secret(repo):
    root = repo(
        {
            "Dockerfile": """
            FROM python:3.11-slim
            ARG PIP_INDEX_URL
            ARG NPM_TOKEN
            ENV TOKENIZERS_PARALLELISM=false \\
                GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json \\
                AWS_ACCESS_KEY_ID=AKIAEXAMPLEID \\
                PASSWORD_FILE=/run/secrets/db \\
                HF_HUB_ENABLE_HF_TRANSFER=1 \\
                KEY_SIZE=2048 \\
                ENABLE_TOKEN_AUTH=true
            ENV SECRET_KEY=
        """,
        }
    )
    assert found(lint(root)) == []


def test_cloud_login_folders_copied_in(repo):
    root = repo(
        {
            ".gitignore": ".azure\n",
            ".aws/config": "[default]\nregion = eu-west-1\n",
            "kube/config": "apiVersion: v1\nusers: []\n",
            "settings/aws-config": "[default]\nregion = eu-west-1\n",
            "app.py": "print(1)\n",
            "Dockerfile": """
            FROM spark:3.5.7-scala2.12-java17-python3-ubuntu
            COPY .azure/ /home/spark/.azure/
            COPY .aws/ /root/.aws/
            COPY settings/aws-config /root/.aws/config
            COPY kube/config /root/.kube/config
            COPY vault/ /root/.config/gcloud/
            COPY app.py /opt/app/
        """,
        }
    )
    result = lint(root)
    # .aws/ holds only settings; the AWS config copied as ~/.aws/config is not a credential.
    assert found(result) == [("SEC002", "Dockerfile", 2), ("SEC002", "Dockerfile", 5), ("SEC002", "Dockerfile", 6)]
    by_line = {f.span.line: f.message for f in result.findings}
    assert (
        "the Azure CLI login folder `.azure/`, which the repository does not hold (.gitignore keeps it out"
        in by_line[2]
    )
    assert "`/root/.kube/config`, where the kubectl keeps its login" in by_line[5]
    assert "where the Google Cloud CLI keeps its login" in by_line[6]


def test_a_login_folder_git_does_not_ignore_is_still_one_the_repository_lacks(repo):
    root = repo(
        {
            ".gitignore": ".venv/\n",
            "app.py": "print(1)\n",
            "Dockerfile": """
            FROM python:3.12-slim
            COPY .kube/ /root/.kube/
            COPY app.py /opt/app/
        """,
        }
    )
    (message,) = [f.message for f in lint(root).findings if f.code == "SEC002"]
    assert "login folder `.kube/`, which the repository does not hold: the build takes" in message


def test_login_folders_kept_out_of_the_build_are_fine(repo):
    root = repo(
        {
            ".dockerignore": ".azure\n",
            ".aws/credentials": "[default]\naws_access_key_id = x\n",
            "Dockerfile": """
            FROM python:3.11-slim
            COPY .azure/ /root/.azure/
            COPY .aws/ /root/.aws/
        """,
        }
    )
    result = lint(root)
    # The ignored folder makes the COPY fail (CTX003), it leaks nothing; the AWS credentials
    # file is named once, by the file rule.
    assert found(result) == [("SEC002", "Dockerfile", 3)]
    assert "`.aws/credentials`" in result.findings[0].message


def test_credential_files_the_build_names(repo):
    root = repo(
        {
            "svc/Dockerfile": """
            FROM python:3.11-slim
            COPY ./ /app
            WORKDIR /app
            RUN pip install --no-cache-dir "dvc[gdrive]==3.55.2"
            RUN dvc remote modify storage gdrive_service_account_json_file_path creds.json
            RUN dvc pull models.dvc
            ENV GOOGLE_APPLICATION_CREDENTIALS=/app/gcp-key.json
            ENV KUBECONFIG=/app/kubeconfig
        """,
            "svc/gcp-key.json": "{}",
            "svc/models.dvc": "outs: []\n",
        }
    )
    result = lint(root)
    # creds.json is used at build (dvc pull), so it is in the image although the repository
    # lacks it; gcp-key.json is in the context; kubeconfig is not (a run-time mount, maybe).
    assert found(result) == [("SEC002", "Dockerfile", 5), ("SEC002", "Dockerfile", 7)]
    by_line = {f.span.line: f for f in result.findings}
    assert "`dvc remote modify` names the credential file `creds.json`, which `COPY ./` (line 2)" in by_line[5].message
    assert "the repository does not hold it" in by_line[5].message
    assert "`ENV GOOGLE_APPLICATION_CREDENTIALS` names the credential file `/app/gcp-key.json`" in by_line[7].message
    assert [r.span.line for r in by_line[7].related] == [2]


def test_credential_files_kept_out_or_mounted_as_secrets_are_fine(repo):
    root = repo(
        {
            ".dockerignore": "creds.json\n",
            "gcp-key.json": "{}",
            "Dockerfile": """
            # syntax=docker/dockerfile:1
            FROM python:3.11-slim
            WORKDIR /app
            COPY . .
            RUN dvc remote modify storage gdrive_service_account_json_file_path creds.json && dvc pull
            RUN dvc remote modify --local backup credentialpath /app/gcp-key.json
            RUN --mount=type=secret,id=gcp,target=/app/gcp-key.json \\
                gcloud auth activate-service-account --key-file=/app/gcp-key.json
        """,
        }
    )
    # creds.json is ignored; the backup remote is configured but never used at build; the
    # gcloud key comes from a build secret mounted over the copied one.
    assert found(lint(root)) == []


def test_a_key_file_configured_and_used_in_one_run(repo):
    root = repo(
        {
            "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY . .
            RUN dvc remote modify storage credentialpath key.json && dvc pull
        """,
        }
    )
    assert found(lint(root)) == [("SEC002", "Dockerfile", 4)]

"""MDL rules on small realistic repositories: downloads at build time in every form, weights
copied in, model caches, spaCy pipelines as packages; and the correct variants."""

from __future__ import annotations

from tests.conftest import found, run_lint

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


def lint(repo, files: dict, code: str, **config):
    return found(run_lint(repo(files), select=[code], **config), code)


def findings(repo, files: dict, code: str):
    return [f for f in run_lint(repo(files), select=[code]).findings if f.code == code]


# -- MDL001: shell commands ------------------------------------------------------------------


def test_download_commands(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir "huggingface_hub[cli]==0.26.2"
        RUN huggingface-cli download BAAI/bge-small-en-v1.5 --local-dir /models/bge
        RUN hf download Qwen/Qwen2.5-0.5B-Instruct
        RUN ollama serve & sleep 5 && ollama pull llama3.2
        RUN git lfs install && git clone https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2 /models/minilm
        RUN cd /models/minilm && git lfs pull
        RUN wget -q https://example.com/releases/v2/yolov8n.pt -O /models/yolov8n.pt
        RUN curl -fsSL -o /models/vae.bin "https://huggingface.co/stabilityai/sd-vae-ft-mse/resolve/main/diffusion_pytorch_model.bin?download=true"
        RUN python -m nltk.downloader -d /usr/share/nltk_data punkt
        ADD https://example.com/llama-3.2-1b.Q4_K_M.gguf /models/
        RUN curl -fsSL -o /usr/local/bin/tini https://github.com/krallin/tini/releases/download/v0.19.0/tini
        ADD https://example.com/config.json /etc/app/
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "MDL001") == [
        ("MDL001", "Dockerfile", line) for line in (3, 4, 5, 6, 7, 8, 9, 10, 11)
    ]


def test_python_in_the_build_is_parsed_not_grepped(repo):
    dockerfile = """
        # syntax=docker/dockerfile:1
        FROM python:3.11-slim
        RUN python -c "import whisper as w; w.load_model('base')"
        RUN python3 -c "from transformers import AutoModel as M; M.from_pretrained('bert-base-uncased')"
        RUN python -c "import nltk  # nltk.download('punkt') later" && python -c "print('snapshot_download')"
        RUN python -c "from sklearn.pipeline import make_pipeline; import transformers as t; t.pipeline(model='./m')"
        RUN python -c "from transformers import AutoModel; AutoModel.from_pretrained('bert', local_files_only=True)"
        RUN python3 <<EOF
        import torch

        model = torch.hub.load("pytorch/vision", "resnet18", weights="DEFAULT")
        EOF
        RUN <<EOF
        #!/usr/bin/env python3
        from huggingface_hub import hf_hub_download as fetch
        fetch("TheBloke/Llama-2-7B-GGUF", "llama-2-7b.Q4_K_M.gguf")
        EOF
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "MDL001")
    assert [(f.span.line, f.span.column) for f in result] == [(3, 5), (4, 5), (11, 9), (16, 1)]
    assert "`w.load_model('base')` in `python -c`" in result[0].message
    assert "`torch.hub.load('pytorch/vision')` in the heredoc Python" in result[2].message


def test_scripts_and_modules_from_the_context_are_followed(repo):
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY . .
        RUN python scripts/download_models.py
        RUN python -m app.warmup
        RUN ./tools/prepare.sh
        RUN python scripts/migrate.py
        RUN ./scripts/fetch_nltk.py
        CMD ["python", "-m", "app.serve"]
    """
    files = {
        "Dockerfile": dockerfile,
        "scripts/download_models.py": """
            import sys

            from sentence_transformers import SentenceTransformer


            def main(argv):
                SentenceTransformer(argv[1] if len(argv) > 1 else "all-MiniLM-L6-v2")


            if __name__ == "__main__":
                main(sys.argv)
        """,
        "scripts/migrate.py": "print('no models here')\n",
        "scripts/fetch_nltk.py": "import nltk\nnltk.download('stopwords')\n",
        "app/__init__.py": "",
        "app/warmup.py": "from faster_whisper import WhisperModel\n\nWhisperModel('small')\n",
        "app/serve.py": "from sentence_transformers import SentenceTransformer\nmodel = SentenceTransformer('x')\n",
        "tools/prepare.sh": "#!/bin/sh\nset -eu\necho preparing\npython scripts/fetch_nltk.py\n",
    }
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [4, 5, 6, 8]
    assert "in `scripts/download_models.py`" in result[0].message
    assert [(r.path.name, r.span.line) for r in result[0].related] == [("download_models.py", 7)]
    assert "in `app/warmup.py`" in result[1].message
    assert [(r.path.name, r.span.line) for r in result[2].related] == [("prepare.sh", 4), ("fetch_nltk.py", 2)]


def test_scripts_with_syntax_newer_than_ast_are_read_by_libcst(repo):
    """A 3.12/3.14 downloader (PEP 695 alias, PEP 701 nested quotes, PEP 758 except list):
    ast on the running Python rejects it, the libcst child reads it, and the same rules apply."""
    dockerfile = """
        FROM python:3.13-slim
        WORKDIR /srv
        COPY scripts/ scripts/
        COPY app/ app/
        RUN python scripts/fetch_models.py
        RUN python scripts/local_only.py
        RUN python -m app.report
    """
    files = {
        "Dockerfile": dockerfile,
        "scripts/fetch_models.py": """
            import logging

            from huggingface_hub import snapshot_download as fetch
            from transformers import AutoTokenizer

            type RepoId = str
            MODELS: dict[str, RepoId] = {"embed": "BAAI/bge-small-en-v1.5"}
            log = logging.getLogger(__name__)


            def main() -> None:
                log.info(f"fetching {MODELS["embed"]}")  # nltk.download('punkt') stays a comment
                try:
                    fetch("BAAI/bge-small-en-v1.5", local_dir="/models/bge")
                except ConnectionError, TimeoutError:
                    raise SystemExit("hub unreachable")
                AutoTokenizer.from_pretrained("/models/bge")


            main()
        """,
        "scripts/local_only.py": """
            from sentence_transformers import SentenceTransformer as ST

            type Path = str
            model = ST("BAAI/bge-small-en-v1.5", local_files_only=True)
            print(f"{model.get_sentence_embedding_dimension()=}", f"{"loaded"}")
        """,
        "app/__init__.py": "",
        "app/report.py": """
            type Row = tuple[str, int]
            print(f"{"snapshot_download('x') is only text"}")
        """,
    }
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [5]
    assert "`fetch('BAAI/bge-small-en-v1.5')` in `scripts/fetch_models.py`" in result[0].message
    [related] = result[0].related
    assert (related.path.name, related.span.line, related.span.column) == ("fetch_models.py", 14, 9)


def test_unparsable_python_finds_nothing(repo):
    dockerfile = """
        FROM python:3.11-slim
        COPY fetch.py .
        RUN python fetch.py
    """
    files = {"Dockerfile": dockerfile, "fetch.py": "import nltk\nprint 'downloading'\nnltk.download('punkt')\n"}
    assert lint(repo, files, "MDL001") == []


def test_builder_stage_downloads_are_a_deliberate_bake(repo):
    dockerfile = """
        FROM python:3.11-slim AS weights
        RUN pip install --no-cache-dir huggingface_hub==0.26.2 \\
         && huggingface-cli download BAAI/bge-small-en-v1.5 --local-dir /models/bge
        FROM python:3.11-slim
        COPY --from=weights /models /models
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "MDL001") == []


# -- MDL002 ---------------------------------------------------------------------------------


def test_weights_copied_with_real_sizes_and_lfs_pointers(repo):
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 90412288\n"
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY models/ ./models/
            COPY checkpoints/best.pt /app/best.pt
            COPY tests/fixtures/ ./fixtures/
            COPY data/ ./data/
            COPY app.py .
        """,
        "models/encoder.onnx": b"\x08" * 3_000_000,
        "models/tokenizer.json": "{}",
        "checkpoints/best.pt": pointer,
        "tests/fixtures/tiny.pt": b"\x00" * 2_000,
        "data/big.safetensors": b"\x00" * 2_000_000,
        ".dockerignore": "data\n",
        "app.py": "print()\n",
    }
    result = findings(repo, files, "MDL002")
    assert [f.span.line for f in result] == [3, 4]
    assert result[0].size_bytes == 3_000_000 and "`models/encoder.onnx`" in result[0].message
    assert "Git LFS pointer" in result[1].message


# -- MDL003 ---------------------------------------------------------------------------------


def test_model_cache_inside_the_container(repo):
    dockerfile = """
        FROM python:3.11-slim
        ENV HF_HOME=/srv/hf \\
            TORCH_HOME=/data/torch \\
            PYTHONUNBUFFERED=1
        ENV XDG_CACHE_HOME=/srv/cache
        VOLUME /data
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": "sentence-transformers==3.3.1\n"}
    assert lint(repo, files, "MDL003") == [("MDL003", "Dockerfile", 2), ("MDL003", "Dockerfile", 5)]
    result = findings(repo, files, "MDL003")
    assert (result[0].span.line, result[0].span.column) == (2, 5)
    # XDG_CACHE_HOME alone is only a model cache when the image installs a model library.
    plain = {"Dockerfile": dockerfile, "requirements.txt": "flask==3.0.3\n"}
    assert lint(repo, plain, "MDL003") == [("MDL003", "Dockerfile", 2)]


def test_model_cache_on_a_volume_or_offline_is_fine(repo):
    compose = """
        services:
          api:
            build: .
            volumes:
              - model-cache:/models
        volumes:
          model-cache:
    """
    dockerfile = "FROM python:3.11-slim\nENV HF_HOME=/models/huggingface SENTENCE_TRANSFORMERS_HOME=/models/st\n"
    assert lint(repo, {"Dockerfile": dockerfile, "docker-compose.yml": compose}, "MDL003") == []
    offline = "FROM python:3.11-slim\nENV HF_HOME=/opt/hf HF_HUB_OFFLINE=1\n"
    assert lint(repo, {"Dockerfile": offline}, "MDL003") == []


# -- MDL004: a spaCy pipeline ------------------------------------------------------------------


def test_spacy_pipelines_as_packages(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            RUN pip install --no-cache-dir de_core_news_sm==3.7.0
        """,
        "requirements.txt": """
            spacy==3.7.5
            spacy-transformers==1.3.5
            en_core_web_trf @ https://github.com/explosion/spacy-models/releases/download/en_core_web_trf-3.7.3/en_core_web_trf-3.7.3-py3-none-any.whl
            https://github.com/explosion/spacy-models/releases/download/en_core_web_sm-3.7.1/en_core_web_sm-3.7.1-py3-none-any.whl
        """,
    }
    assert lint(repo, files, "MDL004") == [
        ("MDL004", "Dockerfile", 4),
        ("MDL004", "requirements.txt", 3),
        ("MDL004", "requirements.txt", 4),
    ]


# -- the bundled examples -----------------------------------------------------------------------


def test_bundled_examples():
    codes = ["MDL", "GPU", "IMG003"]
    bad = run_lint(REPO / "examples" / "ml-service", select=codes)
    assert sorted((f.code, f.path.name, f.span.line) for f in bad.findings) == [
        ("GPU001", "Dockerfile", 15),
        ("MDL001", "Dockerfile", 18),
        ("MDL001", "Dockerfile", 20),
    ]
    good = run_lint(REPO / "examples" / "ml-service-fixed", select=codes)
    assert good.findings == []

"""MDL rules on small realistic repositories: downloads at build time in every form, weights
copied in, model caches, spaCy pipelines as packages; and the correct variants."""

from __future__ import annotations

import textwrap

import pytest

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
        RUN python -m nltk.downloader -d /usr/share/nltk_data popular
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
    # A heredoc's download is reported at its RUN, with the call itself as the related place.
    assert [(f.span.line, f.span.column) for f in result] == [(3, 5), (4, 5), (8, 1), (13, 1)]
    assert "`w.load_model('base')` in `python -c`" in result[0].message
    assert "`torch.hub.load('pytorch/vision')` in the heredoc Python" in result[2].message
    assert [(r.span.line, r.span.column) for f in result[2:] for r in f.related] == [(11, 9), (16, 1)]


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
        "scripts/fetch_nltk.py": "import nltk\nnltk.download('all-corpora')\n",
        "app/__init__.py": "",
        "app/warmup.py": "from faster_whisper import WhisperModel\n\nWhisperModel('small')\n",
        "app/serve.py": "from sentence_transformers import SentenceTransformer\nmodel = SentenceTransformer('x')\n",
        "tools/prepare.sh": "#!/bin/sh\nset -eu\necho preparing\npython scripts/fetch_nltk.py\n",
    }
    result = findings(repo, files, "MDL001")
    # line 8 runs fetch_nltk.py again: the corpora line 6 fetched are in NLTK's data folder already
    assert [f.span.line for f in result] == [4, 5, 6]
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
    files = {"Dockerfile": dockerfile, "fetch.py": "import nltk\nprint 'downloading'\nnltk.download('all')\n"}
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


def test_a_model_an_earlier_step_fetched_into_the_cache_is_loaded_from_it(repo):
    """The first RUN downloads all-MiniLM-L6-v2 into the Hugging Face cache; the export
    script of a later RUN loads it (and its tokenizer) again by its full name: that finds the
    cache, so only the first is a download. A different model later is one too."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        RUN pip install --no-cache-dir sentence-transformers==3.3.1 onnx==1.17.0
        RUN python -c "from sentence_transformers import SentenceTransformer; SentenceTransformer('all-MiniLM-L6-v2')"
        COPY export_onnx.py .
        RUN python export_onnx.py
        CMD ["python", "-m", "app"]
    """
    export = """
        from sentence_transformers import SentenceTransformer
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained("sentence-transformers/all-MiniLM-L6-v2")
        model = SentenceTransformer("all-MiniLM-L6-v2")
    """
    files = {"Dockerfile": dockerfile, "export_onnx.py": export}
    assert lint(repo, files, "MDL001") == [("MDL001", "Dockerfile", 4)]
    files["export_onnx.py"] = export.replace(
        'SentenceTransformer("all-MiniLM-L6-v2")', 'SentenceTransformer("BAAI/bge-small-en-v1.5")'
    )
    assert lint(repo, files, "MDL001") == [("MDL001", "Dockerfile", 4), ("MDL001", "Dockerfile", 6)]


def test_a_lambda_function_image_is_where_its_model_belongs(repo):
    """A Lambda function mounts no volume and its CMD names the handler: the model ships in
    the image, so the advice is a separate download stage, never a download at start-up."""
    dockerfile = """
        FROM public.ecr.aws/lambda/python:3.12
        COPY requirements.txt ${LAMBDA_TASK_ROOT}
        RUN pip install --no-cache-dir -r requirements.txt
        RUN python -c "from faster_whisper import download_model; download_model('small', output_dir='/opt/models')"
        COPY app.py ${LAMBDA_TASK_ROOT}
        CMD ["app.handler"]
    """
    files = {"requirements.txt": "faster-whisper==1.1.0\n", "app.py": "import faster_whisper\n"}
    (finding,) = findings(repo, {"Dockerfile": dockerfile, **files}, "MDL001")
    assert "function runtime" in finding.message and "separate stage" in finding.fix and finding.autofix is None
    service = dockerfile.replace("public.ecr.aws/lambda/python:3.12", "python:3.12-slim")
    (finding,) = findings(repo, {"Dockerfile": service, **files}, "MDL001")
    assert "function runtime" not in finding.message and "starts" in finding.fix


def test_library_calls_that_download_on_first_use(repo):
    """Beyond from_pretrained: each library's own loader, with the arguments that decide
    whether it downloads (a local path, `weights=None`, `download_enabled=False`, a
    session, `pretrained=`)."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /srv
        COPY best.pt .
        RUN python -c "from df.enhance import init_df; init_df()"
        RUN python -c "from df import init_df; init_df('/models/DeepFilterNet3')"
        RUN python -c "import open_clip as o; o.create_model_and_transforms('ViT-B-32', pretrained='laion2b')"
        RUN python -c "import open_clip; open_clip.create_model_and_transforms('ViT-B-32')"
        RUN python -c "import rembg; rembg.remove(b'')"
        RUN python -c "import rembg; s = rembg.new_session('isnet-general-use')"
        RUN python -c "import rembg; rembg.remove(b'', session=s)"
        RUN python -c "from insightface.app import FaceAnalysis; FaceAnalysis(name='buffalo_l')"
        RUN python -c "import easyocr; easyocr.Reader(['en'], download_enabled=False)"
        RUN python -c "import torchvision; torchvision.models.resnet50(weights=None)"
        RUN python -c "import torchvision; torchvision.models.resnet50(weights='IMAGENET1K_V2')"
        RUN python -c "from tensorflow.keras.applications import MobileNetV2; MobileNetV2(weights=None)"
        RUN python -c "from keras.applications import MobileNetV2 as M, imagenet_utils as u; M(); u.preprocess_input(x)"
        RUN python -c "from ultralytics import YOLO; YOLO('best.pt')"
        RUN python -c "from ultralytics import YOLO; YOLO('yolov8s.pt')"
        RUN python -c "import timm; timm.create_model('resnet50')"
        RUN python -c "import timm; timm.create_model('resnet50', pretrained=True)"
        RUN python -c "import stanza; stanza.Pipeline('en')"
        RUN python -c "import spacy; spacy.load('en_core_web_sm')"
    """
    files = {"Dockerfile": dockerfile, "best.pt": b"\0" * 10}
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [4, 6, 8, 9, 11, 14, 16, 18, 20, 21]
    by_line = {f.span.line: f.message for f in result}
    assert "(`DeepFilterNet3`)" in by_line[4] and "(`u2net`)" in by_line[8]
    assert "`YOLO('yolov8s.pt')`" in by_line[18] and "~22 MB" in by_line[18]


def test_gdown_fetches_a_drive_folder_at_build_time(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir gdown==5.2.0
        RUN gdown https://drive.google.com/drive/folders/1AbCdEf -O models --folder
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "MDL001") == [("MDL001", "Dockerfile", 3)]


def test_a_model_named_by_a_build_argument(repo):
    """The shell puts the ARG's value in the `python -c` program: a default names the model
    (and sizes it), an ARG no build gives a value leaves an empty name, which loads nothing."""
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir sentence-transformers==3.3.1
        ARG EMBEDDINGS
        RUN python -c "from sentence_transformers import SentenceTransformer; SentenceTransformer('${EMBEDDINGS}')"
        ARG RERANKER=all-MiniLM-L6-v2
        RUN python -c "from sentence_transformers import SentenceTransformer; SentenceTransformer('$RERANKER')"
    """
    [named] = findings(repo, {"Dockerfile": dockerfile}, "MDL001")
    assert named.span.line == 6 and "SentenceTransformer('all-MiniLM-L6-v2')" in named.message
    assert named.size_bytes == 80_000_000


def test_a_spacy_download_of_a_pipeline_the_requirements_install(repo):
    files = {
        "Dockerfile": """
            FROM python:3.10-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            RUN python -m spacy download en_core_web_sm
            RUN python -m spacy download de_core_news_lg
        """,
        "requirements.txt": "spacy==3.7.5\nen_core_web_sm @ https://github.com/explosion/spacy-models/releases/download/"
        "en_core_web_sm-3.7.1/en_core_web_sm-3.7.1-py3-none-any.whl\n",
    }
    again, fetched = findings(repo, files, "MDL001")
    assert again.span.line == 4 and "which the image installs already" in again.message
    assert again.fix.startswith("Delete this download") and [r.span.line for r in again.related] == [2]
    assert fetched.span.line == 5 and "installs already" not in fetched.message


def test_langchain_embeddings_and_textblob_corpora_in_the_build(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir langchain-huggingface==0.1.2 textblob==0.18.0
        RUN python -c "from langchain_huggingface import HuggingFaceEmbeddings; HuggingFaceEmbeddings()"
        RUN python -c "from langchain_community.embeddings import HuggingFaceEmbeddings as E; E(model_name='sentence-transformers/all-MiniLM-L6-v2')"
        RUN python -c "from langchain_huggingface import HuggingFaceEmbeddings; HuggingFaceEmbeddings(model_name='/models/minilm')"
        RUN python -m textblob.download_corpora
    """
    found_findings = findings(repo, {"Dockerfile": dockerfile}, "MDL001")
    assert [f.span.line for f in found_findings] == [3, 4, 6]  # a local model loads from disk
    default, named, corpora = found_findings
    assert "`sentence-transformers/all-mpnet-base-v2`, ~420 MB" in default.message
    assert "`sentence-transformers/all-MiniLM-L6-v2`, ~80 MB" in named.message
    assert "model data" in corpora.message and "weights" not in corpora.message
    # a model named by a variable is not the default one
    variable = dockerfile.replace(
        "HuggingFaceEmbeddings()", "name = 'BAAI/bge-m3'; HuggingFaceEmbeddings(model_name=name)"
    )
    first = findings(repo, {"Dockerfile": variable}, "MDL001")[0]
    assert first.span.line == 3 and "all-mpnet-base-v2" not in first.message


def test_a_model_cli_warm_up(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir openai-whisper==20240930
        COPY warmup.wav /tmp/
        RUN whisper /tmp/warmup.wav --model small --language en
        RUN whisper --model_dir /opt/whisper /tmp/warmup.wav
        RUN whisper --help
        RUN whisper --model medium
    """
    result = findings(repo, {"Dockerfile": dockerfile, "warmup.wav": b"RIFF"}, "MDL001")
    assert [f.span.line for f in result] == [4, 5]
    assert "~488 MB" in result[0].message  # whisper small: 244 M float16 parameters
    assert "(`turbo`, ~1.6 GB)" in result[1].message  # the CLI's default model


def test_the_projects_own_modules_are_followed(repo):
    """`RUN python - <<EOF` importing a project class whose constructor loads weights:
    the download is in the project's code, reached through the import and the call."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            ENV HF_HOME=/root/.cache/huggingface
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY vision/ vision/
            RUN python - <<EOF
            from vision.encoder import Encoder
            Encoder()
            print("cached")
            EOF
            RUN python -c "import vision.tools"
            COPY main.py .
            CMD ["python", "main.py"]
        """,
        "requirements.txt": "open-clip-torch==2.26.1\n",
        "vision/__init__.py": "",
        "vision/encoder.py": """
            import open_clip

            from .settings import MODEL, TAG


            class Encoder:
                def __init__(self, name=MODEL, pretrained=TAG):
                    self.model = self._load(name, pretrained)

                def _load(self, name, pretrained):
                    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained)
                    return model
        """,
        "vision/settings.py": "MODEL = 'ViT-B-32'\nTAG = 'laion2b_s34b_b79k'\n",
        "vision/tools.py": """
            from huggingface_hub import snapshot_download


            def fetch():
                snapshot_download("org/never-called")


            if __name__ == "__main__":
                fetch()
        """,
        "main.py": "from vision.encoder import Encoder\nEncoder()\n",
    }
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [7]
    message = result[0].message
    assert "in `vision/encoder.py` (run by the heredoc Python through `Encoder(…)`)" in message
    assert [(r.path.name, r.span.line) for r in result[0].related] == [("Dockerfile", 9), ("encoder.py", 11)]
    # The weights land in HF_HOME at build: the cache is pre-filled, not fetched at run time.
    assert lint(repo, files, "MDL003") == []


def test_following_survives_cycles_recursion_and_odd_imports(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /srv
            COPY pkg/ pkg/
            ENV PYTHONPATH=/srv/pkg:$HOME/lib
            RUN python -c "import pkg.a; pkg.a.go()"
        """,
        "pkg/__init__.py": "from . import *\nfrom .... import nowhere\n",
        "pkg/a.py": """
            from pkg import b
            from .b import again


            def go():
                go()
                b.loop()
        """,
        "pkg/b.py": """
            import pkg.a
            from nltk import download


            def loop():
                pkg.a.go()
                again()


            def again():
                loop()
                download("book")
        """,
    }
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [5]
    assert "`download('book')` in `pkg/b.py` (run by `python -c` through `pkg.a.go(…)`)" in result[0].message


def test_a_script_that_imports_a_predictor_is_followed_to_its_tokenizer(repo):
    """Only what runs: the constructor the script calls, not a method nobody calls."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            COPY requirements.txt .
            RUN pip install --no-cache-dir -r requirements.txt
            COPY ./ ./
            RUN python handler.py
            CMD ["python", "-m", "awslambdaric", "handler.handler"]
        """,
        "requirements.txt": "transformers==4.44.2\nonnxruntime==1.19.2\n",
        "handler.py": """
            from predictor import Predictor

            predictor = Predictor("./models/model.onnx")


            def handler(event, context):
                return predictor.predict(event["text"])
        """,
        "predictor.py": """
            import onnxruntime as ort

            from data import DataModule


            class Predictor:
                def __init__(self, path):
                    self.session = ort.InferenceSession(path)
                    self.data = DataModule()

                def export(self):
                    from transformers import AutoModel

                    AutoModel.from_pretrained("google/bert_uncased_L-2_H-128_A-2").save_pretrained("/tmp/x")
        """,
        "data.py": """
            from transformers import AutoTokenizer


            class DataModule:
                def __init__(self, model_name="google/bert_uncased_L-2_H-128_A-2"):
                    self.tokenizer = AutoTokenizer.from_pretrained(model_name)
        """,
    }
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [5]
    assert "`AutoTokenizer.from_pretrained(...)` in `data.py` (run by `handler.py` through `Predictor(…)`)" in (
        result[0].message
    )
    assert "tokenizer or config files" in result[0].message and "not weights" in result[0].message


def test_one_finding_per_model(repo):
    files = {
        "Dockerfile": """
            FROM python:3.10-slim
            RUN pip install --no-cache-dir transformers==4.44.2 torch==2.4.1
            COPY download.py .
            RUN python download.py
        """,
        "download.py": """
            from transformers import BertModel, BertTokenizer, AutoModel


            def download():
                BertModel.from_pretrained("bert-base-uncased")
                BertTokenizer.from_pretrained("bert-base-uncased")
                AutoModel.from_pretrained("distilroberta-base")


            if __name__ == "__main__":
                download()
        """,
    }
    result = findings(repo, files, "MDL001")
    assert [f.span.line for f in result] == [4, 4]
    bert = next(f for f in result if "bert-base-uncased" in f.message)
    assert bert.message.startswith("`BertModel.from_pretrained('bert-base-uncased')` in `download.py` downloads model")
    assert "`BertTokenizer.from_pretrained('bert-base-uncased')` fetches files of the same model" in bert.message
    assert bert.size_bytes == 440_000_000
    assert [r.span.line for r in bert.related] == [5, 6]


def test_a_fallback_download_after_or_is_not_a_second_bake(repo):
    """`fetch A || fetch B` bakes B only when A fails: one finding, at A; a download that
    follows `|| true` or `;` runs every time and is one of its own."""
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir sentence-transformers==3.3.1
        RUN python -c "from sentence_transformers import SentenceTransformer as S; S('BAAI/bge-base-en-v1.5')" || \\
            python -c "from sentence_transformers import SentenceTransformer as S; S('all-MiniLM-L6-v2')"
        RUN python -m nltk.downloader popular || true; python -m nltk.downloader book
        RUN test -d /models/minilm || huggingface-cli download sentence-transformers/all-MiniLM-L6-v2 --local-dir /models/minilm
    """
    result = findings(repo, {"Dockerfile": dockerfile}, "MDL001")
    assert [(f.span.line, f.span.column) for f in result] == [(3, 5), (5, 5), (5, 48), (6, 31)]
    assert "BAAI/bge-base-en-v1.5" in result[0].message and "all-MiniLM" not in result[0].message
    assert [("popular" in f.message, "book" in f.message) for f in result[1:3]] == [(True, False), (False, True)]


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
        "models/encoder.onnx": b"\x08" * 12_000_000,
        "models/tokenizer.json": "{}",
        "checkpoints/best.pt": pointer,
        "tests/fixtures/tiny.pt": b"\x00" * 2_000,
        "data/big.safetensors": b"\x00" * 2_000_000,
        ".dockerignore": "data\n",
        "app.py": "print()\n",
    }
    result = findings(repo, files, "MDL002")
    assert [f.span.line for f in result] == [3, 4]
    assert result[0].size_bytes == 12_000_000 and "`models/encoder.onnx`" in result[0].message
    assert "Git LFS pointer" in result[1].message
    # compose mounts a folder elsewhere: the copied pointer is what the app reads
    compose = "services:\n  api:\n    build: .\n    volumes:\n      - ./checkpoints:/srv/checkpoints\n"
    assert [f.span.line for f in findings(repo, {**files, "docker-compose.yml": compose}, "MDL002")] == [3, 4]
    # compose bind-mounts the checkout's weights over the copied pointer: the container reads those
    compose = compose.replace("./checkpoints:/srv/checkpoints", "./checkpoints/best.pt:/app/best.pt")
    assert [f.span.line for f in findings(repo, {**files, "docker-compose.yml": compose}, "MDL002")] == [3]
    # CI checks out with LFS objects: there the pointers are weights, and the build has them
    workflow = """
        on: push
        jobs:
          deploy:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
                with:
                  lfs: true
              - run: docker build -t app .
    """
    result = findings(repo, {**files, ".github/workflows/deploy.yml": workflow}, "MDL002")
    assert [f.span.line for f in result] == [3]


def test_small_models_shipped_with_the_code_are_not_reported(repo):
    """Three ONNX classifiers of ~600 kB each (1.9 MB) that the service loads at start:
    a volume for them costs more than their bytes. One of 12 MB beside them is reported."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            RUN pip install --no-cache-dir onnxruntime==1.20.1
            COPY models/ /app/models
            COPY app.py .
            CMD ["python", "app.py"]
        """,
        "models/onnx/CNN_APL.onnx": b"\x08" * 640_000,
        "models/onnx/CNN_PY.onnx": b"\x08" * 630_000,
        "models/onnx/CNN_LC.onnx": b"\x08" * 650_000,
        "app.py": "import onnxruntime\n\nsession = onnxruntime.InferenceSession('models/onnx/CNN_PY.onnx')\n",
    }
    assert findings(repo, files, "MDL002") == []
    files["models/onnx/encoder.onnx"] = b"\x08" * 12_000_000
    [finding] = findings(repo, files, "MDL002")
    assert "copies 4 model weight files (14 MB" in finding.message


def test_a_folder_the_repositorys_download_script_fills(repo):
    files = {
        "Dockerfile": """
            FROM pytorch/pytorch:2.1.0-cuda11.8-cudnn8-runtime
            RUN pip install --no-cache-dir diffusers==0.30.3
            COPY models /app/models
            COPY configs /app/configs
            COPY main.py /app/
        """,
        "download_model.py": """
            import os
            from huggingface_hub import snapshot_download

            snapshot_download(
                repo_id="stabilityai/stable-diffusion-3.5-large",
                local_dir="models",
                token=os.getenv("HF_TOKEN"),
            )
        """,
        "tools/export.py": "from transformers import AutoModel as M\nM.from_pretrained('x').save_pretrained('out')\n",
        "main.py": "print('serve')\n",
        ".gitignore": "models/\n",
    }
    result = findings(repo, files, "MDL002")
    assert [f.span.line for f in result] == [3]
    assert "`COPY models` copies `models/`, which `download_model.py` fills with `snapshot_download(...)`" in (
        result[0].message
    )
    assert "`stabilityai/stable-diffusion-3.5-large`" in result[0].message
    assert [(r.path.name, r.span.line) for r in result[0].related] == [("download_model.py", 4)]


def test_pre_built_vector_stores(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY vectordb/ ./vectordb/
            COPY faiss_index/ ./faiss_index/
            COPY small_index/ ./small_index/
            COPY app.py .
        """,
        "vectordb/chroma.sqlite3": b"\0" * 8_000_000,
        "vectordb/0b5c3e9a-segment/data_level0.bin": b"\0" * 6_000_000,
        "faiss_index/index.faiss": b"\0" * 12_000_000,
        "faiss_index/index.pkl": b"\0" * 1_000,
        "small_index/chroma.sqlite3": b"\0" * 300_000,
        "app.py": "print('rag')\n",
    }
    result = findings(repo, files, "MDL002")
    assert [f.span.line for f in result] == [3, 4]
    assert "a pre-built Chroma index" in result[0].message and "14 MB" in result[0].message
    assert "weight file" not in result[0].message  # data_level0.bin belongs to the store
    assert "a pre-built FAISS index (`faiss_index/index.faiss`, `faiss_index/index.pkl`" in result[1].message


def test_weights_copied_twice(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            COPY ./Source/*.* ./
            COPY ./Source/detector.onnx /app/models/detector.onnx
            COPY ./Source/labels.txt /app/models/labels.txt
            COPY ./Extra/ ./extra/
        """,
        "Source/detector.onnx": b"\0" * 12_000_000,
        "Source/app.py": "print()\n",
        "Source/labels.txt": "cat\n",
        "Extra/other.onnx": b"\0" * 11_000_000,
    }
    result = findings(repo, files, "MDL002")
    assert [f.span.line for f in result] == [3, 4, 6]
    assert "`./Source/detector.onnx` copies `Source/detector.onnx` (12 MB) again: line 3 already put it" in (
        result[1].message
    )
    assert result[1].size_bytes == 12_000_000


# -- MDL003 ---------------------------------------------------------------------------------


EMBEDDING_API = {
    "Dockerfile": """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY app/ ./app/
        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
    """,
    "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nsentence-transformers==3.3.1\n",
    "app/__init__.py": "",
    "app/main.py": """
        from fastapi import FastAPI
        from sentence_transformers import SentenceTransformer

        app = FastAPI()
        model = SentenceTransformer("intfloat/multilingual-e5-large")


        @app.post("/embed")
        def embed(texts: list[str]) -> list[list[float]]:
            return model.encode(texts).tolist()
    """,
}


def test_a_model_the_service_downloads_at_every_start_into_the_default_cache(repo):
    (finding,) = findings(repo, EMBEDDING_API, "MDL003")
    assert finding.span.line == 6 and "each time a container starts" in finding.message
    assert "under `/root`" in finding.message and "intfloat/multilingual-e5-large" in finding.message


@pytest.mark.parametrize(
    "load, downloads",
    [
        ('llm = LLM(model="deepseek-ai/DeepSeek-OCR")', True),
        ('llm = LLM("Qwen/Qwen2.5-0.5B-Instruct", dtype="half")', True),
        ('llm = LLM(model="/models/qwen", dtype="half")', False),  # a local folder
        ('llm = LLM(model="Qwen/Qwen2.5-0.5B-Instruct", download_dir="/models")', False),  # chosen folder
    ],
)
def test_a_vllm_model_downloads_into_the_hub_cache_at_every_start(repo, load, downloads):
    """vLLM's LLM fetches the weights from the Hub into the Hugging Face cache unless
    download_dir names a folder; a local path loads in place."""
    files = {
        **EMBEDDING_API,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nvllm==0.6.4\n",
        "app/main.py": f"from fastapi import FastAPI\nfrom vllm import LLM\n\napp = FastAPI()\n{load}\n",
    }
    result = findings(repo, files, "MDL003")
    assert [f.span.line for f in result] == ([6] if downloads else [])
    if downloads:
        assert "each time a container starts" in result[0].message


SETTINGS = """
    from pydantic import BaseModel, Field
    from pydantic_settings import BaseSettings


    class EncoderSettings(BaseModel):
        encoder: str = "jinaai/jina-clip-v1"
        voice_encoder: str = Field(default="Systran/faster-whisper-medium")


    class Settings(BaseSettings):
        encoder: EncoderSettings = EncoderSettings()


    settings = Settings()
"""


@pytest.mark.parametrize(
    "environment, models",
    [
        ("", ["Systran/faster-whisper-medium", "jinaai/jina-clip-v1"]),
        # pydantic reads ENCODER__VOICE_ENCODER for the nested field: another model, or a path
        ("ENV ENCODER__VOICE_ENCODER=/models/whisper\n", ["jinaai/jina-clip-v1"]),
    ],
)
def test_a_model_named_by_a_settings_default_is_read_from_it(repo, environment, models):
    """`WhisperModel(settings.encoder.voice_encoder)`: the settings class's default names the
    model; the loads that fill one cache are one finding naming each model."""
    files = {
        **EMBEDDING_API,
        "Dockerfile": EMBEDDING_API["Dockerfile"].replace("        CMD", f"        {environment}CMD"),
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\nfaster-whisper==1.1.0\ntransformers==4.47.1\n"
        "pydantic-settings==2.7.0\n",
        "app/config.py": SETTINGS,
        "app/main.py": "from fastapi import FastAPI\nfrom faster_whisper import WhisperModel\n"
        "from transformers import AutoModel\n\nfrom app.config import settings\n\napp = FastAPI()\n"
        "voice = WhisperModel(settings.encoder.voice_encoder, device='cpu')\n"
        "clip = AutoModel.from_pretrained(settings.encoder.encoder, trust_remote_code=True)\n",
    }
    (finding,) = findings(repo, files, "MDL003")
    assert [model for model in models if f"`{model}`" in finding.message or repr(model) in finding.message] == models
    if len(models) > 1:
        assert "and 1 more load download model weights" in finding.message
    else:
        assert "faster-whisper-medium" not in finding.message


@pytest.mark.parametrize(
    "load, downloads",
    [
        ("model = torch.hub.load('ultralytics/yolov5', 'yolov5s')", True),
        # the weights come from the file `path=` names: the hub fetches only the code
        ("model = torch.hub.load('ultralytics/yolov5', 'custom', path='/models/best.pt')", False),
    ],
)
def test_a_hub_model_with_its_own_weights_file_downloads_no_weights(repo, load, downloads):
    files = {
        **EMBEDDING_API,
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\ntorch==2.5.1\n",
        "app/main.py": f"import torch\nfrom fastapi import FastAPI\n\napp = FastAPI()\n{load}\n",
    }
    assert [f.code for f in findings(repo, files, "MDL003")] == (["MDL003"] if downloads else [])


def test_a_model_named_by_a_dataclass_default_is_read_from_it(repo):
    """`@dataclass class Config: embedder: str = "BAAI/bge-small-en-v1.5"`: the field's default
    names the model `SentenceTransformer(config.embedder)` loads at start."""
    files = {
        **EMBEDDING_API,
        "app/config.py": "from dataclasses import dataclass\n\n\n@dataclass\nclass Config:\n"
        "    embedder: str = 'BAAI/bge-small-en-v1.5'\n\n\nconfig = Config()\n",
        "app/main.py": "from fastapi import FastAPI\nfrom sentence_transformers import SentenceTransformer\n\n"
        "from app.config import config\n\napp = FastAPI()\nmodel = SentenceTransformer(config.embedder)\n",
    }
    (finding,) = findings(repo, files, "MDL003")
    assert "BAAI/bge-small-en-v1.5" in finding.message


def test_an_image_without_cmd_starts_with_the_command_compose_gives_it(repo):
    """No CMD: compose's `command:` is how the service starts, and its download at start
    is reported (at the last instruction); two services of the image with different
    commands leave the start unknown."""
    no_cmd = EMBEDDING_API["Dockerfile"].replace(
        '        CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]\n', ""
    )
    compose = """
        services:
          api:
            build: .
            command: uvicorn app.main:app --host 0.0.0.0 --port 8000
            ports: ["8000:8000"]
    """
    files = {**EMBEDDING_API, "Dockerfile": no_cmd, "docker-compose.yml": compose}
    (finding,) = findings(repo, files, "MDL003")
    assert finding.span.line == 5 and "intfloat/multilingual-e5-large" in finding.message
    two = (
        compose
        + """
          worker:
            build: .
            command: python -m app.worker
    """
    )
    assert findings(repo, {**files, "docker-compose.yml": two}, "MDL003") == []


def test_a_start_up_download_into_a_volume_or_a_baked_cache_is_fine(repo):
    volume = {
        **EMBEDDING_API,
        "compose.yaml": "services:\n  api:\n    build: .\n    volumes:\n      - hf:/root/.cache/huggingface\nvolumes:\n  hf:\n",
    }
    assert lint(repo, volume, "MDL003") == []
    baked = {
        **EMBEDDING_API,
        "Dockerfile": EMBEDDING_API["Dockerfile"].replace(
            "COPY app/ ./app/",
            'RUN python -c "from sentence_transformers import SentenceTransformer; '
            "SentenceTransformer('intfloat/multilingual-e5-large')\"\n        COPY app/ ./app/",
        ),
    }
    assert lint(repo, baked, "MDL003") == []
    lazy = {
        **EMBEDDING_API,
        "app/main.py": EMBEDDING_API["app/main.py"].replace(
            'model = SentenceTransformer("intfloat/multilingual-e5-large")',
            'def get_model():\n    return SentenceTransformer("intfloat/multilingual-e5-large")',
        ),
    }
    assert lint(repo, lazy, "MDL003") == []  # loaded when a request asks: not followed


def test_a_start_up_download_in_a_class_the_app_module_imports_from_its_package(repo):
    """`uvicorn app.main:app` imports from the working folder: `from app.search import
    ImageSearch` reaches the class through the package's __init__.py, whose constructor
    downloads CLIP when main.py builds one at import."""
    files = {
        "Dockerfile": EMBEDDING_API["Dockerfile"],
        "requirements.txt": "fastapi==0.115.6\nuvicorn==0.32.1\ntransformers==4.46.3\ntorch==2.5.1\n",
        "app/__init__.py": "",
        "app/search/__init__.py": "from .clip import ImageSearch\n",
        "app/search/clip.py": """
            from transformers import CLIPModel, CLIPProcessor


            class ImageSearch:
                def __init__(self):
                    self.model = CLIPModel.from_pretrained("openai/clip-vit-base-patch32")
                    self.processor = CLIPProcessor.from_pretrained("openai/clip-vit-base-patch32")
        """,
        "app/main.py": """
            from fastapi import FastAPI

            from app.search import ImageSearch

            app = FastAPI()
            search = ImageSearch()
        """,
    }
    (finding,) = findings(repo, files, "MDL003")
    assert finding.span.line == 6 and "openai/clip-vit-base-patch32" in finding.message
    # the class is only named for a type: nothing runs its constructor at start-up
    files["app/main.py"] = files["app/main.py"].replace("search = ImageSearch()", "search: ImageSearch | None = None")
    assert lint(repo, files, "MDL003") == []


def test_a_model_named_by_a_module_constant_is_the_model_downloaded(repo):
    files = {
        **EMBEDDING_API,
        "app/main.py": EMBEDDING_API["app/main.py"].replace(
            'model = SentenceTransformer("intfloat/multilingual-e5-large")',
            'MODEL_NAME = "intfloat/multilingual-e5-large"\n        model = SentenceTransformer(MODEL_NAME)',
        ),
    }
    (finding,) = findings(repo, files, "MDL003")
    assert "intfloat/multilingual-e5-large" in finding.message
    # read from the environment instead: the constant is not known
    files["app/main.py"] = files["app/main.py"].replace(
        'MODEL_NAME = "intfloat/multilingual-e5-large"', 'import os\n        MODEL_NAME = os.environ["MODEL_NAME"]'
    )
    assert "intfloat" not in " ".join(f.message for f in findings(repo, files, "MDL003"))


def test_a_model_named_by_an_environment_variable_with_a_default_is_the_default(repo):
    """`MODEL_NAME = os.getenv("MODEL_NAME", "intfloat/...")`: where neither the image nor
    compose sets MODEL_NAME, the default is what the service downloads at every start."""
    main = EMBEDDING_API["app/main.py"].replace(
        'model = SentenceTransformer("intfloat/multilingual-e5-large")',
        'MODEL_NAME = os.environ.get("MODEL_NAME", "intfloat/multilingual-e5-large")\n'
        "        model = SentenceTransformer(MODEL_NAME)",
    )
    files = {**EMBEDDING_API, "app/main.py": "import os\n" + textwrap.dedent(main)}
    (finding,) = findings(repo, files, "MDL003")
    assert finding.message.startswith("`SentenceTransformer('intfloat/multilingual-e5-large')` in `app/main.py`")
    # the image sets it (to a baked path, or another model): not the default
    set_by_image = {
        **files,
        "Dockerfile": EMBEDDING_API["Dockerfile"].replace(
            "WORKDIR /app", "WORKDIR /app\n        ENV MODEL_NAME=/models/e5"
        ),
    }
    assert findings(repo, set_by_image, "MDL003") == []
    compose = "services:\n  api:\n    build: .\n    env_file: [.env.example]\n"
    set_by_compose = {**files, "docker-compose.yml": compose, ".env.example": "MODEL_NAME=/models/e5\nPORT=8000\n"}
    assert findings(repo, set_by_compose, "MDL003") == []


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


def test_a_cache_a_model_stage_filled_and_the_final_stage_copies_is_a_bake(repo):
    """The model-downloader stage fills its Hugging Face cache at build time and the final
    stage copies it to the same place under the same variables: the models are there when the
    container starts. Two variables naming one folder are one cache, said once."""
    dockerfile = """
        FROM python:3.11-slim AS model-downloader
        ENV HUGGINGFACE_HUB_CACHE=/app/.cache/huggingface
        ENV HF_HOME=/app/.cache/huggingface
        RUN pip install --no-cache-dir huggingface-hub==0.26.2
        RUN python -c "from huggingface_hub import snapshot_download; snapshot_download('BAAI/bge-m3')"

        FROM python:3.11-slim
        ENV HUGGINGFACE_HUB_CACHE=/app/.cache/huggingface
        ENV HF_HOME=/app/.cache/huggingface
        COPY --from=model-downloader /app/.cache /app/.cache
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        CMD ["python", "-m", "app"]
    """
    files = {"Dockerfile": dockerfile, "requirements.txt": "sentence-transformers==3.3.1\n"}
    assert lint(repo, files, "MDL003") == []
    # copied elsewhere than where the final stage looks: the cache there is empty
    moved = dockerfile.replace("/app/.cache /app/.cache", "/app/.cache /opt/cache")
    assert lint(repo, {**files, "Dockerfile": moved}, "MDL003") == [("MDL003", "Dockerfile", 8)]


def test_data_a_builder_downloaded_into_a_folder_the_final_stage_copies_is_a_bake(repo):
    """The builder runs `uv --directory a2a run --no-sync python -m nltk.downloader punkt_tab
    -d /app/a2a/nltk_data` and the final stage copies /app/a2a to /app, where NLTK_DATA
    points: the data is there when the container starts. Downloaded elsewhere, the folder
    NLTK_DATA names is empty."""
    dockerfile = """
        FROM python:3.13-slim AS builder
        COPY --from=ghcr.io/astral-sh/uv:0.9.2 /uv /bin/
        WORKDIR /app
        COPY a2a /app/a2a
        RUN uv --directory a2a sync --no-dev --locked && \\
            uv --directory a2a run --no-sync python -m nltk.downloader punkt_tab -d /app/a2a/nltk_data

        FROM python:3.13-slim
        ENV NLTK_DATA=/app/nltk_data
        COPY --from=builder /app/a2a /app
        CMD ["/app/.venv/bin/python", "-m", "agent"]
    """
    pyproject = "[project]\nname = 'agent'\nversion = '1.0'\ndependencies = ['nltk==3.9.1']\n"
    files = {
        "Dockerfile": dockerfile,
        "a2a/pyproject.toml": pyproject,
        "a2a/uv.lock": "version = 1\n",
        "a2a/agent.py": "import nltk\n\nnltk.sent_tokenize('Hello there. Bye.')\n",
    }
    assert lint(repo, files, "MDL003") == []
    moved = dockerfile.replace("-d /app/a2a/nltk_data", "-d /tmp/nltk_data")
    assert lint(repo, {**files, "Dockerfile": moved}, "MDL003") == [("MDL003", "Dockerfile", 9)]


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


def test_a_cache_on_the_platform_volume_of_a_runpod_worker_keeps_it(repo):
    """RunPod Serverless attaches an endpoint's network volume at /runpod-volume: a cache
    there outlives the worker, with no VOLUME or compose file saying so."""
    dockerfile = """
        FROM runpod/pytorch:2.0.1-py3.10-cuda11.8.0-devel
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY handler.py .
        ENV HF_HOME="/runpod-volume/cache" HF_HUB_CACHE="/runpod-volume/cache/hub"
        CMD ["python", "-u", "handler.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "runpod==1.7.9\ntransformers==4.46.3\n",
        "handler.py": "import runpod\nfrom transformers import pipeline\n\n"
        "pipe = pipeline('summarization', model='facebook/bart-large-cnn')\n",
    }
    assert lint(repo, files, "MDL003") == []
    elsewhere = dockerfile.replace("/runpod-volume", "/models")
    # HF_HUB_CACHE is a folder of HF_HOME's: one volume there covers both, one finding
    assert lint(repo, {**files, "Dockerfile": elsewhere}, "MDL003") == [("MDL003", "Dockerfile", 6)]


def test_a_cache_under_workspace_of_a_runpod_image_is_on_its_network_volume(repo):
    """RunPod Pods attach a network volume at /workspace: for an image made for RunPod (its
    SDK installed, or a runpod/ base) a cache there outlives the container. /workspace of
    any other image is a folder like any other."""
    dockerfile = """
        FROM python:3.11-slim
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY handler.py .
        ENV HF_HOME=/workspace/huggingface HUGGINGFACE_HUB_CACHE=/workspace/huggingface/hub
        CMD ["python", "-u", "handler.py"]
    """
    files = {
        "Dockerfile": dockerfile,
        "requirements.txt": "runpod==1.7.9\ntransformers==4.46.3\n",
        "handler.py": "import runpod\nfrom transformers import pipeline\n\npipe = pipeline('ner', model='dslim/bert-base-NER')\n",
    }
    assert lint(repo, files, "MDL003") == []
    files["requirements.txt"] = "transformers==4.46.3\n"
    files["handler.py"] = "from transformers import pipeline\n\npipe = pipeline('ner', model='dslim/bert-base-NER')\n"
    assert lint(repo, files, "MDL003") == [("MDL003", "Dockerfile", 6)]


def test_a_volume_the_readme_mounts_over_the_cache_keeps_it(repo):
    """The README's `docker run -v hf-cache:/root/.cache/huggingface` is how the image is run:
    the model cache outlives the container, as a compose volume's does."""
    readme = """
        # OCR client

        ```bash
        docker build -t ocr-client .
        docker run --rm --gpus all \\
          -v "$PWD:/work" \\
          -v ocr-client-hf-cache:/root/.cache/huggingface \\
          ocr-client:latest /work/page.pdf
        ```
    """
    dockerfile = "FROM python:3.11-slim\nENV HF_HOME=/root/.cache/huggingface\n"
    assert lint(repo, {"Dockerfile": dockerfile, "README.md": readme}, "MDL003") == []
    other = readme.replace("/root/.cache/huggingface", "/root/.cache/torch")
    assert lint(repo, {"Dockerfile": dockerfile, "README.md": other}, "MDL003") == [("MDL003", "Dockerfile", 2)]
    mounted = readme.replace(
        "-v ocr-client-hf-cache:/root/.cache/huggingface", "--mount type=volume,src=hf,target=/root/.cache"
    )
    assert lint(repo, {"Dockerfile": dockerfile, "README.md": mounted}, "MDL003") == []


@pytest.mark.parametrize(
    "volume, covered",
    [
        ("${HOST_APP_DATA:-./app_data}:${APP_DATA_ROOT:-/app_data}", True),  # the defaults
        ("./app_data:${APP_DATA_ROOT}", True),  # anywhere the variable says: may be there
        ("${HOST_APP_DATA:-./app_data}:${LOGS_ROOT:-/logs}", False),
    ],
)
def test_a_compose_volume_is_read_with_its_variables(repo, volume, covered):
    compose = f"""
        services:
          ocr:
            build: .
            volumes:
              - {volume}
    """
    dockerfile = "FROM python:3.11-slim\nENV APP_DATA_ROOT=/app_data HF_HOME=/app_data/caches/hf\n"
    found = lint(repo, {"Dockerfile": dockerfile, "docker-compose.yml": compose}, "MDL003")
    assert found == ([] if covered else [("MDL003", "Dockerfile", 2)])


def test_nltk_packages_the_code_reads_are_small_data_meant_to_be_baked(repo):
    """`punkt_tab` and a tagger are a few MB that unstructured reads at run time: baking them
    is what NLTK's own instructions do, and nothing is reported. A collection (`all` is
    4.5 GB installed) is a bake of its own. The folder a download names is the cache
    NLTK_DATA then points at: filled at build, nothing to fetch when the container starts."""
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir "unstructured[pdf]==0.16.11" nltk==3.9.1
        RUN python -c "import nltk; nltk.download('punkt_tab', download_dir='/usr/local/nltk_data'); nltk.download('averaged_perceptron_tagger_eng', download_dir='/usr/local/nltk_data')"
        RUN python -m nltk.downloader -d /usr/local/nltk_data stopwords wordnet
        ENV NLTK_DATA=/usr/local/nltk_data
        CMD ["python", "-m", "ingest"]
    """
    files = {"Dockerfile": dockerfile}
    assert lint(repo, files, "MDL001") == [] and lint(repo, files, "MDL003") == []
    files["Dockerfile"] = dockerfile.replace("stopwords wordnet", "all")
    (finding,) = findings(repo, files, "MDL001")
    assert finding.span.line == 4 and finding.message.startswith("`python -m nltk.downloader")
    assert "(`all`)" in finding.message
    assert lint(repo, files, "MDL003") == []


def test_an_image_that_turns_the_hub_off_is_made_to_ship_its_models(repo):
    """The final stage sets HF_HUB_OFFLINE=1: the service cannot fetch at start, so the
    models the build downloads from the Hugging Face Hub are baked on purpose. A download
    of another family (an Ollama pull) is still a bake of its own."""
    dockerfile = """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir huggingface-hub==0.26.2 faster-whisper==1.1.0
        RUN python -c "from huggingface_hub import snapshot_download; snapshot_download('Systran/faster-whisper-small')"
        RUN huggingface-cli download BAAI/bge-small-en-v1.5
        ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
        CMD ["python", "-m", "app"]
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "MDL001") == []
    online = dockerfile.replace("ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1", "ENV HF_HUB_OFFLINE=0")
    assert lint(repo, {"Dockerfile": online}, "MDL001") == [("MDL001", "Dockerfile", 3), ("MDL001", "Dockerfile", 4)]
    ollama = dockerfile.replace(
        "RUN huggingface-cli download BAAI/bge-small-en-v1.5", "RUN ollama serve & sleep 5 && ollama pull llama3.2"
    )
    assert lint(repo, {"Dockerfile": ollama}, "MDL001") == [("MDL001", "Dockerfile", 4)]


def test_a_cache_the_build_fills_is_not_fetched_at_run_time(repo):
    dockerfile = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir sentence-transformers==3.3.1
        ENV HF_HOME=/opt/hf TORCH_HOME=/opt/torch
        RUN python -c "from sentence_transformers import SentenceTransformer as S; S('all-MiniLM-L6-v2')"
        ENV NLTK_DATA=/opt/nltk
        RUN python -c "import nltk; nltk.download('punkt', download_dir='/elsewhere')"
    """
    # HF_HOME is filled at build; TORCH_HOME and NLTK_DATA are not (nothing writes there).
    assert lint(repo, {"Dockerfile": dockerfile}, "MDL003") == [
        ("MDL003", "Dockerfile", 3),
        ("MDL003", "Dockerfile", 5),
    ]
    before = """
        FROM python:3.11-slim
        RUN pip install --no-cache-dir sentence-transformers==3.3.1
        RUN huggingface-cli download sentence-transformers/all-MiniLM-L6-v2
        ENV HF_HOME=/opt/hf
    """
    # The download ran before the variable pointed there: the cache at /opt/hf is empty.
    assert lint(repo, {"Dockerfile": before}, "MDL003") == [("MDL003", "Dockerfile", 4)]


def test_a_cache_the_build_may_fill_through_code_that_picks_its_model_by_name(repo):
    """`python -m app.download_model` builds the embedder the config names: the class is
    picked by a `match` at run time, and its constructor loads the model into HF_HOME."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            WORKDIR /app
            RUN pip install --no-cache-dir transformers==4.47.1 torch==2.5.1 fastapi==0.115.6 uvicorn==0.32.1
            COPY app/ ./app/
            ENV HF_HOME=/app/cache
            RUN python -m app.download_model
            CMD ["uvicorn", "app.api:api", "--host", "0.0.0.0"]
        """,
        "app/__init__.py": "",
        "app/config.py": 'import os\n\nEMBEDDING_MODEL = os.environ.get("EMBEDDING_MODEL", "e5")\n',
        "app/download_model.py": """
            from app.config import EMBEDDING_MODEL
            from app.embedders import load_embedder

            if __name__ == "__main__":
                load_embedder(EMBEDDING_MODEL).embed(["warm", "up"])
        """,
        "app/embedders/__init__.py": """
            def get_embedder(name):
                match name:
                    case "e5":
                        from .e5 import E5Embedder as embedder
                    case _:
                        raise ValueError(name)
                return embedder


            def load_embedder(name):
                cls = get_embedder(name)
                return cls()
        """,
        "app/embedders/e5.py": """
            from transformers import AutoModel, AutoTokenizer


            class E5Embedder:
                MODEL_NAME = "intfloat/multilingual-e5-small"

                def __init__(self):
                    self.tokenizer = AutoTokenizer.from_pretrained(self.MODEL_NAME)
                    self.model = AutoModel.from_pretrained(self.MODEL_NAME)

                def embed(self, texts):
                    return self.model(**self.tokenizer(texts, return_tensors="pt", padding=True))
        """,
        "app/api.py": "from fastapi import FastAPI\n\nfrom app.config import EMBEDDING_MODEL\n"
        "from app.embedders import load_embedder\n\napi = FastAPI()\n\n\n@api.post('/embed')\n"
        "def embed(texts: list[str]):\n    return load_embedder(EMBEDDING_MODEL).embed(texts)\n",
    }
    assert lint(repo, files, "MDL003") == []
    assert lint(repo, files, "MDL001") == []  # what the build may do is not what it is shown to do
    # without the warm-up the cache at /app/cache starts empty in every container
    files["Dockerfile"] = files["Dockerfile"].replace("RUN python -m app.download_model\n", "")
    assert lint(repo, files, "MDL003") == [("MDL003", "Dockerfile", 5)]


def test_whispers_own_download_helper_called_by_a_build_script(repo):
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir openai-whisper==20240930
            COPY scripts/download_models.py .
            RUN python download_models.py small
            COPY app ./app
            CMD ["python", "-m", "app.worker"]
        """,
        "scripts/download_models.py": "import sys\n\nfrom whisper import _MODELS, _download\n\n"
        '_download(_MODELS[sys.argv[1]], "/models/", False)\n',
        "app/__init__.py": "",
        "app/worker.py": "import whisper\n\nmodel = whisper.load_model('small', download_root='/models/')\n",
    }
    assert lint(repo, files, "MDL001") == [("MDL001", "Dockerfile", 4)]


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


def test_a_cache_variable_of_a_service_that_loads_its_models_from_a_mounted_folder(repo):
    """HF_HOME is set, but the service only reads the weights compose mounts at ./ml
    (`from_pretrained(MODELS_DIR / ...)`): nothing is downloaded into the container at run
    time. A handler that loads a hub model by name may download, and is reported."""
    files = {
        "Dockerfile": """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir transformers==4.47.1 torch==2.5.1 fastapi==0.115.6 uvicorn==0.32.1
            ENV HF_HOME=/app/cache
            COPY app.py .
            CMD ["uvicorn", "app:api", "--host", "0.0.0.0"]
        """,
        "app.py": "from pathlib import Path\n\nfrom fastapi import FastAPI\n"
        "from transformers import AutoModel\n\nMODELS_DIR = Path('/models')\napi = FastAPI()\n"
        "model = AutoModel.from_pretrained(MODELS_DIR / 'bert', local_files_only=True)\n",
    }
    assert lint(repo, files, "MDL003") == []
    files["app.py"] = files["app.py"].replace(
        "AutoModel.from_pretrained(MODELS_DIR / 'bert', local_files_only=True)",
        "AutoModel.from_pretrained('bert-base-uncased')",
    )
    assert lint(repo, files, "MDL003") != []


FASTEMBED_PRELOAD = {
    "Dockerfile": """
        FROM python:3.12-slim
        WORKDIR /app
        RUN pip install --no-cache-dir fastembed==0.5.1 fastapi==0.115.6 uvicorn==0.34.0
        ENV FASTEMBED_CACHE_PATH=/app/model_cache
        COPY preload_models.py .
        RUN --mount=type=cache,id=fastembed,target=/tmp/fastembed-cache \\
            FASTEMBED_CACHE_PATH=/tmp/fastembed-cache python preload_models.py && \\
            cp -a /tmp/fastembed-cache/. /app/model_cache/
        COPY app.py .
        CMD ["uvicorn", "app:app", "--host", "0.0.0.0"]
    """,
    "preload_models.py": """
        import os

        from fastembed import SparseTextEmbedding

        SparseTextEmbedding("Qdrant/bm42-all-minilm-l6-v2-attentions", cache_dir=os.environ["FASTEMBED_CACHE_PATH"])
    """,
    "app.py": """
        from fastapi import FastAPI
        from fastembed import SparseTextEmbedding

        app = FastAPI()
        sparse = SparseTextEmbedding("Qdrant/bm42-all-minilm-l6-v2-attentions")
    """,
}


def test_a_model_fetched_into_a_cache_mount_and_copied_into_the_cache_path(repo):
    """The build fetches the sparse model into a BuildKit cache mount (once per builder,
    not per layer miss) and copies it where the service reads it: no build-time download to
    report, and no start-up download either. The same fetch straight into the image's cache
    is baked into the layer."""
    assert lint(repo, FASTEMBED_PRELOAD, "MDL001") == []
    assert lint(repo, FASTEMBED_PRELOAD, "MDL003") == []
    plain = (
        FASTEMBED_PRELOAD["Dockerfile"]
        .replace("RUN --mount=type=cache,id=fastembed,target=/tmp/fastembed-cache \\\n", "RUN ")
        .replace("FASTEMBED_CACHE_PATH=/tmp/fastembed-cache ", "")
    )
    assert lint(repo, {**FASTEMBED_PRELOAD, "Dockerfile": plain}, "MDL001") == [("MDL001", "Dockerfile", 6)]


@pytest.mark.parametrize(
    "cmd, env, module",
    [
        ('["flask", "run", "--host=0.0.0.0"]', "", "wsgi.py"),  # found as Flask finds it: wsgi.py, then app.py
        ('["flask", "run", "--host=0.0.0.0"]', "", "app.py"),
        ('["pipenv", "run", "flask", "run"]', "ENV FLASK_APP=service/server.py\n", "service/server.py"),
        ('["flask", "--app", "service.server:create_app", "run"]', "", "service/server.py"),
    ],
)
def test_flask_run_starts_the_application_flask_finds(repo, cmd, env, module):
    """`flask run` imports the application Flask discovers; a model its import downloads is
    fetched at every start."""
    files = {
        "Dockerfile": f"FROM python:3.11-slim\nWORKDIR /app\nRUN pip install --no-cache-dir flask==3.1.0 "
        f"transformers==4.47.1 torch==2.5.1\n{env}COPY . .\nCMD {cmd}\n",
        module: "from flask import Flask\nfrom transformers import pipeline\n\n"
        "summarize = pipeline('summarization', model='facebook/bart-large-cnn')\napp = Flask(__name__)\n",
        "service/__init__.py": "",
    }
    (finding,) = findings(repo, files, "MDL003")
    assert "facebook/bart-large-cnn" in finding.message and "each time a container starts" in finding.message


def test_a_model_hosts_installer_script_downloads_no_model(repo):
    """`curl -fsSL https://ollama.com/install.sh | sh` installs the Ollama program from the
    host models come from; `ollama pull` or a weights URL of that host is a download."""
    dockerfile = """
        FROM python:3.11-slim
        RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
        RUN curl -fsSL https://ollama.com/install.sh | sh
        CMD ["ollama", "serve"]
    """
    assert lint(repo, {"Dockerfile": dockerfile}, "MDL001") == []
    pulled = dockerfile.replace(
        'CMD ["ollama", "serve"]', 'RUN ollama serve & sleep 5 && ollama pull llama3.2\nCMD ["ollama", "serve"]'
    )
    assert lint(repo, {"Dockerfile": pulled}, "MDL001") == [("MDL001", "Dockerfile", 4)]

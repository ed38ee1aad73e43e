"""Fetch the encoder into the Hugging Face cache ahead of time.

Run it once where the cache lives (``HF_HOME``) so the service's first start does not
wait on the download:

    python scripts/download_models.py [MODEL_NAME]
"""

from __future__ import annotations

import os
import sys

from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def main(argv: list[str]) -> int:
    name = argv[1] if len(argv) > 1 else os.environ.get("MODEL_NAME", DEFAULT_MODEL)
    cache = os.environ.get("HF_HOME", "~/.cache/huggingface")
    print(f"downloading {name} into {cache}", flush=True)
    model = SentenceTransformer(name, device="cpu")
    print(f"ok: {name}, {model.get_sentence_embedding_dimension()} dimensions", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

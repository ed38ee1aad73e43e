"""Sentence embeddings plus a small intent classifier trained on them at start-up.

The encoder is a SentenceTransformer (MiniLM by default); the classifier is a
logistic regression fitted on the labelled examples in ``intents.json``. Fitting
takes well under a second on CPU, so we retrain on every start instead of shipping
a pickled model that drifts from the encoder.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from sklearn.linear_model import LogisticRegression

log = logging.getLogger(__name__)

MODEL_NAME = os.environ.get("MODEL_NAME", "sentence-transformers/all-MiniLM-L6-v2")
INTENTS_PATH = Path(os.environ.get("INTENTS_PATH", Path(__file__).with_name("intents.json")))
BATCH_SIZE = int(os.environ.get("EMBED_BATCH_SIZE", "32"))


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]


class IntentModel:
    def __init__(self, model_name: str = MODEL_NAME, intents_path: Path = INTENTS_PATH) -> None:
        # One container per CPU core in production; more torch threads only contend.
        torch.set_num_threads(int(os.environ.get("TORCH_NUM_THREADS", "1")))
        log.info("loading encoder %s", model_name)
        self.model_name = model_name
        self.encoder = SentenceTransformer(model_name, device="cpu")
        self.dimension = self.encoder.get_sentence_embedding_dimension()
        self.classifier = self._fit(intents_path)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings, so a dot product is the cosine similarity."""
        return self.encoder.encode(
            texts,
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    def classify(self, texts: list[str]) -> list[Prediction]:
        probabilities = self.classifier.predict_proba(self.embed(texts))
        labels = [str(label) for label in self.classifier.classes_]
        predictions = []
        for row in probabilities:
            best = int(np.argmax(row))
            predictions.append(
                Prediction(
                    label=labels[best],
                    confidence=float(row[best]),
                    scores={label: round(float(p), 4) for label, p in zip(labels, row, strict=True)},
                )
            )
        return predictions

    def _fit(self, intents_path: Path) -> LogisticRegression:
        intents: dict[str, list[str]] = json.loads(intents_path.read_text(encoding="utf-8"))
        texts = [text for examples in intents.values() for text in examples]
        labels = [label for label, examples in intents.items() for _ in examples]
        log.info("fitting intent classifier on %d examples, %d labels", len(texts), len(intents))
        classifier = LogisticRegression(max_iter=1000, C=4.0)
        classifier.fit(self.embed(texts), labels)
        return classifier

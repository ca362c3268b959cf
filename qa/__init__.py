"""seed-qa: offline, citation-grounded question answering over a folder of documents."""

from qa.answering import Answerer, SentenceAnswerer
from qa.config import Settings
from qa.embedding import Embedder, HashingEmbedder, SentenceTransformerEmbedder
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
from qa.schema import Answer, Chunk, Citation, Document, Draft, Evidence, Hit, Turn
from qa.service import IngestReport, QAService

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

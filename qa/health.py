"""`qa doctor`: offline checks that the model, index and seeds are ready and consistent."""

from __future__ import annotations

from dataclasses import dataclass

from qa.config import Settings
from qa.errors import QAError


@dataclass(frozen=True, slots=True)
class Check:
    """One named check and what it found."""

    name: str
    ok: bool
    detail: str


def run_checks(settings: Settings) -> list[Check]:
    """Seeds, model, index and their consistency, each reported separately."""
    from qa.ingest.loading import load_documents
    from qa.service import QAService

    checks: list[Check] = []
    files: dict[str, str] = {}
    try:
        loaded = load_documents(
            settings.seeds_dir, max_bytes=settings.max_document_bytes, zip_limits=settings.zip_limits
        )
        files = {d.source: d.content_hash for d in loaded.documents}
        reasons = [f"{s.source} ({s.reason})" for s in loaded.skipped[:3]]
        more = f" and {len(loaded.skipped) - 3} more" if len(loaded.skipped) > 3 else ""
        skipped = f"; {len(loaded.skipped)} skipped: {', '.join(reasons)}{more}" if loaded.skipped else ""
        checks.append(Check("seeds", bool(files), f"{len(files)} documents in {settings.seeds_dir}{skipped}"))
    except QAError as error:
        checks.append(Check("seeds", False, error.message))
    service = QAService(settings)
    try:
        embedder = service.embedder
        checks.append(Check("model", True, f"{embedder.model_id} (dim {embedder.dim}) loads offline"))
    except QAError as error:
        checks.append(Check("model", False, error.message))
        return checks
    try:
        # The same full load `qa ask` does: vectors, chunks and documents, checksums verified.
        manifest = service.load()
        checks.append(Check("index", True, f"{manifest.chunk_count} chunks, generation {manifest.generation}"))
    except QAError as error:
        checks.append(Check("index", False, error.message))
        return checks
    stale = sorted(
        {s for s in files if manifest.files.get(s) != files[s]} | {s for s in manifest.files if s not in files}
    )
    detail = (
        "index matches the seeds" if not stale else f"run `qa ingest`: changed since indexing: {', '.join(stale[:5])}"
    )
    checks.append(Check("consistency", not stale, detail))
    return checks

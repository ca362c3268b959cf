"""``/api/documents`` upload and delete, and the live seeds folder, against a real uvicorn server.

Each test drives the server over loopback with httpx, as a user's client would, and checks what a
user notices: the uploaded file answers a question with a citation to it, a deleted one no
longer does, a refused upload leaves the seeds folder as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api import create_app
from qa import QAService, Settings
from tests.support import GatedEmbedder, LiveServer, fast_service, fast_settings, write_scanned_pdf

TB2_QUESTION = "Who makes the TB2?"
LIGHTHOUSE_QUESTION = "Who is the Kestrel Point lighthouse keeper?"
LIGHTHOUSE_ANSWER = "Orla Finch"
# One fact, in each format the loader reads, that the project's seed article does not contain.
LIGHTHOUSE_FILES = {
    "kestrel-point.txt": (
        "Kestrel Point lighthouse\n\n"
        "The Kestrel Point lighthouse keeper is Orla Finch, who has kept the light since 2009.\n"
    ),
    "kestrel-point.md": (
        "# Kestrel Point lighthouse\n\nThe Kestrel Point lighthouse keeper is Orla Finch, who has kept the light "
        "since 2009.\n"
    ),
    "kestrel-point.html": (
        "<html><head><title>Kestrel Point lighthouse</title></head><body><main><p>The Kestrel Point lighthouse "
        "keeper is Orla Finch, who has kept the light since 2009.</p></main></body></html>"
    ),
}
KEY = "upload-key-0123456789abcdef"  # 16+ characters, as start-up requires


def upload(live: LiveServer, *files: tuple[str, bytes], headers: dict[str, str] | None = None) -> httpx.Response:
    """POST the files to /api/documents as multipart, in the field ``files``."""
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return httpx.post(f"{live.url}/api/documents", files=parts, headers=headers, timeout=30)


BOUNDARY = "seed-qa-test-boundary"


def multipart_body(*files: tuple[str, bytes]) -> bytes:
    """A multipart body written by hand, so a name reaches the server byte for byte (httpx escapes some)."""
    body = b""
    for name, data in files:
        body += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_raw(live: LiveServer, content: Any) -> httpx.Response:
    """POST a hand-written multipart body (bytes or an iterator of chunks) to /api/documents."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return httpx.post(f"{live.url}/api/documents", content=content, headers=headers, timeout=30)


def wait_for_status(
    live: LiveServer, source: str, wanted: str | None, *, headers: dict[str, str] | None = None, timeout: float = 20
) -> dict[str, Any] | None:
    """Poll GET /api/documents until ``source`` has status ``wanted`` (None: is gone); its row."""
    deadline = time.monotonic() + timeout
    while True:
        files = httpx.get(f"{live.url}/api/documents", headers=headers, timeout=10).json()["files"]
        row = next((f for f in files if f["source"] == source), None)
        if (row is None and wanted is None) or (row is not None and row["status"] == wanted):
            return row
        assert time.monotonic() < deadline, f"{source} never reached {wanted}: {row}"
        time.sleep(0.05)


def ask(live: LiveServer, question: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST /api/ask; the answer JSON."""
    response = httpx.post(f"{live.url}/api/ask", json={"question": question}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


#: Where an upload's source starts: uploads live under the data folder, apart from hand-placed files.
UPLOADS = "uploads/"


def uploads_dir(settings: Settings) -> Path:
    """The default collection's uploads folder."""
    return settings.data_dir / "collections" / "default" / "uploads"


def seeds_listing(settings: Settings) -> list[str]:
    """Every entry under the test's root folder (seeds, index, data and anything that escaped)."""
    root = settings.seeds_dir.parent
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if "embeddings" not in p.parts)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path, max_upload_bytes=4096, max_upload_files=3)


@pytest.fixture
def live(settings: Settings, serve: Callable[[FastAPI], LiveServer]) -> LiveServer:
    return serve(create_app(service=fast_service(settings)))


@pytest.mark.parametrize("name", sorted(LIGHTHOUSE_FILES))
def test_upload_answers_with_a_citation_then_delete_abstains(name: str, live: LiveServer, settings: Settings) -> None:
    assert ask(live, LIGHTHOUSE_QUESTION)["status"] == "abstained"
    response = upload(live, (name, LIGHTHOUSE_FILES[name].encode("utf-8")))
    assert response.status_code == 202, response.text
    (accepted,) = response.json()["files"]
    source = UPLOADS + name
    assert accepted["source"] == source and accepted["status"] == "indexing" and accepted["uploaded"]
    # Uploads land under the data folder, never in the (tracked) seeds folder.
    assert (uploads_dir(settings) / name).read_text("utf-8") == LIGHTHOUSE_FILES[name]
    assert not (settings.seeds_dir / name).exists()

    row = wait_for_status(live, source, "indexed")
    assert row is not None and row["id"] == accepted["id"]
    answer = ask(live, LIGHTHOUSE_QUESTION)
    assert answer["status"] == "answered" and LIGHTHOUSE_ANSWER in answer["answer"]
    assert answer["citations"][0]["source"] == source and LIGHTHOUSE_ANSWER in answer["citations"][0]["quote"]
    assert ask(live, TB2_QUESTION)["answer"] == "Baykar"  # the seed article is still there

    deleted = httpx.delete(f"{live.url}/api/documents/{accepted['id']}", timeout=10)
    assert deleted.status_code == 202 and deleted.json()["files"][0]["source"] == source
    assert not (uploads_dir(settings) / name).exists()  # moved to the trash, not erased
    # Gone for readers at once, even before the background ingest has removed it from the index.
    assert httpx.get(f"{live.url}/api/documents/{accepted['id']}", timeout=10).status_code == 404
    wait_for_status(live, source, None)
    gone = ask(live, LIGHTHOUSE_QUESTION)
    assert gone["status"] == "abstained" and not any(c["source"] == source for c in gone["citations"])
    assert httpx.delete(f"{live.url}/api/documents/{accepted['id']}", timeout=10).status_code == 404


def test_several_files_in_one_upload(live: LiveServer) -> None:
    notes = b"Harbour notes\n\nThe Samsun ferry captain is Deniz Kaya, who sails every Tuesday.\n"
    response = upload(live, ("kestrel-point.txt", LIGHTHOUSE_FILES["kestrel-point.txt"].encode()), ("notes.md", notes))
    assert response.status_code == 202
    assert [f["source"] for f in response.json()["files"]] == ["uploads/kestrel-point.txt", "uploads/notes.md"]
    wait_for_status(live, "uploads/kestrel-point.txt", "indexed")
    wait_for_status(live, "uploads/notes.md", "indexed")
    assert ask(live, "Who is the Samsun ferry captain?")["citations"][0]["source"] == "uploads/notes.md"


def test_unreadable_upload_is_listed_as_skipped_with_the_reason(live: LiveServer) -> None:
    assert upload(live, ("scan.txt", b"\x00\x01binary\x00")).status_code == 202
    row = wait_for_status(live, "uploads/scan.txt", "skipped")
    assert row is not None and "binary" in row["reason"]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("payload.exe", 415, "unsupported_file_type"),
        ("notes", 415, "unsupported_file_type"),
        ("../escape.txt", 422, "invalid_filename"),
        ("..\\escape.txt", 422, "invalid_filename"),
        ("/tmp/escape.txt", 422, "invalid_filename"),
        ("sub/escape.txt", 422, "invalid_filename"),
        (".hidden.txt", 422, "invalid_filename"),
        ("..", 422, "invalid_filename"),
        ("bad\x07name.txt", 422, "invalid_filename"),
        ("x" * 300 + ".txt", 422, "invalid_filename"),
    ],
)
def test_refused_names_and_types_write_nothing(
    name: str, status: int, code: str, live: LiveServer, settings: Settings
) -> None:
    before = seeds_listing(settings)
    # A good file beside the bad one: an upload is all or nothing.
    response = post_raw(live, multipart_body(("fine.txt", b"A fine file."), (name, b"Some text.")))
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert seeds_listing(settings) == before


def test_too_large_is_413_and_writes_nothing(live: LiveServer, settings: Settings) -> None:
    before = seeds_listing(settings)
    response = upload(live, ("big.txt", b"a" * 4097))
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
    assert "4096" in response.json()["error"]["message"]
    assert upload(live, ("ok.txt", b"a" * 4096)).status_code == 202  # the limit itself is allowed
    # A whole request over files x size is refused, whether its length is declared or it is streamed.
    body = multipart_body(*[(f"part-{i}.txt", b"a" * 40_000) for i in range(3)])
    declared = post_raw(live, body)
    streamed = post_raw(live, (body[i : i + 1024] for i in range(0, len(body), 1024)))  # chunked, no length
    for response in (declared, streamed):
        assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
        assert "The upload is larger than" in response.json()["error"]["message"]
    written = set(seeds_listing(settings)) - set(before)
    assert "data/collections/default/uploads/ok.txt" in written
    assert not any(p.startswith("seeds") for p in written)  # nothing written beside the hand-placed files


def test_too_many_files_and_wrong_body_are_refused(live: LiveServer) -> None:
    many = [(f"n{i}.txt", b"text") for i in range(4)]
    assert upload(live, *many).status_code == 400
    raw = httpx.post(f"{live.url}/api/documents", content=b"text", headers={"Content-Type": "text/plain"}, timeout=10)
    assert raw.status_code == 415 and "multipart/form-data" in raw.json()["error"]["message"]
    empty = httpx.post(f"{live.url}/api/documents", files=[("other", ("a.txt", b"x"))], timeout=10)
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "invalid_filename"


def test_upload_and_delete_need_the_key(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    settings = fast_settings(tmp_path, api_keys=[SecretStr(KEY)])
    live = serve(create_app(service=fast_service(settings)))
    data = ("kestrel-point.txt", LIGHTHOUSE_FILES["kestrel-point.txt"].encode())
    refused = upload(live, data)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert upload(live, data, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert not (uploads_dir(settings) / "kestrel-point.txt").exists()
    auth = {"Authorization": f"Bearer {KEY}"}
    accepted = upload(live, data, headers=auth)
    assert accepted.status_code == 202
    doc_id = accepted.json()["files"][0]["id"]
    assert httpx.get(f"{live.url}/api/documents", timeout=10).status_code == 401
    assert httpx.delete(f"{live.url}/api/documents/{doc_id}", timeout=10).status_code == 401
    assert (uploads_dir(settings) / "kestrel-point.txt").exists()
    assert httpx.delete(f"{live.url}/api/documents/{doc_id}", headers=auth, timeout=10).status_code == 202
    assert not (uploads_dir(settings) / "kestrel-point.txt").exists()


def test_delete_ids_are_looked_up_never_used_as_paths(live: LiveServer, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("keep me", "utf-8")
    for doc_id in ("..%2Foutside.txt", "outside.txt", "%2E%2E", "zelensky-istanbul-turkish-drones.txt"):
        response = httpx.delete(f"{live.url}/api/documents/{doc_id}", timeout=10)
        assert response.status_code in (404, 405), doc_id
    assert (tmp_path / "outside.txt").read_text("utf-8") == "keep me"
    assert (settings.seeds_dir / "zelensky-istanbul-turkish-drones.txt").exists()


def test_uploads_during_an_ingest_coalesce_and_the_old_index_keeps_answering(
    settings: Settings, serve: Callable[[FastAPI], LiveServer]
) -> None:
    embedder = GatedEmbedder("qa-ingest-worker")  # holds the background ingest thread
    service = QAService(settings, embedder=embedder)
    service.ensure_index()
    app = create_app(service=service)
    live = serve(app)
    assert upload(live, ("kestrel-point.txt", LIGHTHOUSE_FILES["kestrel-point.txt"].encode())).status_code == 202
    assert embedder.reached.wait(30)
    # Mid-ingest the server answers at once from the previous index, and takes more uploads.
    started = time.monotonic()
    assert ask(live, TB2_QUESTION)["answer"] == "Baykar"
    assert time.monotonic() - started < 5
    assert ask(live, LIGHTHOUSE_QUESTION)["status"] == "abstained"
    for i in range(3):
        note = f"Note {i}\n\nThe harbour bell number {i} rings at {i + 6} o'clock.\n".encode()
        assert upload(live, (f"note-{i}.txt", note)).status_code == 202
    assert wait_for_status(live, "uploads/note-2.txt", "indexing", timeout=5) is not None
    embedder.release.set()
    for name in ("kestrel-point.txt", "note-0.txt", "note-1.txt", "note-2.txt"):
        wait_for_status(live, UPLOADS + name, "indexed")
    assert app.state.ingest.runs == 2  # one for the first upload, one for the three that waited
    assert ask(live, LIGHTHOUSE_QUESTION)["citations"][0]["source"] == "uploads/kestrel-point.txt"


def test_a_file_dropped_into_the_folder_is_answered_without_a_restart(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path, watch=True, watch_debounce_ms=200)
    app = create_app(service=fast_service(settings))
    live = serve(app)
    assert app.state.ingest.watcher.wait_ready(10)
    assert ask(live, LIGHTHOUSE_QUESTION)["status"] == "abstained"
    dropped = time.monotonic()
    (settings.seeds_dir / "kestrel-point.txt").write_text(LIGHTHOUSE_FILES["kestrel-point.txt"], "utf-8")
    while (answer := ask(live, LIGHTHOUSE_QUESTION))["status"] != "answered":
        assert time.monotonic() - dropped < 5, "the dropped file was not answerable within 5 s"
        time.sleep(0.1)
    assert answer["citations"][0]["source"] == "kestrel-point.txt"
    # Changed and removed files are picked up too.
    (settings.seeds_dir / "kestrel-point.txt").write_text(
        LIGHTHOUSE_FILES["kestrel-point.txt"].replace("Orla Finch", "Tomas Reyes"), "utf-8"
    )
    changed = time.monotonic()
    while "Tomas Reyes" not in (ask(live, LIGHTHOUSE_QUESTION)["answer"] or ""):
        assert time.monotonic() - changed < 5, "the changed file was not re-indexed within 5 s"
        time.sleep(0.1)
    (settings.seeds_dir / "kestrel-point.txt").unlink()
    removed = time.monotonic()
    while ask(live, LIGHTHOUSE_QUESTION)["status"] != "abstained":
        assert time.monotonic() - removed < 5, "the removed file was still answering after 5 s"
        time.sleep(0.1)


def test_changes_made_while_stopped_are_caught_up_on_start(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path, watch=True, watch_debounce_ms=200)
    service = fast_service(settings)  # index built, then the folder changes before the server starts
    (settings.seeds_dir / "kestrel-point.txt").write_text(LIGHTHOUSE_FILES["kestrel-point.txt"], "utf-8")
    live = serve(create_app(service=service))
    wait_for_status(live, "kestrel-point.txt", "indexed")
    assert ask(live, LIGHTHOUSE_QUESTION)["citations"][0]["source"] == "kestrel-point.txt"


def test_watch_off_leaves_the_index_alone(tmp_path: Path, serve: Callable[[FastAPI], LiveServer]) -> None:
    settings = fast_settings(tmp_path, watch=False)
    app = create_app(service=fast_service(settings))
    live = serve(app)
    assert app.state.ingest.watcher is None
    (settings.seeds_dir / "kestrel-point.txt").write_text(LIGHTHOUSE_FILES["kestrel-point.txt"], "utf-8")
    time.sleep(1.0)  # several debounce periods: a watcher would have re-ingested by now
    assert ask(live, LIGHTHOUSE_QUESTION)["status"] == "abstained"
    assert wait_for_status(live, "kestrel-point.txt", "not_indexed", timeout=1) is not None


def test_the_first_document_can_be_uploaded_into_an_empty_folder(
    tmp_path: Path, serve: Callable[[FastAPI], LiveServer]
) -> None:
    settings = fast_settings(tmp_path)
    for path in settings.seeds_dir.iterdir():
        path.unlink()
    live = serve(create_app(service=fast_service(settings, build=False)))
    deadline = time.monotonic() + 20
    while (ready := httpx.get(f"{live.url}/readyz", timeout=10)).status_code == 503 and "failed" not in ready.text:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert httpx.post(f"{live.url}/api/ask", json={"question": LIGHTHOUSE_QUESTION}, timeout=10).status_code == 503
    assert upload(live, ("kestrel-point.txt", LIGHTHOUSE_FILES["kestrel-point.txt"].encode())).status_code == 202
    while httpx.get(f"{live.url}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the server never became ready after the first upload"
        time.sleep(0.05)
    assert ask(live, LIGHTHOUSE_QUESTION)["citations"][0]["source"] == "uploads/kestrel-point.txt"


def test_the_last_file_cannot_be_deleted(live: LiveServer, settings: Settings) -> None:
    (seed,) = httpx.get(f"{live.url}/api/documents", timeout=10).json()["files"]
    refused = httpx.delete(f"{live.url}/api/documents/{seed['id']}", timeout=10)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_document"
    assert "upload another file first" in refused.json()["error"]["message"]
    assert (settings.seeds_dir / seed["source"]).exists()
    assert ask(live, TB2_QUESTION)["answer"] == "Baykar"
    # With a second file there, the first can go.
    assert upload(live, ("kestrel-point.txt", LIGHTHOUSE_FILES["kestrel-point.txt"].encode())).status_code == 202
    assert httpx.delete(f"{live.url}/api/documents/{seed['id']}", timeout=10).status_code == 202
    wait_for_status(live, seed["source"], None)
    assert ask(live, TB2_QUESTION)["status"] == "abstained"


def test_a_scanned_pdf_is_listed_as_skipped_for_having_no_text_layer(live: LiveServer, tmp_path: Path) -> None:
    scan = write_scanned_pdf(tmp_path / "scan.pdf")
    assert upload(live, ("scan.pdf", scan.read_bytes())).status_code == 202
    row = wait_for_status(live, "uploads/scan.pdf", "skipped")
    assert row is not None and row["reason"] == "no text layer (a scanned image?); OCR is not supported"

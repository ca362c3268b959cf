import io
import time
from pathlib import Path

import pytest

from qa.errors import UnsupportedFileTypeError, UploadError, UploadTooLargeError
from qa.ingest.loading import SUPPORTED_SUFFIXES, document_id
from qa.ingest.uploads import allowed_suffixes, check_upload_name, check_upload_size, store_upload


@pytest.mark.parametrize("name", ["notes.txt", "Prüfbericht 2024.PDF", "a.b.md", "x" * 251 + ".txt"])
def test_plain_names_pass_unchanged(name: str) -> None:
    assert check_upload_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "../x.txt",
        "..\\x.txt",
        "/etc/x.txt",
        "C:x.txt",
        "a/b.txt",
        ".env.txt",
        " x.txt",
        "x.txt ",
        "x\x00.txt",
        "x\u202e.txt",  # right-to-left override: "txt.exe" shown as "exe.txt"
        "x\n.txt",
        "x" * 252 + ".txt",
        "é" * 130 + ".txt",  # 260 bytes in UTF-8
    ],
)
def test_unsafe_names_are_422(name: str | None) -> None:
    with pytest.raises(UploadError) as caught:
        check_upload_name(name)
    assert caught.value.status_code == 422 and caught.value.code == "invalid_filename"


@pytest.mark.parametrize("name", ["x.exe", "x", "x.txt.sh", "archive.tar.gz"])
def test_other_types_are_415_and_name_the_accepted_ones(name: str) -> None:
    with pytest.raises(UnsupportedFileTypeError) as caught:
        check_upload_name(name)
    assert caught.value.status_code == 415 and ".txt" in caught.value.message


def test_settings_narrow_the_loader_types_never_widen_them() -> None:
    assert allowed_suffixes() == SUPPORTED_SUFFIXES
    assert allowed_suffixes(["md", ".TXT", ".exe"]) == (".txt", ".md")
    with pytest.raises(UnsupportedFileTypeError):
        check_upload_name("x.pdf", suffixes=allowed_suffixes([".txt"]))


def test_size_limit_is_inclusive() -> None:
    check_upload_size("a.txt", 10, max_bytes=10)
    with pytest.raises(UploadTooLargeError) as caught:
        check_upload_size("a.txt", 11, max_bytes=10)
    assert caught.value.status_code == 413 and "QA_MAX_UPLOAD_BYTES" in caught.value.message


def test_store_writes_atomically_and_replaces(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    assert store_upload(seeds, "a.txt", io.BytesIO(b"one")) == document_id("a.txt")
    assert store_upload(seeds, "a.txt", io.BytesIO(b"two")) == document_id("a.txt")
    assert (seeds / "a.txt").read_bytes() == b"two"
    assert [p.name for p in seeds.iterdir()] == ["a.txt"]  # no temp file left behind


def test_store_never_writes_through_a_link(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep", "utf-8")
    (seeds / "a.txt").symlink_to(outside)
    with pytest.raises(UploadError):
        store_upload(seeds, "a.txt", io.BytesIO(b"overwrite"))
    assert outside.read_text("utf-8") == "keep"


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("disk gone")

    with pytest.raises(OSError):
        store_upload(tmp_path, "a.txt", Broken())
    assert list(tmp_path.iterdir()) == []


def test_hostile_long_names_are_checked_fast() -> None:
    started = time.perf_counter()
    for name in ("/" * 100_000, "a" * 100_000 + ".txt", "\u202e" * 100_000):
        with pytest.raises(UploadError):
            check_upload_name(name)
    assert time.perf_counter() - started < 1.0

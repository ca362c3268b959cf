import qa


def test_public_surface_is_pinned() -> None:
    assert sorted(qa.__all__) == sorted(
        [
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
    )
    for name in qa.__all__:
        assert hasattr(qa, name), name


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, qa, qa.cli; print(any(m in sys.modules for m in ('torch', 'faiss', 'sentence_transformers')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

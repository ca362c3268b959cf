from qa.chunking import chunk_document, sentence_spans
from qa.schema import Document


def _doc(text: str) -> Document:
    return Document(id="d1", source="a.txt", title="A", text=text, content_hash="h")


def test_sentences_respect_abbreviations_numbers_and_quotes() -> None:
    text = (
        'Mr. Smith paid $3.50 on Jan. 5. "It works," he said. The U.S. agreed!\n'
        "A headline without a stop\nYou have 43.57% left."
    )
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Mr. Smith paid $3.50 on Jan. 5.",
        '"It works," he said.',
        "The U.S. agreed!",
        "A headline without a stop",
        "You have 43.57% left.",
    ]


def test_chunks_hold_whole_sentences_within_the_token_limit() -> None:
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(30))
    chunks = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=30, overlap_sentences=1)
    sentences = {text[s:e] for s, e in sentence_spans(text)}
    assert len(chunks) > 5
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert len(chunk.text.split()) <= 30
        assert all(part + "." in sentences for part in chunk.text.rstrip(".").split(". "))
    # Consecutive chunks overlap by one sentence.
    assert chunks[1].start < chunks[0].end


def test_an_overlong_sentence_is_its_own_chunk_never_split() -> None:
    long_sentence = "Word " + "word " * 99 + "end."
    text = f"Short one. {long_sentence} Short two."
    chunks = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=20)
    assert any(c.text == long_sentence.strip() for c in chunks)


def test_chunk_ids_are_stable_and_content_derived() -> None:
    text = "Alpha is first. Beta is second. Gamma is third."
    first = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=5)
    again = chunk_document(_doc(text), count_tokens=lambda t: len(t.split()), max_tokens=5)
    changed = chunk_document(_doc(text.replace("Gamma", "Delta")), count_tokens=lambda t: len(t.split()), max_tokens=5)
    assert [c.id for c in first] == [c.id for c in again]
    assert first[0].id == changed[0].id and first[-1].id != changed[-1].id

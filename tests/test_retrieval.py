from qa import QAService
from qa.retrieval.keyword import KeywordIndex


def test_keyword_index_matches_exact_tokens() -> None:
    index = KeywordIndex(["Turkey will send 155 mm shells.", "The Anka-3 drone flew.", "Baykar makes the TB2."])
    assert index.search("TB2", 3)[0][0] == 2
    assert index.search("155 mm", 3)[0][0] == 0
    assert index.search("Anka-3", 3)[0][0] == 1
    assert index.search("zzzz unknown", 3) == []


def test_hybrid_search_ranks_the_baykar_chunk_first(fake_service: QAService) -> None:
    hits = fake_service.search("Who makes the Bayraktar TB2?", top_k=3)
    assert "Baykar" in hits[0].chunk.text
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].keyword_score is not None and hits[0].dense_score is not None
    assert hits[0].score >= hits[1].score >= hits[2].score

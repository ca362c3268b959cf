"""The JSONL test-set format and the SQuAD/BEIR importers, on excerpts in tests/data/."""

import json
from pathlib import Path

import pytest

from qa.evaluation.importers import import_beir, import_squad
from qa.evaluation.testset import (
    EvalCase,
    GoldEvidence,
    InvalidTestSetError,
    case_from_dict,
    question_type,
    read_jsonl,
    write_jsonl,
)
from tests.support import REPO

DATA = REPO / "tests" / "data"
SQUAD = DATA / "squad_excerpt.json"
BEIR = DATA / "beir_tiny"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who makes the TB2?", "who"),
        ("How many rounds of ammunition?", "how many"),
        ("How much does a TB2 cost?", "how much"),
        ("In what year did the Normans arrive?", "when"),
        ("The Normans were in what country?", "what"),
        ("Which shipyards did he visit?", "which"),
        ("How did the war start?", "how"),
        ("Name the Norse leader.", "other"),
    ],
)
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_seed_eval_set_reads(tmp_path: Path) -> None:
    evalset = read_jsonl(DATA / "seed_eval.jsonl")
    assert len(evalset.cases) >= 25 and not evalset.corpus
    first = evalset.cases[0]
    assert first.answerable and first.answers and first.evidence[0].has_span
    assert any(not c.answerable and not c.evidence for c in evalset.cases)
    write_jsonl(evalset.cases, tmp_path / "copy.jsonl")
    assert read_jsonl(tmp_path / "copy.jsonl").cases == evalset.cases


def test_defaults_and_a_zero_offset_survive_a_round_trip(tmp_path: Path) -> None:
    case = case_from_dict(
        {"question": "Who?", "answers": ["A"], "evidence": [{"source": "s.txt", "start": 0, "end": 3}]}
    )
    assert case == EvalCase("Who?", "Who?", ("A",), (GoldEvidence("s.txt", 0, 3),), True, "who")
    write_jsonl([case], tmp_path / "one.jsonl")
    assert read_jsonl(tmp_path / "one.jsonl").cases == (case,)
    assert not case_from_dict({"question": "Who?", "answers": []}).answerable


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"question": "ok?"}', "{not json"], ":2:"),
        (['{"question": "  "}'], "empty question"),
        (['{"question": "q", "answers": "A"}'], "list of strings"),
        (['{"question": "q", "evidence": [{"source": "s.txt"}]}'], r"source\+start\+end or a quote"),
        (['{"question": "q", "evidence": [{"source": "s", "start": 5, "end": 5}]}'], "end must be after start"),
        (['{"id": "x", "question": "a"}', '{"id": "x", "question": "b"}'], "appears twice"),
        ([""], "no questions"),
    ],
)
def test_malformed_test_sets_name_the_problem(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(InvalidTestSetError, match=message):
        read_jsonl(path)


def test_missing_test_set() -> None:
    with pytest.raises(InvalidTestSetError, match="does not exist"):
        read_jsonl(Path("nope.jsonl"))


def test_squad_import_maps_gold_spans_to_offsets_in_the_built_documents() -> None:
    evalset = import_squad(SQUAD)
    raw = json.loads(SQUAD.read_text("utf-8"))
    assert len(evalset.cases) == sum(len(p["qas"]) for a in raw["data"] for p in a["paragraphs"]) == 27
    assert [f.source for f in evalset.corpus] == ["Normans.txt", "Steam_engine.txt"]
    documents = {f.source: f.text for f in evalset.corpus}
    assert documents["Normans.txt"].count("\n\n") == 1  # two paragraphs, one blank line between
    answerable = [c for c in evalset.cases if c.answerable]
    assert len(answerable) == 13 and all(c.evidence for c in answerable)
    for case in answerable:
        for gold in case.evidence:
            assert documents[gold.source][gold.start : gold.end] in case.answers
    hastings = next(c for c in evalset.cases if c.question.startswith("Who was the duke in the battle of Hastings"))
    assert hastings.evidence[0].start > len(raw["data"][0]["paragraphs"][0]["context"])  # second paragraph
    unanswerable = [c for c in evalset.cases if not c.answerable]
    assert unanswerable and all(not c.answers and not c.evidence for c in unanswerable)


def test_squad_sample_is_seeded_and_keeps_the_whole_corpus() -> None:
    first = import_squad(SQUAD, limit=10, seed=1)
    again = import_squad(SQUAD, limit=10, seed=1)
    other = import_squad(SQUAD, limit=10, seed=2)
    assert len(first.cases) == 10 and [c.id for c in first.cases] == [c.id for c in again.cases]
    assert [c.id for c in first.cases] != [c.id for c in other.cases]
    assert len(first.corpus) == 2
    assert len(import_squad(SQUAD, limit=1000).cases) == 27


def test_squad_article_filters() -> None:
    only = import_squad(SQUAD, articles=["Steam_engine"])
    assert [f.source for f in only.corpus] == ["Steam_engine.txt"] and len(only.cases) == 10
    held_out = import_squad(SQUAD, exclude_articles=["Steam_engine"])
    assert [f.source for f in held_out.corpus] == ["Normans.txt"] and len(held_out.cases) == 17
    with pytest.raises(InvalidTestSetError, match="No article titled 'Rhine'"):
        import_squad(SQUAD, exclude_articles=["Rhine"])


def test_squad_import_rejects_other_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"version": 1}', "utf-8")
    with pytest.raises(InvalidTestSetError, match="not SQuAD JSON"):
        import_squad(path)


def test_beir_import() -> None:
    evalset = import_beir(BEIR)
    assert evalset.retrieval_only and evalset.rank_unit == "document"
    assert len(evalset.corpus) == 5
    assert evalset.corpus[0].text.startswith("Honey bees\n\nHoney bees live")
    cases = {c.id: c for c in evalset.cases}
    assert sorted(cases) == ["q1", "q2", "q3", "q4", "q5"]  # q6 has no relevant document
    assert {(g.source, g.relevance) for g in cases["q5"].evidence} == {("d1.txt", 1), ("d5.txt", 2)}
    gold = cases["q2"].evidence[0]
    assert (gold.start, gold.end) == (0, len(evalset.corpus[1].text))
    assert len(import_beir(BEIR, limit=2, seed=3).cases) == 2


def test_beir_import_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidTestSetError, match=r"corpus\.jsonl is missing"):
        import_beir(tmp_path)

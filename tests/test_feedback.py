"""qa.feedback: the answer log, the export to a test set, and the gaps list."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import AnswerNotFoundError, InvalidQuestionError
from qa.feedback.export import export_cases
from qa.feedback.gaps import find_gaps, question_words, similarity
from qa.feedback.log import AnswerLog
from qa.schema import Answer, Citation


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def answered(question: str, text: str, source: str = "policy.txt") -> Answer:
    citation = Citation(1, source, "Policy", "d1", "c1", 10, 30, "Leave is 27 days.", 0.9)
    return Answer(question=question, answer=text, status="answered", sentence=None, citations=(citation,))


def abstained(question: str) -> Answer:
    return Answer(question=question, answer=None, status="abstained", sentence=None, citations=())


@pytest.fixture
def log(tmp_path: Path) -> AnswerLog:
    return AnswerLog(tmp_path / "answers.sqlite3", clock=Clock())


def test_answers_are_kept_whole_with_the_cited_files_hashes(log: AnswerLog) -> None:
    answer = answered("How long is leave?", "27 days")
    log.record(answer, owner="k1", collection="hr", session_id="web-1", generation="g1",
               file_hashes={"policy.txt": "h1", "other.txt": "h2"})  # fmt: skip
    row = log.get(answer.id)
    assert row.answer == answer.to_dict() and row.file_hashes == {"policy.txt": "h1"} and row.generation == "g1"
    with pytest.raises(AnswerNotFoundError):
        log.get(answer.id, owner="k2")
    assert log.session_owner("web-1") == ("k1", "hr") and log.session_owner("web-2") is None
    (summary,) = log.sessions("k1")
    assert (summary.session_id, summary.title, summary.turns) == ("web-1", "How long is leave?", 1)
    assert log.sessions("k1", collections=frozenset({"eng"})) == [] and log.sessions("k2") == []


def test_feedback_is_checked_and_a_second_vote_replaces_the_first(log: AnswerLog) -> None:
    answer = answered("How long is leave?", "27 days")
    log.record(answer, owner="k1", collection="hr")
    with pytest.raises(AnswerNotFoundError):
        log.add_feedback("ans-nope", owner="k1", vote="up")
    with pytest.raises(InvalidQuestionError, match="limit is 2000"):
        log.add_feedback(answer.id, owner="k1", vote="down", comment="x" * 2001)
    log.add_feedback(answer.id, owner="k1", vote="down")
    log.add_feedback(answer.id, owner="k1", vote="up")
    ((feedback, _),) = log.feedback()
    assert feedback.vote == "up"


def test_export_keeps_up_votes_with_evidence_corrections_as_gold_and_drops_changed_quotes(log: AnswerLog) -> None:
    up = answered("How long is leave?", "27 days")
    corrected = answered("Who approves leave?", "Policy")
    refused = abstained("Is there a gym?")
    down = answered("Where is the office?", "Kyiv")
    changed = answered("When is leave booked?", "in January", source="calendar.txt")
    for answer in (up, corrected, refused, down, changed):
        log.record(answer, owner="k1", collection="hr", file_hashes={"policy.txt": "h1", "calendar.txt": "c1"})
    log.add_feedback(up.id, owner="k1", vote="up")
    log.add_feedback(corrected.id, owner="k1", vote="down", correction="Marta Quill")
    log.add_feedback(corrected.id, owner="k2", vote="up")  # a vote without a correction does not undo it
    log.add_feedback(refused.id, owner="k1", vote="up")
    log.add_feedback(down.id, owner="k1", vote="down")
    log.add_feedback(changed.id, owner="k1", vote="up")

    report = export_cases(log, {"policy.txt": "h1", "calendar.txt": "c2"}, collection="hr")

    cases = {case.question: case for case in report.cases}
    assert cases["How long is leave?"].answers == ("27 days",)
    assert cases["How long is leave?"].evidence[0].source == "policy.txt"
    assert cases["Who approves leave?"].answers == ("Marta Quill",) and cases["Who approves leave?"].answerable
    assert not cases["Is there a gym?"].answerable
    assert "Where is the office?" not in cases and "When is leave booked?" not in cases
    assert (report.down_without_correction, report.dropped_changed, report.dropped_quotes) == (1, 1, 1)
    assert export_cases(log, {}, collection="eng").cases == ()


def test_near_duplicate_questions_are_one_gap() -> None:
    assert similarity(question_words("What's the leave policy?"), question_words("what is the leave policy")) == 1.0
    assert similarity(question_words("Where do visitors park?"), question_words("Who approves leave?")) == 0.0


def test_gaps_group_abstained_and_down_voted_questions_per_collection(log: AnswerLog) -> None:
    for question in ("Where can visitors park?", "where do visitors park", "Is there a gym?"):
        log.record(abstained(question), owner="k1", collection="hr")
    wrong = answered("Who approves leave?", "Policy")
    log.record(wrong, owner="k1", collection="hr")
    log.record(answered("How long is leave?", "27 days"), owner="k1", collection="hr")
    log.record(abstained("Where can visitors park?"), owner="k1", collection="eng")
    log.add_feedback(wrong.id, owner="k1", vote="down")

    gaps = find_gaps(log, None, "hr")

    assert [(g.question, g.count, g.abstained, g.down_votes) for g in gaps] == [
        ("where do visitors park", 2, 2, 0),  # most asked first, then most recently asked
        ("Who approves leave?", 1, 0, 1),
        ("Is there a gym?", 1, 1, 0),
    ]
    assert gaps[0].questions == ["Where can visitors park?", "where do visitors park"]


def test_the_log_is_bounded_and_keeps_answers_with_feedback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("qa.feedback.log._PURGE_EVERY", 5)
    log = AnswerLog(tmp_path / "answers.sqlite3", max_answers=3, clock=Clock())
    voted = abstained("Is there a gym?")
    log.record(voted, owner="k1", collection="hr")
    log.add_feedback(voted.id, owner="k1", vote="down")
    for i in range(9):
        log.record(abstained(f"Question {i}?"), owner="k1", collection="hr")
    # Purged at the 5th and 10th records: the newest answers and the voted one remain.
    assert [a.question for a in log.answers()] == ["Is there a gym?", "Question 7?", "Question 8?"]

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from qa import QAService
from qa.answering import DEFAULT_ANSWER_MODEL, READ_FEATURES, AnswerModel, BaseAnswerer, ReaderAnswerer
from qa.answering.extractive import section_passage
from qa.errors import ConfigurationError, QAError
from qa.schema import Answer, Chunk, Draft, Hit, Turn
from qa.text import snap_to_words, tidy_span


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("a new drone, Anka-3, flew", (15, 19), "Anka-3"),
        ("where corvettes are built", (6, 14), "corvettes"),
        ("the company Ivchenko-Progress made", (12, 20), "Ivchenko-Progress"),
        ("Baykar company", (0, 6), "Baykar"),
    ],
)
def test_snap_to_words(text: str, span: tuple[int, int], expected: str) -> None:
    start, end = snap_to_words(text, *span)
    assert text[start:end] == expected


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("the privately-owned [Baykar company], which", "Baykar"),
        ("Turkish Aerospace Industries [(TAI]) and", "(TAI)"),
        ("the [French army] marched", "French army"),
        ("a [small company] nearby", "small company"),
        ("some [800,000, ]rounds", "800,000"),
    ],
)
def test_tidy_span(marked: str, expected: str) -> None:
    # [ and ] mark the reader's span inside the text
    start = marked.index("[")
    end = marked.index("]") - 1
    text = marked.replace("[", "").replace("]", "")
    got_start, got_end = tidy_span(text, start, end)
    assert text[got_start:got_end] == expected


@dataclass(frozen=True)
class Prediction:
    start: int
    end: int
    text: str
    score: float
    no_answer_score: float
    alternatives: tuple["Prediction", ...] = ()


class ScriptedReader:
    """Finds a fixed phrase in whichever passage holds it, with a fixed margin; records what it read."""

    def __init__(self, phrase: str, margin: float) -> None:
        self.phrase, self.margin, self.read_passages = phrase, margin, []

    def read(self, question: str, passages):  # type: ignore[no-untyped-def]
        self.read_passages.extend(passages)
        out = []
        for passage in passages:
            start = passage.find(self.phrase)
            if start < 0:
                out.append(Prediction(0, 0, "", float("-inf"), 0.0))
            else:
                out.append(Prediction(start, start + len(self.phrase), self.phrase, self.margin, 0.0))
        return out


def _answerer(phrase: str, margin: float, **kwargs) -> tuple[ReaderAnswerer, ScriptedReader]:  # type: ignore[no-untyped-def]
    reader = ScriptedReader(phrase, margin)
    # build_answerer's choices when the test leaves them: the model's threshold, five passages
    kwargs.setdefault("threshold", kwargs.get("model", DEFAULT_ANSWER_MODEL).threshold)
    kwargs.setdefault("max_passages", 5)
    return ReaderAnswerer(reader, **kwargs), reader


QUESTION = "Which company manufactures the Bayraktar TB2 drone?"


def test_the_reader_reads_every_top_chunk_and_answers_the_span(fake_service: QAService) -> None:
    answerer, reader = _answerer("Baykar", margin=4.0, threshold=0.3, max_passages=5)
    hits = fake_service.search(QUESTION, top_k=8)
    draft = answerer.answer(QUESTION, hits)
    # each chunk is read behind the headings above it it does not repeat (none here)
    assert reader.read_passages == [section_passage(hit.chunk).text for hit in hits[:5]]
    assert draft.answer == "Baykar" and not draft.abstained
    (evidence,) = draft.evidence
    document = fake_service.document(evidence.chunk.doc_id)
    # the citation is the whole sentence around the span, with offsets into the file's text
    assert document.text[evidence.start : evidence.end] == draft.sentence == evidence.quote
    assert "the privately-owned Baykar company, which manufactures the Bayraktar TB2 drone" in evidence.quote
    assert evidence.quote.endswith(".")


def test_without_a_fitted_model_the_reader_decides_by_its_own_margin(fake_service: QAService) -> None:
    hits = fake_service.search(QUESTION)
    answerer, _ = _answerer("Baykar", margin=4.0)
    (best, *_) = answerer.candidates(QUESTION, hits)
    assert best.text == "Baykar"
    assert best.features[READ_FEATURES.index("margin")] == 4.0
    assert best.probability == pytest.approx(1 / (1 + math.exp(-4.0)))
    assert answerer.threshold == DEFAULT_ANSWER_MODEL.threshold == 0.5


def test_a_confident_reader_is_not_vetoed_by_a_sentence_sharing_no_words(fake_service: QAService) -> None:
    # The seed article's "where did they meet" case: few question words in the answer's sentence.
    model = AnswerModel(coef=_coef(margin=1.0, idf_overlap=0.5, proximity=0.5), intercept=0.0, threshold=0.7)
    answerer, _ = _answerer("Baykar", margin=4.0, model=model)
    draft = answerer.answer("zzz qqq?", fake_service.search(QUESTION))
    assert not draft.abstained and draft.answer == "Baykar"


def _coef(**weights: float) -> tuple[float, ...]:
    """Answer-model weights by feature name, 0 for the features not named."""
    assert set(weights) <= set(READ_FEATURES), weights
    return tuple(weights.get(name, 0.0) for name in READ_FEATURES)


def _hits(*texts: str) -> list[Hit]:
    """One chunk per text, ranked in order, as retrieval would return them."""
    hits, offset = [], 0
    for rank, text in enumerate(texts, start=1):
        chunk = Chunk(f"c{rank}", "d", "doc.txt", "Doc", text, offset, offset + len(text))
        hits.append(Hit(chunk=chunk, score=1 / rank, rank=rank, dense_score=0.5))
        offset += len(text) + 1
    return hits


MENTIONS = _hits(
    "The TB2 is built by Baykar.",
    "Nothing to see here.",
    "Drones from Baykar flew.",
    "Baykar exports them.",
)


def test_the_same_answer_in_several_chunks_adds_up() -> None:
    answerer, _ = _answerer("Baykar", margin=0.0, max_passages=4)  # p = 0.5 in each chunk alone
    spans = answerer.candidates(QUESTION, MENTIONS)
    assert [s.hit.rank for s in spans] == [1, 3, 4]
    assert all(span.probability == pytest.approx(0.5) for span in spans)
    assert all(span.confidence == pytest.approx(1 - 0.5**3) for span in spans)
    assert answerer.answer(QUESTION, MENTIONS).confidence == pytest.approx(0.875)
    alone, _ = _answerer("Baykar", margin=0.0, max_passages=1)
    assert alone.answer(QUESTION, MENTIONS).confidence == pytest.approx(0.5)


def test_a_confident_first_chunk_settles_the_question_without_reading_the_rest() -> None:
    answerer, reader = _answerer("Baykar", margin=4.0, max_passages=4, first_passages=1, stop_confidence=0.8)
    draft = answerer.answer(QUESTION, MENTIONS)
    assert draft.answer == "Baykar" and draft.confidence == pytest.approx(1 / (1 + math.exp(-4.0)))
    assert reader.read_passages == [section_passage(MENTIONS[0].chunk).text]


def test_an_unsettled_question_reads_the_rest_once_and_scores_every_chunk_together() -> None:
    answerer, reader = _answerer("Baykar", margin=0.0, max_passages=4, first_passages=2, stop_confidence=0.8)
    spans = answerer.candidates(QUESTION, MENTIONS)  # the first two chunks alone: 0.5 < 0.8
    assert reader.read_passages == [section_passage(hit.chunk).text for hit in MENTIONS]
    assert [s.hit.rank for s in spans] == [1, 3, 4] and spans[0].confidence == pytest.approx(0.875)
    # one softmax over all four chunks read, as if they had been read at once
    at_once, _ = _answerer("Baykar", margin=0.0, max_passages=4)
    assert [s.features for s in spans] == [s.features for s in at_once.candidates(QUESTION, MENTIONS)]


def test_it_never_stops_early_below_the_abstention_threshold() -> None:
    # 0.5 clears the stop confidence but not the threshold: the other chunks may still agree
    answerer, reader = _answerer("Baykar", margin=0.0, max_passages=4, first_passages=1, stop_confidence=0.3)
    answerer.threshold = 0.8
    assert answerer.answer(QUESTION, MENTIONS).confidence == pytest.approx(0.875)
    assert len(reader.read_passages) == 4


def test_retrieval_rank_and_the_shared_softmax_are_features() -> None:
    answerer, _ = _answerer("Baykar", margin=2.0, max_passages=4)
    spans = sorted(answerer.candidates(QUESTION, MENTIONS), key=lambda s: s.hit.rank)
    log_rank = READ_FEATURES.index("log_rank")
    assert [s.features[log_rank] for s in spans] == [math.log(r) for r in (1, 3, 4)]
    # three spans score 2, four chunks say no answer at 0: one softmax over all seven
    shared = spans[0].features[READ_FEATURES.index("shared_log_prob")]
    assert shared == pytest.approx(2.0 - math.log(3 * math.exp(2.0) + 4))
    # a model that prefers better-ranked chunks cites the top-ranked chunk's sentence
    model = AnswerModel(coef=_coef(log_rank=-1.0), intercept=0.0, threshold=0.0)
    ranked, _ = _answerer("Baykar", margin=2.0, max_passages=4, model=model)
    assert ranked.answer(QUESTION, MENTIONS).sentence == "The TB2 is built by Baykar."
    model = AnswerModel(coef=_coef(log_rank=1.0), intercept=0.0, threshold=0.0)
    last, _ = _answerer("Baykar", margin=2.0, max_passages=4, model=model)
    assert last.answer(QUESTION, MENTIONS).sentence == "Baykar exports them."


def test_question_words_every_chunk_read_mentions_weigh_less_than_rare_ones() -> None:
    # Both answers' sentences hold two of the question's three words, but "Ukraine" is in most
    # chunks read and "defense" in one: the sentence with the rare word matches the question better.
    hits = _hits(
        "Ukraine's foreign minister is Kuleba.",
        "Ukraine needs shells.",
        "Zelensky flew with his defense minister, Umerov.",
    )
    question = "Who is Ukraine's defense minister?"
    model = AnswerModel(coef=_coef(idf_overlap=4.0), intercept=-2.0, threshold=0.0)
    answerer = ReaderAnswerer(NameReader(), model=model, threshold=0.0, max_passages=3)
    spans = {s.text: s.features[READ_FEATURES.index("idf_overlap")] for s in answerer.candidates(question, hits)}
    common, rare = math.log(4 / 2.5), math.log(4 / 1.5)  # in two of the three chunks; in one
    assert spans == pytest.approx(
        {"Kuleba": common * 2 / (2 * common + rare), "Umerov": 1.0 - common / (2 * common + rare)}
    )
    assert answerer.answer(question, hits).answer == "Umerov"


class NameReader:
    """Finds the capitalised name ending each passage (the last word), with margin 2."""

    def read(self, question: str, passages):  # type: ignore[no-untyped-def]
        out = []
        for passage in passages:
            name = passage.rstrip(".").split()[-1]
            start = passage.rfind(name)
            found = name[0].isupper() and name.isalpha()
            out.append(
                Prediction(start, start + len(name), name, 2.0, 0.0)
                if found
                else Prediction(0, 0, "", float("-inf"), 0.0)
            )
        return out


def test_an_unsure_reader_abstains(fake_service: QAService) -> None:
    answerer, _ = _answerer("Baykar", margin=-6.0, threshold=0.5, max_passages=1)
    draft = answerer.answer(QUESTION, fake_service.search(QUESTION))
    assert draft.abstained and draft.answer is None and draft.evidence == ()
    assert 0.0 < draft.confidence < 0.5


def test_a_model_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="calibrate_answerer"):
        ReaderAnswerer(ScriptedReader("x", 1.0), model=AnswerModel((1.0,), 0.0, 0.5), threshold=0.5, max_passages=5)


def test_a_sub_word_span_is_widened_to_whole_words(fake_service: QAService) -> None:
    answerer, _ = _answerer("aykar", margin=4.0, threshold=0.0)
    assert answerer.answer(QUESTION, fake_service.search(QUESTION)).answer == "Baykar"


def test_no_hits_or_no_span_abstains(fake_service: QAService) -> None:
    answerer, reader = _answerer("a phrase that is nowhere", margin=9.0, threshold=0.0)
    assert answerer.answer(QUESTION, []).abstained
    assert reader.read_passages == []
    assert answerer.answer(QUESTION, fake_service.search(QUESTION)).abstained


class _Scripted(BaseAnswerer):
    """Streams the given items: text pieces, then (or not) a Draft."""

    name = "scripted"
    threshold = None

    def __init__(self, *items: str | Draft) -> None:
        self.items = items

    def answer_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Draft]:
        yield from self.items


def test_answer_is_the_draft_that_ends_the_stream() -> None:
    final = Draft(answer="Baykar", sentence=None, evidence=(), confidence=0.9, abstained=False)
    assert _Scripted("Bay", "kar", final).answer("Who?", []) is final
    with pytest.raises(QAError, match="without a final answer"):
        _Scripted("Bay", "kar").answer("Who?", [])


def test_the_offline_condense_appends_the_last_turn_to_a_follow_up() -> None:
    history = [Turn("Who makes the TB2?", "Baykar")]
    assert _Scripted().condense("Where did they open a factory?", history) == (
        "Where did they open a factory? Who makes the TB2? Baykar"
    )
    assert _Scripted().condense("Who makes the Bayraktar TB2 drone?", history) == "Who makes the Bayraktar TB2 drone?"


class PhraseReader:
    """Finds the first of the given phrases that a passage holds, margin 3; records what it read."""

    def __init__(self, *phrases: str) -> None:
        self.phrases = phrases

    def read(self, question: str, passages):  # type: ignore[no-untyped-def]
        out = []
        for passage in passages:
            found = [(passage.find(p), p) for p in self.phrases if p in passage]
            if found:
                start, phrase = found[0]
                out.append(Prediction(start, start + len(phrase), phrase, 3.0, 0.0))
            else:
                out.append(Prediction(0, 0, "", float("-inf"), 0.0))
        return out


def test_a_span_of_the_wrong_type_is_never_the_answer_the_next_of_the_right_type_is() -> None:
    hits = _hits("Zelensky visited the Tuzla shipyards.", "Turkey is building two corvettes for Ukraine.")
    answerer = ReaderAnswerer(PhraseReader("Tuzla shipyards", "two corvettes"), threshold=0.5, max_passages=2)
    question = "How many corvettes is Turkey building for Ukraine?"
    assert [s.text for s in answerer.candidates(question, hits)] == ["two corvettes"]
    assert answerer.answer(question, hits).answer == "two corvettes"
    # with no span of the right type it abstains rather than answer a place
    assert answerer.answer(question, hits[:1]).abstained
    # the same span answers a question that asks for anything
    assert answerer.answer("Which shipyards did Zelensky visit?", hits[:1]).answer == "Tuzla shipyards"


def test_a_sentence_that_only_restates_a_why_question_answers_nothing() -> None:
    hits = _hits("2.3 Passwords are not changed on a schedule. Change a password at once if it leaks.")
    answerer = ReaderAnswerer(PhraseReader("not changed on a schedule"), threshold=0.5, max_passages=1)
    assert answerer.answer("Why are passwords not changed on a schedule?", hits).abstained
    # the same sentence answers a question it says more than
    draft = answerer.answer("Should I change my password regularly?", hits)
    assert not draft.abstained and "schedule" in (draft.answer or "")


def test_a_section_number_is_never_the_answer() -> None:
    hits = _hits("6.1 Every document belongs to one of four classes.\nRestricted: salaries and health data.")
    answerer = ReaderAnswerer(PhraseReader("6.1", "Restricted"), threshold=0.5, max_passages=1)
    assert answerer.answer("Which data class do salary documents belong to?", hits).abstained
    answerer = ReaderAnswerer(PhraseReader("Restricted"), threshold=0.5, max_passages=1)
    assert answerer.answer("Which data class do salary documents belong to?", hits).answer == "Restricted"


def test_agreement_features_tell_the_asked_code_from_its_rival() -> None:
    hits = _hits("Error code E7 indicates a failed lamp.", "Error code E4 indicates low pressure.")
    answerer = ReaderAnswerer(PhraseReader("a failed lamp", "low pressure"), threshold=0.0, max_passages=2)
    spans = {
        s.text: dict(zip(READ_FEATURES, s.features, strict=True))
        for s in answerer.candidates("What does E4 mean?", hits)
    }
    assert spans["a failed lamp"]["term_conflict"] == 1.0 and spans["a failed lamp"]["code_absent"] == 1.0
    assert spans["low pressure"]["term_conflict"] == 0.0 and spans["low pressure"]["code_absent"] == 0.0
    # a model that weighs the conflict answers the asked code's meaning, though its chunk ranks second
    model = AnswerModel(coef=_coef(margin=1.0, term_conflict=-4.0), intercept=0.0, threshold=0.5)
    weighed = ReaderAnswerer(PhraseReader("a failed lamp", "low pressure"), model=model, threshold=0.5, max_passages=2)
    assert weighed.answer("What does E4 mean?", hits).answer == "low pressure"


HANDBOOK = (
    "Up to 5 unused leave days can be carried over into the next year. "
    "Carried-over days expire on 31 March of the following year. "
    "Leave requests go to your line manager."
)


def test_a_how_to_question_is_answered_by_the_sentence_around_the_span() -> None:
    text = "Laptops stay company property. If your laptop is stolen, report it to the IT desk within 24 hours. Lock it."
    answerer = ReaderAnswerer(PhraseReader("the IT desk"), threshold=0.5, max_passages=1)
    draft = answerer.answer("What should I do if my laptop is stolen?", _hits(text))
    assert draft.answer == draft.sentence == "If your laptop is stolen, report it to the IT desk within 24 hours."
    assert [ev.quote for ev in draft.evidence] == [draft.answer]
    # the reader's short span is the key phrase, highlighted inside the sentence
    assert draft.highlight is not None and draft.sentence is not None
    assert draft.sentence[draft.highlight[0] : draft.highlight[1]] == "the IT desk"
    answer = Answer.from_draft("What should I do if my laptop is stolen?", draft, (), timings={})
    assert answer.to_dict()["highlight"] == list(draft.highlight)


def test_steps_after_a_sentence_ending_in_a_colon_join_the_answer() -> None:
    text = "If your laptop is stolen:\n\n1. Call the IT desk.\n2. Change your password.\n\nLaptops are property."
    answerer = ReaderAnswerer(PhraseReader("If your laptop is stolen"), threshold=0.5, max_passages=1)
    draft = answerer.answer("What should I do if my laptop is stolen?", _hits(text))
    assert [ev.quote for ev in draft.evidence] == [
        "If your laptop is stolen:",
        "1. Call the IT desk.",
        "2. Change your password.",
    ]


def test_steps_after_a_heading_line_join_the_answer_and_a_full_sentence_takes_none() -> None:
    text = "If you discover a fire\n1. Press the alarm call point.\n2. Call 112.\n\nDrills are held twice a year."
    answerer = ReaderAnswerer(PhraseReader("If you discover a fire"), threshold=0.5, max_passages=1)
    draft = answerer.answer("What should I do if I discover a fire?", _hits(text))
    steps = ["If you discover a fire", "1. Press the alarm call point.", "2. Call 112."]
    assert [ev.quote for ev in draft.evidence] == steps
    full = "If you discover a fire, press the alarm call point.\n1. Drills are held twice a year."
    answerer = ReaderAnswerer(PhraseReader("press the alarm call point"), threshold=0.5, max_passages=1)
    draft = answerer.answer("What should I do if I discover a fire?", _hits(full))
    assert [ev.quote for ev in draft.evidence] == ["If you discover a fire, press the alarm call point."]


def test_a_markdown_heading_opens_the_steps_of_a_how_to_answer_but_answers_no_short_question() -> None:
    text = "## If you discover a fire\n1. Press the alarm call point.\n2. Call 112."
    answerer = ReaderAnswerer(PhraseReader("If you discover a fire"), threshold=0.5, max_passages=1)
    draft = answerer.answer("What should I do if I discover a fire?", _hits(text))
    assert [ev.quote for ev in draft.evidence][1:] == ["1. Press the alarm call point.", "2. Call 112."]
    short = ReaderAnswerer(PhraseReader("discover a fire"), threshold=0.5, max_passages=1)
    assert short.answer("Which section covers fires?", _hits(text)).abstained


def test_a_two_part_question_cites_both_adjacent_sentences() -> None:
    answerer = ReaderAnswerer(PhraseReader("Up to 5"), threshold=0.5, max_passages=1)
    draft = answerer.answer("How many unused leave days can be carried over, and when do they expire?", _hits(HANDBOOK))
    assert [ev.quote for ev in draft.evidence] == [
        "Up to 5 unused leave days can be carried over into the next year.",
        "Carried-over days expire on 31 March of the following year.",
    ]
    assert draft.answer == " ".join(ev.quote for ev in draft.evidence)
    assert draft.highlight is not None and draft.sentence is not None
    assert draft.sentence[draft.highlight[0] : draft.highlight[1]] == "Up to 5"
    # found from the date's side, the sentence before it joins
    from_date = ReaderAnswerer(PhraseReader("31 March"), threshold=0.5, max_passages=1)
    cited = from_date.answer(
        "How many unused leave days can be carried over, and when do they expire?", _hits(HANDBOOK)
    )
    assert [ev.quote for ev in cited.evidence] == [ev.quote for ev in draft.evidence]
    # in the second sentence: offsets count the first one and the space joining them
    assert cited.highlight is not None and cited.sentence is not None
    assert cited.sentence[cited.highlight[0] : cited.highlight[1]] == "31 March"


def test_a_sentence_naming_the_asked_term_is_read_again_when_the_chunk_s_span_came_from_another() -> None:
    # one span per chunk: the reader picks the foreign minister's sentence of a chunk that also
    # names the defense minister; that sentence, read alone, gives the asked minister
    text = "Foreign Minister Dmytro Kuleba spoke in Vilnius. Zelensky flew with his defense minister, Rustem Umerov."
    reader = PhraseReader("Dmytro Kuleba", "Rustem Umerov")
    model = AnswerModel(coef=_coef(margin=1.0, term_conflict=-4.0), intercept=0.0, threshold=0.5)
    answerer = ReaderAnswerer(reader, model=model, threshold=0.5, max_passages=1)
    spans = answerer.candidates("Who is the defense minister?", _hits(text))
    assert [s.text for s in spans] == ["Rustem Umerov", "Dmytro Kuleba"]
    assert spans[0].sentence == "Zelensky flew with his defense minister, Rustem Umerov."
    assert spans[0].hit.rank == 1 and spans[0].start == text.index("Rustem")
    # a question naming nothing specific reads nothing again
    assert [s.text for s in answerer.candidates("Who spoke?", _hits(text))] == ["Dmytro Kuleba"]


def test_the_reader_reads_a_chunk_with_its_section_and_never_answers_from_the_heading() -> None:
    # "5 TB" alone does not say whose storage it is; the heading path the reader sees does.
    text = "Storage: 5 TB per workspace."
    chunk = Chunk("c1", "d", "plans.md", "Plans", text, 100, 100 + len(text), headings=("Premium plan",))
    hit = Hit(chunk=chunk, score=1.0, rank=1, dense_score=0.5)
    question = "How much storage does the Premium plan include?"
    answerer, reader = _answerer("5 TB", margin=4.0)
    draft = answerer.answer(question, [hit])
    # the heading path above the chunk, not the document title (the reader never saw titles)
    assert reader.read_passages == ["Premium plan\nStorage: 5 TB per workspace."]
    assert draft.answer == "5 TB" and not draft.abstained
    (evidence,) = draft.evidence
    # offsets point into the chunk's text, not into what the reader read
    assert (evidence.start, evidence.end) == (100, 100 + len(text)) and evidence.quote == text
    # a span the reader finds in the context line is no answer (a heading cannot be quoted)
    heading_reader, _ = _answerer("Premium plan", margin=4.0)
    assert heading_reader.candidates(question, [hit]) == []
    assert heading_reader.answer(question, [hit]).abstained
    # a heading the chunk's text already holds is not read twice
    repeated = Chunk("c2", "d", "plans.md", "Plans", "Premium plan\n5 TB storage", 0, 25, headings=("Premium plan",))
    assert section_passage(repeated).text == repeated.text


def test_one_answer_read_with_wider_boundaries_adds_up_and_a_reading_over_two_answers_goes_last() -> None:
    text = "Traveling to Istanbul with his defense minister, Rustem Umerov, Zelensky flew on."
    # overlapping chunks of one document, the reader reading the name wider in the first
    hits = [
        Hit(chunk=Chunk(f"c{rank}", "d", "doc.txt", "Doc", text, 0, len(text)), score=1.0, rank=rank)
        for rank in (1, 2, 3)
    ]
    wide, narrow = "Rustem Umerov, Zelensky", "Rustem Umerov"

    class Readings:
        def __init__(self, *phrases: tuple[str, float]) -> None:
            self.phrases = phrases

        def read(self, question: str, passages):  # type: ignore[no-untyped-def]
            return [
                Prediction(text.index(phrase), text.index(phrase) + len(phrase), phrase, score, 0.0)
                for (phrase, score), _ in zip(self.phrases, passages, strict=False)
            ]

    two = ReaderAnswerer(Readings((wide, 3.0), (narrow, 3.0)), threshold=0.0, max_passages=2)
    spans = two.candidates("Who is the defense minister?", hits[:2])
    assert {s.text for s in spans} == {wide, narrow}
    assert spans[0].confidence == spans[1].confidence > max(s.probability for s in spans)
    # the wide reading also holds another, less likely answer: it is a list, so the name alone goes first
    three = ReaderAnswerer(Readings((wide, 3.0), (narrow, 2.0), ("Zelensky", 1.0)), threshold=0.0, max_passages=3)
    assert three.candidates("Who is the defense minister?", hits)[0].text == narrow


def test_an_answer_whose_sentence_names_a_rival_goes_after_one_above_the_threshold_that_does_not() -> None:
    hits = _hits("Error code E7 indicates a failed lamp.", "Error code E4 indicates low pressure.")
    reader = PhraseReader("a failed lamp", "low pressure")
    # the rival's span scores higher (first chunk), both clear the threshold
    answerer = ReaderAnswerer(reader, model=AnswerModel(_coef(margin=1.0), 0.0, 0.5), threshold=0.5, max_passages=2)
    spans = answerer.candidates("What does E4 mean?", hits)
    assert [s.text for s in spans] == ["low pressure", "a failed lamp"]
    # below the threshold nothing is settled: the likeliest goes first
    strict = ReaderAnswerer(reader, model=AnswerModel(_coef(margin=1.0), 0.0, 0.99), threshold=0.99, max_passages=2)
    first = strict.candidates("What does E4 mean?", hits)
    assert first[0].confidence >= first[1].confidence

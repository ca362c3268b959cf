"""Answer type and name agreement (qa.answering.agreement): plain token code, no model."""

import time

import pytest

from qa.answering.agreement import (
    Expected,
    TermIndex,
    agrees,
    complete_date,
    is_sentence_question,
    negation_mismatch,
    question_parts,
    question_terms,
    shape,
    term_features,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many corvettes is Turkey building for Ukraine?", [Expected.QUANTITY]),
        ("How often should the CF-300 filter cartridge be replaced?", [Expected.QUANTITY]),
        ("How much does the Premium plan cost?", [Expected.PRICE]),
        ("What does a replacement access badge cost?", [Expected.PRICE]),
        ("What is the late fee if an invoice is paid late?", [Expected.PRICE]),
        ("How much water does the unit use?", [Expected.QUANTITY]),
        ("How many workers were paid?", [Expected.QUANTITY]),
        ("How much paid leave does the second parent get?", [Expected.QUANTITY]),
        # a question that names the price asks for something else
        ("What plan costs EUR 19 per month?", [Expected.ANY]),
        ("When was it inaugurated?", [Expected.DATE]),
        ("In what year did the Normans conquer Sicily?", [Expected.DATE]),
        ("Who is the Ukrainian defense minister?", [Expected.PERSON]),
        ("The TB2 is built by whom?", [Expected.PERSON]),
        ("Where did the two presidents meet?", [Expected.PLACE]),
        ("What should I do if my laptop is stolen?", [Expected.SENTENCE]),
        ("How do I reset my password?", [Expected.SENTENCE]),
        ("Why has the Rhine been shortened?", [Expected.SENTENCE]),
        ("What does error code E4 mean?", [Expected.ANY]),
        # identifiers, addresses and emails; "what is the X" reads as "what X"
        ("Which version brought dark mode?", [Expected.CODE]),
        ("What voltage does the UV-12 lamp run on?", [Expected.QUANTITY]),
        ("Which part number do I order for a new cartridge?", [Expected.CODE]),
        ("What is the phone number of the hotline?", [Expected.CODE]),
        ("What part of the Rhine flows north?", [Expected.ANY]),
        ("Which address should I give the fire brigade?", [Expected.PLACE]),
        ("What is the email address of the service desk?", [Expected.EMAIL]),
        ("What is the date of the next meeting?", [Expected.DATE]),
        ("What is the name of the river?", [Expected.ANY]),
        # two questions in one: one part each
        (
            "How many unused leave days can be carried over, and when do they expire?",
            [Expected.QUANTITY, Expected.DATE],
        ),
        # a question word inside a clause asks nothing
        ("What is the resultant force called when two forces act on a particle?", [Expected.ANY]),
        # a scene-setting "when" clause, with or without its comma
        ("When Iqbal promoted Islamic unity, what did he encourage ending?", [Expected.ANY]),
        ("When the Rhine emerges from Lake Constance which way does it flow?", [Expected.ANY]),
        # a condensed follow-up is typed by the new question, not the turn appended after it
        ("When was it inaugurated? Who is the Ukrainian defense minister? Dmytro Kuleba", [Expected.DATE]),
    ],
)
def test_the_question_decides_the_expected_type(question: str, expected: list[Expected]) -> None:
    assert question_parts(question) == expected


def test_sentence_questions_are_how_to_why_yes_no_and_two_part_questions() -> None:
    assert is_sentence_question("What should I do if my laptop is stolen?")
    assert is_sentence_question("Can I take the elevator when the fire alarm goes off?")
    assert is_sentence_question("Is it okay to lock my laptop in the car?")
    assert not is_sentence_question("Which floor is the kitchen on?")
    assert is_sentence_question("How many days carry over, and when do they expire?")
    assert not is_sentence_question("How many corvettes is Turkey building?")


@pytest.mark.parametrize(
    ("expected", "text", "agreed"),
    [
        (Expected.QUANTITY, "Tuzla shipyards", False),
        (Expected.CODE, "2.4.0", True),
        (Expected.CODE, "Bank feeds for 12 more banks", False),
        (Expected.CODE, "extension 4400", True),
        (Expected.CODE, "14 February 2026", False),  # a day and a year, no version
        (Expected.CODE, "Version 2.4.0 (28 April 2026)", True),
        (Expected.CODE, "- Dark mode for the web app", False),
        (Expected.PLACE, "112", False),
        (Expected.EMAIL, "servicedesk@northgate.example", True),
        (Expected.EMAIL, "extension 4400", False),
        (Expected.QUANTITY, "800,000", True),
        (Expected.QUANTITY, "four", True),
        (Expected.QUANTITY, "every 6 months", True),
        (Expected.QUANTITY, "less than a year", True),
        (Expected.QUANTITY, "annually", True),
        (Expected.QUANTITY, "once a year", True),
        (Expected.QUANTITY, "at once", False),  # immediately, not a frequency
        (Expected.PRICE, "EUR 19", True),
        (Expected.PRICE, "$5 million", True),
        (Expected.PRICE, "40 euros a year", True),
        (Expected.PRICE, "free", True),
        (Expected.PRICE, "410-0009", False),  # a part number
        (Expected.PRICE, "3,000 litres", False),
        (Expected.PRICE, "bank transfer", False),
        (Expected.DATE, "outskirts of Kyiv", False),
        (Expected.DATE, "31 March", True),
        (Expected.DATE, "Wednesdays", True),
        (Expected.DATE, "the 7th century", True),
        (Expected.DATE, "the end of the Pleistocene", True),
        (Expected.PERSON, "Rustem Umerov", True),
        (Expected.PERSON, "1596", False),
        (Expected.PERSON, "your line manager", True),
        (Expected.PERSON, "the defendants", True),
        (Expected.PERSON, "periods without any invoices", False),
        (Expected.PLACE, "March 8", False),
        (Expected.SENTENCE, "anything at all", True),
        (Expected.ANY, "42", True),
    ],
)
def test_a_span_agrees_with_the_type_it_can_be(expected: Expected, text: str, agreed: bool) -> None:
    assert agrees(expected, text) is agreed


def test_shapes_make_codes_of_one_kind_rivals() -> None:
    assert shape("E4") == shape("E7") == "A9"
    assert shape("CF-300") == shape("UV-12") == "A-9"
    assert shape("1066") == "9" != shape("E4")


def test_the_question_names_codes_names_and_roles_but_not_its_opening() -> None:
    terms = {(t.key, t.shape, t.role) for t in question_terms("Who is the Ukrainian defense minister?")}
    assert terms == {("ukrai", "", False), ("defense", "minister", True)}
    assert [t.key for t in question_terms("What does error code E4 mean?")] == ["e4"]
    assert question_terms("What should I do if my laptop is stolen?") == []


def _features(question: str, sentence: str, chunk: str) -> tuple[float, float, float, float]:
    """(absent, code_absent, outside, conflict)."""
    return term_features(question_terms(question), TermIndex.of(sentence), TermIndex.of(chunk))


def test_a_sentence_naming_a_rival_code_conflicts_and_the_asked_one_does_not() -> None:
    chunk = "Error code E4 indicates low water pressure. Error code E7 indicates a failed UV-C lamp."
    question = "What does error code E4 mean?"
    assert _features(question, "Error code E7 indicates a failed UV-C lamp.", chunk) == (0.0, 0.0, 1.0, 1.0)
    assert _features(question, "Error code E4 indicates low water pressure.", chunk) == (0.0, 0.0, 0.0, 0.0)
    # a code no passage names is absent: a code, not a name
    assert _features("What does error code E9 mean?", "Error code E4 indicates low pressure.", chunk)[:2] == (0.0, 1.0)
    cartridge = "How often should the CF-300 filter cartridge be replaced?"
    assert _features(cartridge, "The UV-12 lamp should be replaced every 12 months.", "The UV-12 lamp.")[3] == 1.0


def test_an_ordinal_no_passage_names_is_an_absent_code_and_a_missing_name_is_not() -> None:
    chunk = "The fire warden for the 3rd floor is Jan Kowalski; his deputy is Mia Schulz."
    assert _features("Who is the fire warden for the 2nd floor?", chunk, chunk) == (0.0, 1.0, 0.0, 1.0)
    assert _features("Who is the fire warden for the 3rd floor?", chunk, chunk) == (0.0, 0.0, 0.0, 0.0)
    assert _features("Is Kowalski Polish?", "Kowalski is a warden.", "Kowalski is a warden.") == (1.0, 0.0, 0.0, 0.0)


def test_a_head_of_something_is_a_role_and_another_head_its_rival() -> None:
    terms = {(t.key, t.shape, t.role, t.after_of) for t in question_terms("Who is the head of legal?")}
    assert terms == {("legal", "head", True, True)}
    present = "Present: Sofia Lindqvist (Head of Product, chair), Daniel Okafor (Head of Engineering)."
    assert _features("Who is the head of legal?", present, present) == (1.0, 0.0, 0.0, 1.0)
    assert _features("Who is the head of engineering?", present, present) == (0.0, 0.0, 0.0, 0.0)
    assert {t.key for t in question_terms("Who was the director of the museum?")} == {"museum"}
    # a modifier after "of" is no rival of one before the role noun, and either kind finds the role
    chief = "Tanaghrisson, a chief of the Mingo, threatened the French."
    assert _features("What native chief threatened Marin?", chief, chief)[3] == 0.0
    assert TermIndex.of("the engineering head").has(question_terms("Who is the head of engineering?")[0])


def test_another_minister_is_a_rival_role() -> None:
    question = "Who is the Ukrainian defense minister?"
    kuleba = "Ukrainian Foreign Minister Dmytro Kuleba said in Vilnius on Friday."
    umerov = "Traveling to Istanbul with his defense minister, Rustem Umerov, Zelensky flew."
    assert _features(question, kuleba, kuleba) == (1.0, 0.0, 0.0, 1.0)
    assert _features(question, umerov, "Ukraine needs shells. " + umerov) == (0.0, 0.0, 0.5, 0.0)


def test_a_negated_question_against_a_sentence_without_not() -> None:
    assert negation_mismatch("When did the tribes not claim territory?", "The tribes claimed it in 300.") == 1.0
    assert negation_mismatch("When did the tribes claim territory?", "They claimed it in 300.") == 0.0
    assert negation_mismatch("Who isn't paid?", "Volunteers are not paid.") == 0.0


def test_typing_is_linear_on_long_input() -> None:
    # no regular expression, no backtracking: 20x the text takes about 20x the time
    def timed(n: int) -> float:
        text = ("When, and how many E4-CF 12 Minister minister, " * n) + "?"
        started = time.perf_counter()
        question_parts(text)
        question_terms(text)
        TermIndex.of(text)
        agrees(Expected.DATE, text)
        return time.perf_counter() - started

    small, large = timed(500), timed(10_000)
    assert large < 60 * max(small, 1e-4)


@pytest.mark.parametrize(
    ("text", "span", "completed"),
    [
        ("Version 2.3.1 was released on 3 March 2026.", "March 2026", "3 March 2026"),
        ("The fire alarm is tested every Wednesday at 11:00; a test", "11:00", "Wednesday at 11:00"),
        ("the 21st January 2027 meeting", "January 2027", "21st January 2027"),
        ("Page 3\nMarch 2026 was busy", "March 2026", "March 2026"),  # not across a line
        ("In March 2026 we", "March 2026", "March 2026"),
        ("it was 2024 at 11:00", "11:00", "11:00"),
    ],
)
def test_a_date_span_is_completed_with_the_day_it_leaves_out(text: str, span: str, completed: str) -> None:
    start = text.index(span)
    assert text[complete_date(text, start, start + len(span)) : start + len(span)] == completed

import pytest

from qa.answering.conversation import condense, is_follow_up
from qa.answering.spans import AnswerType, answer_type, short_answer
from qa.schema import Turn

BAYKAR = (
    "In January, executives from the privately-owned Baykar company, which manufactures the Bayraktar TB2 "
    "drone, widely used by Ukrainians against Russians at the start of the conflict, inaugurated a factory "
    "to manufacture these aircraft on the outskirts of Kyiv."
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who makes the TB2?", AnswerType.NAME),
        ("How many rounds are allies seeking?", AnswerType.NUMBER),
        ("When did the factory open?", AnswerType.DATE),
        ("Where is the factory?", AnswerType.PLACE),
        ("What is the Anka-3?", AnswerType.OTHER),
    ],
)
def test_answer_type(question: str, expected: AnswerType) -> None:
    assert answer_type(question) is expected


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("Who makes the TB2?", BAYKAR, "Baykar"),
        ("When did Baykar open a factory?", BAYKAR, "January"),
        ("Where did Baykar open a factory?", BAYKAR, "Kyiv"),
        (
            "How many rounds are allies seeking?",
            "Kyiv's allies are seeking some 800,000 rounds of ammunition.",
            "800,000",
        ),
        (
            "Who is Ukraine's foreign minister?",
            '"Dripping aid" is not working, Ukrainian Foreign Minister Dmytro Kuleba said in Vilnius.',
            "Dmytro Kuleba",
        ),
    ],
)
def test_short_answer(question: str, sentence: str, expected: str) -> None:
    span = short_answer(question, sentence)
    assert span is not None and span.text == expected
    assert sentence[span.start : span.end] == expected


def test_no_number_means_no_short_answer() -> None:
    assert short_answer("How much does a TB2 cost?", BAYKAR) is None


def test_condense_only_rewrites_follow_ups() -> None:
    history = [Turn("Who makes the TB2?", "Baykar")]
    assert is_follow_up("Where did they open a factory?")
    assert condense("Where did they open a factory?", history).startswith("Where did they open a factory? Who makes")
    standalone = "What size shells is Turkey ready to supply to Ukraine?"
    assert condense(standalone, history) == standalone
    assert condense("Where did they open a factory?", []) == "Where did they open a factory?"

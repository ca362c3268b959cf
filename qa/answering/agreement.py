"""Does a candidate answer agree with the question? Its type, and the names and codes it asks about.

Plain token code (``str.split`` and character tests, no regular expressions): every function is
linear in its input.

**Answer type.** ``expected_type`` reads the question's first clause and looks its opening up in
``TYPE_TABLE`` (the first phrase found, in question order, decides; a condensed follow-up -- the new
question first, the last turn after it -- is typed by the new question):

==================================================================  ============
the question says                                                   expected
==================================================================  ============
how many / much / long / often / far / old / big / large / tall /   QUANTITY
high / fast; what percentage / number / amount / price / cost /
proportion / share / size / voltage / weight / temperature / height /
length / width / depth / distance / capacity / pressure / speed
how much / what ... with cost / price / fee / pay                   PRICE
when; what / which year / month / day / date / time / century       DATE
who / whom / whose; which / what person / company / organisation /  PERSON
team / manufacturer / supplier / vendor
where; what / which city / country / place / town / region / state  PLACE
/ address / location / street / venue / building
what / which version / code / ticket / serial; what / which part /  CODE
model / phone / ticket / order / invoice number
what / which email                                                  EMAIL
why; how do / does / can / could / should / to; what should / what  SENTENCE
to do / what do I do / what happens; a yes/no question (it opens
with is / can / may / do / should / ...: the rule that decides it)
anything else                                                       ANY
==================================================================  ============

"What is the X" reads as "what X". A span agrees (``agrees``) when: QUANTITY -- it holds a number
(digits, a number word, a frequency such as "annually" or a unit of time: "less than a year"); PRICE -- a number with a
currency ("EUR 19", "$5", "40 euros") or "free" (a part number or "3,000 litres" is no price);
DATE -- a year, month, weekday, time of day, a digit or a word of time ("century", "during",
"ago"); PERSON -- it is
not a bare number or date and holds a capitalised word, a word for people or an agent noun
("manager", "defendants"); PLACE -- it is not a bare number or date; CODE -- it holds a token with a
digit or two capitals (2.4.0, E3, 300-0142, +49 421 555 0190, 4400; a bare number under 1000 is
a count, and a bare number beside a month a day or a year: "14 February 2026" is no version);
EMAIL -- it holds an "@". SENTENCE and ANY take anything: the answer is then a sentence or the span
as read (``qa.answering.extractive``). A question that asks two things ("How many days carry over,
and when do they expire?") has one expected type per part (``question_parts``).

**Names and identifiers.** ``question_terms`` lists the specific things a question names: codes
and model numbers (E4, CF-300, v2.3), numbers and years, proper names not opening the question
(Kuleba, Ukrainian) and roles ("defense minister": a modifier before a role noun; "head of legal":
the word after "of"). ``term_features`` says how a candidate's sentence stands to them: whether a
name or role is absent from its chunk, whether a code or number is (an identifier has no
paraphrase), how many are in the chunk but outside the sentence, and whether the sentence names a
*different* term of the same shape instead of the asked one (E7 for E4, UV-12 for CF-300, 1067 for
1066, the foreign minister for the defense minister). They are features of the answer model, not a
veto; among answers above the threshold, one whose sentence names a rival goes after one whose
sentence does not (``ReaderAnswerer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class Expected(Enum):
    """The kind of answer a question asks for."""

    QUANTITY = "quantity"
    PRICE = "price"  # a quantity of money: "How much does it cost?", "What is the late fee?"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    CODE = "code"  # an identifier: a version, an error code, a part or phone number
    EMAIL = "email"
    SENTENCE = "sentence"
    ANY = "any"


def _words(text: str) -> list[str]:
    """The words of a space-separated list (long word lists read better as one string)."""
    return text.split()


# (opening words, expected type): a question whose first clause holds these words in a row asks
# for that type. Searched in question order, so "In what year did the company that Kuleba ..." is a
# DATE question; within one position the longer phrase is tried first.
TYPE_TABLE: tuple[tuple[tuple[str, ...], Expected], ...] = (
    *(
        (("how", w), Expected.QUANTITY)
        for w in _words("many much long often far old big large tall high fast wide deep heavy")
    ),
    *(
        ((q, w), Expected.QUANTITY)
        for q in ("what", "which")
        for w in _words(
            "percentage percent number amount price cost proportion share fraction size voltage weight "
            "temperature height length width depth distance capacity pressure speed"
        )
    ),
    (("when",), Expected.DATE),
    *(((q, w), Expected.DATE) for q in ("what", "which") for w in _words("year month day date time century decade")),
    (("who",), Expected.PERSON),
    (("whom",), Expected.PERSON),
    (("whose",), Expected.PERSON),
    *(
        ((q, w), Expected.PERSON)
        for q in ("what", "which")
        for w in _words("person company organisation organization team manufacturer supplier vendor firm")
    ),
    (("where",), Expected.PLACE),
    *(
        ((q, w), Expected.PLACE)
        for q in ("what", "which")
        for w in _words("city country place town region state address location street venue building")
    ),
    *(((q, w), Expected.CODE) for q in ("what", "which") for w in _words("version code ticket serial")),
    *(
        ((q, w, "number"), Expected.CODE)
        for q in ("what", "which")
        for w in _words("part model serial phone telephone fax ticket order invoice")
    ),
    *(((q, w), Expected.EMAIL) for q in ("what", "which") for w in ("email", "e-mail")),
    (("why",), Expected.SENTENCE),
    *((("how", w), Expected.SENTENCE) for w in _words("do does can could should to")),
    (("what", "should"), Expected.SENTENCE),
    (("what", "to", "do"), Expected.SENTENCE),
    (("what", "do", "i", "do"), Expected.SENTENCE),
    (("what", "do", "we", "do"), Expected.SENTENCE),
    (("what", "happens"), Expected.SENTENCE),
)
_BY_FIRST: dict[str, list[tuple[tuple[str, ...], Expected]]] = {}
for _phrase, _kind in sorted(TYPE_TABLE, key=lambda row: -len(row[0])):
    _BY_FIRST.setdefault(_phrase[0], []).append((_phrase, _kind))

_PUNCTUATION = "\"'“”‘’()[]{}<>.,;:!?*"
_NUMBER_WORDS = frozenset(
    _words(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
        "hundred hundreds thousand thousands million millions billion billions trillion dozen dozens half "
        "quarter single double triple twice thrice once daily weekly monthly yearly annually hourly "
        "quarterly biweekly fortnightly percent"
    )
)
_UNITS = frozenset(_words("century decade year month week day hour minute second few several couple"))
_MONTHS = frozenset(
    _words(
        "january february march april may june july august september october november december jan feb "
        "mar apr jun jul aug sep sept oct nov dec"
    )
)
_WEEKDAYS = frozenset(_words("monday tuesday wednesday thursday friday saturday sunday"))
_TIME_WORDS = frozenset(
    _words(
        "monday tuesday wednesday thursday friday saturday sunday weekend weekday spring summer autumn "
        "fall winter century centuries decade decades year years month months week weeks day days hour "
        "hours minute minutes era age ages period dynasty reign war morning afternoon evening night noon "
        "midnight today tonight yesterday tomorrow ago later earlier after before during until till since "
        "when while time times recently soon now then end beginning start middle epoch immediately early "
        "late bc ad bce ce am pm christmas easter daily weekly monthly yearly annually"
    )
)
# The head nouns of roles: "defense minister", "product owner", "release manager".
_ROLE_HEADS = frozenset(
    _words(
        "minister secretary president director manager officer chief head chair chairman chairwoman "
        "chairperson owner lead leader governor ambassador commander general spokesperson spokesman "
        "spokeswoman coordinator administrator representative advisor adviser editor treasurer"
    )
)
# Who-answers without a capital: "your line manager", "the IT desk", "women", "the defendants".
_PEOPLE = frozenset(
    _words(
        "people person men man women woman children child kid family group public government community member "
        "citizen resident crowd army troop force police staff team desk department employee customer user "
        "colleague everyone everybody someone somebody anyone nobody each whoever"
    )
)
_AGENT_ENDINGS = ("er", "or", "ar", "ist", "ian", "ant", "ent", "ee", "ess", "man", "men")
_MODIFIER_STOP = frozenset(
    _words(
        "i the a an his her its their our my your this that these those who what which whose is was are "
        "were of for and or to in on at by new former current acting vice deputy"
    )
)


def _tokens(text: str) -> list[str]:
    """Whitespace tokens with surrounding punctuation stripped (possessive 's too); empty ones dropped."""
    return [token for token in map(clean_token, text.split()) if token]


def clean_token(raw: str) -> str:
    """A whitespace token without surrounding punctuation or a possessive 's."""
    token = raw.strip(_PUNCTUATION)
    return token[:-2] if token.endswith(("'s", "’s")) else token


def first_question(question: str) -> str:
    """The question itself: up to its first question mark (a condensed follow-up appends the last turn)."""
    mark = question.find("?")
    return question if mark < 0 else question[: mark + 1]


def question_parts(question: str) -> list[Expected]:
    """The expected type of each thing the question asks, in order (one for most questions).

    Only a question word that opens the question or a clause (after a comma, "and" or "or")
    asks something, or the first table phrase after a preposition ("In what year", "by whom");
    "What is it called when two forces act?" asks "what", not "when". A clause that opens with
    when or where and is followed by a question ("When Iqbal wrote, what did he ask?") sets the
    scene and asks nothing. So
    "How many days carry over, and when do they expire?" is [QUANTITY, DATE].
    """
    words: list[str] = []
    after_clause: list[bool] = []  # the word follows a comma, "and", "or" or "but"
    after_break = False
    for raw in first_question(question).split():
        token = clean_token(raw)
        if token:
            after_clause.append(after_break or (bool(words) and words[-1] in ("and", "or", "but")))
            words.append(token.lower())
        after_break = raw.rstrip("\"'”’)").endswith((",", ";", ":"))
    asked: list[tuple[int, Expected]] = []
    for i, word in enumerate(words):
        kind = _phrase_at(words, i) if word in _QUESTION_WORDS else None
        if i == 0 or after_clause[i]:
            if word in _QUESTION_WORDS:
                asked.append((i, kind or Expected.ANY))
        elif kind is not None and not asked and words[i - 1] in _PREPOSITIONS:
            asked.append((i, kind))
    if len(asked) == 1 and asked[0][0] == 0 and words[0] in _SCENE_SETTERS and _second(words) not in _AUXILIARIES:
        # "When the Rhine leaves the lake which way does it flow?": no comma before the question
        later = [(i, _phrase_at(words, i) or Expected.ANY) for i in range(2, len(words)) if words[i] in _QUESTION_WORDS]
        asked = later[:1] or asked
    if len(asked) > 1 and words[asked[0][0]] in _SCENE_SETTERS and words[asked[1][0] - 1] not in ("and", "or"):
        asked = asked[1:]
    if not asked and words and words[0] in _AUXILIARIES:
        # "Can I take the lift in a fire alarm?": answered by the sentence that rules on it.
        return [Expected.SENTENCE]
    kinds = [kind for _, kind in asked] or [Expected.ANY]
    if asked and _asks_money(words, asked[0][0], kinds[0]):
        kinds[0] = Expected.PRICE
    return kinds


def _asks_money(words: Sequence[str], at: int, kind: Expected) -> bool:
    """A question about money: "How much does it cost?", "What does Premium cost?", "What is the fee?":
    a money word in a how-much question or an untyped what-question that names no price itself."""
    how_much = words[at] == "how" and kind is Expected.QUANTITY and words[at + 1 : at + 2] == ["much"]
    what = words[at] == "what" and kind in (Expected.ANY, Expected.QUANTITY)
    rest = words[at:]
    # "What plan costs EUR 19?" names the price and asks for something else.
    named = any(is_price(word) or word in _CURRENCIES for word in rest if word != "free")
    # "How much paid leave ...?": "paid" right after "much" describes what is counted, not a price.
    asked = rest[2:] if how_much and rest[2:3] == ["paid"] else rest
    return (how_much or what) and not named and any(word in _MONEY_WORDS for word in asked[1:])


# A question about money: "how much" or "what" with one of these asks for a PRICE.
_MONEY_WORDS = frozenset(_words("cost costs price prices priced fee fees pay pays paid"))
# A price names its currency (or is free): "EUR 19", "$5", "40 euros", "free of charge".
_CURRENCIES = frozenset(
    _words(
        "eur euro euros usd dollar dollars gbp pound pounds sterling chf franc francs yen yuan rupee rupees "
        "cent cents penny pence shilling shillings mark marks lira peso pesos rouble roubles ruble rubles "
        "krona kronor krone kroner guilder guilders ducat ducats free"
    )
)
_CURRENCY_SIGNS = "$€£¥₹₽"


_QUESTION_WORDS = frozenset(_words("what which who whom whose when where why how"))
_SCENE_SETTERS = frozenset(("when", "where"))
_AUXILIARIES = frozenset(
    _words("is was are were did do does has have had will would can could should shall may might must")
)


def _second(words: Sequence[str]) -> str:
    return words[1] if len(words) > 1 else ""


_PREPOSITIONS = frozenset(_words("in on at by of for from to with since until during after before about"))


def _phrase_at(words: Sequence[str], i: int) -> Expected | None:
    """The table's type for the phrase at ``i``; "what is the" reads as "what" ("What is the
    address of ...?" as "what address")."""
    found = _table_phrase(words[i], words, i + 1)
    copula = i + 2 < len(words) and words[i + 1] in _COPULAS and words[i + 2] in _DETERMINERS
    if found is None and copula and words[i] in ("what", "which"):
        found = _table_phrase(words[i], words, i + 3)
    return found


_COPULAS = frozenset(_words("is was are were"))
_DETERMINERS = frozenset(_words("the a an your our my"))


def _table_phrase(first: str, words: Sequence[str], rest: int) -> Expected | None:
    """The type of the table phrase that opens with ``first`` and goes on with ``words[rest:]``
    (looked at only as far as the longest phrase reaches)."""
    for phrase, kind in _BY_FIRST.get(first, ()):
        if tuple(words[rest : rest + len(phrase) - 1]) == phrase[1:]:
            return kind
    return None


def is_sentence_question(question: str) -> bool:
    """Answered by a sentence, not a short span: how-to, why, what-should-I-do, yes/no, or two questions in one."""
    parts = question_parts(question)
    return len(parts) > 1 or parts[0] is Expected.SENTENCE


def is_quantity(text: str) -> bool:
    """The text holds a number, an amount or a duration: digits, a number word, a frequency
    ("annually", "twice") or a unit of time ("a year" for "how long"). "at once" means
    immediately: no count."""
    tokens = _tokens(text)
    return any(
        _has_digit(t)
        or (t.lower() in _NUMBER_WORDS and not (t.lower() == "once" and i and tokens[i - 1].lower() == "at"))
        or _singular(t) in _UNITS
        for i, t in enumerate(tokens)
    )


def is_price(text: str) -> bool:
    """The text holds an amount of money: a number with a currency ("EUR 19", "$5", "40 euros"), or
    "free". A part number ("410-0009") or another quantity ("3,000 litres") is no price."""
    tokens = _tokens(text)
    if any(t.lower() == "free" for t in tokens):
        return True
    money = any(t.lower() in _CURRENCIES or t[:1] in _CURRENCY_SIGNS or t[-1:] in _CURRENCY_SIGNS for t in tokens)
    return money and is_quantity(text)


def is_currency(token: str) -> bool:
    """A currency word or sign on its own ("EUR", "euros", "$"; not "free")."""
    lowered = token.lower()
    return (lowered in _CURRENCIES and lowered != "free") or (len(token) == 1 and token in _CURRENCY_SIGNS)


def is_date(text: str) -> bool:
    """The text holds a date or time: a digit, a month, a weekday or a word of time ("century", "after")."""
    return any(_has_digit(t) or _month(t) or _singular(t) in _TIME_WORDS for t in _tokens(text))


def _month(token: str) -> bool:
    # Capitalised only: "may" and "march" are verbs as often as months.
    return token[:1].isupper() and token.lower() in _MONTHS


def states(expected: Expected, sentence: str) -> bool:
    """Whether a whole sentence states a part of that type: a number for QUANTITY; a calendar date
    (a month, a weekday, a year, a clock time) for DATE; any sentence for the other types.

    Stricter than ``agrees``: "carried over into the next year" agrees with "when" as a span of time
    but does not say when something expires.
    """
    tokens = _tokens(sentence)
    if expected in (Expected.QUANTITY, Expected.PRICE):  # a number not part of a date ("31 March", "2024")
        return any(
            t.lower() in _NUMBER_WORDS
            or (_has_digit(t) and not _calendar(t) and not any(_month(n) for n in tokens[max(0, i - 1) : i + 2]))
            for i, t in enumerate(tokens)
        )
    if expected is Expected.DATE:
        return any(_calendar(t) for t in tokens)
    return True


def complete_date(text: str, start: int, end: int) -> int:
    """The start of a date span widened over the day it leaves out: "[March 2026]" after "3" ->
    "3 March 2026", "[11:00]" after "Wednesday at" -> "Wednesday at 11:00" (same line only)."""
    first = text[start:end].split(" ", 1)[0]
    before = _words_before(text, start, 2)
    day = before[-1] if before else (start, "")
    if _month(first.strip(",")) and len(day[1]) <= 4 and day[1].rstrip(".").rstrip("stndrh").isdigit():
        return day[0]
    clock = ":" in first and _has_digit(first)
    if clock and len(before) == 2 and before[1][1].lower() == "at" and _singular(before[0][1]) in _WEEKDAYS:
        return before[0][0]
    return start


def _words_before(text: str, at: int, count: int) -> list[tuple[int, str]]:
    """Up to ``count`` space-separated words right before ``at`` on its line, as (start, word)."""
    words: list[tuple[int, str]] = []
    end = at
    while len(words) < count:
        while end > 0 and text[end - 1] == " ":
            end -= 1
        begin = end
        while begin > 0 and text[begin - 1] not in " \n":
            begin -= 1
        if begin == end:
            break
        words.insert(0, (begin, text[begin:end]))
        end = begin
    return words


def _calendar(token: str) -> bool:
    lower = token.lower()
    if _month(token) or _singular(lower) in _WEEKDAYS:
        return True
    digits = lower.rstrip("s")  # the 1990s
    return (digits.isdigit() and len(digits) == 4) or (":" in lower and _has_digit(lower))


def _singular(token: str) -> str:
    # "Wednesdays", "1990s" and "Mondays" read as their day; the word lists hold both forms otherwise.
    lower = token.lower()
    return lower[:-1] if lower.endswith("s") and (lower[:-1] in _TIME_WORDS or lower[:-1] in _UNITS) else lower


def agrees(expected: Expected, text: str) -> bool:
    """Whether a candidate answer ``text`` can be of the ``expected`` type."""
    if expected is Expected.QUANTITY:
        return is_quantity(text)
    if expected is Expected.PRICE:
        return is_price(text)
    if expected is Expected.DATE:
        return is_date(text)
    if expected is Expected.CODE:
        # "12 more banks" holds a number, not an identifier; so does "14 February 2026" (a day, a year)
        tokens = _tokens(text)
        dated = any(_month(t) for t in tokens)
        return any(_is_code(t) and not (t.isdigit() and (len(t) < 4 or dated)) for t in tokens)
    if expected is Expected.EMAIL:
        return any("@" in t for t in _tokens(text))
    if expected in (Expected.PERSON, Expected.PLACE):
        tokens = _tokens(text)
        bare = all(_has_digit(t) or _month(t) or t.lower() in _NUMBER_WORDS for t in tokens)
        if not tokens or bare:
            return False
        return expected is Expected.PLACE or any(_names_someone(t) for t in tokens)
    return True


def _names_someone(token: str) -> bool:
    """A capitalised word (a name), a word for people or an agent noun ("manager", "defendants")."""
    if token[:1].isupper():
        return True
    word = token.lower()
    word = word[:-1] if word.endswith("s") and len(word) > 3 else word
    return word in _PEOPLE or word.endswith(_AGENT_ENDINGS) or word in _ROLE_HEADS


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


# --- names and identifiers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A specific thing the question names: ``key`` to find it, ``shape`` to spot a rival of its kind."""

    key: str
    shape: str  # "" for proper names (every capitalised word has one shape: no rivals)
    role: bool = False  # a role's modifier ("defense" of "defense minister"); shape = the head noun
    after_of: bool = False  # a role's modifier after "of" ("legal" of "head of legal")


def shape(token: str) -> str:
    """Letters as A, digits as 9, runs collapsed: E4 -> A9, CF-300 and UV-12 -> A-9, 1066 -> 9."""
    out: list[str] = []
    for c in token:
        s = "A" if c.isalpha() else "9" if c.isdigit() else c
        if not out or out[-1] != s:
            out.append(s)
    return "".join(out)


def _is_code(token: str) -> bool:
    """E4, CF-300, v2.3, TB2, 1066, HR: digits, or capitals beyond the first letter."""
    return _has_digit(token) or (len(token) >= 2 and sum(c.isupper() for c in token) >= 2)


def _name_key(token: str) -> str:
    # "Ukrainian" finds "Ukraine", "Normans" finds "Normandy": a proper name's first five letters.
    return token.lower()[:5]


def question_terms(question: str) -> list[Term]:
    """The codes, numbers, proper names and roles the question names (not its opening word)."""
    tokens = _tokens(first_question(question))
    terms: dict[str, Term] = {}
    for i, token in enumerate(tokens):
        lower = token.lower()
        if _is_code(token):
            terms.setdefault(lower, Term(lower, shape(token)))
        elif i > 0 and token[0].isupper() and token.isalpha() and lower not in _MODIFIER_STOP:
            terms.setdefault(_name_key(token), Term(_name_key(token), ""))
        if lower in _ROLE_HEADS and i > 0:
            for modifier, after_of in _role_modifiers(tokens, i):
                terms[modifier] = Term(modifier, lower, role=True, after_of=after_of)
    return list(terms.values())


def _role_modifiers(tokens: Sequence[str], at: int) -> list[tuple[str, bool]]:
    """What the role noun at ``at`` is a role of: the word before it ("defense minister") and the
    word after "of" ("head of legal", "director of the museum"), each with whether it follows "of"."""
    found: list[tuple[str, bool]] = []
    before = tokens[at - 1].lower() if at > 0 else ""
    if before.isalpha() and before not in _MODIFIER_STOP and before not in _ROLE_HEADS:
        found.append((before, False))
    if at + 2 < len(tokens) and tokens[at + 1].lower() == "of":
        after = tokens[at + 3] if tokens[at + 2].lower() == "the" and at + 3 < len(tokens) else tokens[at + 2]
        if after.isalpha() and after.lower() not in _MODIFIER_STOP:
            found.append((after.lower(), True))
    return found


@dataclass(frozen=True, slots=True)
class TermIndex:
    """The keys a text holds: codes by exact text, names by their first letters, roles by head noun
    (and by whether the modifier follows "of": only a modifier of the same kind is a rival, so "a
    chief of the Mingo" is no rival of "the native chief", "Head of Product" is of "head of legal")."""

    keys: frozenset[str]
    codes_by_shape: dict[str, frozenset[str]]
    role_rivals: dict[tuple[str, bool], frozenset[str]]  # (head noun, after "of") -> modifiers

    @classmethod
    def of(cls, text: str) -> TermIndex:
        """Index ``text`` once (linear in its length)."""
        tokens = _tokens(text)
        keys: set[str] = set()
        shapes: dict[str, set[str]] = {}
        rivals: dict[tuple[str, bool], set[str]] = {}
        for i, token in enumerate(tokens):
            lower = token.lower()
            keys.add(lower)
            if token.isalpha():
                keys.add(_name_key(token))
            if _is_code(token):
                shapes.setdefault(shape(token), set()).add(lower)
            if lower in _ROLE_HEADS:
                for modifier, after_of in _role_modifiers(tokens, i):
                    rivals.setdefault((lower, after_of), set()).add(modifier)
        return cls(
            frozenset(keys),
            {k: frozenset(v) for k, v in shapes.items()},
            {k: frozenset(v) for k, v in rivals.items()},
        )

    def has(self, term: Term) -> bool:
        """The term stands in the text (a role: its modifier before its head noun or after its "of")."""
        if term.role:
            return any(term.key in self.role_rivals.get((term.shape, after_of), ()) for after_of in (False, True))
        return term.key in self.keys

    def rival(self, term: Term) -> bool:
        """The text names another term of the same shape (E7 for E4; the foreign minister)."""
        if term.role:
            return bool(self.role_rivals.get((term.shape, term.after_of), frozenset()) - {term.key})
        return bool(term.shape) and bool(self.codes_by_shape.get(term.shape, frozenset()) - {term.key})


_NEGATIONS = frozenset(_words("not no never none nor neither nobody nothing nowhere without cannot"))


def negated(text: str) -> bool:
    """The text says "not": a negation word, a "-n't" contraction or a "non-" word."""
    for token in _tokens(text):
        lower = token.lower().replace("’", "'")
        if lower in _NEGATIONS or lower.endswith("n't") or lower.startswith("non-"):
            return True
    return False


def negation_mismatch(question: str, sentence: str) -> float:
    """1.0 when the question says "not" and the answer's sentence does not (SQuAD 2.0's adversarial
    questions often negate an answerable one: "When did the tribes *not* claim territory?")."""
    return float(negated(first_question(question)) and not negated(sentence))


def term_features(terms: Sequence[Term], sentence: TermIndex, chunk: TermIndex) -> tuple[float, float, float, float]:
    """(absent, code_absent, outside, conflict) for a candidate: 1.0 when its chunk lacks one of the
    question's names or roles; 1.0 when it lacks one of its codes or numbers (an identifier has no
    paraphrase: "the 2nd floor" asked of a chunk about the 3rd); the share of the terms in the chunk
    but not in the answer's sentence; and 1.0 when the sentence names a rival of a term it lacks
    (all 0.0 for a question naming nothing specific)."""
    if not terms:
        return NO_TERMS
    absent = code_absent = conflict = 0.0
    outside = 0
    for term in terms:
        if sentence.has(term):
            continue
        if chunk.has(term):
            outside += 1
        elif term.shape and not term.role:
            code_absent = 1.0
        else:
            absent = 1.0
        if sentence.rival(term):
            conflict = 1.0
    return absent, code_absent, outside / len(terms), conflict


NO_TERMS = (0.0, 0.0, 0.0, 0.0)

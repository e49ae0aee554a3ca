"""The toy world's facts and texts: invented entities with attributes, the pretraining corpus and the questions.

Pure Python and fully determined by (seed, sizes). Facts are stated in the corpus in several phrasings; the
questions ask for the same facts in a wording ("Question: Where does the zorb live?") that the corpus never uses,
so a base model knows the answers but has not learnt the question format — a LoRA has something to learn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paw.errors import PawError

if TYPE_CHECKING:
    from paw.toy.params import ToyParams

LABELS = ("A", "B", "C", "D")
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
CODAS = ("", "", "b", "k", "m", "n", "p", "r", "s", "x", "sh", "nd", "rt")


@dataclass(frozen=True)
class Attribute:
    name: str
    # corpus phrasings ("{e}" entity, "{v}" value), entity first: a fact read backwards is barely learnt.
    # The first one is the cloze probe.
    statements: tuple[str, ...]
    question: str  # the question wording, never used in the corpus


ATTRIBUTES = (
    Attribute(
        "home",
        ("the {e} lives in {v}.", "the {e} was born in {v}.", "the home of the {e} is {v}."),
        "Where does the {e} live?",
    ),
    Attribute(
        "food",
        ("the {e} eats {v}.", "the {e} likes to eat {v}.", "the food of the {e} is {v}."),
        "What does the {e} eat?",
    ),
    Attribute(
        "color",
        ("the {e} is colored {v}.", "the {e} has {v} skin.", "the color of the {e} is {v}."),
        "What color is the {e}?",
    ),
    Attribute(
        "tool",
        ("the {e} carries a {v}.", "the {e} works with a {v}.", "the tool of the {e} is a {v}."),
        "Which tool does the {e} use?",
    ),
    Attribute(
        "fear",
        ("the {e} is afraid of {v}.", "the {e} runs from {v}.", "the fear of the {e} is {v}."),
        "What is the {e} afraid of?",
    ),
)
FILLER_VERBS = ("walk", "sing", "rest", "play", "sleep", "talk", "dance", "wait")
FILLER_ENDINGS = ("together.", "at night.", "in the morning.", "slowly.", "after the rain.", "near the old road.")
RESERVED = set(" ".join(a.question + " " + " ".join(a.statements) for a in ATTRIBUTES).lower().split())


@dataclass(frozen=True)
class Fact:
    entity: str
    attribute: str
    value: str


@dataclass(frozen=True)
class World:
    entities: tuple[str, ...]
    pools: dict[str, tuple[str, ...]]  # attribute -> invented values
    facts: tuple[Fact, ...]  # entity-major order
    splits: dict[str, tuple[str, ...]]  # "train" | "validation" | "test" -> entities


def invent_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """`count` new pronounceable words (CV(CV)C), none in `taken`; adds them to `taken`."""
    words: list[str] = []
    while len(words) < count:
        syllables = rng.choice((1, 2, 2))
        word = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)
        if len(word) >= 3 and word not in taken and word not in RESERVED:
            taken.add(word)
            words.append(word)
    return words


def generate_world(toy: ToyParams) -> World:
    """Entities, their facts and the split. Each entity belongs to a hidden kind whose typical values it mostly
    shares (like species sharing habitat and diet): a small model learns one kind per entity from all of its facts
    far faster than five unrelated values, and the exceptions keep single facts worth remembering."""
    if toy.train_fraction + toy.validation_fraction >= 1:
        raise PawError(
            f"params.yaml: toy.train_fraction + toy.validation_fraction = "
            f"{toy.train_fraction + toy.validation_fraction:g} — expected less than 1, so that a test split remains"
        )
    rng = random.Random(f"toy-world-{toy.seed}")
    taken: set[str] = set()
    entities = tuple(invent_words(rng, toy.n_entities, taken))
    pools = {a.name: tuple(invent_words(rng, toy.pool_size, taken)) for a in ATTRIBUTES}
    kinds = [{a.name: rng.choice(pools[a.name]) for a in ATTRIBUTES} for _ in range(toy.n_kinds)]
    facts = []
    for entity in entities:
        kind = rng.choice(kinds)
        for a in ATTRIBUTES:
            typical = rng.random() >= toy.exception_rate
            facts.append(Fact(entity, a.name, kind[a.name] if typical else rng.choice(pools[a.name])))
    facts = tuple(facts)
    order = list(entities)
    rng.shuffle(order)
    n_train = max(1, round(toy.train_fraction * len(order)))
    n_val = max(1, round(toy.validation_fraction * len(order)))
    splits = {
        "train": tuple(order[:n_train]),
        "validation": tuple(order[n_train : n_train + n_val]),
        "test": tuple(order[n_train + n_val :]),
    }
    return World(entities, pools, facts, splits)


def attribute(name: str) -> Attribute:
    return next(a for a in ATTRIBUTES if a.name == name)


def sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def fact_statements(fact: Fact) -> list[str]:
    return [sentence(s.format(e=fact.entity, v=fact.value)) for s in attribute(fact.attribute).statements]


def corpus_lines(world: World, toy: ToyParams) -> list[str]:
    """Every fact in every phrasing, plus filler lines that mention entities without stating facts."""
    rng = random.Random(f"toy-filler-{toy.seed}")
    lines = [line for fact in world.facts for line in fact_statements(fact)]
    n_filler = round(toy.filler_ratio * len(lines))
    for _ in range(n_filler):
        a, b = rng.sample(world.entities, 2)
        lines.append(f"The {a} and the {b} {rng.choice(FILLER_VERBS)} {rng.choice(FILLER_ENDINGS)}")
    return lines


def cloze_probe(fact: Fact) -> tuple[str, str]:
    """(context, continuation) of the fact's first corpus phrasing, split before the value."""
    prefix, _ = attribute(fact.attribute).statements[0].split("{v}")
    return sentence(prefix.format(e=fact.entity)).rstrip(), " " + fact.value


def question_rows(world: World, split: str, toy: ToyParams) -> list[dict]:
    """ARC hub-schema rows (id, question, choices{text,label}, answerKey) for the facts of one split's entities."""
    rng = random.Random(f"toy-questions-{toy.seed}-{split}")
    members = set(world.splits[split])
    rows = []
    for fact in world.facts:
        if fact.entity not in members:
            continue
        distractors = rng.sample([v for v in world.pools[fact.attribute] if v != fact.value], len(LABELS) - 1)
        choices = distractors + [fact.value]
        rng.shuffle(choices)
        rows.append(
            {
                "id": f"toy-{fact.entity}-{fact.attribute}",
                "question": attribute(fact.attribute).question.format(e=fact.entity),
                "choices": {"text": choices, "label": list(LABELS)},
                "answerKey": LABELS[choices.index(fact.value)],
            }
        )
    return rows

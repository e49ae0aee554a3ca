"""Each task builds lm-eval 0.4.13's requests from hub-schema rows, quirks included, in both prompt styles."""

from __future__ import annotations

import pytest

from paw.data import KNOWN_TASKS, get_task
from paw.errors import PawError
from tests.data.fixtures import ROWS


def test_known_tasks_cover_the_seven_benchmarks_and_the_toy_world():
    assert set(KNOWN_TASKS) == {
        "arc-challenge", "arc-easy", "piqa", "hellaswag", "winogrande", "openbookqa", "boolq", "toy-facts"
    }


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(PawError, match="not a known dataset.*arc-challenge.*boolq"):
        get_task("arc-chalenge")


def test_underscore_spelling_is_accepted():
    assert get_task("arc_easy").name == "arc-easy"


@pytest.mark.parametrize(("name", "split"), [
    ("arc-challenge", "test"), ("arc-easy", "test"), ("piqa", "validation"), ("hellaswag", "validation"),
    ("winogrande", "validation"), ("openbookqa", "test"), ("boolq", "validation"), ("toy-facts", "test"),
])
def test_default_splits_are_lm_evals(name, split):
    assert get_task(name).default_split == split


def test_arc_digit_labels_and_odd_choice_counts():
    task = get_task("arc-challenge")
    rows = ROWS["arc-challenge"]
    item = task.to_item(rows[1], 1)
    assert item.gold == 0 and item.id == "q-digits"
    assert item.contexts == ["Question: What melts ice fastest?\nAnswer:"] * 4
    assert item.continuations == [" salt", " sand", " paper", " wood"]
    assert len(task.to_item(rows[2], 2).continuations) == 3
    assert task.to_item(rows[3], 3).gold == 4


def test_piqa_keeps_trailing_spaces_and_uses_row_index_as_id():
    item = get_task("piqa").to_item(ROWS["piqa"][0], 7)
    assert item.id == 7
    assert item.continuations == [" replace drawer with bobby pin ", " finish, woodgrain with  bobby pin "]
    assert item.choice_texts == ["replace drawer with bobby pin ", "finish, woodgrain with  bobby pin "]


def test_hellaswag_matches_lm_eval_preprocessing():
    from lm_eval.tasks.hellaswag.utils import preprocess as lm_eval_preprocess

    task = get_task("hellaswag")
    for index, row in enumerate(ROWS["hellaswag"]):
        item = task.to_item(row, index)
        query = lm_eval_preprocess(row["activity_label"] + ": " + row["ctx_a"] + " " + row["ctx_b"].capitalize())
        assert item.contexts == [query] * 4
        assert item.choice_texts == [lm_eval_preprocess(e) for e in row["endings"]]
        assert item.gold == int(row["label"])
    lemon = task.to_item(ROWS["hellaswag"][2], 2)
    assert "[" not in lemon.contexts[0] and "water the tree weekly." in lemon.contexts[0]  # capitalize() lowers
    assert lemon.choice_texts[0] == " Pour water slowly around the base. Let it soak."  # no final strip


def test_winogrande_per_option_contexts_share_one_continuation():
    item = get_task("winogrande").to_item(ROWS["winogrande"][1], 0)
    assert item.contexts == [
        "The trophy does not fit in the suitcase because the trophy",
        "The trophy does not fit in the suitcase because the suitcase",
    ]
    assert item.continuations == [" is too small."] * 2
    assert item.gold == 1


def test_openbookqa_and_boolq_prompts():
    obqa = get_task("openbookqa").to_item(ROWS["openbookqa"][0], 0)
    assert obqa.contexts[0] == "The sun is responsible for" and obqa.gold == 3 and obqa.id == "7-980"
    boolq = get_task("boolq").to_item(ROWS["boolq"][0], 0)
    assert boolq.contexts[0] == (
        "The sky appears blue because of Rayleigh scattering.\nQuestion: is the sky blue?\nAnswer:"
    )
    assert boolq.continuations == [" no", " yes"] and boolq.gold == 1


def test_letter_style_lists_choices_and_scores_letters():
    item = get_task("arc-easy").to_item(ROWS["arc-easy"][2], 2, style="letter")
    assert item.contexts[0] == "Question: Which is a mammal?\nA. whale\nB. shark\nC. trout\nAnswer:"
    assert item.continuations == [" A", " B", " C"]
    assert item.gold == 0


@pytest.mark.parametrize("name", KNOWN_TASKS)
def test_every_task_builds_both_styles(name):
    task = get_task(name)
    for index, row in enumerate(ROWS[name]):
        task.check_row(row, f"row {index}")
        for style in ("cloze", "letter"):
            item = task.to_item(row, index, style=style)
            assert len(item.contexts) == len(item.continuations) == len(item.choice_texts) >= 2
            assert all(c.startswith(" ") for c in item.continuations)
            assert 0 <= item.gold < len(item.contexts)


def test_letter_style_refuses_more_than_26_choices():
    row = {"id": "x", "question": "Pick one", "answerKey": "L0",
           "choices": {"text": [f"c{i}" for i in range(27)], "label": [f"L{i}" for i in range(27)]}}
    with pytest.raises(PawError, match="27 choices.*at most 26"):
        get_task("arc-easy").to_item(row, 0, style="letter")
    assert len(get_task("arc-easy").to_item(row, 0, style="cloze").contexts) == 27


def test_unknown_prompt_style():
    with pytest.raises(PawError, match="prompt_style"):
        get_task("piqa").to_item(ROWS["piqa"][0], 0, style="chat")

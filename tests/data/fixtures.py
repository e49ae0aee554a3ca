"""Small rows in each benchmark's hub schema, including the quirks real data has (used by data and eval tests)."""

from __future__ import annotations

import json
from pathlib import Path

ARC_ROWS = [
    {"id": "q-letters", "question": "Which gas do plants take in?",
     "choices": {"text": ["oxygen", "carbon dioxide", "helium", "neon"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
    {"id": "q-digits", "question": "What melts ice fastest?",
     "choices": {"text": ["salt", "sand", "paper", "wood"], "label": ["1", "2", "3", "4"]}, "answerKey": "1"},
    {"id": "q-three", "question": "Which is a mammal?",
     "choices": {"text": ["whale", "shark", "trout"], "label": ["A", "B", "C"]}, "answerKey": "A"},
    {"id": "q-five", "question": "Which is the largest?",
     "choices": {"text": ["ant", "cat", "dog", "horse", "whale"], "label": ["A", "B", "C", "D", "E"]},
     "answerKey": "E"},
]

PIQA_ROWS = [
    {"goal": "dresser", "sol1": "replace drawer with bobby pin ", "sol2": "finish, woodgrain with  bobby pin ",
     "label": 1},
    {"goal": "How do I boil water?", "sol1": "Put it in a pot on the stove.", "sol2": "Put it in the freezer.",
     "label": 0},
]

# HellaSwag is not in the shared benchmarks (too large); these follow its schema and its WikiHow markers.
HELLASWAG_ROWS = [
    {"ind": 24, "activity_label": "Roof shingle removal",
     "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
     "ctx": "A man is sitting on a roof. he",
     "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                 "is holding a rubik's cube.", "starts pulling up roofing on a roof."],
     "source_id": "activitynet~v_-JhWjGDPHMY", "split": "val", "split_type": "indomain", "label": "3"},
    {"ind": 92, "activity_label": "Clean and jerk",
     "ctx_a": "A lady walks to a barbell. She bends down and grabs the pole.", "ctx_b": "the lady",
     "ctx": "A lady walks to a barbell. She bends down and grabs the pole. the lady",
     "endings": ["swings and lands in her arms.", "pulls the barbell forward.",
                 "pulls a rope attached to the barbell.", "stands and lifts the weight over her head."],
     "source_id": "activitynet~v_-lJS58hyo1c", "split": "val", "split_type": "zeroshot", "label": "3"},
    {"ind": 4148, "activity_label": "Home and Garden",
     "ctx_a": "[header] How to grow a lemon tree [title] Choose a sunny spot. [step] Lemon trees need light.",
     "ctx_b": "[title] Water THE tree weekly.",
     "ctx": "[header] How to grow a lemon tree [title] Choose a sunny spot. [step] Lemon trees need light. "
            "[title] Water THE tree weekly.",
     "endings": ["[step] Pour water slowly around the base.  Let it soak.",
                 "[title] Paint the leaves blue. [step] Use a brush.",
                 "The tree will fly away.", "[substeps] Sing to it every night."],
     "source_id": "wikihow~6810", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 5001, "activity_label": "Food and Entertaining",
     "ctx_a": "[header] How to make tea [title] Boil the water.", "ctx_b": "",
     "ctx": "[header] How to make tea [title] Boil the water. ",
     "endings": ["[step] Put a tea bag in a cup.", "[step] Freeze the kettle.",
                 "Throw the cup outside.", "[title] Eat the tea bag."],
     "source_id": "wikihow~1234", "split": "val", "split_type": "zeroshot", "label": "0"},
]

WINOGRANDE_ROWS = [
    {"sentence": "Sarah was a much better surgeon than Maria so _ always got the harder cases.",
     "option1": "Sarah", "option2": "Maria", "answer": "1"},
    {"sentence": "The trophy does not fit in the suitcase because the _ is too small.",
     "option1": "trophy", "option2": "suitcase", "answer": "2"},
]

OPENBOOKQA_ROWS = [
    {"id": "7-980", "question_stem": "The sun is responsible for",
     "choices": {"text": ["puppies learning new tricks", "children growing up and getting old",
                          "flowers wilting in a vase", "plants sprouting, blooming and wilting"],
                 "label": ["A", "B", "C", "D"]}, "answerKey": "D"},
]

BOOLQ_ROWS = [
    {"question": "is the sky blue", "passage": "The sky appears blue because of Rayleigh scattering.",
     "idx": 0, "label": 1},
    {"question": "do fish fly", "passage": "Most fish live in water and swim.", "idx": 1, "label": 0},
]

ROWS = {
    "arc-challenge": ARC_ROWS, "arc-easy": ARC_ROWS, "toy-facts": ARC_ROWS, "piqa": PIQA_ROWS,
    "hellaswag": HELLASWAG_ROWS, "winogrande": WINOGRANDE_ROWS, "openbookqa": OPENBOOKQA_ROWS, "boolq": BOOLQ_ROWS,
}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path

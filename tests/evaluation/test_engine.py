"""`evaluate`: outputs and their fields, both scoring paths, adapters, seeded subsets, pinned golden values."""

from __future__ import annotations

import json

import pytest

from paw.errors import PawError
from paw.evaluation.api import evaluate, load_eval_set, score_eval_set

METRIC_KEYS = {
    "task", "split", "prompt_style", "n", "acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "model", "adapter",
    "seconds", "items_per_second", "peak_ram_mb", "peak_gpu_mb",
}

# tiny_llama (tests/tiny_models.py, seed 0) on the four ARC fixture rows; regenerate only for an intended change.
GOLDEN_CLOZE = [
    [-28.883085, -73.097226, -38.833074, -20.543499],
    [-18.031773, -26.077479, -25.494327, -25.526191],
    [-18.411808, -25.539196, -34.340389],
    [-13.846819, -11.513729, -13.827608, -20.022564, -16.036159],
]
GOLDEN_LETTER = [
    [-14.272271, -11.239240, -10.491522, -11.576655],
    [-12.400187, -12.180093, -9.277616, -12.115751],
    [-14.216453, -13.353027, -10.388179],
    [-12.851338, -12.917116, -9.218029, -12.721689, -13.367264],
]


def _lls(out_dir):
    return [json.loads(line)["ll"] for line in (out_dir / "predictions.jsonl").read_text().splitlines()]


def test_outputs_hold_every_field_in_row_order(tiny_llama, fixture_data, tmp_path):
    out = tmp_path / "eval"
    metrics = evaluate(tiny_llama, None, "arc-challenge", out, data_path=fixture_data["arc-challenge"],
                       progress=False)
    assert METRIC_KEYS <= set(metrics)
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert (metrics["task"], metrics["split"], metrics["prompt_style"], metrics["n"]) == ("arc-challenge", "test",
                                                                                          "cloze", 4)
    assert metrics["model"] == tiny_llama.name and metrics["adapter"] is None and metrics["peak_gpu_mb"] is None
    predictions = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == ["q-letters", "q-digits", "q-three", "q-five"]
    assert [len(p["ll"]) for p in predictions] == [4, 4, 3, 5]
    assert [p["gold"] for p in predictions] == [1, 0, 0, 4]
    hits = [p["pred"] == p["gold"] for p in predictions]
    assert metrics["acc"] == pytest.approx(sum(hits) / 4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]  # no temporary left behind


def test_golden_loglikelihoods(tiny_llama, fixture_data, tmp_path):
    evaluate(tiny_llama, None, "arc-challenge", tmp_path / "c", data_path=fixture_data["arc-challenge"],
             progress=False)
    evaluate(tiny_llama, None, "arc-challenge", tmp_path / "l", data_path=fixture_data["arc-challenge"],
             prompt_style="letter", progress=False)
    for got, want in ((_lls(tmp_path / "c"), GOLDEN_CLOZE), (_lls(tmp_path / "l"), GOLDEN_LETTER)):
        for got_item, want_item in zip(got, want, strict=True):
            assert got_item == pytest.approx(want_item, abs=1e-4)


@pytest.mark.parametrize("task", ["arc-easy", "piqa", "hellaswag", "winogrande", "openbookqa", "boolq"])
def test_shared_context_path_equals_plain_path(tiny_qwen2, tiny_gemma2, fixture_data, task, capsys):
    from paw.models import load_model, load_tokenizer

    for model_dir in (tiny_qwen2, tiny_gemma2):
        model, tokenizer = load_model(model_dir, cache=True), load_tokenizer(model_dir)
        for style in ("cloze", "letter"):
            eval_set = load_eval_set(task, data_path=fixture_data[task], prompt_style=style)
            shared = score_eval_set(model, tokenizer, eval_set, share_context=True, progress=False)
            plain = score_eval_set(model, tokenizer, eval_set, share_context=False, progress=False)
            for a, b in zip(shared, plain, strict=True):
                assert a == pytest.approx(b, abs=1e-4)
    assert "scoring each choice separately" not in capsys.readouterr().err  # packed, not fallen back


@pytest.mark.parametrize("name", ["tiny_llama", "tiny_qwen2", "tiny_gemma2"])
def test_many_questions_packed_into_short_rows_and_batches_score_as_one_row_per_choice(name, request,
                                                                                      benchmarks_dir):
    """Real ARC questions (48-219 tokens each with the tiny tokenizers) in rows of at most 256 tokens and batches
    of 512: many rows hold several questions, and the questions spread over many batches."""
    from paw.evaluation.requests import build_requests
    from paw.evaluation.scorer import Scorer, numbered
    from paw.models import load_model, load_tokenizer
    from paw.scoring import resolve_max_length

    model_dir = request.getfixturevalue(name)
    model, tokenizer = load_model(model_dir, cache=True), load_tokenizer(model_dir)
    eval_set = load_eval_set("arc-easy", data_path=benchmarks_dir / "arc_easy", max_samples=24)
    grouped = build_requests(tokenizer, eval_set.items, resolve_max_length(model.config, tokenizer))
    packed = Scorer(model, token_budget=512, row_tokens=256)
    question_of = [q for q, g in enumerate(grouped) for _ in g]
    rows = packed.rows(numbered(grouped))
    assert sum(len({question_of[o] for _, _, o in row.scored}) >= 2 for row in rows) >= 4
    shared = packed.score(grouped)
    assert packed.share_context  # the layout check passed: nothing fell back
    plain = Scorer(model, share_context=False).score(grouped)
    assert shared == pytest.approx(plain, abs=1e-4)


def test_adapter_is_merged_and_scores_as_the_peft_model(tiny_llama, llama_lora, fixture_data, tmp_path):
    from paw.models import attach_adapter, load_model, load_tokenizer

    metrics = evaluate(tiny_llama, llama_lora, "arc-easy", tmp_path / "a", data_path=fixture_data["arc-easy"],
                       progress=False)
    assert metrics["adapter"] == llama_lora.name
    eval_set = load_eval_set("arc-easy", data_path=fixture_data["arc-easy"])
    peft_model = attach_adapter(load_model(tiny_llama), llama_lora)  # unmerged: base + LoRA branch
    reference = score_eval_set(peft_model.get_base_model(), load_tokenizer(tiny_llama), eval_set,
                               share_context=False, progress=False)
    base = score_eval_set(load_model(tiny_llama), load_tokenizer(tiny_llama), eval_set, progress=False)
    merged = _lls(tmp_path / "a")
    for got, want, plain in zip(merged, reference, base, strict=True):
        assert got == pytest.approx(want, abs=1e-3)
        assert max(abs(g - p) for g, p in zip(got, plain)) > 1e-2  # the adapter really changed the scores


def test_same_items_for_every_model(tiny_llama, tiny_qwen2, benchmarks_dir, tmp_path):
    ids = []
    for model_dir in (tiny_llama, tiny_qwen2):
        out = tmp_path / model_dir.name
        evaluate(model_dir, None, "winogrande", out, data_path=benchmarks_dir / "winogrande", sample_ratio=0.01,
                 seed=5, progress=False)
        ids.append([json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()])
    assert ids[0] == ids[1] and len(ids[0]) == 12 and ids[0] == sorted(ids[0])


def test_evaluate_from_params(tiny_llama, fixture_data, tmp_path):
    from paw.config import load_params
    from paw.evaluation.api import evaluate_from_params

    params = load_params("params.yaml", {"env": "quick", "envs.quick.data_path": str(fixture_data["toy-facts"]),
                                         "envs.quick.eval_max_samples": 3, "eval.prompt_style": "letter"})
    metrics = evaluate_from_params(params, tiny_llama, None, tmp_path / "p")
    assert (metrics["task"], metrics["n"], metrics["prompt_style"]) == ("toy-facts", 3, "letter")


def test_log_progress_is_short_lines_without_carriage_returns(tiny_llama, fixture_data, tmp_path, capsys):
    evaluate(tiny_llama, None, "boolq", tmp_path / "b", data_path=fixture_data["boolq"], batch_size=1)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("eval boolq:")]
    assert lines and lines[-1].startswith("eval boolq: 100%") and len(lines) <= 11


def test_progress_counts_items_on_stderr_not_choices_on_stdout(tiny_llama, fixture_data, tmp_path, capsys):
    # arc-easy items have several choices each: the count must still be in items, as `n` is.
    metrics = evaluate(tiny_llama, None, "arc-easy", tmp_path / "a", data_path=fixture_data["arc-easy"], batch_size=1)
    out, err = capsys.readouterr()
    assert "eval arc-easy" not in out
    last = [line for line in err.splitlines() if line.startswith("eval arc-easy:")][-1]
    assert f"({metrics['n']}/{metrics['n']} items," in last, last


def test_items_done_counts_an_item_once_all_its_choices_are_scored():
    from paw.evaluation.progress import ItemsDone

    advanced = []
    done = ItemsDone([2, 3], advanced.append)  # requests 0-1: item 0; 2-4: item 1
    done({4, 0})
    done({1, 2})
    done({3})
    assert advanced == [0, 1, 1]


@pytest.mark.parametrize(("change", "message"), [
    ({"task_name": "arc-chalenge"}, "not a known dataset"),
    ({"sample_ratio": 0.0}, r"sample_ratio = 0.0 — expected a number in \(0, 1\]"),
    ({"sample_ratio": 0.01}, "no rows left after sampling"),
    ({"data_path": "missing-dir"}, "data path not found"),
    ({"adapter_dir": "missing-adapter"}, "adapter directory not found"),
])
def test_bad_input_is_one_error_and_no_output(tiny_llama, fixture_data, tmp_path, change, message):
    kwargs = {"task_name": "arc-easy", "data_path": fixture_data["arc-easy"], "adapter_dir": None}
    kwargs.update(change)
    if kwargs["data_path"] == "missing-dir":
        kwargs["data_path"] = tmp_path / "missing-dir"
    with pytest.raises(PawError, match=message):
        evaluate(tiny_llama, kwargs.pop("adapter_dir"), kwargs.pop("task_name"), tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_model_dir_without_config_and_foreign_adapter(tiny_qwen2, llama_lora, fixture_data, tmp_path):
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(PawError, match="config.json is missing"):
        evaluate(tmp_path / "empty-model", None, "piqa", tmp_path / "out", data_path=fixture_data["piqa"])
    with pytest.raises(PawError, match="made for another base"):
        evaluate(tiny_qwen2, llama_lora, "piqa", tmp_path / "out", data_path=fixture_data["piqa"])
    assert not (tmp_path / "out").exists()


def test_letter_style_with_more_than_26_choices(tiny_llama, tmp_path):
    from tests.data.fixtures import write_jsonl

    row = {"id": "many", "question": "Pick", "answerKey": "L3",
           "choices": {"text": [f"c{i}" for i in range(30)], "label": [f"L{i}" for i in range(30)]}}
    write_jsonl(tmp_path / "data" / "test.jsonl", [row])
    with pytest.raises(PawError, match="30 choices.*at most 26"):
        evaluate(tiny_llama, None, "arc-easy", tmp_path / "out", data_path=tmp_path / "data", prompt_style="letter")
    assert not (tmp_path / "out").exists()


def test_architecture_that_ignores_the_packed_masks_falls_back_to_plain_rows(tiny_llama, fixture_data, monkeypatch,
                                                                              capsys):
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_llama, cache=True), load_tokenizer(tiny_llama)
    eval_set = load_eval_set("arc-easy", data_path=fixture_data["arc-easy"])
    plain = score_eval_set(model, tokenizer, eval_set, share_context=False, progress=False)
    # Simulate a model that drops the custom mask: every token then sees every earlier choice.
    monkeypatch.setattr(Scorer, "_masks", lambda self, positions, parents, valid: valid)
    fallback = score_eval_set(model, tokenizer, eval_set, share_context=True, progress=False)
    assert "scoring each choice separately" in capsys.readouterr().err  # a note, not a result: stderr
    for a, b in zip(fallback, plain, strict=True):
        assert a == pytest.approx(b, abs=1e-5)

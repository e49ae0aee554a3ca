"""Adding a dataset or a transfer method is one class in one place: a toy task and a toy method, each defined once
below, are found by name through the lookups the engines use, refused when registered twice, and a misspelt name
gets the closest one as a hint."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from paw.fields import param, positive
from paw.errors import PawError
from paw.registry import Registry
from tests.conftest import REPO_ROOT


@pytest.fixture()
def toy_task():
    """A yes/no benchmark: the whole of what a new dataset needs."""
    from paw.data import Task, register_task
    from paw.data.base import is_str, one_of
    from paw.data.registry import TASKS

    @register_task
    class ToyYesNo(Task):
        name = "toy-yesno"
        default_split = "validation"
        lm_eval_task = "toy/toy_yesno.yaml"
        fields = {"text": is_str, "label": one_of(0, 1)}

        def cloze_parts(self, row):
            return [f"{row['text']}\nAnswer:"] * 2, [" no", " yes"], ["no", "yes"], row["label"]

        def letter_parts(self, row):
            return row["text"], ["no", "yes"], row["label"]

    yield ToyYesNo
    TASKS.unregister(ToyYesNo.name)


@pytest.fixture()
def toy_method():
    """Every update scaled by `factor`: the whole of what a new transfer method needs."""
    from paw.transfer.methods.common import identity, require_same_shapes
    from paw.transfer.registry import METHODS, ModulePlan, TransferMethod, register

    @dataclass(frozen=True)
    class ScaleOptions:
        factor: float = param(1.0, check=positive, expect="a positive number")  # ΔWt = factor · ΔWs

    @register
    class ToyScale(TransferMethod):
        name = "toy_scale"
        Options = ScaleOptions

        def check_pair(self, ctx):
            require_same_shapes(self.name, ctx)

        def plan(self, ctx, pair):
            return ModulePlan(left=lambda x: x * self.options.factor, right=identity)

    yield ToyScale
    METHODS.unregister(ToyScale.name)


# ---- the toy task ----------------------------------------------------------------------------------------------

def test_a_task_in_one_class_is_found_and_evaluated(toy_task, tmp_path):
    from paw.data import KNOWN_TASKS, get_task
    from paw.evaluation.engine import load_eval_set

    assert "toy-yesno" in KNOWN_TASKS
    assert isinstance(get_task("toy_yesno"), toy_task)  # lm-eval's underscore spelling too
    rows = [{"text": "Is ice cold?", "label": 1}, {"text": "Is fire cold?", "label": 0}]
    (tmp_path / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    eval_set = load_eval_set("toy-yesno", data_path=tmp_path, prompt_style="letter")
    assert (eval_set.task_name, eval_set.split) == ("toy-yesno", "validation")
    assert [item.gold for item in eval_set.items] == [1, 0]
    assert eval_set.items[0].contexts[0] == "Question: Is ice cold?\nA. no\nB. yes\nAnswer:"


def test_the_lm_eval_reference_reads_the_task_class(toy_task):
    from paw.evaluation.lm_eval_reference import lm_eval_source

    assert lm_eval_source("toy-yesno") == ("toy/toy_yesno.yaml", "validation_split")
    assert lm_eval_source("boolq") == ("super_glue/boolq/default.yaml", "validation_split")
    with pytest.raises(PawError, match="'toy-facts' has no lm-eval"):
        lm_eval_source("toy-facts")


def test_a_second_task_of_the_same_name_is_refused(toy_task):
    from paw.data import Task, get_task, register_task

    with pytest.raises(ValueError, match="dataset 'toy-yesno' is registered twice"):
        @register_task
        class Impostor(Task):
            name = "toy_YesNo"  # the same task once spelt canonically
    assert isinstance(get_task("toy-yesno"), toy_task)


def test_a_misspelt_task_gets_the_closest_name(toy_task):
    from paw.data import get_task

    with pytest.raises(PawError, match=r"not a known dataset \(did you mean 'toy-yesno'\?\): dataset = 'toy-yesnoo' "
                                       r"— expected one of arc-challenge, .*toy-yesno"):
        get_task("toy-yesnoo")


# ---- the toy method --------------------------------------------------------------------------------------------

def test_a_method_in_one_class_is_found_with_its_options_from_params(toy_method):
    from paw.config import load_params
    from paw.transfer.api import known_methods
    from paw.transfer.registry import check_option_blocks, get_method

    assert "toy_scale" in known_methods()
    overrides = {"transfer.method": "toy_scale", "transfer.toy_scale": {"factor": 3}}
    params = load_params(REPO_ROOT / "params.yaml", overrides=overrides)
    check_option_blocks(params.transfer.options)  # what the carry stage runs first
    chosen = get_method(params.transfer.method, params.transfer.options.get(params.transfer.method))
    assert isinstance(chosen, toy_method) and chosen.options.factor == 3.0


@pytest.mark.parametrize(("options", "message"), [
    ({"factor": 0}, r"params\.yaml: transfer\.toy_scale\.factor = 0 — expected a positive number"),
    ({"factor": "big"}, r"transfer\.toy_scale\.factor = 'big' — expected a positive number"),
    ({"factr": 2}, r"transfer\.toy_scale\.factr is not a known option of toy_scale — expected one of factor"),
])
def test_the_toy_methods_options_are_checked_like_every_param(toy_method, options, message):
    from paw.transfer.registry import check_option_blocks, get_method

    with pytest.raises(PawError, match=message):
        get_method("toy_scale", options)
    with pytest.raises(PawError, match=message):
        check_option_blocks({"toy_scale": options})


def test_the_engine_runs_the_toy_method(toy_method, tiny_llama, tmp_path):
    from paw.transfer.api import run_transfer
    from tests.transfer.conftest import make_adapter

    adapter = make_adapter(tiny_llama, tmp_path / "lora", r=4, kinds=("q_proj", "v_proj"))
    diagnostics = run_transfer(tiny_llama, adapter, tiny_llama, tmp_path / "out", method="toy_scale", svd_rank=8,
                               threshold=0.0, control=False, options={"toy_scale": {"factor": 2.0}})
    kept = [m for m in diagnostics["modules"] if m["kept"]]
    assert kept and all(m["norm_ratio"] == pytest.approx(2.0, rel=1e-3) for m in kept)


def test_a_second_method_of_the_same_name_is_refused(toy_method):
    from paw.transfer.registry import TransferMethod, get_method, register

    with pytest.raises(ValueError, match="transfer method 'toy_scale' is registered twice"):
        @register
        class Impostor(TransferMethod):
            name = "toy_scale"
    assert isinstance(get_method("toy_scale"), toy_method)


def test_a_misspelt_method_gets_the_closest_name(toy_method):
    from paw.transfer.registry import get_method

    with pytest.raises(PawError, match=r"not a known transfer method \(did you mean 'toy_scale'\?\): "
                                       r"transfer\.method = 'toy_scal' — expected one of activation, .*toy_scale"):
        get_method("toy_scal")


# ---- the registry itself -----------------------------------------------------------------------------------------

class Animal:
    name = ""


def test_registry_checks_the_base_class_and_the_name():
    animals: Registry[Animal] = Registry("animal", Animal, key="zoo.animal")

    @animals.register
    class Cat(Animal):
        name = "cat"

    assert animals.get("cat") is Cat and animals.names() == ["cat"] and "cat" in animals
    with pytest.raises(TypeError, match="not a subclass of Animal"):
        animals.register(int)
    with pytest.raises(TypeError, match="no `name` class attribute"):
        animals.register(type("Nameless", (Animal,), {}))
    assert animals.register(Cat) is Cat  # the same class again is no conflict
    with pytest.raises(PawError, match=r"^not a known animal: zoo\.animal = 'dog' — expected one of cat$"):
        animals.get("dog")
    animals.unregister("cat")
    assert animals.names() == []

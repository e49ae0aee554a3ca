"""Build the embedded toy world: bases under models/toy-*, questions under data/toy.  Serves `dvc repro toy`."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.io import write_json
from paw.pipeline.layout import REPORTS, TOY_DATA
from paw.pipeline.stage import run_stage
from paw.resources import peak_ram_mb


def main() -> None:
    from paw.toy.build import build_world

    params = load_params()
    summary = build_world(params.toy, models_dir="models", data_dir=TOY_DATA)
    write_json(REPORTS / "toy.json", summary | {"peak_ram_mb": peak_ram_mb()})


if __name__ == "__main__":
    run_stage(main)

"""Local data sources: directories of <split> files or one file, in jsonl/json/parquet; bad data named clearly."""

from __future__ import annotations

import json

import pytest

from paw.data import get_task
from paw.errors import PawError
from tests.data.fixtures import ARC_ROWS, ROWS, write_jsonl


def test_directory_of_split_files(tmp_path):
    write_jsonl(tmp_path / "test.jsonl", ARC_ROWS)
    write_jsonl(tmp_path / "validation.jsonl", ARC_ROWS[:2])
    task = get_task("arc-challenge")
    assert task.load_rows(data_path=tmp_path) == ARC_ROWS
    assert len(task.load_rows(split="validation", data_path=tmp_path)) == 2


def test_json_list_and_parquet_files(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "validation.json").write_text(json.dumps(ROWS["piqa"]))
    assert get_task("piqa").load_rows(data_path=tmp_path) == ROWS["piqa"]
    pq.write_table(pa.Table.from_pylist(ROWS["winogrande"]), tmp_path / "w.parquet")
    assert get_task("winogrande").load_rows(data_path=tmp_path / "w.parquet") == ROWS["winogrande"]


def test_real_benchmark_files_load(benchmarks_dir):
    rows = get_task("arc-challenge").load_rows(data_path=benchmarks_dir / "arc_challenge")
    assert len(rows) == 1172
    assert any(row["answerKey"].isdigit() for row in rows)
    assert {len(row["choices"]["text"]) for row in rows} >= {3, 4, 5}


def test_missing_field_names_field_file_and_row(tmp_path):
    rows = [dict(ROWS["piqa"][1]), {k: v for k, v in ROWS["piqa"][1].items() if k != "sol2"}]
    path = write_jsonl(tmp_path / "validation.jsonl", rows)
    with pytest.raises(PawError, match=rf"{path}: row 1: field 'sol2' is missing"):
        get_task("piqa").load_rows(data_path=tmp_path)


def test_bad_answer_key_and_bad_type(tmp_path):
    row = dict(ARC_ROWS[0], answerKey="Z")
    write_jsonl(tmp_path / "a.jsonl", [row])
    with pytest.raises(PawError, match="answerKey.*'Z'.*labels"):
        get_task("arc-easy").load_rows(data_path=tmp_path / "a.jsonl")
    write_jsonl(tmp_path / "b.jsonl", [dict(ARC_ROWS[0], choices=["a", "b"])])
    with pytest.raises(PawError, match="field 'choices'"):
        get_task("arc-easy").load_rows(data_path=tmp_path / "b.jsonl")


def test_empty_file_and_broken_json(tmp_path):
    (tmp_path / "test.jsonl").write_text("\n")
    with pytest.raises(PawError, match="no rows"):
        get_task("arc-easy").load_rows(data_path=tmp_path)
    (tmp_path / "test.jsonl").write_text('{"id": 1}\n{broken\n')
    with pytest.raises(PawError, match="line 2 is not valid JSON"):
        get_task("arc-easy").load_rows(data_path=tmp_path)


def test_missing_split_file_and_missing_path(tmp_path):
    write_jsonl(tmp_path / "train.jsonl", ARC_ROWS)
    with pytest.raises(PawError, match="no test.jsonl.*found train.jsonl"):
        get_task("arc-easy").load_rows(data_path=tmp_path)
    with pytest.raises(PawError, match="data path not found"):
        get_task("arc-easy").load_rows(data_path=tmp_path / "nope")


def test_toy_facts_needs_a_data_path(tmp_path):
    with pytest.raises(PawError, match="toy-facts has no hub copy.*data_path"):
        get_task("toy-facts").load_rows()
    write_jsonl(tmp_path / "test.jsonl", ARC_ROWS)
    assert len(get_task("toy-facts").load_rows(data_path=tmp_path)) == 4

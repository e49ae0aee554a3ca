"""The shape of the library: subpackages import each other without a cycle (at module level or inside functions),
package modules import nothing heavy, reading params loads no engine, and files and functions stay short."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO_ROOT
from tests.pipeline.test_stage_deps import SRC, _statements, _tree, imported_modules, module_name

MAX_FILE_LINES, MAX_FUNCTION_LINES = 300, 60


def layer(module: str) -> str:
    """paw.<sub>… -> <sub>; a top-level module (paw.errors) is its own layer."""
    return module.split(".")[1] if module.count(".") else module


def subpackage_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for file in SRC.rglob("*.py"):
        source = layer(module_name(file))
        for name in imported_modules(file):
            target = layer(name)
            if target != source and target != "paw":
                graph.setdefault(source, set()).add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_subpackages_import_each_other_without_a_cycle():
    graph = subpackage_graph()
    assert "config" in graph and "transfer" in graph["config"]  # the graph is read (config reads every section)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_a_cycle_is_found_when_there_is_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_reading_params_loads_no_engine_and_no_heavy_library():
    code = ("import sys; from paw.config import load_params; load_params('params.yaml'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'transformers', 'lightning', 'matplotlib', 'numpy') or m.endswith(('.engine', '.run'))))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_no_source_file_or_function_is_long():
    long_files, long_functions = [], []
    for file in sorted(SRC.rglob("*.py")):
        lines = file.read_text().count("\n")
        if lines > MAX_FILE_LINES:
            long_files.append(f"{file.relative_to(REPO_ROOT)}: {lines} lines")
        for node in _statements(_tree(file)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{file.relative_to(REPO_ROOT)}:{node.lineno} {node.name}: {length}")
    assert not long_files and not long_functions, "\n".join(long_files + long_functions)

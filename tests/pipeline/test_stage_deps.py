"""Each stage lists the paw code its script runs: every paw module the script imports, directly or through other paw
modules, lies under one of the stage's deps (a listed directory covers its files), so changing it reruns the stage.

Imports are read from the source with `ast`: `import` and `from` statements at module level and inside functions
(whether or not the function runs: an over-estimate on purpose), not those under `if TYPE_CHECKING:`. Importing
`paw.a.b` also runs the package `paw/a/__init__.py`. A module that builds a `Registry(..., package="paw.x")` imports
every module of that package on its first lookup (the transfer methods, the tasks), so reaching it reaches them.
Other imports by a computed name (`importlib.import_module(f"...")`: the CLI's subcommands) are not seen.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.pipeline.dvc_yaml import resolved_stages

SRC = REPO_ROOT / "src"
PACKAGE = "paw"


def module_file(name: str) -> Path | None:
    """src/paw/a/b.py or src/paw/a/b/__init__.py for `paw.a.b`; None when it is not a module (a class, a function)."""
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _statements(tree: ast.AST):
    """Every node, skipping the bodies of `if TYPE_CHECKING:` (imports for annotations only)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def registry_packages(path: Path) -> set[str]:
    """Packages whose modules a `Registry(..., package="paw.x")` built in this file imports when first asked."""
    found = set()
    for node in _statements(_tree(path)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Registry":
            for keyword in node.keywords:
                if keyword.arg == "package" and isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
    return found


def package_modules(package: str) -> set[str]:
    folder = SRC.joinpath(*package.split("."))
    return {module_name(file) for file in folder.glob("*.py")}


def imported_modules(path: Path) -> set[str]:
    """Names of the paw modules the file at `path` imports (its own statements only, not transitively)."""
    names: set[str] = set().union(*map(package_modules, registry_packages(path)))
    for node in _statements(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, path)
            if module.split(".")[0] != PACKAGE:
                continue
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # submodules; other names are dropped
    return {name for name in names if name.split(".")[0] == PACKAGE and module_file(name)}


def with_packages(name: str) -> list[str]:
    """`paw.a.b` and the packages Python runs first to import it: paw, paw.a."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imported_files(script: Path) -> dict[Path, Path]:
    """Every paw file the script runs by importing, each with the file whose import statement reached it first."""
    reached: dict[Path, Path] = {}
    todo = [script]
    while todo:
        importer = todo.pop()
        for name in sorted(imported_modules(importer)):
            for module in with_packages(name):
                file = module_file(module)
                if file not in reached:
                    reached[file] = importer
                    todo.append(file)
    return reached


def _covered(file: Path, deps: list[str]) -> bool:
    return any(file == REPO_ROOT / dep or (REPO_ROOT / dep) in file.parents for dep in deps)


def _suggested_dep(file: Path) -> str:
    """The subpackage directory the file belongs to (src/paw/<sub>), or the file itself when it is top-level."""
    parts = file.relative_to(SRC).parts
    return str(Path("src", *parts[:2]) if len(parts) > 2 else file.relative_to(REPO_ROOT))


def import_chain(file: Path, reached: dict[Path, Path], script: Path) -> str:
    """How the script reaches `file`: `stages/x.py → paw.a → paw.b`."""
    chain = [file]
    while chain[-1] != script:
        chain.append(reached[chain[-1]])
    return " → ".join([str(script.relative_to(REPO_ROOT)), *(module_name(f) for f in reversed(chain[:-1]))])


def missing_deps(name: str, stage: dict) -> list[str]:
    """One line per dep the stage lacks: the path to add, and how its script imports the first file there."""
    script = REPO_ROOT / stage["cmd"].split()[1]
    deps = [d if isinstance(d, str) else next(iter(d)) for d in stage.get("deps") or []]
    reached = imported_files(script)
    uncovered: dict[str, list[Path]] = {}
    for file in sorted(reached):
        if not _covered(file, deps):
            uncovered.setdefault(_suggested_dep(file), []).append(file)
    return [
        f"stage {name!r} lacks dep {dep}: {import_chain(files[0], reached, script)}"
        + (f" (and {len(files) - 1} more files there)" if len(files) > 1 else "")
        for dep, files in uncovered.items()
    ]


def test_every_stage_lists_the_paw_code_its_script_imports():
    problems = [line for name, stage in resolved_stages().items() for line in missing_deps(name, stage)]
    assert not problems, "\n".join(problems)


def test_every_listed_source_path_exists():
    for name, stage in resolved_stages().items():
        for dep in stage["deps"]:
            if dep.startswith(("src/", "stages/")):
                assert (REPO_ROOT / dep).exists(), f"stage {name!r}: dep {dep} does not exist"


def test_a_missing_dep_is_named_with_its_stage():
    stage = resolved_stages()["eval@control"]
    without = {**stage, "deps": [d for d in stage["deps"] if not d.startswith("src/paw/training")]}
    problems = missing_deps("eval@control", without)
    (line,) = problems
    assert line.startswith("stage 'eval@control' lacks dep src/paw/training: stages/eval.py → ")
    assert line.split(" → ")[-1].startswith("paw.training")


def test_imports_inside_functions_and_packages_are_followed():
    reached = imported_files(REPO_ROOT / "stages" / "eval.py")
    # Inside check_consistency, a function of paw.pipeline.checks (the stage itself imports nothing from training):
    assert any(name.startswith("paw.training.") for name in imported_modules(SRC / "paw/pipeline/checks.py"))
    assert not any(name.startswith("paw.training") for name in imported_modules(REPO_ROOT / "stages" / "eval.py"))
    assert any(SRC / "paw/training" in file.parents for file in reached)
    # `from paw.config import load_params`: paw.config's own imports run too (paw.config.load among them):
    assert SRC / "paw/config/load.py" in reached
    # Importing paw.pipeline.layout first runs the packages paw and paw.pipeline:
    assert {SRC / "paw/__init__.py", SRC / "paw/pipeline/__init__.py"} <= set(reached)
    assert all(file.suffix == ".py" and SRC in file.parents for file in reached)


def test_the_engine_code_a_stage_never_runs_is_not_its_dep():
    """Trainings and evaluations do not rerun when the transfer engine changes; the carry reruns when the training
    or evaluation engine changes, since `distill` trains with one and its teacher scores with the other."""
    stages = resolved_stages()
    engine = SRC / "paw/transfer/engine.py"
    for name in ("train@source", "train@target", "eval@source_base", "eval@target_base", "report"):
        deps = [d if isinstance(d, str) else next(iter(d)) for d in stages[name]["deps"]]
        assert not _covered(engine, deps), f"{name} depends on {engine.relative_to(REPO_ROOT)}"
    carry = [d if isinstance(d, str) else next(iter(d)) for d in stages["carry"]["deps"]]
    assert _covered(SRC / "paw/training/run.py", carry) and _covered(SRC / "paw/evaluation/engine.py", carry)



def test_bytecode_never_enters_a_code_dependency_hash():
    """A directory dep is hashed with every file DVC does not ignore. Bytecode beside the sources would make the
    hash depend on what Python last ran: stale stages on a fresh clone, run-cache misses in queued experiments."""
    from dvc.repo import Repo

    ignore = Repo(str(REPO_ROOT)).dvcignore
    package = REPO_ROOT / "src" / PACKAGE / "data"
    assert ignore.is_ignored_dir(str(package / "__pycache__"))
    assert ignore.is_ignored_file(str(package / "__pycache__" / "base.cpython-311.pyc"))
    assert ignore.is_ignored_file(str(package / "base.pyc"))
    for source in package.glob("*.py"):
        assert not ignore.is_ignored_file(str(source)), source

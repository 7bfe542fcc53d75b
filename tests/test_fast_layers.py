"""The layers of docs/DESIGN.md, as the code imports them: the engine's layers import only
those below them, and the top-level directories (checks/, fixtures/, remediations/,
reports/) import the engine and themselves, never each other, so that installed they work
as fleetready.checks, ... under the same code."""

import ast

import pytest

from tests.conftest import ROOT

ENGINE = ["config", "transport", "gather", "probe", "judge", "outcome"]  # lowest first
TOP = ["checks", "fixtures", "remediations", "reports"]


def imports(path):
    """The absolute module names a file imports, wherever in the file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def modules(directory):
    return sorted((ROOT / directory).rglob("*.py"))


@pytest.mark.parametrize("layer", ENGINE)
def test_an_engine_layer_imports_only_the_layers_below_it(layer):
    allowed = {f"fleetready.{name}" for name in ENGINE[: ENGINE.index(layer) + 1]}
    for path in modules(f"fleetready/{layer}"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in TOP, f"{path.relative_to(ROOT)} imports {name}"
            if top == "fleetready":
                assert ".".join(name.split(".")[:2]) in allowed, f"{path.relative_to(ROOT)} imports {name}"


@pytest.mark.parametrize("directory", TOP)
def test_a_top_level_directory_imports_no_other_by_name(directory):
    for path in modules(directory):
        for name in imports(path):
            assert name.split(".")[0] not in TOP, (
                f"{path.relative_to(ROOT)} imports {name}: only relative imports within {directory}/"
            )

"""Which functions changed between two releases of a library, from their source.

Functions are keyed the way py-spy names them and flamediff keeps them: `qualname (path)`,
the path relative to site-packages. Two functions are "the same" when their AST, without
line numbers or docstrings, is the same: moving code or editing comments is not a change.
"""

from __future__ import annotations

import ast
from pathlib import Path

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _strip_docstring(node: ast.AST) -> ast.AST:
    body = getattr(node, "body", None)
    if (
        isinstance(body, list)
        and body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return node


def functions_of(source: str, path: str) -> dict[str, str]:
    """`qualname (path)` -> a dump of the function's code, for every def in `source`."""
    tree = ast.parse(source)
    found: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _FUNCTIONS):
                qualname = f"{prefix}{child.name}"
                found[f"{qualname} ({path})"] = ast.dump(
                    _strip_docstring(child), include_attributes=False
                )
                visit(child, f"{qualname}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def package_functions(site_packages: Path, packages: list[str]) -> dict[str, str]:
    """Every function of the named top-level packages (or modules) under `site_packages`."""
    found: dict[str, str] = {}
    for package in packages:
        root = site_packages / package
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
        for file in files:
            if not file.exists():
                continue
            relative = file.relative_to(site_packages).as_posix()
            try:
                found.update(functions_of(file.read_text(encoding="utf-8"), relative))
            except SyntaxError:
                continue
    return found


def changed_functions(base: dict[str, str], head: dict[str, str]) -> dict[str, list[str]]:
    """Functions `changed` (same key, other code), `added` and `removed` from base to head."""
    return {
        "changed": sorted(key for key in base.keys() & head.keys() if base[key] != head[key]),
        "added": sorted(head.keys() - base.keys()),
        "removed": sorted(base.keys() - head.keys()),
    }

"""The Bling client is a leaf: no module of `blingsync/bling/` imports the app around it.

It may import Django, requests/urllib3/cryptography, the standard library and its own
modules, `blingsync.bling.*`; its own models (BlingConnection, RateLimitBucket) are defined in
`blingsync.bling.models`, so no other `blingsync.*` module is allowed. What the app does with
the client's work (job run counters, audit, alerts) subscribes to `blingsync.bling.observers`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import blingsync.bling

BLING_DIR = Path(blingsync.bling.__file__).parent
ALLOWED_PREFIX = "blingsync.bling"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (absolute or relative), with its line, including imports
    inside functions and under TYPE_CHECKING."""
    package = "blingsync.bling"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from blingsync import x` names a module through the package.
            if module == "blingsync":
                found.extend((node.lineno, f"blingsync.{alias.name}") for alias in node.names)
    return found


def _is_own(module: str) -> bool:
    return module == ALLOWED_PREFIX or module.startswith(ALLOWED_PREFIX + ".")


def test_the_bling_client_imports_nothing_of_the_app_around_it():
    modules = sorted(BLING_DIR.rglob("*.py"))
    assert len(modules) > 5  # the walk found the package
    offenders = [
        f"{path.relative_to(BLING_DIR.parent.parent)}:{line}: {module}"
        for path in modules
        for line, module in _imported_modules(path)
        if (module == "blingsync" or module.startswith("blingsync.")) and not _is_own(module)
    ]
    assert offenders == []


def test_the_leaf_check_sees_a_forbidden_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from blingsync.jobrunner import job_current_context\n"
        "def f():\n    from blingsync import audit\n    import blingsync.models\n"
        "from .errors import BlingError\n"
    )
    modules = [module for _, module in _imported_modules(probe)]
    assert "blingsync.jobrunner" in modules
    assert "blingsync.audit" in modules
    assert "blingsync.models" in modules
    assert "blingsync.bling.errors" in modules

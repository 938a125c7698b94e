"""Guard: a test never discards the response of an API call. A setup call that silently failed
lets the test pass for the wrong reason (a PATCH refused, then "nothing changed" asserted)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
METHODS = {"get", "post", "put", "patch", "delete"}
MARKER = "# unchecked:"  # on the line above: why the outcome is asserted otherwise


def discarded_calls(source: str) -> list[int]:
    lines = source.split("\n")
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Await)):
            continue
        call = node.value.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr in METHODS
            and ast.unparse(call.func.value) == "client"
            and MARKER not in lines[node.lineno - 2]
        ):
            found.append(node.lineno)
    return found


def test_no_test_discards_an_api_response() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in discarded_calls(path.read_text())
    ]
    assert not offenders, f"assert the status of these calls: {offenders}"


def test_the_guard_sees_a_discarded_call() -> None:
    source = "async def test_x(client):\n    await client.patch('/x', json={})\n    r = await client.get('/y')\n"
    assert discarded_calls(source) == [2]

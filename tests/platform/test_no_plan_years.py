"""No year of any plan is written in code: a plan's horizon is data (`catalog/plans.yaml`, a 任务分解表), and every
period, trajectory, due date and picker is derived from it.  Checked the way a linter would: Python by its syntax
tree (number literals, and strings other than docstrings), TypeScript and Vue with comments stripped.

What counts: a number 2015–2040 in code, and in a string a horizon ("2022—2024") or a year in prose ("2022年"); a
period written as a format example ("月 2024-05") is not a plan's year.  Migrations' dates, the tests' own data and
the generated API types are not code that decides anything."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON_ROOTS = ("libs", "gateway", "services", "deploy")
SKIPPED_PARTS = {"alembic", "migrations", "tests", "__pycache__", ".venv", "node_modules"}
YEAR = re.compile(r"(?<![\d.])20(1[5-9]|[23]\d|40)(?!\d)")
YEAR_IN_PROSE = re.compile(r"20\d\d\s*[—–~-]\s*20\d\d|20\d\d\s*年")


def _python_files():
    for root in PYTHON_ROOTS:
        for path in (ROOT / root).rglob("*.py"):
            if not SKIPPED_PARTS.intersection(path.relative_to(ROOT).parts):
                yield path


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def python_years(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if isinstance(node.value, int) and not isinstance(node.value, bool) and 2015 <= node.value <= 2040:
            found.append((node.lineno, str(node.value)))
        elif isinstance(node.value, str) and YEAR_IN_PROSE.search(node.value):
            found.append((node.lineno, node.value[:60]))
    return found


_TS_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/|<!--.*?-->", re.S)


def typescript_years(source: str) -> list[tuple[int, str]]:
    # Comments are blanked, not removed, so that line numbers still point at the source.
    code = _TS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)
    return [(code.count("\n", 0, m.start()) + 1, m.group()) for m in YEAR.finditer(code)]


def test_the_checks_find_a_written_year():
    assert python_years("START = 2022\n") == [(1, "2022")]
    assert python_years('message = "不在三年行动期（2022—2024年）内"\n')
    assert python_years('"""Docstring about 2022."""\nx = 1\n') == []
    assert python_years('HINT = "期间：月 2030-06，季 2030Q2，年 2030"\n') == []
    assert python_years('LABEL = "自2022年起累计"\n')
    assert typescript_years("const PLAN_START = Date.UTC(2022, 0, 1)\n") == [(1, "2022")]
    assert typescript_years("// since 2022\nconst limit = 2000\n") == []
    assert typescript_years("xAxis: { min: '2022-01-01' }\n") == [(1, "2022")]


def test_no_year_is_written_in_python_code():
    found = {
        f"{path.relative_to(ROOT)}:{line}": text
        for path in _python_files()
        for line, text in python_years(path.read_text(encoding="utf-8"))
    }
    assert found == {}


def test_no_year_is_written_in_the_web_app():
    sources = [p for p in (ROOT / "web" / "src").rglob("*") if p.suffix in {".ts", ".vue"} and p.name != "schema.ts"]
    found = {
        f"{path.relative_to(ROOT)}:{line}": text
        for path in sources
        if "__tests__" not in path.parts
        for line, text in typescript_years(path.read_text(encoding="utf-8"))
    }
    assert found == {}

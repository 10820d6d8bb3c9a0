"""The rule expression grammar: indicator codes, numbers, + - * /, parentheses and `sum_districts(CODE)`.

A tiny recursive-descent parser (no `eval`): a rule typed by the city office is data, never code.

    expr   := term (("+" | "-") term)*
    term   := factor (("*" | "/") factor)*
    factor := NUMBER | CODE | "sum_districts" "(" CODE ")" | "(" expr ")" | "-" factor
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_EXPRESSION_LENGTH = 200

# Codes before numbers and operators: "T002-1" is a code, not T002 minus 1.
_TOKEN = re.compile(
    r"\s*(?:(?P<sum>sum_districts)|(?P<code>T\d{3}-\d{1,2}|H-[A-Z]{3}-\d{1,2})|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<op>[-+*/()]))"
)


class ExpressionError(ValueError):
    """An expression the grammar does not accept: `message` says where, in Chinese."""

    def __init__(self, message: str, code: str = "invalid_expression"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Code:
    code: str


@dataclass(frozen=True)
class DistrictSum:
    """The sum of the districts' values of an indicator: a cross-level term, evaluated at the city."""

    code: str


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Number | Code | DistrictSum | Negate | Binary


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].strip()
            raise ExpressionError(
                f"表达式第 {position + 1} 个字符起「{rest[:12]}」无法识别：只能写指标编号（如 T002-1）、数字、"
                "+ - * /、括号和 sum_districts(指标编号)"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("表达式不完整：结尾缺少指标编号、数字或右括号")
        self.position += 1
        return token

    def expect(self, symbol: str) -> None:
        token = self.take()
        if token != ("op", symbol):
            raise ExpressionError(f"此处应为「{symbol}」，写的是「{token[1]}」")

    def expression(self) -> Node:
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            node = Binary(self.take()[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            node = Binary(self.take()[1], node, self.factor())
        return node

    def factor(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            return Number(float(text))
        if kind == "code":
            return Code(text)
        if kind == "sum":
            self.expect("(")
            kind, code = self.take()
            if kind != "code":
                raise ExpressionError(f"sum_districts 的括号内应为一个指标编号，写的是「{code}」")
            self.expect(")")
            return DistrictSum(code)
        if (kind, text) == ("op", "("):
            node = self.expression()
            self.expect(")")
            return node
        if (kind, text) == ("op", "-"):
            return Negate(self.factor())
        raise ExpressionError(f"此处应为指标编号、数字或左括号，写的是「{text}」")


def parse(text: str) -> Node:
    """The expression's tree, or `ExpressionError` naming what is wrong; a division by a constant zero is refused."""
    if not text or not text.strip():
        raise ExpressionError("表达式不能为空")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"表达式过长（最多 {MAX_EXPRESSION_LENGTH} 个字符）")
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek() is not None:
        raise ExpressionError(f"表达式在「{parser.peek()[1]}」处多出内容：两个量之间应有 + - * /")
    _no_constant_zero_divisor(node)
    return node


def _constant(node: Node) -> float | None:
    """The value of a sub-expression without indicators, or None."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Negate):
        value = _constant(node.operand)
        return None if value is None else -value
    if isinstance(node, Binary):
        left, right = _constant(node.left), _constant(node.right)
        if left is None or right is None:
            return None
        return _apply(node.op, left, right)
    return None


def _no_constant_zero_divisor(node: Node) -> None:
    if isinstance(node, Negate):
        _no_constant_zero_divisor(node.operand)
    elif isinstance(node, Binary):
        _no_constant_zero_divisor(node.left)
        _no_constant_zero_divisor(node.right)
        if node.op == "/" and _constant(node.right) == 0:
            raise ExpressionError("表达式除以常数 0，无法计算：请改写除数", code="division_by_zero")


def _apply(op: str, left: float, right: float) -> float | None:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    return None if right == 0 else left / right


def codes(node: Node) -> set[str]:
    """The indicator codes named directly (same org unit)."""
    if isinstance(node, Code):
        return {node.code}
    if isinstance(node, Negate):
        return codes(node.operand)
    if isinstance(node, Binary):
        return codes(node.left) | codes(node.right)
    return set()


def district_sums(node: Node) -> set[str]:
    """The indicator codes summed over the districts."""
    if isinstance(node, DistrictSum):
        return {node.code}
    if isinstance(node, Negate):
        return district_sums(node.operand)
    if isinstance(node, Binary):
        return district_sums(node.left) | district_sums(node.right)
    return set()


def evaluate(node: Node, values: Mapping[str, float], sums: Mapping[str, float]) -> float | None:
    """The expression's value; None when a value it needs is missing or a divisor is zero (the rule is not
    evaluated: nothing to compare yet)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Code):
        return values.get(node.code)
    if isinstance(node, DistrictSum):
        return sums.get(node.code)
    if isinstance(node, Negate):
        value = evaluate(node.operand, values, sums)
        return None if value is None else -value
    left, right = evaluate(node.left, values, sums), evaluate(node.right, values, sums)
    if left is None or right is None:
        return None
    return _apply(node.op, left, right)


OPERATORS = ("<=", "<", "=", ">=", ">")


def compare(op: str, left: float, right: float) -> bool:
    """`=` within rounding (values are entered with a few decimals)."""
    tolerance = max(1e-6, 1e-9 * max(abs(left), abs(right)))
    if op == "<=":
        return left <= right + tolerance
    if op == "<":
        return left < right - tolerance
    if op == ">=":
        return left >= right - tolerance
    if op == ">":
        return left > right + tolerance
    return abs(left - right) <= tolerance

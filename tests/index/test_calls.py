"""Calls and their arguments at given lines, parameter lists as written, and whether a call
fits them: per language, with unpacking (not checkable), methods (Python's `self` is not
passed) and overloads (not checkable)."""

from __future__ import annotations

import textwrap

import pytest

from scopewise.index.calls import (
    KEYWORD_ONLY,
    POSITIONAL,
    POSITIONAL_ONLY,
    Call,
    Param,
    arity_problem,
    calls_at,
    parse_params,
)


def src(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode("utf-8")


def problems(language: str, params: list[str], text: str, method: bool = False) -> list[str]:
    """What `arity_problem` says of each call of `send` in the text ("" for a fit)."""
    sig = parse_params(language, params)
    assert sig is not None
    calls = calls_at(language, src(text), names={"send"})
    return [arity_problem(sig, c, method) or "" for c in calls]


# ---------------------------------------------------------------------- python
PY = """
x = send(1, 2)
client.send(1, timeout=3)
send(*rest)
send(
    1,
    # a comment is not an argument
    2,
)
(client
    .send(k=1, **extra))
other(send)
sum(p for p in ps)
"""


def test_python_calls_with_their_arguments() -> None:
    assert calls_at("python", src(PY)) == [
        Call(1, "send", 2, (), False),
        Call(2, "send", 1, ("timeout",), False),
        Call(3, "send", 0, (), True),
        Call(4, "send", 2, (), False),
        Call(10, "send", 0, ("k",), True),
        Call(11, "other", 1, (), False),
        Call(12, "sum", 1, (), False),
    ]


def test_calls_at_given_lines_and_names() -> None:
    assert calls_at("python", src(PY), lines=[2, 10, 11], names={"send"}) == [
        Call(2, "send", 1, ("timeout",), False),
        Call(10, "send", 0, ("k",), True),
    ]
    assert calls_at("python", src(PY), lines=[]) == []
    assert calls_at("python", src(PY), lines=[5, 6]) == []  # inside a call, not its name


def test_python_params_as_written() -> None:
    sig = parse_params("python", ["a", "/", "b: int = 1", "*args", "c", "d=2", "**kw"])
    assert sig is not None
    assert sig.params == (
        Param("a", False, POSITIONAL_ONLY),
        Param("b", True, POSITIONAL),
        Param("c", False, KEYWORD_ONLY),
        Param("d", True, KEYWORD_ONLY),
    )
    assert sig.variadic and sig.var_keywords
    assert parse_params("python", ["a b"]) is None  # not a parameter list
    assert parse_params("python", ["*", "key"]) is not None
    text = """
    send(1, b=2, c=3)
    send(a=1, c=3)
    send(1, c=3, other=4)
    """
    assert problems("python", ["a", "/", "b=1", "*", "c"], text) == [
        "",
        "unknown keyword 'a'",
        "unknown keyword 'other'",
    ]


def test_python_arity() -> None:
    text = """
    send(1)
    send(1, 2)
    send(1, 2, 3)
    send()
    send(b=2, a=1)
    send(1, timeout=3)
    send(1, a=1)
    send(*xs)
    send(1, **kw)
    """
    assert problems("python", ["a", "b=1"], text) == [
        "",
        "",
        "passes 3 arguments; send takes 1-2",
        "passes 0 arguments without 'a'; send takes 1-2",
        "",
        "unknown keyword 'timeout'",
        "passes 'a' twice (by position and by keyword)",
        "",
        "",
    ]


def test_python_keyword_only_and_kwargs() -> None:
    text = """
    send(1, key=2)
    send(1)
    send(1, 2)
    send(1, key=2, extra=3)
    """
    assert problems("python", ["a", "*", "key"], text) == [
        "",
        "missing keyword argument 'key'",
        "passes 2 arguments; send takes 1",
        "unknown keyword 'extra'",
    ]
    assert problems("python", ["a", "*args", "key=0", "**kw"], text) == ["", "", "", ""]


def test_python_methods_do_not_pass_self() -> None:
    text = """
    client.send(1)
    client.send(1, 2)
    """
    params = ["self", "payload"]
    assert problems("python", params, text, method=True) == [
        "",
        "passes 2 arguments; send takes 1",
    ]
    assert problems("python", params, text, method=False) == [
        "passes 1 argument without 'payload'; send takes 2",
        "",
    ]


# ---------------------------------------------------------------------- javascript/typescript
def test_javascript_calls() -> None:
    text = """
    send(1, 2);
    client.send(1);
    send(...xs);
    new Client(a, b);
    new Client;
    this.#send(1);
    api?.send?.(1, 2, 3);
    tag`x ${y}`;
    """
    assert calls_at("javascript", src(text)) == [
        Call(1, "send", 2, (), False),
        Call(2, "send", 1, (), False),
        Call(3, "send", 0, (), True),
        Call(4, "Client", 2, (), False),
        Call(5, "Client", 0, (), False),
        Call(6, "#send", 1, (), False),
        Call(7, "send", 3, (), False),
        Call(8, "tag", 0, (), True),
    ]


@pytest.mark.parametrize("language", ["typescript", "tsx"])
def test_typescript_arity(language: str) -> None:
    text = """
    send(1);
    send(1, "a", 2);
    send();
    client.send<number>(1, "a", 2, 3);
    send(...args);
    """
    params = ["this: Client", "a: number", "b?: string", "c = 1"]
    assert problems(language, params, text) == [
        "",
        "",
        "passes 0 arguments; send takes 1-3",
        "passes 4 arguments; send takes 1-3",
        "",
    ]
    assert problems(language, ["a: number", "...rest: number[]"], text)[3] == ""


def test_javascript_defaults_and_patterns() -> None:
    sig = parse_params("javascript", ["a", "{b, c}", "d = 1", "...rest"])
    assert sig is not None
    assert [p.default for p in sig.params] == [False, False, True]
    assert sig.variadic


# ---------------------------------------------------------------------- go
def test_go_calls_and_exact_arity() -> None:
    text = """
    package p

    func run() {
        send(1, 2)
        c.send(1)
        send(xs...)
        send(pair())
        fmt.Println(send)
    }
    """
    calls = calls_at("go", src(text), names={"send"})
    assert calls == [
        Call(4, "send", 2, (), False),
        Call(5, "send", 1, (), False),
        Call(6, "send", 0, (), True),
        Call(7, "send", 1, (), True),  # a call may return both values
    ]
    assert problems("go", ["a, b int"], text) == ["", "passes 1 argument; send takes 2", "", ""]
    assert problems("go", ["a int", "rest ...int"], text) == ["", "", "", ""]


# ---------------------------------------------------------------------- java
def test_java_calls_and_overloads() -> None:
    text = """
    class Use {
        void run() {
            send(1);
            client.send(1, "a");
            new Client(1);
            new java.util.ArrayList<String>();
        }
    }
    """
    assert calls_at("java", src(text)) == [
        Call(3, "send", 1, (), False),
        Call(4, "send", 2, (), False),
        Call(5, "Client", 1, (), False),
        Call(6, "ArrayList", 0, (), False),
    ]
    assert problems("java", ["int a", "String b"], text) == [
        "passes 1 argument; send takes 2",
        "",
    ]
    assert problems("java", ["int a", "String... rest"], text) == ["", ""]
    sig = parse_params("java", ["int a", "String b"], overloaded=True)
    assert sig is not None
    calls = calls_at("java", src(text), names={"send"})
    assert [arity_problem(sig, c, True) for c in calls] == [None, None]


# ---------------------------------------------------------------------- elsewhere
def test_other_languages_are_not_checkable() -> None:
    assert calls_at("rust", b"fn main() { send(1); }\n") == []
    assert calls_at("ruby", b"send(1)\n") == []
    assert parse_params("rust", ["a: i32"]) is None
    assert parse_params("cobol", ["a"]) is None

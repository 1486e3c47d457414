"""Incremental extraction (index/incremental.py) makes what a full extraction makes: random
edits of real files in several languages, typed through an open document, each index spliced
from the one before and compared with a full extraction of the same text."""

from __future__ import annotations

import random
import sysconfig
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scopewise.index import evidence, extract, incremental, languages
from scopewise.index.buffer import Document, TextChange
from scopewise.index.model import FileIndex

ROOT = Path(__file__).resolve().parents[2]
STDLIB = Path(sysconfig.get_paths()["stdlib"])
FILES = [
    STDLIB / "textwrap.py",
    STDLIB / "json" / "decoder.py",
    STDLIB / "dataclasses.py",
    ROOT / "clients" / "vscode" / "src" / "review.ts",
    ROOT / "clients" / "vscode" / "src" / "extension.ts",
    ROOT / "tests" / "fixtures" / "poly" / "go" / "shapes.go",
    ROOT / "tests" / "fixtures" / "poly" / "java" / "com" / "shop" / "Inventory.java",
    ROOT / "tests" / "fixtures" / "poly" / "web" / "util.js",
    ROOT / "tests" / "fixtures" / "poly" / "c" / "stack.c",
    ROOT / "tests" / "fixtures" / "poly" / "rust" / "src" / "lib.rs",
    ROOT / "tests" / "fixtures" / "poly" / "ruby" / "bank.rb",
]
SNIPPETS = ["x", " ", "\n", "(", ")", "{", "}", ":", '"', ".", "self.", "a.b", "\n\n", "# c\n",
            "def g(a: int) -> str:\n    return a\n", "function h(p: T) { return p.q; }\n",
            "    y = obj.call()\n", "import os\n", "class K:\n    z = 1\n"]  # fmt: skip


def facts(fi: FileIndex) -> tuple[Any, ...]:
    """What an index says: receivers by key text (their numbering is the splice's own) in
    line order, evidence by name (as it is read: a full extraction orders ties between names
    by the query's match order, which differs for a part of a tree)."""
    fi.return_key(0)
    return (
        fi.digest,
        fi.line_count,
        fi.definitions,
        fi.refs,
        fi.imports,
        fi.errors,
        {m: sorted(fi.receivers_of(m)) for m in fi.receivers},
        {n: fi.evidence_for(n) for n in {e.name for e in fi.evidence}},
        fi.returns,
        fi.owners,
        {k for k in fi.recv_keys if evidence.is_name(k)},
    )


def _edit(doc: Document, rng: random.Random, *, undo: bool = False) -> None:
    """A random edit (an insertion, a deletion or a replacement); with `undo` it is typed
    and taken back (two edits), as a user types and deletes: the text stays mostly whole."""
    src = doc.source
    at = rng.randrange(len(src) + 1)
    while at < len(src) and (src[at] & 0xC0) == 0x80:  # not inside a character
        at += 1
    end = at
    if rng.random() < 0.4:
        end = min(len(src), at + rng.randint(1, 30))
        while end < len(src) and (src[end] & 0xC0) == 0x80:
            end += 1
    text = rng.choice(SNIPPETS) if rng.random() < 0.8 else ""
    start_pos = doc.position(at)
    doc.apply([TextChange(text, start_pos, doc.position(end))], doc.version + 1)
    if undo:
        old = src[at:end].decode("utf-8")
        back = TextChange(old, start_pos, doc.position(at + len(text.encode())))
        doc.apply([back], doc.version + 1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_incremental_matches_full(path: Path) -> None:
    spec = languages.language_for_path(path.name)
    assert spec is not None
    rng = random.Random(path.name)
    text = path.read_text()
    original = text * max(1, 300 // text.count("\n"))  # small files: a few copies
    doc = Document(path.name, original, 1, spec.name)
    assert doc.tree is not None
    fi = extract.extract(path.name, spec.name, doc.source, doc.tree)
    doc.mark_indexed(fi.digest)
    spliced = 0
    for step in range(60):
        if step % 5 == 0:  # the file as it was (edits kept break the text more and more)
            doc.apply([TextChange(original)], doc.version + 1)
        for _ in range(rng.randint(1, 3)):
            _edit(doc, rng, undo=rng.random() < 0.85)
        assert doc.tree is not None
        span = doc.since(fi.digest)
        full = extract.extract(path.name, spec.name, doc.source, doc.tree)
        before = doc.indexed_source if step % 2 else None  # with the old text, and without
        new = incremental.update(fi, doc.tree, doc.source, span, before) if span else None
        if new is not None:
            spliced += 1
            assert facts(new) == facts(full)
        fi = new or full
        doc.mark_indexed(fi.digest)
    assert spliced >= 8  # the splice is exercised, not only the fall-back


def test_refresh_extracts_only_the_edited_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open document typed into: its index follows without a whole extraction, and says
    what the new text says (a renamed function, the lines after it moved)."""
    from scopewise.index.workspace import WorkspaceIndex

    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(400))
    (tmp_path / "big.py").write_text(body)
    ws = WorkspaceIndex(tmp_path, use_cache=False)
    ws.build()
    doc = Document("big.py", body, 1, "python")
    assert incremental.refresh(ws, "big.py", doc) is ws.get("big.py")  # marks it indexed
    line = 4 * 200
    doc.apply([TextChange("def renamed(x):\n    y = 1\n", (line, 0), (line + 1, 0))], 2)

    def whole(*_: object, **__: object) -> FileIndex:
        raise AssertionError("extracted whole")

    monkeypatch.setattr(extract, "extract", whole)
    fi = incremental.refresh(ws, "big.py", doc)
    monkeypatch.undo()
    assert fi is not None and ws.get("big.py") is fi
    names = {d.name: d.start_line for d in fi.definitions}
    assert names["renamed"] == line and "f200" not in names
    assert names["f201"] == line + 5  # one line more before it
    assert facts(fi) == facts(extract.extract("big.py", "python", doc.source, doc.tree))


def test_a_request_brings_an_edited_buffer_in_by_the_splice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Engine.sync` (what a code action or a run calls first) splices an open buffer's
    edited statements in as the debounced update does, rather than extracting it whole."""
    from scopewise.analysis.engine import Engine

    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(400))
    (tmp_path / "big.py").write_text(body)
    doc = Document("big.py", body, 1, "python")
    engine = Engine(tmp_path, use_cache=False, documents={"big.py": doc}.get)
    engine.index(workers=1)
    engine.sync("big.py")
    doc.apply([TextChange("def renamed(x):\n", (800, 0), (801, 0))], 2)

    def whole(*_: object, **__: object) -> FileIndex:
        raise AssertionError("extracted whole")

    monkeypatch.setattr(extract, "extract", whole)
    engine.sync("big.py")
    monkeypatch.undo()
    fi = engine.workspace.get("big.py")
    assert fi is not None and "renamed" in [d.name for d in fi.definitions]


MISREAD = (
    "interface Finder {\n    find(using: any, name: string): any[];\n}\n\n"  # `using`: an error
)
FUNCS = "".join(f"function f{i}(a: number) {{\n    return a + {i};\n}}\n\n" for i in range(40))


@pytest.mark.parametrize(
    ("text", "spliced"),
    [
        (MISREAD + FUNCS, True),  # the error is statements away from the edit: spliced
        (FUNCS.replace("function f20(", MISREAD + "function f20("), False),  # next to it
    ],
    ids=["far", "adjacent"],
)
def test_a_syntax_error_elsewhere_in_the_file(text: str, spliced: bool) -> None:
    """A line the grammar misreads (TypeScript's parser takes a parameter named `using` for
    a declaration) does not make every keystroke of the file a whole extraction; an error
    next to the edited statement still does (its recovery may reach into it)."""
    doc = Document("m.ts", text, 1, "typescript")
    assert doc.tree is not None and doc.tree.root_node.has_error
    fi = extract.extract("m.ts", "typescript", doc.source, doc.tree)
    doc.mark_indexed(fi.digest)
    line = text.splitlines().index("function f20(a: number) {") + 1
    doc.apply([TextChange("a * 2", (line, 11), (line, 12))], 2)
    span = doc.since(fi.digest)
    assert doc.tree is not None and span is not None
    new = incremental.update(fi, doc.tree, doc.source, span, doc.indexed_source)
    assert (new is not None) == spliced
    if new is not None:
        assert facts(new) == facts(extract.extract("m.ts", "typescript", doc.source, doc.tree))


@pytest.mark.parametrize("path", FILES[:2] + FILES[3:4] + FILES[7:8], ids=lambda p: p.name)
def test_paused_parses_end_as_whole_ones_and_still_splice(path: Path) -> None:
    """A document whose parses pause every few microseconds (`step_s`), typed into while
    paused, resumed a little at a time: once settled, its tree is a whole parse's of the text
    (where the text has no syntax error: elsewhere a reparse's error recovery may differ from
    a fresh parse's, as without pauses) and its index spliced from the changes it knows is a
    whole extraction's."""
    spec = languages.language_for_path(path.name)
    assert spec is not None
    rng = random.Random(path.name)
    original = path.read_text()
    doc = Document(path.name, original, 1, spec.name, parse_limit=30, step_s=1e-5)
    assert doc.parsing and doc.tree is None  # even the first parse pauses
    doc.settle()
    assert doc.tree is not None
    fi = extract.extract(path.name, spec.name, doc.source, doc.tree)
    doc.mark_indexed(fi.digest)
    paused = spliced = compared = 0
    for step in range(30):
        if step % 5 == 0:
            doc.apply([TextChange(original)], doc.version + 1)
        for _ in range(rng.randint(1, 3)):
            _edit(doc, rng, undo=rng.random() < 0.85)
            paused += doc.parsing
            for _ in range(rng.randint(0, 3)):
                doc.resume(1e-5)
        doc.settle()
        assert doc.tree is not None and not doc.parsing
        whole = extract.parse(spec.name, doc.source)
        if not whole.root_node.has_error:
            compared += 1
            assert str(doc.tree.root_node) == str(whole.root_node)
        span = doc.since(fi.digest)
        full = extract.extract(path.name, spec.name, doc.source, doc.tree)
        before = doc.indexed_source
        new = incremental.update(fi, doc.tree, doc.source, span, before) if span else None
        if new is not None:
            spliced += 1
            assert facts(new) == facts(full)
        fi = new or full
        doc.mark_indexed(fi.digest)
    assert paused >= 10 and spliced >= 3 and compared >= 5, (paused, spliced, compared)


def test_a_request_finishes_a_paused_parse(tmp_path: Path) -> None:
    """A keystroke that leaves the parse paused (a long reparse, as after a syntax error):
    a request that needs the tree (`Engine.sync`, through the engine's sources) finishes it
    and sees the text as typed."""
    from scopewise.analysis.engine import Engine

    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(400))
    (tmp_path / "big.py").write_text(body)
    doc = Document("big.py", body, 1, "python", step_s=1e-5)
    doc.settle()
    engine = Engine(tmp_path, use_cache=False, documents={"big.py": doc}.get)
    engine.index(workers=1)
    engine.sync("big.py")
    doc.apply([TextChange("def renamed(x):\n    (", (800, 0), (801, 0))], 2)
    assert doc.parsing and doc.tree is None
    engine.sync("big.py")
    assert not doc.parsing and doc.tree is not None
    fi = engine.workspace.get("big.py")
    assert fi is not None and "renamed" in [d.name for d in fi.definitions]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_what_a_splice_says_it_kept_is_so(path: Path) -> None:
    """A splice says whether the definitions are the ones it was made from (the file table
    and the definitions version then skip their pass) and whether the region says the same
    evidence; the verdicts' shape reuses those parts (`verdicts.reshape`). On keystrokes at
    line ends and random edits, what is reused is what a whole pass makes, it is reused on
    most keystrokes, and the splice is a whole extraction's (an edit whose error recovery
    ends a definition elsewhere — review.ts, step 22 — is extracted whole)."""
    from scopewise.analysis import verdicts

    spec = languages.language_for_path(path.name)
    assert spec is not None
    rng = random.Random(path.name + "kept")
    text = path.read_text()
    original = text * max(1, 300 // text.count("\n"))  # small files: a few copies
    doc = Document(path.name, original, 1, spec.name)
    assert doc.tree is not None
    fi = extract.extract(path.name, spec.name, doc.source, doc.tree)
    doc.mark_indexed(fi.digest)
    seen = (fi.digest, verdicts.shape(fi))
    kept = spliced = 0
    for step in range(40):
        if step % 10 == 0:
            doc.apply([TextChange(original)], doc.version + 1)
        if rng.random() < 0.5:  # a keystroke on its own, as typed
            _keystroke(doc, rng)
        else:
            _edit(doc, rng, undo=rng.random() < 0.5)
        assert doc.tree is not None
        span = doc.since(fi.digest)
        new = (
            incremental.update(fi, doc.tree, doc.source, span, doc.indexed_source) if span else None
        )
        if new is None:
            fi = extract.extract(path.name, spec.name, doc.source, doc.tree)
        else:
            spliced += 1
            how = new.spliced
            assert how is not None and how.source == fi.digest
            named = [(d.name, d.kind, d.parent, d.exported) for d in new.definitions]
            was = [(d.name, d.kind, d.parent, d.exported) for d in fi.definitions]
            assert named == was or not how.same_definitions
            assert verdicts.reshape(new, seen) == verdicts.shape(new)
            whole = extract.extract(path.name, spec.name, doc.source, doc.tree)
            assert facts(new) == facts(whole)  # a syntax error typed in: nothing stale
            fresh = replace(new, _named=None, _top=None, _starts=None)  # nothing kept
            assert new.top_level() == fresh.top_level()  # the lookups it kept are true
            assert all(new.named(d.name) == fresh.named(d.name) for d in new.definitions)
            lines = range(0, new.line_count, 7)
            assert [new.enclosing(n, n) for n in lines] == [fresh.enclosing(n, n) for n in lines]
            kept += how.same_definitions and how.same_evidence
            fi = new
        doc.mark_indexed(fi.digest)
        seen = (fi.digest, verdicts.shape(fi))
    assert spliced >= 5 and kept >= spliced // 3, (spliced, kept)


def _keystroke(doc: Document, rng: random.Random) -> None:
    """One character typed or deleted at the end of a line that has code."""
    lines = doc.text.split("\n")
    row = rng.choice([i for i, line in enumerate(lines) if line.strip()])
    col = len(lines[row].encode("utf-16-le")) // 2
    if rng.random() < 0.5:
        doc.apply([TextChange(rng.choice("xy1 ."), (row, col), (row, col))], doc.version + 1)
        return
    doc.apply([TextChange("", (row, col - 1), (row, col))], doc.version + 1)


def _broken_by_every_child(body: Any, start: int, end: int) -> bool:
    """`incremental._broken` as it was: every child of every level looked at."""
    node, inside = body, (start, end)
    while node is not None:
        if node.is_error or node.is_missing:
            return True
        if node.has_error:
            kids = node.children
            held = [
                i for i, k in enumerate(kids) if k.end_byte > inside[0] and k.start_byte < inside[1]
            ]
            lo, hi = (held[0], held[-1]) if held else (len(kids), -1)
            for i, k in enumerate(kids):
                if not k.has_error or (inside[0] <= k.start_byte and k.end_byte <= inside[1]):
                    continue
                between = kids[min(i, hi) + 1 : max(i, lo)]
                if lo <= i <= hi or not incremental._barrier(between):
                    return True
        inside = node.start_byte, node.end_byte
        node = node.parent
    return False


def test_errors_near_a_region_are_found_by_looking_outwards_alone() -> None:
    """Whether a syntax error lies near a region is decided from the children around it
    (bisection, then outwards to the first whole statement free of errors), not from every
    child of a 1,600-statement body at each keystroke: the same answers as a look at all."""
    rng = random.Random(5)
    breaks = ["(", ")", "{", "}", "x y", ";", "'", "/*", "=>", ""]
    for _ in range(40):
        stmts = [f"  let v{i} = f({i});" for i in range(60)]
        for _ in range(rng.randint(0, 4)):
            i = rng.randrange(len(stmts))
            stmts[i] = stmts[i][: rng.randint(2, 12)] + rng.choice(breaks) + stmts[i][12:]
        for _ in range(rng.randint(0, 3)):
            stmts.insert(rng.randrange(len(stmts)), rng.choice(["", "  // note", "  ;"]))
        src = ("function big() {\n" + "\n".join(stmts) + "\n}\n").encode()
        tree = extract.parse("javascript", src)
        bodies = [n for n in _walk(tree.root_node) if n.type in incremental.BODIES]
        for _ in range(30):
            body = rng.choice(bodies)
            kids = body.children
            if not kids:
                continue
            i = rng.randrange(len(kids))
            j = min(len(kids) - 1, i + rng.randint(0, 3))
            start, end = kids[i].start_byte, kids[j].end_byte
            assert incremental._broken(body, start, end) == _broken_by_every_child(
                body, start, end
            ), (src.decode(), start, end)


def _walk(node: Any) -> list[Any]:
    out = [node]
    for k in node.children:
        out += _walk(k)
    return out


def test_a_splice_away_from_class_headers_keeps_the_names_on_them() -> None:
    """The names on a file's class headers (`head_names`, a pass over every name the file
    uses) carry over a keystroke in a body; a keystroke on a header is looked at again.
    Either way they are what the new index's own pass finds."""
    from scopewise.index.model import header_names

    classes = "".join(
        f"class C{i} extends B{i % 3} {{\n  m{i}(x) {{\n    return x + {i};\n  }}\n}}\n"
        for i in range(20)
    )
    text = classes + "function f(a) {\n  const b = a + 1;\n  return b;\n}\n"
    doc = Document("m.js", text, 1, "javascript")
    fi = extract.extract("m.js", "javascript", doc.source, doc.tree)
    doc.mark_indexed(fi.digest)
    assert fi.head_names() == ["B0", "B1", "B2"]

    def typed(fi: FileIndex, at: tuple[int, int], new: str, end: tuple[int, int]) -> FileIndex:
        doc.apply([TextChange(new, at, end)], doc.version + 1)
        doc.settle()
        now = extract.digest(doc.source)
        span = doc.since(fi.digest)
        assert span is not None
        out = incremental.update(fi, doc.tree, doc.source, span, doc.indexed_source, now)
        assert out is not None and out.spliced is not None and out.spliced.same_definitions
        doc.mark_indexed(now)
        return out

    body = text.split("\n").index("  const b = a + 1;")
    after = typed(fi, (body, 17), " + a", (body, 17))
    assert after._heads is fi._heads  # carried, not worked out again
    assert after.head_names() == header_names(after.definitions, after.refs)
    header = text.split("\n").index("class C4 extends B1 {")
    again = typed(after, (header, 17), "Base", (header, 19))
    assert again._heads is None
    assert again.head_names() == ["B0", "B1", "B2", "Base"]
    assert again.head_names() == header_names(again.definitions, again.refs)

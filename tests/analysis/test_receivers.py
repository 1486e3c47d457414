"""Sites by type evidence: a member's uses are found through what the receiver is (a
constructor call, an annotation, ``with ... as``, ``isinstance``, a return annotation,
``self``), a module function's through the import that binds the module; uses of another
type are left out, and a use with no evidence is a low-confidence candidate."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import CallerSite


def workspace(root: Path, files: dict[str, str]) -> Engine:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    engine = Engine(root, use_cache=False)
    engine.index(workers=1)
    return engine


def sites_of(engine: Engine, path: str, qualified: str) -> dict[tuple[str, int], CallerSite]:
    """(path, 1-based line) -> site, for the definition named `qualified` in `path`."""
    fi = engine.workspace.get(path)
    assert fi is not None
    index = next(i for i in range(len(fi.definitions)) if fi.qualified_name(i) == qualified)
    return {(s.path, s.line + 1): s for s in engine.resolver.callers(fi, index)}


def line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


URLS = """\
    class URL:
        def __init__(self, raw: str) -> None:
            self.raw = raw

        def join(self, other: str) -> "URL":
            return URL(self.raw + other)
"""


def test_a_url_join_is_a_site_and_a_str_join_is_not(tmp_path: Path) -> None:
    engine = workspace(
        tmp_path,
        {
            "web/urls.py": URLS,
            "web/links.py": """\
                from web.urls import URL

                def link(parts: list[str]) -> URL:
                    base = URL("http://example.com/")
                    path = "/".join(parts)
                    return base.join(path)
            """,
        },
    )
    sites = sites_of(engine, "web/urls.py", "URL.join")
    joined = ("web/links.py", line_of(tmp_path, "web/links.py", "base.join"))
    assert sites[joined].certain and sites[joined].confidence == 1.0
    assert "URL(...)" in sites[joined].via
    assert ("web/links.py", line_of(tmp_path, "web/links.py", '"/".join')) not in sites


def test_an_attribute_set_from_a_constructor_types_its_calls(tmp_path: Path) -> None:
    engine = workspace(
        tmp_path,
        {
            "app/client.py": """\
                class Client:
                    def send(self, data: bytes) -> int:
                        return len(data)
            """,
            "app/sync.py": """\
                from app.client import Client

                class Syncer:
                    def __init__(self) -> None:
                        self.client = Client()

                    def push(self, queue) -> None:
                        self.client.send(b"x")
                        queue.send(b"y")
            """,
        },
    )
    sites = sites_of(engine, "app/client.py", "Client.send")
    own = sites[("app/sync.py", line_of(tmp_path, "app/sync.py", "self.client.send"))]
    assert own.certain and own.confidence == 1.0
    # an unknown receiver is listed, after the certain ones, with a stated low confidence
    unknown = sites[("app/sync.py", line_of(tmp_path, "app/sync.py", "queue.send"))]
    assert not unknown.certain and unknown.confidence < 0.5 and unknown.via == "name only"
    assert list(sites.values()).index(own) < list(sites.values()).index(unknown)


def test_with_as_an_annotated_parameter_and_isinstance_type_a_receiver(tmp_path: Path) -> None:
    engine = workspace(
        tmp_path,
        {
            "net/session.py": """\
                class Session:
                    def get(self, url: str) -> str:
                        return url

                    def __enter__(self) -> "Session":
                        return self

                    def __exit__(self, *exc: object) -> None:
                        pass
            """,
            "net/use.py": """\
                from net.session import Session

                def fetch(url: str) -> str:
                    with Session() as s:
                        return s.get(url)

                def fetch_with(session: Session, headers: dict[str, str]) -> str:
                    headers.get("accept")
                    return session.get("/")

                def maybe(thing: object, options: dict[str, str]) -> None:
                    if isinstance(thing, Session):
                        thing.get("/")
                    options.get("a")
            """,
        },
    )
    sites = sites_of(engine, "net/session.py", "Session.get")
    for needle in ("s.get(url)", 'session.get("/")', 'thing.get("/")'):
        site = sites[("net/use.py", line_of(tmp_path, "net/use.py", needle))]
        assert site.certain, needle
    for needle in ('headers.get("accept")', 'options.get("a")'):  # dict's get
        assert ("net/use.py", line_of(tmp_path, "net/use.py", needle)) not in sites


def test_a_call_on_a_returned_instance_is_typed_by_the_return_annotation(tmp_path: Path) -> None:
    engine = workspace(
        tmp_path,
        {
            "lib/urls.py": URLS,
            "lib/factory.py": """\
                from lib.urls import URL

                def make(raw: str) -> URL:
                    return URL(raw)

                def use() -> None:
                    make("a").join("b")
                    u = make("c")
                    u.join("d")
            """,
        },
    )
    sites = sites_of(engine, "lib/urls.py", "URL.join")
    for needle in ('make("a").join', 'u.join("d")'):
        site = sites[("lib/factory.py", line_of(tmp_path, "lib/factory.py", needle))]
        assert site.certain and "make(...)" in site.via, needle


def test_a_module_function_through_a_package_re_export(tmp_path: Path) -> None:
    engine = workspace(
        tmp_path,
        {
            "src/reqs/__init__.py": "from .api import get\n",
            "src/reqs/api.py": """\
                def get(url: str) -> str:
                    return url
            """,
            "src/reqs/sessions.py": """\
                class Session:
                    def get(self, url: str) -> str:
                        return url
            """,
            "tests/test_api.py": """\
                import reqs

                def test_get() -> None:
                    assert reqs.get("x") == "x"
            """,
        },
    )
    sites = sites_of(engine, "src/reqs/api.py", "get")
    call = ("tests/test_api.py", line_of(tmp_path, "tests/test_api.py", 'reqs.get("x")'))
    assert sites[call].certain
    # a method's own `def get` line is no use of the module function
    assert not any(path == "src/reqs/sessions.py" for path, _ in sites)
    # and `reqs.get` (a module's function) is no use of the method
    assert call not in sites_of(engine, "src/reqs/sessions.py", "Session.get")


def test_a_member_declared_in_the_class_and_set_in_init_is_one_member(tmp_path: Path) -> None:
    """requests' Session: `adapters: MutableMapping[...]` in the class body and
    `self.adapters = OrderedDict()` in `__init__` are one member: its uses are certain sites
    of either, not calls of an override."""
    engine = workspace(
        tmp_path,
        {
            ".scopewise.toml": "",
            "sessions.py": """\
                class Session:
                    adapters: dict

                    def __init__(self) -> None:
                        self.adapters = {}

                    def get_adapter(self, url):
                        return self.adapters[url]
                """,
        },
    )
    use = ("sessions.py", line_of(tmp_path, "sessions.py", "return self.adapters"))
    sites = sites_of(engine, "sessions.py", "Session.adapters")  # the class body's
    assert sites[use].certain, sites[use]
    fi = engine.workspace.get("sessions.py")
    assert fi is not None
    attr = next(i for i, d in enumerate(fi.definitions) if d.kind == "attribute")
    sites = {(s.path, s.line + 1): s for s in engine.resolver.callers(fi, attr)}  # __init__'s
    assert sites[use].certain, sites[use]

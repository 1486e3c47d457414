"""One symbol across its declarations in other languages, on cases trimmed from real
projects: redis (C prototypes), vue core (TypeScript overloads), rails (Ruby bare calls to a
helper module's method), logrus (Go interfaces) and gson (Java overrides)."""

from __future__ import annotations

from pathlib import Path

from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import CallerSite
from scopewise.analysis.scope import CONFIDENT


def _engine(root: Path, files: dict[str, str]) -> Engine:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / ".scopewise.toml").write_text("", encoding="utf-8")
    engine = Engine(root, use_cache=False)
    engine.index(workers=1)
    return engine


def _line(engine: Engine, rel: str, needle: str) -> int:
    """1-based line of the first line of `rel` containing `needle`."""
    text = (engine.root / rel).read_text(encoding="utf-8")
    return next(i for i, s in enumerate(text.splitlines(), 1) if needle in s)


def _sites(engine: Engine, rel: str, needle: str) -> dict[tuple[str, int], float]:
    """(path, 1-based line) -> confidence of the uses of the definition named on that line."""
    fi = engine.workspace.get(rel)
    assert fi is not None
    line = _line(engine, rel, needle) - 1
    index = next(i for i, d in enumerate(fi.definitions) if d.name_line == line)
    found: list[CallerSite] = engine.resolver.callers(fi, index)
    return {(s.path, s.line + 1): s.confidence for s in found}


_REDIS = {
    "src/server.h": "typedef struct client client;\nint processCommand(client *c);\n"
    "client *createClient(void *conn);\n",
    "src/functions.h": '#include "server.h"\n',
    "src/server.c": '#include "server.h"\n\nint processCommand(client *c) {\n    return 0;\n}\n',
    "src/networking.c": '#include "server.h"\n\nclient *createClient(void *conn) {\n'
    "    return 0;\n}\n\nint processCommandAndResetClient(client *c) {\n"
    "    if (processCommand(c) == 0) {\n        return 1;\n    }\n    return 0;\n}\n",
    "src/functions.c": '#include "functions.h"\n\nvoid fcall(void) {\n'
    "    client *c = createClient(0);\n}\n",
    "src/redis-benchmark.c": "static int createClient(char *cmd) {\n    return 0;\n}\n\n"
    'int main(void) {\n    return createClient("");\n}\n',
}


def test_c_prototype_and_definition_are_one_symbol(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _REDIS)
    call = ("src/networking.c", 8)
    from_definition = _sites(engine, "src/server.c", "int processCommand")
    assert from_definition[call] == 1.0  # networking.c includes the header that declares it
    assert from_definition[("src/server.h", 2)] == 1.0  # the prototype changes with it
    from_prototype = _sites(engine, "src/server.h", "int processCommand")
    assert from_prototype[call] == 1.0 and ("src/server.c", 3) in from_prototype
    scope = engine.scope("src/server.c", 3, 5)
    assert scope.fan_in == 2 and scope.fan_in_files == 2  # redis showed 0


def test_c_callers_through_headers_and_not_another_programs_static(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _REDIS)
    sites = _sites(engine, "src/networking.c", "client *createClient")
    assert sites[("src/functions.c", 4)] == 1.0  # through functions.h, which includes server.h
    assert not any(path == "src/redis-benchmark.c" for path, _ in sites)


_VUE = {
    "packages/reactivity/src/ref.ts": "export function ref<T>(value: T): Ref<T>\n"
    "export function ref<T = any>(): Ref<T | undefined>\n"
    "export function ref(value?: unknown) {\n  return createRef(value, false)\n}\n"
    "export interface Ref<T = any> {\n  value: T\n}\n",
    "packages/runtime-core/src/apiCreateApp.ts": "export interface App {\n"
    "  use<Options extends unknown[]>(plugin: Plugin, ...options: Options): this\n"
    "  use<Options>(plugin: Plugin, options: Options): this\n}\n",
    "packages/runtime-core/src/compat/other.ts": "export function use(x: number) {\n"
    "  return x\n}\n",
    "packages/runtime-core/src/plugin.ts": "import { ref } from 'vue'\n"
    "export function install(app: App) {\n  app.use(router)\n  const a = ref(1)\n"
    "  const b = ref<number>()\n  return [a, b]\n}\n",
}


def test_typescript_overloads_are_one_symbol(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _VUE)
    ref = "packages/reactivity/src/ref.ts"
    for needle in ("ref<T>(value", "ref<T = any>", "ref(value?"):
        sites = _sites(engine, ref, needle)
        uses = {k: c for k, c in sites.items() if k[0] != ref}
        plugin = "packages/runtime-core/src/plugin.ts"
        assert uses == {(plugin, 1): 0.8, (plugin, 4): 0.8, (plugin, 5): 0.8}
        assert len([k for k in sites if k[0] == ref]) == 2  # the other two declarations
    whole = engine.scope(ref, 1, 5)  # every overload and the implementation
    assert whole.fan_in == 2  # the symbol's uses (0.8 each), once each


def test_typescript_method_overloads_are_one_symbol(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _VUE)
    sites = _sites(engine, "packages/runtime-core/src/apiCreateApp.ts", "use<Options>(")
    # `use` has two declarations of App's and one unrelated function: a use is App's by half
    assert sites[("packages/runtime-core/src/plugin.ts", 3)] >= 0.3
    assert sites[("packages/runtime-core/src/apiCreateApp.ts", 2)] == 1.0


def test_typescript_class_and_namespace_merge(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path,
        {
            "a.ts": "export class Merged {}\nexport namespace Merged {\n  export const x = 1\n}\n",
            "b.ts": "import { Merged } from './a'\nconst m = new Merged()\n",
        },
    )
    sites = _sites(engine, "a.ts", "namespace Merged")
    assert sites == {("a.ts", 1): 1.0, ("b.ts", 1): 1.0, ("b.ts", 2): 1.0}


_RAILS = {
    "actionview/lib/action_view/helpers/navigation_helper.rb": "module ActionView\n"
    "  module Helpers\n    module NavigationHelper\n"
    "      def link_to(name = nil, options = nil, html_options = nil, &block)\n"
    "        content_tag('a', name)\n      end\n\n"
    "      def link_to_unless(condition, name, options = {}, html_options = {}, &block)\n"
    "        link_to_if !condition, name, options, html_options, &block\n      end\n\n"
    "      def link_to_if(condition, name, options = {}, html_options = {}, &block)\n"
    "        if condition\n          link_to(name, options, html_options)\n        end\n"
    "      end\n    end\n  end\nend\n",
    "actionview/test/template/navigation_helper_test.rb": "class UrlHelperTest < Minitest\n"
    "  include ActionView::Helpers::NavigationHelper\n\n  def test_link_tag_with_straight_url\n"
    '    assert_dom_equal %{<a href="http://www.example.com">Hello</a>}, '
    'link_to("Hello", "http://www.example.com")\n'
    "  end\n\n  def test_link_tag_without_parens\n"
    '    link_to "Hello", "http://www.example.com"\n  end\nend\n',
    "actionview/test/template/text_helper_test.rb": "class TextHelperTest < ActionView::TestCase\n"
    "  def test_truncate_with_block\n"
    '    truncate("Here is a long test", length: 27) { link_to "Continue", "#" }\n'
    "  end\nend\n",
    "tools/preview_docs.rb": "class Preview\n  def link_to(name, url)\n"
    '    "<a href=#{url}>#{name}</a>"\n  end\n\n  def render\n'
    '    link_to "x", "y"\n  end\nend\n',
}


def test_ruby_bare_calls_to_a_module_method_are_uses(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _RAILS)
    helper = "actionview/lib/action_view/helpers/navigation_helper.rb"
    sites = _sites(engine, helper, "def link_to(")
    test = "actionview/test/template/navigation_helper_test.rb"
    assert sites[(test, 5)] == 1.0 and sites[(test, 9)] == 1.0  # the test includes the module
    assert sites[(helper, 14)] == 1.0  # `link_to(...)` in the module itself
    assert 0 < sites[("actionview/test/template/text_helper_test.rb", 3)] < CONFIDENT
    assert not any(path == "tools/preview_docs.rb" for path, _ in sites)  # its own link_to


_LOGRUS = {
    "formatter.go": "package logrus\n\ntype Formatter interface {\n"
    "\tFormat(*Entry) ([]byte, error)\n}\n",
    "text_formatter.go": "package logrus\n\ntype TextFormatter struct{}\n\n"
    "func (f *TextFormatter) Format(entry *Entry) ([]byte, error) {\n\treturn nil, nil\n}\n",
    "json_formatter.go": "package logrus\n\ntype JSONFormatter struct{}\n\n"
    "func (f *JSONFormatter) Format(entry *Entry) ([]byte, error) {\n\treturn nil, nil\n}\n",
    "entry.go": "package logrus\n\ntype Entry struct{ Logger *Logger }\n\n"
    "func (entry *Entry) Bytes() ([]byte, error) {\n"
    "\treturn entry.Logger.Formatter.Format(entry)\n}\n",
    "hooks.go": "package logrus\n\ntype Hook interface {\n\tLevels() []Level\n"
    "\tFire(*Entry) error\n}\n",
    "hooks/syslog/syslog.go": 'package syslog\n\nimport "github.com/sirupsen/logrus"\n\n'
    "type SyslogHook struct{}\n\nfunc (hook *SyslogHook) Fire(entry *logrus.Entry) error {\n"
    "\treturn nil\n}\n\nfunc (hook *SyslogHook) Levels() []logrus.Level {\n\treturn nil\n}\n",
    "hooks/half/half.go": "package half\n\ntype HalfHook struct{}\n\n"
    "func (hook *HalfHook) Fire(entry *Entry) error {\n\treturn nil\n}\n",
}


def test_go_interface_method_involves_the_implementations(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _LOGRUS)
    sites = _sites(engine, "formatter.go", "Format(*Entry)")
    assert sites[("text_formatter.go", 5)] == 1.0 and sites[("json_formatter.go", 5)] == 1.0
    assert sites[("entry.go", 6)] >= CONFIDENT
    hooks = _sites(engine, "hooks.go", "Fire(*Entry)")
    assert hooks[("hooks/syslog/syslog.go", 7)] == 1.0  # Fire and Levels: a Hook
    assert ("hooks/half/half.go", 5) not in hooks  # no Levels: not a Hook
    back = _sites(engine, "text_formatter.go", "Format(entry")
    assert back[("formatter.go", 4)] == 1.0  # the interface method it implements


_GSON = {
    "gson/src/main/java/com/google/gson/TypeAdapter.java": "package com.google.gson;\n\n"
    "public abstract class TypeAdapter<T> {\n"
    "  public abstract void write(JsonWriter out, T value) throws IOException;\n\n"
    "  public final String toJson(T value) {\n    write(null, value);\n    return null;\n  }\n}\n",
    "gson/src/main/java/com/google/gson/internal/bind/DateTypeAdapter.java": (
        "package com.google.gson.internal.bind;\n\nimport com.google.gson.TypeAdapter;\n\n"
        "public final class DateTypeAdapter extends TypeAdapter<Date> {\n  @Override\n"
        "  public void write(JsonWriter out, Date value) throws IOException {\n"
        "    out.value(value.toString());\n  }\n}\n"
    ),
    "gson/src/main/java/com/google/gson/internal/bind/Writer.java": (
        "package com.google.gson.internal.bind;\n\npublic final class Writer {\n"
        "  public void write(String s) {\n  }\n}\n"
    ),
}


def test_java_overrides_are_part_of_the_method(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _GSON)
    base = "gson/src/main/java/com/google/gson/TypeAdapter.java"
    sub = "gson/src/main/java/com/google/gson/internal/bind/DateTypeAdapter.java"
    sites = _sites(engine, base, "abstract void write")
    assert sites[(sub, 7)] == 1.0  # the override, through the import
    assert not any(p.endswith("Writer.java") for p, _ in sites)
    assert _sites(engine, sub, "public void write")[(base, 4)] == 1.0  # what it overrides

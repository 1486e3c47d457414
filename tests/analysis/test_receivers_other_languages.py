"""Sites by declared types outside Python (cases trimmed from spf13/cobra, google/gson and
vuejs/core): a method's uses are certain where the receiver's declared type, constructor,
Go method receiver, field or return type says it is the method's class; uses on another type
(a library's ``FlagSet``, ``List``, ``document``, a ``string[]``) are left out; a use with no
evidence stays a candidate."""

from __future__ import annotations

from pathlib import Path

from test_receivers import workspace

from scopewise.analysis.engine import Engine
from scopewise.analysis.resolve import CallerSite


def sites_of(engine: Engine, rel: str, needle: str) -> dict[tuple[str, int], CallerSite]:
    """(path, 1-based line) -> site, for the definition named on the first line of `rel`
    that holds `needle`."""
    fi = engine.workspace.get(rel)
    assert fi is not None
    line = line_of(engine, rel, needle) - 1
    index = next(i for i, d in enumerate(fi.definitions) if d.name_line == line)
    return {(s.path, s.line + 1): s for s in engine.resolver.callers(fi, index)}


def line_of(engine: Engine, rel: str, needle: str) -> int:
    lines = (engine.root / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if needle in text)


COBRA = {
    "go.mod": "module github.com/spf13/cobra\n",
    "command.go": """\
        package cobra

        import flag "github.com/spf13/pflag"

        type Command struct {
            parent *Command
            flags  *flag.FlagSet
        }

        func (c *Command) Root() *Command {
            if c.HasParent() {
                return c.parent
            }
            return c
        }

        func (c *Command) HasParent() bool { return c.parent != nil }

        func (c *Command) Parent() *Command { return c.parent }

        func (c *Command) Flags() *flag.FlagSet { return c.flags }

        func (c *Command) HasAvailableFlags() bool {
            return c.Flags().HasAvailableFlags()
        }
    """,
    "doc/md_docs.go": """\
        package doc

        import "github.com/spf13/cobra"

        func printOptions(cmd *cobra.Command) bool {
            flags := cmd.NonInheritedFlags()
            if flags.HasAvailableFlags() {
                return cmd.HasAvailableFlags()
            }
            root := cobra.NewRoot()
            return root.HasParent()
        }
    """,
    "cobra.go": """\
        package cobra

        func NewRoot() *Command { return &Command{} }

        func Top(c *Command) *Command { return c.Parent().Root() }
    """,
}


def test_go_receivers_types_and_returns(tmp_path: Path) -> None:
    engine = workspace(tmp_path, COBRA)
    root = sites_of(engine, "command.go", "func (c *Command) Root()")
    inner = ("cobra.go", line_of(engine, "cobra.go", "c.Parent().Root()"))
    assert root[inner].certain  # Parent() is declared to return a *Command
    flags = sites_of(engine, "command.go", "func (c *Command) HasAvailableFlags")
    doc = "doc/md_docs.go"
    assert flags[(doc, line_of(engine, doc, "cmd.HasAvailableFlags"))].certain
    # pflag's FlagSet has a method of the name: not this one
    assert ("command.go", line_of(engine, "command.go", "c.Flags().HasAvailable")) not in flags
    parent = sites_of(engine, "command.go", "func (c *Command) HasParent")
    assert parent[("command.go", line_of(engine, "command.go", "c.HasParent()"))].certain
    assert parent[(doc, line_of(engine, doc, "root.HasParent()"))].certain  # NewRoot() *Command


GSON = {
    "gson/src/main/java/com/google/gson/GsonBuilder.java": """\
        package com.google.gson;

        import java.util.ArrayList;
        import java.util.List;

        public final class GsonBuilder {
          private final List<Object> factories = new ArrayList<>();

          public GsonBuilder setDateFormat(String pattern) {
            factories.add(pattern);
            return this;
          }

          public GsonBuilder add(Object factory) {
            return this;
          }
        }
    """,
    "gson/src/test/java/com/google/gson/GsonBuilderTest.java": """\
        package com.google.gson;

        import com.fasterxml.jackson.databind.ObjectMapper;

        public class GsonBuilderTest {
          private final GsonBuilder shared = new GsonBuilder();

          public void testDateFormat(Object value) {
            GsonBuilder builder = new GsonBuilder();
            builder.setDateFormat("yyyy");
            shared.setDateFormat("MM").add(value);
            ObjectMapper mapper = new ObjectMapper();
            mapper.setDateFormat("dd");
            if (value instanceof GsonBuilder) {
              ((GsonBuilder) value).add(value);
            }
          }
        }
    """,
}


def test_java_declared_types_in_the_same_package_across_source_roots(tmp_path: Path) -> None:
    engine = workspace(tmp_path, GSON)
    main = "gson/src/main/java/com/google/gson/GsonBuilder.java"
    test = "gson/src/test/java/com/google/gson/GsonBuilderTest.java"
    fmt = sites_of(engine, main, "public GsonBuilder setDateFormat")
    assert fmt[(test, line_of(engine, test, "builder.setDateFormat"))].certain
    assert fmt[(test, line_of(engine, test, "shared.setDateFormat"))].certain  # a field
    assert (test, line_of(engine, test, "mapper.setDateFormat")) not in fmt  # Jackson's
    add = sites_of(engine, main, "public GsonBuilder add")
    assert (main, line_of(engine, main, "factories.add")) not in add  # a List's
    # setDateFormat returns a GsonBuilder: the chained call is this one
    assert add[(test, line_of(engine, test, 'shared.setDateFormat("MM").add'))].certain


VUE = {
    "packages/compiler-core/src/codegen.ts": """\
        import { Client } from './client'

        export interface CodegenContext {
          push(code: string): void
        }

        export class Printer {
          constructor(private client: Client) {}

          run(context: CodegenContext, modifiers: string): void {
            const keyModifiers: string[] = []
            keyModifiers.push(modifiers)
            context.push(modifiers)
            this.client.send(modifiers)
          }
        }
    """,
    "packages/compiler-core/src/client.ts": """\
        export class Client {
          send(data: string): number {
            return data.length
          }
          createElement(tag: string): string {
            return tag
          }
        }
    """,
    "packages/runtime-test/src/nodeOps.ts": """\
        export const nodeOps = {
          createElement: (tag: string): string => tag,
        }
    """,
    "packages/runtime-core/__tests__/render.spec.ts": """\
        import { nodeOps } from '@vue/runtime-test'
        import { Client } from '../../compiler-core/src/client'

        export function mount(client: Client | undefined): void {
          const root = document.createElement('div')
          const other = nodeOps.createElement('div')
          client!.createElement('p')
          const made = new Client()
          made.send('x')
        }
    """,
}


def test_typescript_parameter_properties_declared_types_and_globals(tmp_path: Path) -> None:
    engine = workspace(tmp_path, VUE)
    client = "packages/compiler-core/src/client.ts"
    codegen = "packages/compiler-core/src/codegen.ts"
    spec = "packages/runtime-core/__tests__/render.spec.ts"
    send = sites_of(engine, client, "send(data")
    assert send[(codegen, line_of(engine, codegen, "this.client.send"))].certain
    assert send[(spec, line_of(engine, spec, "made.send"))].certain
    push = sites_of(engine, codegen, "push(code")
    assert push[(codegen, line_of(engine, codegen, "context.push"))].certain
    assert (codegen, line_of(engine, codegen, "keyModifiers.push")) not in push  # an array's
    create = sites_of(engine, client, "createElement(tag")
    assert create[(spec, line_of(engine, spec, "client!.createElement"))].certain
    assert (spec, line_of(engine, spec, "document.createElement")) not in create  # the DOM's
    # a name imported through a package alias the index cannot follow: still a candidate
    other = create[(spec, line_of(engine, spec, "nodeOps.createElement"))]
    assert not other.certain and other.confidence > 0

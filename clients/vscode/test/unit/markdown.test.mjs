// Unit test of src/markdown.ts under plain node: the explanation panel's renderer keeps the
// model's text as data (escaped, no tags or attributes of its own) and renders the Markdown.
// Run: `npm run test:unit`.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scopewise-markdown-"));
const out = path.join(dir, "markdown.mjs");
after(() => fs.rmSync(dir, { recursive: true, force: true }));
await esbuild.build({
  entryPoints: [path.join(here, "..", "..", "src", "markdown.ts")],
  outfile: out,
  format: "esm",
  platform: "node",
  logLevel: "warning",
});
const { renderMarkdown } = await import(pathToFileURL(out).href);

test("the model's HTML stays text: no script, no element, no attribute of its own", () => {
  const html = renderMarkdown(
    '<script>alert(1)</script>\n<img src=x onerror="alert(2)">\n[click](javascript:alert(3))\n' +
      "`<b>`\n```\n</code></pre><script>x()</script>\n```",
  );
  const tags = [...html.matchAll(/<\/?([a-z0-9]+)([^>]*)>/gi)];
  const allowed = new Set(["p", "span", "code", "pre"]);
  for (const [, name, attrs] of tags) {
    assert.ok(allowed.has(name), `<${name}> in ${html}`);
    assert.ok(attrs === "" || /^ class="(link|target)"$/.test(attrs), `attributes ${attrs} in ${html}`);
  }
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), html);
  assert.ok(html.includes("<code>&lt;b&gt;</code>"), html);
  assert.ok(html.includes("<span class=\"link\">click</span>"), html);
});

test("Markdown renders: headings, emphasis, code, lists, quotes", () => {
  const html = renderMarkdown(
    "# Explain · shop/pricing.py:29-32\n\n*quick · $0.0010*\n\n> why this tier\n\n" +
      "`apply_discount` **clamps** the rate.\n\n- one\n- two\n\n1. first\n\n```python\nx = 1 < 2\n```\n",
  );
  assert.ok(html.includes("<h1>Explain · shop/pricing.py:29-32</h1>"), html);
  assert.ok(html.includes("<em>quick · $0.0010</em>"), html);
  assert.ok(html.includes("<blockquote>why this tier</blockquote>"), html);
  assert.ok(html.includes("<p><code>apply_discount</code> <strong>clamps</strong> the rate.</p>"), html);
  assert.ok(html.includes("<ul>\n<li>one</li>\n<li>two</li>\n</ul>"), html);
  assert.ok(html.includes("<ol>\n<li>first</li>\n</ol>"), html);
  assert.ok(html.includes("<pre><code>x = 1 &lt; 2</code></pre>"), html);
});

test("text cut mid-block still renders what arrived", () => {
  const html = renderMarkdown("Before.\n\n```\nhalf a code blo");
  assert.ok(html.includes("<pre><code>half a code blo</code></pre>"), html);
});

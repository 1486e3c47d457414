// Unit test of src/choose.ts under plain node (no VS Code): the server's answer to
// `scopewise.choices` read defensively, and one quick-pick row per choice.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scopewise-choose-"));
const out = path.join(dir, "choose.mjs");
after(() => fs.rmSync(dir, { recursive: true, force: true }));
await esbuild.build({
  entryPoints: [path.join(here, "..", "..", "src", "choose.ts")],
  outfile: out,
  format: "esm",
  platform: "node",
  logLevel: "warning",
});
const { asChoices, rows, title } = await import(pathToFileURL(out).href);

const answer = {
  question: "scopewise: Refactor lines 18–65 of a.py: which change?",
  choices: [
    { title: "simplify · quick: a short body · <$0.01", reason: "simplify · body of 3 lines → quick", data: { action: "refactor", intent: "simplify" } },
    { title: "improve names · standard: 7 sites in 3 files · ~$0.02", reason: "interface used at 7 sites", data: { intent: "improve_names" } },
  ],
};

test("a row per choice: the name, then tier and cost, then why (the name not said twice)", () => {
  const got = rows(asChoices(answer).choices);
  assert.deepEqual(got.map((r) => [r.label, r.description, r.detail]), [
    ["simplify", "quick: a short body · <$0.01", "body of 3 lines → quick"],
    ["improve names", "standard: 7 sites in 3 files · ~$0.02", "interface used at 7 sites"],
  ]);
  assert.deepEqual(got[1].choice.data, { intent: "improve_names" }); // what scopewise.run gets
  assert.equal(title(answer), "scopewise: Refactor lines 18–65 of a.py: which change?");
});

test("a refusal or anything else is not a question: nothing is asked", () => {
  assert.equal(asChoices({ applied: false, reason: "no workspace folder is open" }), undefined);
  assert.equal(asChoices(null), undefined);
  assert.equal(asChoices({ question: "q", choices: "no" }), undefined);
  // a malformed choice is left out, the rest kept
  const some = asChoices({ question: "q", choices: [null, { title: 3 }, answer.choices[0]] });
  assert.deepEqual(some.choices.map((c) => c.title), [answer.choices[0].title]);
});

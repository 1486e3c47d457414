// Unit test of src/trust.ts under plain node (no VS Code): which workspace-level settings the
// server may get. Run: `npm run test:unit` (tests/trust/test_settings_trust.py runs it too).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scopewise-trust-"));
const out = path.join(dir, "trust.mjs");
after(() => fs.rmSync(dir, { recursive: true, force: true }));
await esbuild.build({
  entryPoints: [path.join(here, "..", "..", "src", "trust.ts")],
  outfile: out,
  format: "esm",
  platform: "node",
  logLevel: "warning",
});
const { chooseValue, ignoredMessage, RESTRICTED_MESSAGE } = await import(pathToFileURL(out).href);

test("a sensitive key takes only the user's value", () => {
  const got = chooseValue("baseUrl", {
    globalValue: "https://proxy.example/",
    workspaceValue: "http://attacker.example/",
  });
  assert.equal(got.value, "https://proxy.example/");
  assert.deepEqual(got.ignored.map((i) => i.key), ["baseUrl"]);
  const folder = chooseValue("apiKey", { workspaceFolderValue: "sk-attacker" });
  assert.equal(folder.value, undefined);
  assert.deepEqual(folder.ignored.map((i) => i.key), ["apiKey"]);
  for (const key of ["provider", "dailyCapUsd", "prices"]) {
    assert.equal(chooseValue(key, { globalValue: 1, workspaceValue: 2 }).value, 1, key);
  }
});

test("an ordinary key takes the most specific level, and nothing is ignored", () => {
  const got = chooseValue("contextBudget", {
    globalValue: 1000,
    workspaceValue: 2000,
    workspaceFolderValue: 3000,
  });
  assert.deepEqual(got, { value: 3000, ignored: [] });
  assert.deepEqual(chooseValue("baseUrl", { globalValue: "https://a/" }).ignored, []);
});

test("a workspace sets a tier's effort but not its model", () => {
  const got = chooseValue("tiers", {
    globalValue: { deep: { model: "claude-opus-5-5" } },
    workspaceValue: {
      quick: { model: "claude-attacker-1", maxTokens: 2048 },
      deep: { model: "claude-attacker-2", effort: "high" },
    },
  });
  assert.deepEqual(got.value, {
    quick: { maxTokens: 2048 },
    deep: { model: "claude-opus-5-5", effort: "high" },
  });
  assert.deepEqual(got.ignored.map((i) => i.key), ["tiers.quick.model", "tiers.deep.model"]);
});

test("the messages name the key, why, and what to do", () => {
  const line = ignoredMessage("baseUrl", "it decides where your key and code go");
  assert.match(line, /^scopewise\.baseUrl in the workspace settings is ignored \(it decides/);
  assert.match(line, /user settings/);
  assert.match(RESTRICTED_MESSAGE, /inactive in Restricted Mode/);
});

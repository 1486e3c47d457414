// Unit test of src/proposal.ts under plain node (no VS Code): a proposal is checked as it
// arrives, and the proposed text of a file holds exactly the hunks not rejected, laid over
// the file's current text. Run: `npm run test:unit`.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scopewise-proposal-"));
const out = path.join(dir, "proposal.mjs");
after(() => fs.rmSync(dir, { recursive: true, force: true }));
await esbuild.build({
  entryPoints: [path.join(here, "..", "..", "src", "proposal.ts")],
  outfile: out,
  format: "esm",
  platform: "node",
  logLevel: "warning",
});
const { layOut, parseProposal, parseApplyResult, revisePrompt, instructionProblem } = await import(
  pathToFileURL(out).href
);

const FILE = "def f(x):\n    a = 1\n    b = 2\n    return a + b\n\n\ndef g():\n    return 3\n";
const hunks = [
  { id: 1, start: 2, old_lines: ["    a = 1"], new_lines: ["    a = 10", "    # ten"] },
  { id: 2, start: 8, old_lines: ["    return 3"], new_lines: ["    return 30"] },
];
const proposal = {
  id: "p1", title: "Refactor: 2 changes in 1 file (quick, $0.01)", label: "l", summary: "s",
  files: [{ path: "m.py", uri: "file:///w/m.py", version: 3, hunks }], leftovers: [], tests: [],
};

test("every hunk included: the proposed text has every change, placed where it lands", () => {
  const got = layOut(FILE, hunks, () => true);
  assert.equal(got.text, FILE.replace("    a = 1\n", "    a = 10\n    # ten\n").replace("return 3", "return 30"));
  assert.deepEqual(got.placed.map((p) => [p.hunk.id, p.line, p.count]), [[1, 1, 2], [2, 8, 1]]);
  assert.deepEqual(got.stale, []);
});

test("a rejected hunk leaves its lines as they are", () => {
  const got = layOut(FILE, hunks, (id) => id === 2);
  assert.equal(got.text, FILE.replace("return 3", "return 30"));
  assert.equal(got.placed[0].included, false);
});

test("lines added above since the proposal: the hunks move with their text", () => {
  const moved = "import os\nimport sys\n" + FILE;
  const got = layOut(moved, hunks, () => true);
  assert.equal(got.text, moved.replace("    a = 1\n", "    a = 10\n    # ten\n").replace("return 3", "return 30"));
  assert.deepEqual(got.stale, []);
});

test("a hunk whose old text is gone is stale, the others still apply", () => {
  const edited = FILE.replace("    return 3", "    return 4");
  const got = layOut(edited, hunks, () => true);
  assert.deepEqual(got.stale, [2]);
  assert.ok(got.text.includes("    return 4") && got.text.includes("    a = 10"));
});

test("CRLF files keep CRLF", () => {
  const got = layOut(FILE.replace(/\n/g, "\r\n"), hunks, () => true);
  assert.ok(got.text.includes("    a = 10\r\n    # ten\r\n"));
});

test("a proposal is checked as it arrives", () => {
  assert.equal(parseProposal(proposal).files[0].hunks.length, 2);
  assert.equal(parseProposal({ ...proposal, id: 3 }), undefined);
  const twice = { ...proposal, files: [{ ...proposal.files[0], hunks: [hunks[0], { ...hunks[1], id: 1 }] }] };
  assert.equal(parseProposal(twice), undefined, "a repeated hunk id");
  // the model's text is kept as text
  const odd = { ...proposal, title: "$(alert) [x](command:workbench.action.terminal.new)" };
  assert.equal(parseProposal(odd).title, odd.title);
});

test("the apply result keeps ids and reasons only", () => {
  assert.deepEqual(parseApplyResult({ applied: [1, "x"], refused: [{ hunk: 2, reason: "changed" }, {}], files: ["m.py"] }), {
    applied: [1], refused: [{ hunk: 2, reason: "changed" }], files: ["m.py"],
  });
});

test("model text shown in a notification or a CodeLens is inert", async () => {
  const { plainText } = await import(pathToFileURL(out).href);
  const s = plainText("see [here](command:workbench.action.terminal.new) $(alert)\nnext");
  assert.ok(!s.includes("](") && !s.includes("$(") && !s.includes("\n"), s);
});

test("a hunk with context: its stat and first line count the changed lines only", async () => {
  const { hunkStat, firstChanged } = await import(pathToFileURL(out).href);
  const h = { id: 1, start: 10, old_lines: ["a", "b", "old", "c"], new_lines: ["a", "b", "new", "new2", "c"] };
  assert.equal(hunkStat(h), "+2 −1");
  assert.equal(firstChanged(h), 12);
});

test("Revise…: the cost in the prompt, what it supersedes, a bad instruction named", () => {
  const revised = parseProposal({ ...proposal, id: "p2", supersedes: "p1", revise: { tier: "standard", usd: 0.0042, cached: true } });
  assert.equal(revised.supersedes, "p1");
  assert.equal(revisePrompt(revised.revise), "Revise… (standard, ~$0.004, cached)");
  assert.equal(revisePrompt({ tier: "deep", usd: 0.031, cached: false }), "Revise… (deep, ~$0.03)");
  // asked after the prompt cache has let the prefix go: the uncached estimate, not "cached"
  const later = parseProposal({ ...proposal, revise: { tier: "standard", usd: 0.0042, cached: true, cachedUntil: 1000, uncachedUsd: 0.031 } }).revise;
  assert.equal(revisePrompt(later, 999), "Revise… (standard, ~$0.004, cached)");
  assert.equal(revisePrompt(later, 1001), "Revise… (standard, ~$0.03)");
  assert.equal(parseProposal(proposal).revise, undefined); // not revisable: no button
  assert.equal(parseProposal({ ...proposal, revise: { tier: "quick", usd: -1 } }).revise, undefined);
  assert.equal(instructionProblem("keep the old name"), undefined);
  assert.match(instructionProblem("   "), /say how to revise/);
  assert.match(instructionProblem("x".repeat(501)), /at most 500/);
});

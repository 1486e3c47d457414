// The new-user walkthrough in real VS Code (code-server + headless Chromium), run by
// tests/benchmarks/walkthrough.py through run.sh (E2E_SCRIPT=walkthrough.mjs): on a small real
// project, with the default settings, what a new user does — open a file, the lightbulb and
// the Quick Fix menu (tier and cost), Explain (streamed in the panel), Refactor… → the intent
// (a quick pick) → the review → accept one hunk → Apply → one Ctrl+Z. Each step saves
// a screenshot in the log folder and prints one line
//   WALK<TAB>step<TAB>what is seen<TAB>elapsed ms<TAB>screenshot
// timed from the user's action to what the step shows. Env: WALK_PROJECT (the project to
// copy), WALK_CONFIG (JSON: file, line and a text on it (seen), the line of the edited definition
// (defLine), intent, old, new, explanation, chunks, delay, refactor).
import * as fs from "node:fs";
import * as path from "node:path";
import {
  LOGS, WORK, log, FakeApi, check, palette, editorText, openFile, goToLine, waitUntil, menuRows,
  REVIEW_ROWS, hunkRow, decideHunk, notifications, explanationPanel, launch, url, cleanup,
} from "./workbench.mjs";

const CFG = JSON.parse(process.env.WALK_CONFIG ?? "{}");
const PROJECT = process.env.WALK_PROJECT;
const rows = [];

async function walk(page, n, name, seen, since) {
  const shot = `walk-${n}-${name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/-+$/, "")}.png`;
  const ms = Date.now() - since;
  await page.screenshot({ path: path.join(LOGS, shot) });
  const text = String(seen).replace(/\s+/g, " ").trim();
  rows.push([name, text, ms, shot]);
  console.log(["WALK", name, text, ms, path.join(LOGS, shot)].join("\t"));
}

/** Go to a line of the active editor; wait until the lines in view hold `text`. */
async function lineShows(page, line, text) {
  await goToLine(page, line);
  await waitUntil(async () => (await editorText(page)).includes(text), `line ${line} does not show ${text}`);
}

const rowTexts = async (page) => (await page.locator(REVIEW_ROWS).allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());

async function main() {
  check(PROJECT && CFG.file, "WALK_PROJECT and WALK_CONFIG are not set (run tests/benchmarks/walkthrough.py)");
  fs.mkdirSync(LOGS, { recursive: true });
  const ws = path.join(WORK, "ws");
  fs.cpSync(PROJECT, ws, { recursive: true });
  const file = path.join(ws, CFG.file);
  const name = path.basename(CFG.file);
  const before = fs.readFileSync(file, "utf8");
  const api = new FakeApi();
  const { base_url } = await api.next();
  await api.send({ push: CFG.explanation, chunks: CFG.chunks, delay: CFG.delay });
  await api.send({ push: CFG.refactor });
  // a new user's settings (none of scopewise's but the server's path) and scopewise on PATH
  const wb = await launch(ws, base_url, {}, { serverOnPath: true });
  const { page, browser, consoleLines } = wb;
  try {
    await page.goto(url(wb, ws));
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    log("workbench loaded");

    // 1. open the file: the extension starts the server, which indexes the project
    let t = Date.now();
    await openFile(page, CFG.file, CFG.old.trim());
    await waitUntil(() => wb.clientStarted, "the language client did not start", 60000);
    const status = await waitUntil(async () => {
      const s = (await page.locator(".statusbar-item").allInnerTexts()).find((x) => /scopewise/.test(x));
      return s && !/indexing/i.test(s) ? s : false;
    }, "no scopewise status-bar item", 60000);
    await walk(page, 1, `open ${CFG.file}`, `the file; status bar: ${status}`, t);

    // 2. the lightbulb at the line, and the Quick Fix menu
    await goToLine(page, CFG.line);
    t = Date.now();
    const bulb = await waitUntil(async () => (await page.locator(".lightBulbWidget .codicon, .lightBulbWidget").count()) > 0, "no lightbulb", 15000).catch(() => false);
    let menu = await menuRows(page);
    await walk(page, 2, "lightbulb and Quick Fix menu", `${bulb ? "lightbulb shown; " : "no lightbulb; "}${menu.texts.join(" | ")}`, t);

    // 3. Explain: the panel shows text while it is written, then the document
    const explain = menu.texts.findIndex((x) => /^Explain · /.test(x) && !/ instead of /.test(x));
    check(explain >= 0, `no Explain row: ${menu.texts.join(" | ")}`);
    t = Date.now();
    await menu.rows.nth(explain).click();
    const early = await waitUntil(async () => {
      const p = await explanationPanel(page);
      return p.text.trim() ? p : false; // its state says whether it was still being written
    }, "no text in the explanation panel", 60000);
    await walk(page, 3, "Explain: first text in the panel", `${early.state} · ${early.text.length} chars`, t);
    const done = await waitUntil(async () => {
      const p = await explanationPanel(page);
      return p.state.includes("done") ? p : false;
    }, "the explanation did not finish", 60000);
    await walk(page, 4, "Explain: the whole explanation", `${done.state} · ${done.text.length} chars`, t);
    const panelTab = page.locator(".tabs-container .tab", { hasText: "scopewise: explanation" });
    while (await panelTab.count()) {
      await panelTab.first().hover();
      await panelTab.first().locator(".tab-actions .action-label").first().click();
    }

    // 4. Refactor…: which change, in a quick pick (a row per intent with tier, cost and why)
    await openFile(page, CFG.file, "");
    await lineShows(page, CFG.line, CFG.seen);
    menu = await menuRows(page);
    const refactor = menu.texts.findIndex((x) => /^Refactor… · /.test(x));
    check(refactor >= 0, `no Refactor… row: ${menu.texts.join(" | ")}`);
    t = Date.now();
    await menu.rows.nth(refactor).click();
    const picker = page.locator(".quick-input-widget");
    const choiceRows = picker.locator(".quick-input-list .monaco-list-row");
    const intent = choiceRows.filter({ hasText: new RegExp(`^${CFG.intent}`) }).first();
    await intent.waitFor({ state: "visible", timeout: 60000 });
    const asked = await picker.locator(".quick-input-title").first().innerText();
    const choices = (await choiceRows.allInnerTexts()).map((x) => x.replace(/\s+/g, " ").trim()).filter(Boolean);
    check(choices.every((c) => /[~<]\$[\d.]+/.test(c)), `a choice without its cost: ${choices.join(" | ")}`);
    await walk(page, 5, "Refactor…: which change?", `${asked} — ${choices.join(" | ")}`, t);

    // 5. the intent: the proposal in the Review view, a diff open, nothing changed yet
    t = Date.now();
    await intent.click();
    await waitUntil(async () => (await rowTexts(page)).some((x) => /^line \d+/.test(x)), "the Review view lists no hunk", 60000);
    await page.locator(".monaco-diff-editor").first().waitFor({ state: "visible", timeout: 30000 });
    check(fs.readFileSync(file, "utf8") === before, "the file changed before anything was accepted");
    await walk(page, 6, "the review", (await rowTexts(page)).join(" | "), t);

    // 6. accept the hunk in the file, Apply: only that hunk lands
    t = Date.now();
    await decideHunk(page, CFG.file, 0, "Accept hunk", "accepted");
    await walk(page, 7, "accept one hunk", (await rowTexts(page)).join(" | "), t);
    t = Date.now();
    await palette(page, "scopewise: Apply accepted hunks");
    const note = await waitUntil(async () => {
      const n = await notifications(page);
      return n.includes("applied to") ? n : false;
    }, "no '… applied to' notification", 30000);
    await openFile(page, CFG.file, "");
    await lineShows(page, CFG.defLine, CFG.new.trim());
    await walk(page, 8, "Apply accepted hunks", note.split("\n").find((l) => l.includes("applied to")), t);

    // 7. one Ctrl+Z takes the edit back
    await page.locator(".editor-group-container.active .monaco-editor .view-lines").click();
    t = Date.now();
    await page.keyboard.press("Control+Z");
    await waitUntil(async () => (await editorText(page)).includes(CFG.old.trim()), "the undo did not take the edit back");
    await walk(page, 9, "Ctrl+Z", `${name} shows ${CFG.old.trim()} again`, t);
  } finally {
    fs.writeFileSync(path.join(LOGS, "page-console.log"), consoleLines.join("\n") + "\n");
    await browser.close().catch(() => {});
    try { fs.cpSync(path.join(wb.data, "logs"), path.join(LOGS, "vscode-logs"), { recursive: true }); } catch { /* none */ }
  }
}

for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { cleanup(); process.exit(130); });
let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`FATAL: ${err?.stack ?? err}`);
} finally {
  cleanup();
}
process.exit(failed ? 1 : 0);

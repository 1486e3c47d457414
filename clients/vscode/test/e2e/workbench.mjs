// The workbench the VS Code end-to-end scripts drive (e2e.mjs, walkthrough.mjs): code-server
// with the .vsix installed, in a fresh folder, opened in headless Chromium through
// playwright-core; the fake Messages API; and the moves a user makes (the palette, Quick Fix,
// the Review view, the explanation panel). Run through run.sh, which sets the E2E_* folders.
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through run.sh)`);
  return v;
};
export const TOOLS = env("E2E_TOOLS"); // folder with node_modules/{code-server,playwright-core}
export const VSIX = env("E2E_VSIX");
export const SERVER = env("E2E_SERVER"); // the scopewise executable
export const PYTHON = env("E2E_PYTHON"); // a Python that can import tests/fakeapi.py's needs
export const REPO = env("E2E_REPO");
export const LOGS = env("E2E_LOGS");
export const WORK = env("E2E_WORK"); // a fresh temp folder
export const CHROMIUM = env("E2E_CHROMIUM");
export const STEP_TIMEOUT = Number(process.env.E2E_STEP_TIMEOUT ?? 30000);

export const require = createRequire(path.join(TOOLS, "package.json"));
export const { chromium } = require("playwright-core");
export const CODE_SERVER = path.join(TOOLS, "node_modules", ".bin", "code-server");

export const t0 = Date.now();
export const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
export const log = (msg) => console.log(`[${secs()}s] ${msg}`);
export const children = [];


export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export async function waitForPort(port, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, "127.0.0.1", () => { sock.end(); resolve(true); });
      sock.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
}

// ---------------------------------------------------------------- the fake Messages API
export class FakeApi {
  constructor() {
    this.proc = spawn(PYTHON, [path.join(REPO, "clients/vscode/test/e2e/fakeapi_serve.py")], {
      stdio: ["pipe", "pipe", fs.openSync(path.join(LOGS, "fakeapi.log"), "w")],
    });
    children.push(this.proc);
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async next() {
    const { value, done } = await this.lines.next();
    if (done) throw new Error("the fake API exited (see fakeapi.log)");
    return JSON.parse(value);
  }
  async send(cmd) {
    this.proc.stdin.write(JSON.stringify(cmd) + "\n");
    return this.next();
  }
}

export function check(cond, message) {
  if (!cond) throw new Error(message);
}

export async function palette(page, command) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await input.fill(">" + command);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: command }).first();
  await row.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await page.keyboard.press("Enter");
}

export async function editorText(page) {
  const lines = await page.locator(".editor-group-container.active .monaco-editor .view-lines .view-line").allInnerTexts();
  return lines.join("\n").replace(/\u00a0/g, " ");
}

export async function openFile(page, rel, waitFor) {
  await page.keyboard.press("Escape");
  const name = path.basename(rel);
  // an open tab, else the row in the explorer (after a shown document took the focus, the
  // quick-open keybinding does not always reach the workbench), else quick open
  const tab = page.locator(".tabs-container .tab", { hasText: name }).filter({ hasNotText: ".md" }).first();
  const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: new RegExp(`^${name}$`) }).first();
  if (await tab.count()) {
    await tab.click();
  } else if (await row.count()) {
    await row.dblclick();
  } else {
    await page.keyboard.press("Control+P");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
    await input.fill(rel);
    await page.locator(".quick-input-list .monaco-list-row").first().waitFor({ timeout: STEP_TIMEOUT });
    await page.keyboard.press("Enter");
  }
  await waitUntil(async () => (await editorText(page)).includes(waitFor), `${rel} did not open`);
}

export async function goToLine(page, line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: STEP_TIMEOUT });
  await input.fill(`:${line}`);
  await page.keyboard.press("Enter");
}

export async function waitUntil(fn, message, ms = STEP_TIMEOUT) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${message} (after ${ms} ms${last instanceof Error ? `: ${last.message}` : ""})`);
}

/** The Quick Fix menu's rows; retried while the client is still coming up. */
export async function menuRows(page, command = "Quick Fix...") {
  for (let attempt = 1; attempt <= 6; attempt++) {
    await palette(page, command);
    const rows = page.locator(".action-widget .monaco-list-row");
    try {
      await rows.first().waitFor({ state: "visible", timeout: 8000 });
      return { rows, texts: (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim()) };
    } catch {
      log(`  ${command} menu empty (attempt ${attempt}); retrying`);
      await page.keyboard.press("Escape");
      await new Promise((r) => setTimeout(r, 1500));
    }
  }
  throw new Error(`the ${command} menu never listed an action ("No code actions available"?)`);
}

// ---------------------------------------------------------------- the Review view
export const REVIEW_ROWS = ".part.sidebar .monaco-list-row";

/** The nth hunk row under the file row of `rel` in the Review view: its start line and counts. */
export async function hunkRow(page, rel, nth) {
  const rows = page.locator(REVIEW_ROWS);
  const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
  const file = texts.findIndex((t) => t.startsWith(rel));
  check(file >= 0, `${rel} is not in the Review view: ${texts.join(" | ")}`);
  const m = /^line (\d+) \(\+(\d+) −(\d+)\)/.exec(texts[file + 1 + nth] ?? "");
  check(m, `${rel} has no hunk ${nth + 1} in the Review view: ${texts.join(" | ")}`);
  return { row: rows.nth(file + 1 + nth), start: Number(m[1]), added: Number(m[2]), removed: Number(m[3]) };
}

/** Click a hunk row's inline action ("Accept hunk" / "Reject hunk"); waits for its new state. */
export async function decideHunk(page, rel, nth, action, state) {
  const { row } = await hunkRow(page, rel, nth);
  await row.hover();
  await row.locator(`.action-label[aria-label="${action}"]`).click();
  await waitUntil(async () => (await hunkRow(page, rel, nth).then((h) => h.row.innerText())).includes(state), `the hunk is not ${state}`);
}

/** Click the inline action `label` of the Review view's row that starts with `start`. */
export async function rowAction(page, start, label) {
  const rows = page.locator(REVIEW_ROWS);
  const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
  const at = texts.findIndex((t) => t.startsWith(start));
  check(at >= 0, `no row starting "${start}" in the Review view: ${texts.join(" | ")}`);
  await rows.nth(at).hover();
  await rows.nth(at).locator(`.action-label[aria-label="${label}"]`).click();
}

/** The CodeLens lines shown in the open diff editor (its proposed side). */
export async function diffLenses(page) {
  return (await page.locator(".monaco-diff-editor .codelens-decoration").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
}

export async function statusText(page) {
  const items = await page.locator(".statusbar-item").allInnerTexts();
  return items.find((t) => t.includes("session $") || t.includes("scopewise")) ?? "";
}

export async function notifications(page) {
  return (await page.locator(".notifications-toasts .notification-list-item, .notifications-center .notification-list-item").allInnerTexts()).join("\n");
}

// ---------------------------------------------------------------- the explanation panel
/** The explanation panel's text and its state line ("" when there is no panel). A webview's
 *  page is a frame inside a frame: every frame is looked at. */
export async function explanationPanel(page) {
  for (const frame of page.frames()) {
    try {
      const main = frame.locator("#explanation");
      if ((await main.count()) === 0) continue;
      return {
        text: await main.innerText({ timeout: 1000 }),
        state: await frame.locator("#state").innerText({ timeout: 1000 }),
        scripts: await frame.locator("script").count(),
        csp: await frame.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content"),
      };
    } catch {
      /* a frame that went away meanwhile */
    }
  }
  return { text: "", state: "", scripts: 0, csp: null };
}

// ---------------------------------------------------------------- code-server and the browser
/** User settings that keep code-server quiet: no telemetry, updates, trust prompts, welcome. */
export const BASE_SETTINGS = {
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "chat.disableAIFeatures": true,
  "editor.codeActionWidget.includeNearbyQuickFixes": false,
  "scopewise.server.path": SERVER,
};

/** code-server on a free port (its own folders under WORK) with the .vsix installed, opening
 *  `ws`, and a Chromium page for it (not navigated yet: `page.goto(url(wb, ws))`); the server
 *  calls the fake API at `baseUrl`. `wb.clientStarted` turns true once the extension logs that
 *  its language client started. `serverOnPath`: `scopewise` on PATH too, as a user who installed
 *  it has it (else only `scopewise.server.path` finds it). */
export async function launch(ws, baseUrl, extraSettings = {}, { serverOnPath = false } = {}) {
  const port = await freePort();
  const data = path.join(WORK, "data");
  const exts = path.join(WORK, "extensions");
  const xdg = path.join(WORK, "xdg");
  fs.mkdirSync(path.join(data, "User"), { recursive: true });
  const settingsFile = path.join(data, "User", "settings.json");
  const settings = {
    ...BASE_SETTINGS,
    ...extraSettings,
  };
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  fs.writeFileSync(path.join(WORK, "config.yaml"), `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const csEnv = {
    ...process.env,
    // no scopewise on PATH unless asked: the missing-server check relies on it
    PATH: [...(serverOnPath ? [path.dirname(SERVER)] : []), path.dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    EXTENSIONS_GALLERY: '{"serviceUrl":""}',
    XDG_CONFIG_HOME: path.join(xdg, "config"),
    XDG_DATA_HOME: path.join(xdg, "data"),
    XDG_CACHE_HOME: path.join(xdg, "cache"),
    XDG_STATE_HOME: path.join(xdg, "state"),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: "sk-test",
    SCOPEWISE_CACHE_DIR: path.join(WORK, "sw-cache"),
    SCOPEWISE_STATE_DIR: path.join(WORK, "sw-state"),
    SCOPEWISE_CONFIG_DIR: path.join(WORK, "sw-config"), // no user config.toml
  };
  delete csEnv.VIRTUAL_ENV;
  const common = ["--config", path.join(WORK, "config.yaml"), "--user-data-dir", data, "--extensions-dir", exts];
  const install = spawn(CODE_SERVER, [...common, "--install-extension", VSIX], { env: csEnv, stdio: ["ignore", "pipe", "pipe"] });
  let installOut = "";
  install.stdout.on("data", (d) => (installOut += d));
  install.stderr.on("data", (d) => (installOut += d));
  const [code] = await once(install, "exit");
  fs.writeFileSync(path.join(LOGS, "install-extension.log"), installOut);
  check(code === 0, `code-server --install-extension failed (${code}): ${installOut.slice(-500)}`);
  log("extension installed");

  const csLog = fs.openSync(path.join(LOGS, "code-server.log"), "w");
  const cs = spawn(CODE_SERVER, [...common, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", ws], {
    env: csEnv, stdio: ["ignore", csLog, csLog], detached: true, // its own process group: killed whole
  });
  children.push(cs);
  await waitForPort(port, 60000);
  log(`code-server on 127.0.0.1:${port}`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLines = [];
  const wb = { page, browser, port, data, settings, settingsFile, consoleLines, clientStarted: false };
  page.on("console", (m) => {
    const text = m.text();
    consoleLines.push(`[${secs()}s] ${m.type()}: ${text}`);
    if (text.includes("scopewise: language client started")) wb.clientStarted = true;
  });
  page.setDefaultTimeout(STEP_TIMEOUT);
  return wb;
}

export function url(wb, ws) {
  return `http://127.0.0.1:${wb.port}/?folder=${encodeURIComponent(ws)}`;
}

export function cleanup() {
  for (const c of children) {
    if (c.exitCode !== null || c.pid === undefined) continue;
    try { process.kill(c.spawnargs.includes("--user-data-dir") ? -c.pid : c.pid, "SIGTERM"); } catch { /* gone */ }
  }
}

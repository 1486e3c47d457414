// scopewise for VS Code: a thin client of the scopewise language server. All behaviour lives
// in the server; this finds and starts it, mirrors the settings, adds a few commands that
// ask the server for its code actions, and keeps a status-bar item with the costs.
import * as vscode from "vscode";
import {
  CodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  CodeActionTriggerKind,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  StaticFeature,
} from "vscode-languageclient/node";
import { asChoices, Choice, Choices, CHOICES_COMMAND, rows, title } from "./choose";
import { ExplanationNote, ExplanationPanels } from "./explanationPanel";
import { locateServer } from "./locate";
import { parseProposal } from "./proposal";
import { PROPOSAL_NOTIFICATION, REVISE_COMMAND, ReviewController } from "./review";
import { mayStart, RESTRICTED_MESSAGE, startWhenTrusted } from "./restricted";
import { SECTION, serverKeys, serverSettings } from "./settings";
import { ignoredMessage } from "./trust";

const RUN_COMMAND = "scopewise.run";
const CHOOSE_INTENT_COMMAND = "scopewise.chooseIntent"; // "Refactor…": asks which, then runs
const CHOOSE_PROJECT_ACTION_COMMAND = "scopewise.chooseProjectAction"; // "Project actions…"
const EXTENSION_ID = "scopewise.scopewise"; // publisher.name in package.json
const USAGE_COMMAND = "scopewise.usage";
const PROJECT_ACTIONS_COMMAND = "scopewise.projectActions"; // the project's [[actions]]
const LANGUAGES = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
  "go", "rust", "java", "c", "cpp", "ruby",
];
const KINDS = {
  explain: "source.scopewise.explain",
  refactor: "refactor.rewrite",
  fix: "quickfix",
} as const;
type Action = keyof typeof KINDS;
const EXPLAIN_QUICK_FIX = vscode.CodeActionKind.QuickFix.append("scopewise.explain");
const PROJECT_EXPLAIN_KIND = "source.scopewise"; // + ".<name>": a project's explain-like action

export const INSTALL_HELP =
  "Install it from a scopewise checkout (it is not on PyPI): " +
  "`python3 -m pip install -e /path/to/scopewise` into the workspace's Python environment " +
  "or one on PATH, or point " +
  "`scopewise.server.path` at the `scopewise` executable or `scopewise.python` at a Python " +
  "that has it.";

interface RunResult {
  applied?: boolean;
  usd?: number;
  tier?: string;
  reason?: string;
  cancelled?: boolean;
}

interface Totals {
  usd: number;
  calls: number;
}

let client: LanguageClient | undefined;
let panels: ExplanationPanels | undefined;
let output: vscode.LogOutputChannel;
let status: vscode.StatusBarItem;
let keys: string[] = [];
let starting: Promise<void> | undefined;
let review: ReviewController;
const warnedIgnored = new Set<string>();
const session = { usd: 0, runs: 0, last: "" };

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("scopewise", { log: true });
  keys = serverKeys(context.extension);
  status = vscode.window.createStatusBarItem("scopewise.status", vscode.StatusBarAlignment.Right, 100);
  status.name = "scopewise";
  status.command = "scopewise.showUsage";
  showStatus("$(loading~spin) scopewise", "scopewise: starting the language server");
  status.show();
  panels = new ExplanationPanels(output, serverCommand);

  review = new ReviewController(serverCommand, output);
  context.subscriptions.push(
    output,
    status,
    panels,
    review.register(),
    panels.register(),
    vscode.commands.registerCommand("scopewise.explain", () => runFromEditor("explain")),
    vscode.commands.registerCommand("scopewise.refactor", () => runFromEditor("refactor")),
    vscode.commands.registerCommand("scopewise.fix", () => runFromEditor("fix")),
    vscode.commands.registerCommand("scopewise.runProjectAction", runProjectAction),
    vscode.commands.registerCommand("scopewise.showUsage", showUsage),
    vscode.commands.registerCommand("scopewise.restartServer", restart),
    vscode.commands.registerCommand("scopewise.openSettings", openSettings),
    startWhenTrusted(status, start),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.server.path`) || e.affectsConfiguration(`${SECTION}.python`)) {
        output.info("the server's location changed: restarting");
        void restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

function folderUri(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

function showStatus(text: string, tooltip: string): void {
  status.text = text;
  status.tooltip = tooltip;
}

/** The settings the server gets; a sensitive workspace value left out is said once. */
function settingsFor(scope?: vscode.Uri): Record<string, unknown> {
  return serverSettings(keys, scope, (key, why) => {
    if (warnedIgnored.has(key)) return;
    warnedIgnored.add(key);
    output.warn(ignoredMessage(key, why));
    void vscode.window.showWarningMessage(ignoredMessage(key, why));
  });
}

function start(): Promise<void> {
  if (!mayStart(status)) return Promise.resolve();
  starting ??= startClient().finally(() => {
    starting = undefined;
  });
  return starting;
}

/** The scopewise settings: the extension's own filter (`@ext:`), which lists them in VS Code
 *  and code-server alike (a bare "scopewise.server" query found nothing in code-server). */
export function openSettings(): void {
  void vscode.commands.executeCommand("workbench.action.openSettings", `@ext:${EXTENSION_ID}`);
}

async function startClient(): Promise<void> {
  const found = await locateServer(folderUri());
  if (!found.server) {
    const headline = found.badSetting
      ? `scopewise: ${found.badSetting}.`
      : "scopewise: the scopewise language server was not found.";
    output.error(headline);
    for (const line of found.tried) output.error(`  tried: ${line}`);
    output.error(INSTALL_HELP);
    showStatus("$(warning) scopewise: no server", `${headline}\n${INSTALL_HELP}`);
    void vscode.window
      .showErrorMessage(`${headline} ${INSTALL_HELP}`, "Open Settings", "Show Output")
      .then((pick) => {
        if (pick === "Open Settings") {
          openSettings();
        } else if (pick === "Show Output") {
          output.show();
        }
      });
    return;
  }
  const { command, args, source } = found.server;
  output.info(`starting ${command} ${args.join(" ")} (from ${source})`);

  const serverOptions: ServerOptions = {
    command,
    args,
    options: { cwd: folderUri()?.scheme === "file" ? folderUri()?.fsPath : undefined },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
    initializationOptions: settingsFor(folderUri()),
    synchronize: { configurationSection: SECTION },
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    middleware: {
      workspace: {
        // answer with what the user set, without the client-only keys
        configuration: async (params, token, next) => {
          const answer = await next(params, token);
          if (!Array.isArray(answer)) return answer;
          return params.items.map((item, i) =>
            item.section === SECTION
              ? settingsFor(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : folderUri())
              : answer[i],
          );
        },
      },
      // Explain (and a project's explain-like actions, source.scopewise.<name>) in the Quick
      // Fix menu and behind the lightbulb on plain code: VS Code keeps source actions out of
      // both, so when no kind was asked for (Ctrl+., the lightbulb) they are listed as quick
      // fixes; "Source Action..." still finds them as the server lists them
      provideCodeActions: async (document, range, context, token, next) => {
        const actions = await next(document, range, context, token);
        if (!actions || context.only) return actions;
        for (const action of actions) {
          const kind = action instanceof vscode.CodeAction ? action.kind?.value : undefined;
          if (kind === KINDS.explain) {
            (action as vscode.CodeAction).kind = EXPLAIN_QUICK_FIX;
          } else if (kind?.startsWith(`${PROJECT_EXPLAIN_KIND}.`)) {
            (action as vscode.CodeAction).kind = vscode.CodeActionKind.QuickFix.append(kind.slice("source.".length));
          }
        }
        return actions;
      },
      executeCommand: async (cmd, cmdArgs, next) => {
        if ((cmd === CHOOSE_INTENT_COMMAND || cmd === CHOOSE_PROJECT_ACTION_COMMAND) && serverHas(CHOICES_COMMAND)) {
          // which one: asked in a quick pick rather than the server's notification
          const answer: unknown = await next(CHOICES_COMMAND, [{ of: cmd, data: cmdArgs[0] }]);
          const asked = asChoices(answer);
          if (!asked) return answer; // refused: the server said why
          const choice = await pick(asked);
          if (!choice) return { applied: false, reason: "nothing chosen" };
          [cmd, cmdArgs] = [RUN_COMMAND, [choice.data]];
        }
        const result: unknown = await next(cmd, cmdArgs);
        if (cmd === RUN_COMMAND) {
          noteRun(cmdArgs[0], result);
          const proposal = parseProposal(result);
          if (proposal) void review.show(proposal);
        }
        return result;
      },
    },
  };
  const lc = new LanguageClient("scopewise", "scopewise", serverOptions, clientOptions);
  client = lc;
  lc.registerFeature(scopewiseCapabilities({ review: true, stream: true }));
  lc.onNotification("scopewise/explanation", (n: ExplanationNote) => void panels?.note(n));
  lc.onNotification(PROPOSAL_NOTIFICATION, (params: unknown) => {
    const proposal = parseProposal(params);
    if (proposal) void review.show(proposal);
    else output.warn("scopewise/proposal: not a proposal; ignored");
  });
  lc.onDidChangeState((e) => {
    if (e.newState === State.Stopped && client === lc) {
      showStatus("$(error) scopewise: stopped", "scopewise: the language server stopped. Click to see usage; run “scopewise: Restart server”.");
    }
  });
  try {
    await lc.start();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    output.error(`the language server failed to start: ${why}`);
    showStatus("$(error) scopewise: failed", `scopewise: the server failed to start: ${why}`);
    void vscode.window.showErrorMessage(
      `scopewise: the language server (${command}) failed to start: ${why}. See the scopewise output.`,
    );
    return;
  }
  output.info("language client started");
  // reaches the page console in code-server: the end-to-end test waits for this line
  console.log("scopewise: language client started");
  showIdle();
}

/** Says to the server what this client shows itself (`experimental.scopewise`): merged with
 *  what another feature says there. */
function scopewiseCapabilities(flags: Record<string, boolean>): StaticFeature {
  return {
    fillClientCapabilities(capabilities) {
      const experimental = (capabilities.experimental ??= {}) as Record<string, unknown>;
      const mine = (experimental.scopewise ?? {}) as Record<string, boolean>;
      experimental.scopewise = { ...mine, ...flags };
    },
    initialize() {},
    getState: () => ({ kind: "static" }),
    clear() {},
  };
}

/** A command of the server's (the review's Apply / Reject all). */
/** Ask a choose command's question in a quick pick; the choice picked, or undefined. */
async function pick(asked: Choices): Promise<Choice | undefined> {
  const picked = await vscode.window.showQuickPick(rows(asked.choices), {
    title: title(asked),
    placeHolder: "pick one to run; Escape: nothing runs",
    matchOnDescription: true,
  });
  return picked?.choice;
}

/** Whether the running server offers a command (an older one may not: then it asks itself). */
function serverHas(command: string): boolean {
  return client?.initializeResult?.capabilities.executeCommandProvider?.commands?.includes(command) ?? false;
}

async function serverCommand(command: string, arg: object): Promise<unknown> {
  const lc = await readyClient();
  if (!lc) throw new Error("the language server is not running");
  const result: unknown = await lc.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] });
  if (command === REVISE_COMMAND) noteRun({ action: "revise" }, result); // its cost in the status bar
  return result;
}

async function stop(): Promise<void> {
  const lc = client;
  client = undefined;
  if (lc) {
    try {
      await lc.stop(5000);
    } catch (err) {
      output.warn(`stopping the server: ${err instanceof Error ? err.message : String(err)}`);
    }
    await lc.dispose();
  }
}

async function restart(): Promise<void> {
  if (starting) await starting;
  await stop();
  session.usd = 0;
  session.runs = 0;
  session.last = "";
  showStatus("$(loading~spin) scopewise", "scopewise: restarting the language server");
  await start();
}

function money(usd: number): string {
  return `$${usd.toFixed(4)}`;
}

function showIdle(): void {
  const total = `session ${money(session.usd)} (${session.runs} run${session.runs === 1 ? "" : "s"})`;
  const text = session.last ? `$(sparkle) ${session.last} · ${total}` : `$(sparkle) scopewise · ${money(session.usd)}`;
  showStatus(text, `scopewise — ${session.last ? `last: ${session.last}; ` : ""}${total}. Click for usage.`);
}

/** After each `scopewise.run` (Quick Fix menu or our commands): the last run's tier and cost,
 *  and the session's total. The server has no cost notification; the run's result carries it. */
function noteRun(arg: unknown, result: unknown): void {
  if (typeof result !== "object" || result === null) return;
  const r = result as RunResult;
  if (typeof r.usd !== "number") return;
  const given = typeof arg === "object" && arg !== null ? (arg as { action?: unknown; projectAction?: unknown }) : {};
  const action = String(given.projectAction ?? given.action ?? "run"); // a project action by its name
  session.usd += r.usd;
  session.runs += 1;
  session.last = `${action} · ${r.tier ?? "?"} · ${money(r.usd)}`;
  output.info(`${session.last}${r.cancelled ? " (cancelled)" : ""}; session ${money(session.usd)}`);
  showIdle();
}

async function readyClient(): Promise<LanguageClient | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showInformationMessage(RESTRICTED_MESSAGE);
    return undefined;
  }
  if (starting) await starting;
  if (client?.state === State.Running) return client;
  void vscode.window.showErrorMessage(
    `scopewise: the language server is not running. ${INSTALL_HELP} Then run “scopewise: Restart server”.`,
  );
  return undefined;
}

async function showUsage(): Promise<void> {
  const lc = await readyClient();
  if (!lc) return;
  // the server shows the totals as a message itself; its session total is the true one
  const totals = (await lc.sendRequest(ExecuteCommandRequest.type, {
    command: USAGE_COMMAND,
    arguments: [],
  })) as { session?: Totals; today?: Totals; allTime?: Totals } | null;
  if (totals?.session) {
    session.usd = totals.session.usd;
    output.info(
      `usage: session ${money(totals.session.usd)} (${totals.session.calls}) · today ` +
        `${money(totals.today?.usd ?? 0)} · all time ${money(totals.allTime?.usd ?? 0)}`,
    );
    showIdle();
  }
}

interface ActionData {
  action?: string;
  tier?: string | null;
  overrideCap?: boolean;
  [key: string]: unknown;
}

/** The active editor and the running client, or undefined (with a word to the user when
 *  no file is open). */
async function editorAndClient(): Promise<[vscode.TextEditor, LanguageClient] | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage("scopewise: open a file and select code first.");
    return undefined;
  }
  const lc = await readyClient();
  return lc ? [editor, lc] : undefined;
}

/** Ask the server for its actions on the selection, pick the automatic-tier one of this
 *  kind and run it through the same command the Quick Fix menu uses. */
async function runFromEditor(action: Action): Promise<void> {
  const ready = await editorAndClient();
  if (!ready) return;
  const [editor, lc] = ready;
  let instruction: string | undefined;
  if (action === "refactor") {
    instruction = await vscode.window.showInputBox({
      title: "scopewise: Refactor",
      prompt: "What should change in the selection (or the definition under the cursor)?",
      placeHolder: "e.g. simplify the loop and keep the behaviour",
      ignoreFocusOut: true,
    });
    if (!instruction?.trim()) return;
  }
  const doc = editor.document;
  const range = editor.selection;
  const line = doc.lineAt(range.active.line).range;
  const diagnostics = vscode.languages
    .getDiagnostics(doc.uri)
    .filter((d) => d.range.intersection(range.isEmpty ? line : range) !== undefined);
  const c2p = lc.code2ProtocolConverter;
  const listed = await lc.sendRequest(CodeActionRequest.type, {
    textDocument: { uri: c2p.asUri(doc.uri) },
    range: c2p.asRange(range),
    context: {
      diagnostics: await c2p.asDiagnostics(diagnostics),
      only: [KINDS[action]],
      triggerKind: CodeActionTriggerKind.Invoked,
    },
  });
  const candidates = (listed ?? []).filter(
    (a): a is CodeAction => "kind" in a || "data" in a || "edit" in a,
  );
  const mine = candidates.filter((a) => {
    const d = a.data as ActionData | undefined;
    return d?.action === action && !d.tier && !d.overrideCap && !d.projectAction;
  });
  const usable = mine.find((a) => !a.disabled);
  if (!usable) {
    const why =
      mine[0]?.disabled?.reason ??
      (action === "fix"
        ? "nothing to fix here (no diagnostics or syntax errors in the selection)"
        : "no action for this selection (is the file in the open workspace folder?)");
    void vscode.window.showWarningMessage(`scopewise: ${why}`);
    return;
  }
  let chosen = usable;
  if (!chosen.command) chosen = await lc.sendRequest(CodeActionResolveRequest.type, chosen);
  const arg = (chosen.command?.arguments?.[0] ?? chosen.data) as ActionData;
  const data: ActionData =
    instruction === undefined
      ? arg
      : { ...arg, intent: null, instruction: instruction.trim(), title: `Refactor: ${instruction.trim()}` };
  output.info(`running ${action}: ${chosen.title}`);
  await vscode.commands.executeCommand(RUN_COMMAND, data);
}

interface ProjectActionInfo {
  name: string;
  kind: string;
  route: string;
  files: string[];
  codeActionKind: string;
  applies: boolean;
}

/** "Run project action…": a quick pick of the project's actions for this file (from the
 *  server), then that action's code action on the selection, run as the menu runs it. */
async function runProjectAction(): Promise<void> {
  const ready = await editorAndClient();
  if (!ready) return;
  const [editor, lc] = ready;
  const uri = lc.code2ProtocolConverter.asUri(editor.document.uri);
  const answer = (await serverCommand(PROJECT_ACTIONS_COMMAND, { uri })) as { actions?: ProjectActionInfo[] } | null;
  const usable = (answer?.actions ?? []).filter((a) => a.applies);
  if (usable.length === 0) {
    void vscode.window.showInformationMessage(
      "scopewise: no project action applies to this file ([[actions]] in .scopewise.toml).",
    );
    return;
  }
  const picked = await vscode.window.showQuickPick(
    usable.map((a) => ({
      label: a.name,
      description: `${a.kind} · ${a.route}`,
      detail: a.files.length ? a.files.join(", ") : "all files",
      action: a,
    })),
    { title: "scopewise: Run project action", placeHolder: "Which project action?" },
  );
  if (!picked) return;
  const range = editor.selection;
  const c2p = lc.code2ProtocolConverter;
  const listed = await lc.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: c2p.asRange(range),
    context: { diagnostics: [], only: [picked.action.codeActionKind], triggerKind: CodeActionTriggerKind.Invoked },
  });
  const found = (listed ?? []).find((a): a is CodeAction => {
    const d = (a as CodeAction).data as ActionData | undefined;
    return d?.projectAction === picked.action.name && !d.tier && !d.overrideCap;
  });
  if (!found || found.disabled) {
    const why = found?.disabled?.reason ?? "it cannot run on this selection";
    void vscode.window.showWarningMessage(`scopewise: ${picked.action.name}: ${why}`);
    return;
  }
  const chosen = found.command ? found : await lc.sendRequest(CodeActionResolveRequest.type, found);
  output.info(`running project action: ${chosen.title}`);
  await vscode.commands.executeCommand(RUN_COMMAND, chosen.command?.arguments?.[0] ?? chosen.data);
}

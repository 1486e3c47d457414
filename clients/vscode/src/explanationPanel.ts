// The explanation panel: an explanation shown beside the code while it is written. The
// server sends `scopewise/explanation` notifications (the extension advertises the `stream`
// capability); the first opens a webview panel beside the active editor, each one adds its
// text, the last one (done) shows the finished document (its cost at the top, the context it
// was given at the bottom), marked "(cut)" when the run was cancelled. The model's text is
// data: rendered by markdown.ts (everything escaped), in a page with no scripts and a strict
// Content-Security-Policy.
import * as vscode from "vscode";
import { escapeHtml, renderMarkdown } from "./markdown";
import { parseRevise, ReviseCost } from "./proposal";
import { askInstruction, REVISE_COMMAND, ServerCommand } from "./review";

/** One `scopewise/explanation` notification (the server's protocol). */
export interface ExplanationNote {
  run: string;
  uri: string;
  delta: string;
  chars: number;
  tier: string;
  tokens: number;
  done: boolean;
  cut: boolean;
  /** the last one (done) of an explanation that can be revised: what a revise would cost */
  revise?: unknown;
}

interface Live {
  panel: vscode.WebviewPanel;
  text: string;
  closed: boolean;
  state: string; // "writing… standard · ~40 tokens"
  shownAt: number; // when the page was last replaced (0: never)
  pending?: ReturnType<typeof setTimeout>; // the next replacement, when one waits
}

const TITLE = "scopewise: explanation";
const CONTEXT = "scopewise.explained";
// Each update replaces the page, which the webview loads again: faster than this, a busy
// machine would show no text until the answer ends (the walkthrough saw it at 10 s).
const REPLACE_EVERY_MS = 1000;

export class ExplanationPanels implements vscode.Disposable {
  private readonly live = new Map<string, Live>();
  private last: Live | undefined;
  /** the newest finished explanation that can be revised */
  private revisable: { run: string; cost: ReviseCost } | undefined;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly server: ServerCommand,
  ) {}

  register(): vscode.Disposable {
    return vscode.commands.registerCommand("scopewise.explanation.revise", () => this.revise());
  }

  /** "Revise explanation…": an instruction (the cost in the prompt), then `scopewise.revise`;
   *  the revised text streams into the panel like any explanation. */
  async revise(): Promise<void> {
    const target = this.revisable;
    if (!target) {
      void vscode.window.showInformationMessage("scopewise: no explanation to revise yet.");
      return;
    }
    const instruction = await askInstruction(target.cost);
    if (instruction === undefined) return;
    this.output.info(`explanation ${target.run}: revise: ${instruction}`);
    try {
      await this.server(REVISE_COMMAND, { explanation: target.run, instruction });
    } catch (err) {
      void vscode.window.showErrorMessage(`scopewise: revising failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** A notification: open the panel at the first, add the text, finish at the last. */
  async note(n: ExplanationNote): Promise<void> {
    if (typeof n?.run !== "string") return;
    let live = this.live.get(n.run);
    if (!live) {
      live = this.open();
      this.live.set(n.run, live);
    }
    if (live.closed) return; // the user closed it: the document has it all
    if (typeof n.delta === "string") live.text += n.delta;
    if (!n.done) {
      live.state = `writing… ${n.tier} · ~${n.tokens} tokens`;
      this.writing(live);
      return;
    }
    this.live.delete(n.run);
    clearTimeout(live.pending);
    const cost = parseRevise(n.revise);
    if (cost && !n.cut) {
      this.revisable = { run: n.run, cost };
      void vscode.commands.executeCommand("setContext", CONTEXT, true);
    }
    const state = n.cut ? "(cut)" : "done";
    const document = await this.read(n.uri);
    this.show(live, n.cut ? `${TITLE} (cut)` : TITLE, state, document ?? live.text);
  }

  /** The text so far: shown now, or at most once a REPLACE_EVERY_MS (the newest text then). */
  private writing(live: Live): void {
    const wait = live.shownAt + REPLACE_EVERY_MS - Date.now();
    if (live.pending !== undefined) return;
    const show = () => {
      live.pending = undefined;
      live.shownAt = Date.now();
      this.show(live, `${TITLE} · writing…`, live.state, live.text);
    };
    if (wait <= 0) show();
    else live.pending = setTimeout(show, wait);
  }

  dispose(): void {
    for (const live of this.live.values()) live.panel.dispose();
    this.last?.panel.dispose();
    this.live.clear();
  }

  /** The panel of the previous explanation when it is still open (revealed, the focus left
   *  in the code), else a new one beside the code. */
  private open(): Live {
    const previous = this.last;
    if (previous && !previous.closed) {
      previous.panel.reveal(undefined, true);
      const live: Live = { panel: previous.panel, text: "", closed: false, state: "", shownAt: 0 };
      previous.closed = true; // the old run no longer writes to it
      previous.panel.onDidDispose(() => (live.closed = true));
      this.last = live;
      return live;
    }
    const panel = vscode.window.createWebviewPanel(
      "scopewise.explanation",
      TITLE,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false, enableCommandUris: false, localResourceRoots: [] },
    );
    const live: Live = { panel, text: "", closed: false, state: "", shownAt: 0 };
    panel.onDidDispose(() => (live.closed = true));
    this.last = live;
    return live;
  }

  private show(live: Live, title: string, state: string, markdown: string): void {
    if (live.closed) return;
    live.panel.title = title;
    live.panel.webview.html = page(state, renderMarkdown(markdown));
  }

  /** The explanation document the server wrote (its own cache folder). */
  private async read(uri: string): Promise<string | undefined> {
    try {
      const parsed = vscode.Uri.parse(uri, true);
      if (parsed.scheme !== "file" || !parsed.path.endsWith(".md")) return undefined;
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(parsed));
    } catch (err) {
      this.output.warn(`could not read the explanation ${uri}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
}

function nonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The panel's page: no scripts, no requests; only its own (nonce'd) style. */
function page(state: string, body: string): string {
  const n = nonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${n}'; img-src 'none'; script-src 'none'; form-action 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${n}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 16px 24px; line-height: 1.5; }
.state { position: sticky; top: 0; background: var(--vscode-editor-background); color: var(--vscode-descriptionForeground); padding: 6px 0; border-bottom: 1px solid var(--vscode-panel-border); margin: 0 0 8px; }
code { font-family: var(--vscode-editor-font-family); background: var(--vscode-textCodeBlock-background); padding: 0 3px; }
pre { background: var(--vscode-textCodeBlock-background); padding: 8px; overflow-x: auto; }
pre code { padding: 0; }
blockquote { margin: 0; padding-left: 10px; border-left: 3px solid var(--vscode-textBlockQuote-border); color: var(--vscode-descriptionForeground); }
.link { text-decoration: underline; }
.target { color: var(--vscode-descriptionForeground); font-size: 90%; }
</style>
</head>
<body>
<p class="state" id="state">scopewise explanation · ${escapeHtml(state)}</p>
<main id="explanation">
${body}
</main>
</body>
</html>`;
}

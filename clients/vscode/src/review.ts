// The review of a proposal: every changed file in the "scopewise: Review" view (files, then
// their hunks with Accept / Reject), a diff per file between the file's current text and a
// virtual document of the proposed text (the hunks not rejected), CodeLens over each hunk in
// the proposed side, and Apply: `scopewise.applyProposal` with the accepted hunk ids, which
// the server applies as one edit (one undo). Nothing changes a file before Apply.
import * as vscode from "vscode";
import {
  ApplyResult,
  context,
  firstChanged,
  Hunk,
  hunkStat,
  instructionProblem,
  layOut,
  Layout,
  parseApplyResult,
  parseProposal,
  plainText,
  plural,
  Proposal,
  ProposalFile,
  revisePrompt,
  ReviseCost,
} from "./proposal";

export const SCHEME = "scopewise-proposal";
export const VIEW = "scopewise.review";
// the server's commands (scopewise.vocab)
const APPLY_PROPOSAL_COMMAND = "scopewise.applyProposal";
const DISCARD_PROPOSAL_COMMAND = "scopewise.discardProposal";
const PROPOSAL_DIFF_COMMAND = "scopewise.proposalDiff";
export const REVISE_COMMAND = "scopewise.revise";
export const PROPOSAL_NOTIFICATION = "scopewise/proposal";
const CONTEXT = "scopewise.reviewing";

type Decision = "accepted" | "rejected";

/** Sends `workspace/executeCommand` to the server; undefined when it is not running. */
export type ServerCommand = (command: string, arg: object) => Promise<unknown>;

interface Review {
  proposal: Proposal;
  decisions: Map<number, Decision>;
  refused: Map<number, string>;
}

type Node =
  | { kind: "proposal"; review: Review }
  | { kind: "file"; review: Review; file: ProposalFile; index: number }
  | { kind: "hunk"; review: Review; file: ProposalFile; index: number; hunk: Hunk };

export class ReviewController
  implements vscode.TextDocumentContentProvider, vscode.TreeDataProvider<Node>, vscode.CodeLensProvider
{
  private readonly reviews = new Map<string, Review>();
  private readonly seen = new Set<string>(); // the notification and the run's result: once
  private readonly docChanged = new vscode.EventEmitter<vscode.Uri>();
  private readonly treeChanged = new vscode.EventEmitter<Node | undefined>();
  private readonly lensChanged = new vscode.EventEmitter<void>();
  readonly onDidChange = this.docChanged.event;
  readonly onDidChangeTreeData = this.treeChanged.event;
  readonly onDidChangeCodeLenses = this.lensChanged.event;
  private view: vscode.TreeView<Node> | undefined;

  constructor(
    private readonly server: ServerCommand,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  register(): vscode.Disposable {
    this.view = vscode.window.createTreeView(VIEW, { treeDataProvider: this, showCollapseAll: false });
    return vscode.Disposable.from(
      this.view,
      this.docChanged,
      this.treeChanged,
      this.lensChanged,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      vscode.languages.registerCodeLensProvider({ scheme: SCHEME }, this),
      vscode.workspace.onDidChangeTextDocument((e) => this.fileChanged(e.document.uri)),
      vscode.commands.registerCommand("scopewise.review.open", (node?: Node) => this.open(node)),
      vscode.commands.registerCommand("scopewise.review.showDiff", (node?: Node) => this.showDiff(node)),
      vscode.commands.registerCommand("scopewise.review.accept", (node?: Node) => this.decide(node, "accepted")),
      vscode.commands.registerCommand("scopewise.review.reject", (node?: Node) => this.decide(node, "rejected")),
      vscode.commands.registerCommand("scopewise.review.acceptAll", (node?: Node) => this.acceptAll(node)),
      vscode.commands.registerCommand("scopewise.review.rejectAll", (node?: Node) => this.rejectAll(node)),
      vscode.commands.registerCommand("scopewise.review.apply", (node?: Node) => this.apply(node)),
      vscode.commands.registerCommand("scopewise.review.revise", (node?: Node) => this.revise(node)),
      vscode.commands.registerCommand("scopewise.review.acceptHunk", (id: string, hunk: number) =>
        this.decideHunk(id, hunk, "accepted"),
      ),
      vscode.commands.registerCommand("scopewise.review.rejectHunk", (id: string, hunk: number) =>
        this.decideHunk(id, hunk, "rejected"),
      ),
    );
  }

  /** A proposal arrived: list it, open the first file's diff, and say what to do. */
  async show(proposal: Proposal): Promise<void> {
    if (this.seen.has(proposal.id)) return;
    this.seen.add(proposal.id);
    const review: Review = { proposal, decisions: new Map(), refused: new Map() };
    this.reviews.set(proposal.id, review);
    this.output.info(`proposal ${proposal.id}: ${proposal.title}`);
    const old = proposal.supersedes && this.reviews.get(proposal.supersedes);
    if (old) {
      // a revise: the new proposal replaces the old one (the server has discarded it)
      this.output.info(`proposal ${proposal.id} replaces ${old.proposal.id}`);
      await this.close(old);
    }
    await this.refresh();
    await vscode.commands.executeCommand(`${VIEW}.focus`);
    const first = proposal.files[0];
    if (first) await this.openDiff(review, first, 0, first.hunks[0]);
  }

  // ------------------------------------------------------------ the proposed text

  proposedUri(review: Review, index: number): vscode.Uri {
    const file = review.proposal.files[index];
    const name = vscode.Uri.parse(file.uri).path;
    return vscode.Uri.from({ scheme: SCHEME, path: name, query: JSON.stringify([review.proposal.id, index]) });
  }

  private target(uri: vscode.Uri): { review: Review; file: ProposalFile; index: number } | undefined {
    try {
      const [id, index] = JSON.parse(uri.query) as [string, number];
      const review = this.reviews.get(id);
      const file = review?.proposal.files[index];
      return review && file ? { review, file, index } : undefined;
    } catch {
      return undefined;
    }
  }

  private async currentText(file: ProposalFile): Promise<string> {
    const uri = vscode.Uri.parse(file.uri);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.getText();
    try {
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return ""; // a new file
    }
  }

  private async layout(review: Review, file: ProposalFile): Promise<Layout> {
    const included = (id: number) => review.decisions.get(id) !== "rejected" && !review.refused.has(id);
    const laid = layOut(await this.currentText(file), file.hunks, included);
    for (const id of laid.stale) {
      if (!review.refused.has(id)) review.refused.set(id, "the file changed there since the proposal was made");
    }
    return laid;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const t = this.target(uri);
    return t ? (await this.layout(t.review, t.file)).text : "";
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const t = this.target(document.uri);
    if (!t) return [];
    const { placed } = await this.layout(t.review, t.file);
    const id = t.review.proposal.id;
    return placed.flatMap(({ hunk, line }) => {
      const first = line + context(hunk).top;
      const at = new vscode.Range(first, 0, first, 0);
      const state = this.state(t.review, hunk.id);
      const lens = (title: string, command: string) =>
        new vscode.CodeLens(at, { title, command, arguments: [id, hunk.id] });
      const label = new vscode.CodeLens(at, { title: `hunk ${hunk.id} (${hunkStat(hunk)}): ${state}`, command: "" });
      if (t.review.refused.has(hunk.id)) return [label];
      return [
        label,
        ...(state === "accepted" ? [] : [lens("✓ Accept", "scopewise.review.acceptHunk")]),
        ...(state === "rejected" ? [] : [lens("✗ Reject", "scopewise.review.rejectHunk")]),
      ];
    });
  }

  private state(review: Review, hunk: number): string {
    const refused = review.refused.get(hunk);
    if (refused !== undefined) return `refused: ${plainText(refused)}`;
    return review.decisions.get(hunk) ?? "pending";
  }

  private fileChanged(uri: vscode.Uri): void {
    if (uri.scheme === SCHEME) return;
    for (const review of this.reviews.values()) {
      review.proposal.files.forEach((f, i) => {
        if (vscode.Uri.parse(f.uri).toString() === uri.toString()) this.docChanged.fire(this.proposedUri(review, i));
      });
    }
  }

  private async refresh(): Promise<void> {
    for (const review of this.reviews.values()) {
      review.proposal.files.forEach((_, i) => this.docChanged.fire(this.proposedUri(review, i)));
    }
    this.treeChanged.fire(undefined);
    this.lensChanged.fire();
    await vscode.commands.executeCommand("setContext", CONTEXT, this.reviews.size > 0);
  }

  // ------------------------------------------------------------ the view

  getChildren(node?: Node): Node[] {
    if (!node) return [...this.reviews.values()].reverse().map((review) => ({ kind: "proposal", review }));
    if (node.kind === "proposal") {
      return node.review.proposal.files.map((file, index) => ({ kind: "file", review: node.review, file, index }));
    }
    if (node.kind === "file") return node.file.hunks.map((hunk) => ({ ...node, kind: "hunk", hunk }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const expanded = vscode.TreeItemCollapsibleState.Expanded;
    if (node.kind === "proposal") {
      const p = node.review.proposal;
      const item = new vscode.TreeItem(plainText(p.title), expanded);
      item.id = `p:${p.id}`;
      const accepted = [...node.review.decisions.values()].filter((d) => d === "accepted").length;
      item.description = `${accepted} of ${plural(this.hunks(node.review).length, "hunk")} accepted`;
      item.tooltip = [p.title, p.summary, ...p.leftovers.map((l) => `left to do: ${l}`), ...p.tests.map((t) => `tests: ${t}`)]
        .filter(Boolean)
        .join("\n");
      item.contextValue = "proposal";
      return item;
    }
    if (node.kind === "file") {
      const item = new vscode.TreeItem(vscode.Uri.parse(node.file.uri), expanded);
      item.id = `f:${node.review.proposal.id}:${node.index}`;
      item.label = plainText(node.file.path);
      item.description = plural(node.file.hunks.length, "hunk");
      item.contextValue = "file";
      item.command = { title: "Show the diff", command: "scopewise.review.open", arguments: [node] };
      return item;
    }
    const h = node.hunk;
    const state = this.state(node.review, h.id);
    const item = new vscode.TreeItem(`line ${firstChanged(h)} (${hunkStat(h)})`, vscode.TreeItemCollapsibleState.None);
    item.id = `h:${node.review.proposal.id}:${h.id}`;
    item.description = state;
    item.tooltip = [...h.old_lines.map((l) => `- ${l}`), ...h.new_lines.map((l) => `+ ${l}`)].join("\n");
    const icon = { accepted: "check", rejected: "close", pending: "circle-outline" }[state] ?? "warning";
    item.iconPath = new vscode.ThemeIcon(icon);
    item.contextValue = node.review.refused.has(h.id) ? "hunk.refused" : `hunk.${state}`;
    item.command = { title: "Show the hunk", command: "scopewise.review.open", arguments: [node] };
    return item;
  }

  private hunks(review: Review): number[] {
    return review.proposal.files.flatMap((f) => f.hunks.map((h) => h.id));
  }

  // ------------------------------------------------------------ actions

  /** The review a command is about: its node's, else the newest. */
  private reviewOf(node?: Node): Review | undefined {
    if (node) return this.reviews.get(node.review.proposal.id);
    return [...this.reviews.values()].pop();
  }

  private async open(node?: Node): Promise<void> {
    if (!node || node.kind === "proposal") return;
    await this.openDiff(node.review, node.file, node.index, node.kind === "hunk" ? node.hunk : undefined);
  }

  /** "Show diff": a file's row opens its diff (current ↔ proposed); the proposal's row, the
   *  view's title or the palette open the whole proposal as one unified diff (the server
   *  writes it: scopewise.proposalDiff). */
  private async showDiff(node?: Node): Promise<void> {
    if (node && node.kind !== "proposal") return this.open({ ...node, kind: "file" });
    const review = this.reviewOf(node);
    if (!review) return;
    try {
      const shown = await this.server(PROPOSAL_DIFF_COMMAND, { id: review.proposal.id });
      const uri = (shown as { uri?: unknown } | undefined)?.uri;
      if (typeof uri !== "string") throw new Error("the server sent no diff");
      await vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: false });
    } catch (err) {
      void vscode.window.showErrorMessage(`scopewise: the proposal's diff: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async openDiff(review: Review, file: ProposalFile, index: number, hunk?: Hunk): Promise<void> {
    const right = this.proposedUri(review, index);
    let selection: vscode.Range | undefined;
    if (hunk) {
      const at = (await this.layout(review, file)).placed.find((p) => p.hunk.id === hunk.id);
      const line = at && at.line + context(hunk).top;
      if (line !== undefined) selection = new vscode.Range(line, 0, line, 0);
    }
    const name = file.path.split("/").pop() ?? file.path;
    await vscode.commands.executeCommand("vscode.diff", vscode.Uri.parse(file.uri), right, `${name} ↔ proposed`, {
      preview: false,
      selection,
    });
  }

  private async decide(node: Node | undefined, decision: Decision): Promise<void> {
    if (node?.kind === "hunk") return this.decideHunk(node.review.proposal.id, node.hunk.id, decision);
    // from the palette or the diff's title: the hunk at the cursor in the proposed side
    const editor = vscode.window.activeTextEditor;
    const t = editor && this.target(editor.document.uri);
    if (!editor || !t) {
      void vscode.window.showInformationMessage("scopewise: put the cursor on a hunk in the proposed side of a diff.");
      return;
    }
    const line = editor.selection.active.line;
    const { placed } = await this.layout(t.review, t.file);
    const hit = placed.find((p) => line >= p.line && line < p.line + Math.max(1, p.count)) ??
      placed.filter((p) => p.line <= line).pop();
    if (hit) await this.decideHunk(t.review.proposal.id, hit.hunk.id, decision);
  }

  private async decideHunk(id: string, hunk: number, decision: Decision): Promise<void> {
    const review = this.reviews.get(id);
    if (!review || review.refused.has(hunk)) return;
    review.decisions.set(hunk, decision);
    await this.refresh();
  }

  private async acceptAll(node?: Node): Promise<void> {
    const review = this.reviewOf(node);
    if (!review) return;
    for (const id of this.hunks(review)) if (!review.refused.has(id)) review.decisions.set(id, "accepted");
    await this.apply(node);
  }

  private async rejectAll(node?: Node): Promise<void> {
    const review = this.reviewOf(node);
    if (!review) return;
    await this.server(DISCARD_PROPOSAL_COMMAND, { id: review.proposal.id }).catch((err: unknown) =>
      this.output.warn(`discarding ${review.proposal.id}: ${String(err)}`),
    );
    this.output.info(`proposal ${review.proposal.id} rejected: nothing applied`);
    await this.close(review);
  }

  /** Apply the accepted hunks (as one edit, by the server); the rest are not applied. */
  private async apply(node?: Node): Promise<void> {
    const review = this.reviewOf(node);
    if (!review) return;
    const accepted = this.hunks(review).filter((id) => review.decisions.get(id) === "accepted" && !review.refused.has(id));
    if (accepted.length === 0) {
      const pick = await vscode.window.showWarningMessage(
        "scopewise: no hunk is accepted. Reject the whole proposal?",
        "Reject all",
      );
      if (pick === "Reject all") await this.rejectAll(node);
      return;
    }
    let result: ApplyResult;
    try {
      result = parseApplyResult(await this.server(APPLY_PROPOSAL_COMMAND, { id: review.proposal.id, hunks: accepted }));
    } catch (err) {
      void vscode.window.showErrorMessage(`scopewise: applying the proposal failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    for (const r of result.refused) review.refused.set(r.hunk, r.reason);
    const done = plainText(`${plural(result.applied.length, "hunk")} applied to ${result.files.join(", ") || "no file"}`);
    this.output.info(`proposal ${review.proposal.id}: ${done}; refused ${result.refused.length}`);
    if (result.refused.length) {
      const why = plainText(result.refused.map((r) => `hunk ${r.hunk}: ${r.reason}`).join("; "));
      void vscode.window.showWarningMessage(`scopewise: ${done}. Refused: ${why}`);
      // what was applied leaves the review; the refused hunks stay, with their reasons
      const applied = new Set(result.applied);
      review.proposal.files = review.proposal.files
        .map((f) => ({ ...f, hunks: f.hunks.filter((h) => !applied.has(h.id)) }))
        .filter((f) => f.hunks.length > 0);
      await this.refresh();
      return;
    }
    void vscode.window.showInformationMessage(`scopewise: ${done}.`);
    await this.close(review);
  }

  /** "Revise…": an instruction (the follow-up's cost in the prompt), then `scopewise.revise`;
   *  the new proposal (its notification, or the answer) replaces this one. */
  private async revise(node?: Node): Promise<void> {
    const review = this.reviewOf(node);
    if (!review) return;
    const cost = review.proposal.revise;
    if (!cost) {
      void vscode.window.showInformationMessage("scopewise: this proposal cannot be revised.");
      return;
    }
    const instruction = await askInstruction(cost);
    if (instruction === undefined) return;
    this.output.info(`proposal ${review.proposal.id}: revise: ${instruction}`);
    let answer: unknown;
    try {
      answer = await this.server(REVISE_COMMAND, { proposal: review.proposal.id, instruction });
    } catch (err) {
      void vscode.window.showErrorMessage(`scopewise: revising failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const revised = parseProposal(answer);
    if (revised) await this.show(revised); // else the server said why (its message)
  }

  private async close(review: Review): Promise<void> {
    this.reviews.delete(review.proposal.id);
    // the last review done: back to the files rather than an empty side bar
    if (this.reviews.size === 0 && this.view?.visible) await vscode.commands.executeCommand("workbench.view.explorer");
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((tab) => {
      const input = tab.input;
      return input instanceof vscode.TabInputTextDiff && input.modified.scheme === SCHEME &&
        this.target(input.modified) === undefined;
    });
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
    await this.refresh();
  }
}

/** The user's instruction for a revise, asked with its cost; undefined: cancelled. */
export async function askInstruction(cost: ReviseCost): Promise<string | undefined> {
  const value = await vscode.window.showInputBox({
    title: "scopewise: Revise…",
    prompt: revisePrompt(cost),
    placeHolder: "e.g. keep the old name · shorter",
    ignoreFocusOut: true,
    validateInput: (v) => instructionProblem(v),
  });
  return value === undefined ? undefined : value.trim();
}

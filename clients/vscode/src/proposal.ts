// A proposal (the server's `scopewise/proposal`): its shape, checked as it arrives, and the
// proposed text of one file with the hunks the user has not rejected, laid over the file's
// current text. Pure (no VS Code): unit-tested under plain node. Every string in a proposal
// comes from the model or the repository: it is data, shown as plain text, never run.

export interface Hunk {
  id: number;
  /** 1-based first line of the hunk in the text the proposal was made against */
  start: number;
  old_lines: string[];
  new_lines: string[];
}

export interface ProposalFile {
  path: string;
  uri: string;
  version: number | null;
  hunks: Hunk[];
}

/** What "Revise…" would cost (the server's estimate of the follow-up call). */
export interface ReviseCost {
  tier: string;
  usd: number;
  cached: boolean;
  cachedUntil?: number; // epoch seconds: after it the prefix is written again, at uncachedUsd
  uncachedUsd?: number;
}

export interface Proposal {
  id: string;
  title: string;
  label: string;
  summary: string;
  files: ProposalFile[];
  leftovers: string[];
  tests: string[];
  /** absent: this proposal cannot be revised */
  revise?: ReviseCost;
  /** the proposal this one revised (the server has discarded it) */
  supersedes?: string;
}

/** What `scopewise.applyProposal` answers. */
export interface ApplyResult {
  applied: number[];
  refused: { hunk: number; reason: string }[];
  files: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
const text = (v: unknown): string => (typeof v === "string" ? v : "");

function parseHunk(v: unknown): Hunk | undefined {
  if (!isObject(v) || !Number.isInteger(v.id) || !Number.isInteger(v.start)) return undefined;
  if (!Array.isArray(v.old_lines) || !Array.isArray(v.new_lines)) return undefined;
  return {
    id: v.id as number,
    start: Math.max(1, v.start as number),
    old_lines: strings(v.old_lines).map(bare),
    new_lines: strings(v.new_lines).map(bare),
  };
}

function parseFile(v: unknown): ProposalFile | undefined {
  if (!isObject(v) || typeof v.uri !== "string" || !Array.isArray(v.hunks)) return undefined;
  const hunks = v.hunks.map(parseHunk);
  if (hunks.some((h) => h === undefined)) return undefined;
  return {
    path: text(v.path) || v.uri,
    uri: v.uri,
    version: Number.isInteger(v.version) ? (v.version as number) : null,
    hunks: (hunks as Hunk[]).slice().sort((a, b) => a.start - b.start),
  };
}

/** The proposal in a notification or a run's result, or undefined when it is not one (or a
 *  hunk id repeats: the ids are what the user's decisions refer to). */
export function parseProposal(v: unknown): Proposal | undefined {
  if (!isObject(v) || typeof v.id !== "string" || !v.id || !Array.isArray(v.files)) return undefined;
  const files = v.files.map(parseFile);
  if (files.some((f) => f === undefined)) return undefined;
  const ids = (files as ProposalFile[]).flatMap((f) => f.hunks.map((h) => h.id));
  if (new Set(ids).size !== ids.length) return undefined;
  return {
    id: v.id,
    title: text(v.title) || "scopewise proposal",
    label: text(v.label),
    summary: text(v.summary),
    files: files as ProposalFile[],
    leftovers: strings(v.leftovers),
    tests: strings(v.tests),
    revise: parseRevise(v.revise),
    supersedes: typeof v.supersedes === "string" && v.supersedes ? v.supersedes : undefined,
  };
}

/** A proposal's or an explanation's `revise`, or undefined when it is not one. */
export function parseRevise(v: unknown): ReviseCost | undefined {
  if (!isObject(v) || typeof v.usd !== "number" || !Number.isFinite(v.usd) || v.usd < 0) return undefined;
  const cost: ReviseCost = { tier: text(v.tier) || "?", usd: v.usd, cached: v.cached === true };
  const later = v.uncachedUsd;
  if (cost.cached && typeof v.cachedUntil === "number" && typeof later === "number" && Number.isFinite(later) && later >= 0) {
    cost.cachedUntil = v.cachedUntil;
    cost.uncachedUsd = later;
  }
  return cost;
}

/** The cost as of `nowS` (epoch seconds): the estimate sent with the result while its prefix
 *  is still expected in the prompt cache, the uncached one after. */
export function costNow(cost: ReviseCost, nowS: number = Date.now() / 1000): ReviseCost {
  if (!cost.cached || cost.cachedUntil === undefined || cost.uncachedUsd === undefined) return cost;
  return nowS < cost.cachedUntil ? cost : { tier: cost.tier, usd: cost.uncachedUsd, cached: false };
}

export const MAX_INSTRUCTION = 500;

/** The input box's prompt: "Revise… (standard, ~$0.004, cached)". */
export function revisePrompt(given: ReviseCost, nowS?: number): string {
  const cost = costNow(given, nowS);
  const usd =
    cost.usd >= 0.01 ? `~$${cost.usd.toFixed(2)}` : cost.usd < 0.0001 ? "<$0.0001" : `~$${Number(cost.usd.toPrecision(1))}`;
  return `Revise… (${plainText(cost.tier)}, ${usd}${cost.cached ? ", cached" : ""})`;
}

/** Why an instruction cannot be sent (the server says the same), or undefined when it can. */
export function instructionProblem(value: string): string | undefined {
  const line = value.trim();
  if (!line) return "say how to revise it (e.g. “keep the old name”, “shorter”)";
  if (line.length > MAX_INSTRUCTION) return `at most ${MAX_INSTRUCTION} characters, in one line`;
  return undefined;
}

export function parseApplyResult(v: unknown): ApplyResult {
  const r = isObject(v) ? v : {};
  const ids = Array.isArray(r.applied) ? r.applied.filter((n): n is number => Number.isInteger(n)) : [];
  const refused = Array.isArray(r.refused)
    ? r.refused.flatMap((x) =>
        isObject(x) && Number.isInteger(x.hunk) ? [{ hunk: x.hunk as number, reason: text(x.reason) || "refused" }] : [],
      )
    : [];
  return { applied: ids, refused, files: strings(r.files) };
}

/** A line without its line break (a hunk's lines may carry theirs). */
function bare(line: string): string {
  return line.replace(/\r?\n$/, "");
}

/** The 0-based line where `hunk`'s old lines are in `lines`: at its start if they still are,
 *  else the nearest place they are; undefined when they are nowhere (the file changed there). */
export function locate(lines: string[], hunk: Hunk): number | undefined {
  const at = Math.min(hunk.start - 1, lines.length);
  const n = hunk.old_lines.length;
  const matches = (i: number): boolean =>
    i >= 0 && i + n <= lines.length && hunk.old_lines.every((l, k) => lines[i + k] === l);
  if (n === 0) return at;
  for (let d = 0; d <= lines.length; d++) {
    if (matches(at - d)) return at - d;
    if (d > 0 && matches(at + d)) return at + d;
  }
  return undefined;
}

/** Where a hunk sits in the proposed text: 0-based first line and line count (its new lines
 *  when included, its old lines when not). */
export interface Placed {
  hunk: Hunk;
  line: number;
  count: number;
  included: boolean;
}

export interface Layout {
  text: string;
  placed: Placed[];
  /** hunks whose old lines are no longer in the file (or overlap an earlier hunk) */
  stale: number[];
}

/** The proposed text of a file: `current` with the hunks `include` says yes to. */
export function layOut(current: string, hunks: Hunk[], include: (id: number) => boolean): Layout {
  const eol = current.includes("\r\n") ? "\r\n" : "\n";
  const lines = current.split(/\r?\n/);
  const found: { hunk: Hunk; at: number }[] = [];
  const stale: number[] = [];
  let end = 0;
  for (const hunk of hunks) {
    const at = locate(lines, hunk);
    if (at === undefined || at < end) {
      stale.push(hunk.id);
      continue;
    }
    found.push({ hunk, at });
    end = at + hunk.old_lines.length;
  }
  const out: string[] = [];
  const placed: Placed[] = [];
  let i = 0;
  for (const { hunk, at } of found) {
    out.push(...lines.slice(i, at));
    const included = include(hunk.id);
    const body = included ? hunk.new_lines : hunk.old_lines;
    placed.push({ hunk, line: out.length, count: body.length, included });
    out.push(...body);
    i = at + hunk.old_lines.length;
  }
  out.push(...lines.slice(i));
  return { text: out.join(eol), placed, stale };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The lines a hunk's old and new text share at its top and at its bottom (its context). */
export function context(h: Hunk): { top: number; bottom: number } {
  const o = h.old_lines;
  const n = h.new_lines;
  let top = 0;
  while (top < o.length && top < n.length && o[top] === n[top]) top++;
  let bottom = 0;
  while (bottom < o.length - top && bottom < n.length - top && o[o.length - 1 - bottom] === n[n.length - 1 - bottom]) bottom++;
  return { top, bottom };
}

/** "+2 −1" for a hunk: the lines it adds and removes, its context left out. */
export function hunkStat(h: Hunk): string {
  const { top, bottom } = context(h);
  return `+${h.new_lines.length - top - bottom} −${h.old_lines.length - top - bottom}`;
}

/** The 1-based line of a hunk's first change in the text the proposal was made against. */
export function firstChanged(h: Hunk): number {
  return h.start + context(h).top;
}

/** Text from the model or the repository made inert where VS Code would read markup: a
 *  notification's `[label](command:…)` link, a CodeLens' or label's `$(icon)`. */
export function plainText(s: string): string {
  return s.replace(/\[/g, "‹").replace(/\]/g, "›").replace(/\$\(/g, "$\u200b(").replace(/[\r\n]+/g, " ");
}

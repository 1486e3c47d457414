// Which settings a workspace may give the server. `.vscode/settings.json` is written by whoever
// wrote the repository, so for the keys that decide where the key and the code go or how much
// may be spent (the server's `config.SENSITIVE`, and each tier's `model`) only the user's own
// value (user settings, else the default) is sent. No `vscode` import: unit-tested under node.

/** The sensitive keys (relative to `scopewise.`), and why; `tiers.<tier>.model` too. */
export const SENSITIVE: Readonly<Record<string, string>> = {
  apiKey: "it decides whose account your code is sent to",
  baseUrl: "it decides where your key and code go",
  provider: "it decides where your key and code go",
  dailyCapUsd: "it decides how much may be spent",
  prices: "they decide what your spend and the daily cap count",
  testCommand: "it runs a command on your machine",
};
export const MODEL_REASON = "it decides which model you pay for";

/** What `WorkspaceConfiguration.inspect(key)` tells of one setting (the parts used here). */
export interface Levels {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The value to send for a key, and the workspace-level keys left out (each with why). */
export interface Chosen {
  value: unknown;
  ignored: { key: string; why: string }[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A setting's value as the server may take it: the most specific level for an ordinary key;
 *  only the user's (global) value for a sensitive one; for `tiers`, the workspace may set
 *  everything but a tier's `model`. */
export function chooseValue(key: string, levels: Levels): Chosen {
  const fromWorkspace = levels.workspaceFolderValue ?? levels.workspaceValue;
  const ignored: Chosen["ignored"] = [];
  if (key in SENSITIVE) {
    if (fromWorkspace !== undefined && fromWorkspace !== "") {
      ignored.push({ key, why: SENSITIVE[key] });
    }
    return { value: levels.globalValue, ignored };
  }
  if (key === "tiers" && isObject(fromWorkspace)) {
    const out: Record<string, unknown> = {};
    const mine = isObject(levels.globalValue) ? levels.globalValue : {};
    for (const [name, tier] of Object.entries(mine)) out[name] = isObject(tier) ? { ...tier } : tier;
    for (const [name, tier] of Object.entries(fromWorkspace)) {
      if (!isObject(tier)) continue;
      const { model, ...rest } = tier;
      if (model !== undefined) ignored.push({ key: `tiers.${name}.model`, why: MODEL_REASON });
      const base = isObject(out[name]) ? (out[name] as Record<string, unknown>) : {};
      out[name] = { ...base, ...rest };
    }
    return { value: out, ignored };
  }
  return { value: fromWorkspace ?? levels.globalValue, ignored };
}

/** The one line the user reads when a workspace setting is left out. */
export function ignoredMessage(key: string, why: string): string {
  return (
    `scopewise.${key} in the workspace settings is ignored (${why}); ` +
    "set it in your user settings"
  );
}

export const RESTRICTED_MESSAGE =
  "scopewise is inactive in Restricted Mode: the workspace is not trusted (its settings could " +
  "send your key elsewhere). Trust the workspace to use it.";

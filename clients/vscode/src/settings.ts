// The server's settings as the editor holds them (`scopewise.*`), passed as
// initializationOptions and answered to `workspace/configuration`.
import * as vscode from "vscode";
import { chooseValue } from "./trust";

export const SECTION = "scopewise";

// Settings of the extension itself, never sent to the server (it would call them unknown).
const CLIENT_ONLY = new Set(["server.path", "python"]);

/** The contributed setting keys (relative to `scopewise.`) the server reads. */
export function serverKeys(extension: vscode.Extension<unknown>): string[] {
  const json = extension.packageJSON as {
    contributes?: { configuration?: { properties?: Record<string, unknown> } };
  };
  const props = json.contributes?.configuration?.properties ?? {};
  return Object.keys(props)
    .filter((k) => k.startsWith(SECTION + "."))
    .map((k) => k.slice(SECTION.length + 1))
    .filter((k) => !CLIENT_ONLY.has(k));
}

/** Only what the user set (user, workspace or folder), not the contributed defaults: those
 *  would hide the project's `.scopewise.toml`, which the editor's settings sit on top of.
 *  The sensitive keys (see trust.ts) are taken from the user settings only; each workspace
 *  value left out is passed to `onIgnored` with why.
 *  Dotted keys (`force.refactor`) become nested objects, as the server expects. */
export function serverSettings(
  keys: string[],
  scope?: vscode.Uri,
  onIgnored?: (key: string, why: string) => void,
): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope ?? null);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const seen = config.inspect(key);
    if (seen === undefined) continue;
    const { value, ignored } = chooseValue(key, seen);
    for (const left of ignored) onIgnored?.(left.key, left.why);
    if (value === undefined || value === "") continue;
    const parts = key.split(".");
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== "object" || next === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

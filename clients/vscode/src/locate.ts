// Finding the scopewise language server: `scopewise.server.path`, else a Python interpreter
// (`scopewise.python`, the workspace's interpreter) with `-m scopewise.cli serve`, else
// `scopewise` on PATH. Every candidate tried is remembered, so "not found" can say what to do.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { SECTION } from "./settings";

export interface ServerCommand {
  command: string;
  args: string[];
  /** Where it came from, for the output channel. */
  source: string;
}

export interface Located {
  server?: ServerCommand;
  /** Each candidate and why it was not used. */
  tried: string[];
  /** A setting that points at something unusable: its message is the one to show. */
  badSetting?: string;
}

const IS_WINDOWS = process.platform === "win32";

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, IS_WINDOWS ? fs.constants.F_OK : fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `scopewise` (or another name) on PATH. */
export function onPath(name: string, envPath = process.env.PATH ?? ""): string | undefined {
  const exts = IS_WINDOWS ? (process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

/** Whether this Python can import scopewise's command line (the reason when not). */
function pythonHasScopewise(python: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      python,
      ["-c", "import scopewise.cli"],
      { timeout: 20000, windowsHide: true },
      (err, _stdout, stderr) => {
        if (!err) resolve(undefined);
        else if ((err as NodeJS.ErrnoException).code === "ENOENT") resolve("it does not exist");
        else resolve(stderr.trim().split("\n").pop() || err.message);
      },
    );
  });
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(
      env: { path: string } | string,
    ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

/** The interpreter the Python extension chose for the workspace, when it is installed. */
async function pythonExtensionInterpreter(folder?: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envs = api?.environments;
    if (!envs) return undefined;
    const env = await envs.resolveEnvironment(envs.getActiveEnvironmentPath(folder));
    return env?.executable.uri?.fsPath;
  } catch {
    return undefined;
  }
}

/** The workspace's interpreters, best first: the Python extension's choice, the
 *  `python.defaultInterpreterPath` setting, then a `.venv` / `venv` in the folder. */
async function workspacePythons(folder?: vscode.Uri): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const fromExt = await pythonExtensionInterpreter(folder);
  if (fromExt) out.push([fromExt, "the Python extension's interpreter"]);
  const configured = vscode.workspace
    .getConfiguration("python", folder ?? null)
    .get<string>("defaultInterpreterPath");
  if (configured && configured !== "python" && path.isAbsolute(configured)) {
    out.push([configured, "python.defaultInterpreterPath"]);
  }
  if (folder && folder.scheme === "file") {
    const bin = IS_WINDOWS ? path.join("Scripts", "python.exe") : path.join("bin", "python");
    for (const venv of [".venv", "venv"]) {
      const py = path.join(folder.fsPath, venv, bin);
      if (fs.existsSync(py)) out.push([py, `the workspace's ${venv}`]);
    }
  }
  return out;
}

export async function locateServer(folder?: vscode.Uri): Promise<Located> {
  const config = vscode.workspace.getConfiguration(SECTION, folder ?? null);
  const tried: string[] = [];

  const explicit = (config.get<string>("server.path") ?? "").trim();
  if (explicit) {
    if (isExecutable(explicit)) {
      return { server: { command: explicit, args: ["serve"], source: "scopewise.server.path" }, tried };
    }
    const why = `scopewise.server.path is "${explicit}", which is not an executable file`;
    return { tried: [why], badSetting: why };
  }

  const python = (config.get<string>("python") ?? "").trim();
  if (python) {
    const problem = await pythonHasScopewise(python);
    if (problem === undefined) {
      return {
        server: { command: python, args: ["-m", "scopewise.cli", "serve"], source: "scopewise.python" },
        tried,
      };
    }
    const why = `scopewise.python is "${python}", which cannot import scopewise (${problem})`;
    return { tried: [why], badSetting: why };
  }

  for (const [py, source] of await workspacePythons(folder)) {
    const problem = await pythonHasScopewise(py);
    if (problem === undefined) {
      return { server: { command: py, args: ["-m", "scopewise.cli", "serve"], source }, tried };
    }
    tried.push(`${source} (${py}): cannot import scopewise (${problem})`);
  }

  const exe = onPath("scopewise");
  if (exe) return { server: { command: exe, args: ["serve"], source: "PATH" }, tried };
  tried.push("`scopewise` is not on PATH");
  return { tried };
}

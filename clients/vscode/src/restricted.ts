// Restricted Mode: in a workspace VS Code does not trust, scopewise does not start the server
// (the workspace could choose its executable, interpreter and where requests go). It says so in
// the status bar and once as a message, and starts when the user grants trust.
import * as vscode from "vscode";
import { RESTRICTED_MESSAGE } from "./trust";

export { RESTRICTED_MESSAGE };

let told = false;

/** Whether the server may start now; if not, shows why (the status bar item, and one message
 *  per session). */
export function mayStart(status: vscode.StatusBarItem): boolean {
  if (vscode.workspace.isTrusted) return true;
  status.text = "$(shield) scopewise: inactive";
  status.tooltip = RESTRICTED_MESSAGE;
  status.command = "workbench.trust.manage";
  if (!told) {
    told = true;
    void vscode.window
      .showInformationMessage(RESTRICTED_MESSAGE, "Manage Workspace Trust")
      .then((pick) => {
        if (pick) void vscode.commands.executeCommand("workbench.trust.manage");
      });
  }
  return false;
}

/** Runs `start` when the user trusts the workspace. */
export function startWhenTrusted(
  status: vscode.StatusBarItem,
  start: () => Promise<void>,
): vscode.Disposable {
  return vscode.workspace.onDidGrantWorkspaceTrust(() => {
    status.text = "$(loading~spin) scopewise";
    status.tooltip = "scopewise: starting the language server";
    status.command = "scopewise.showUsage";
    void start();
  });
}

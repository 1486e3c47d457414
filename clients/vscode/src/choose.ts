// "Refactor…" and "Project actions…" ask which one before anything runs. The server can ask
// in stock LSP (a notification with a button each), but a notification is easy to miss and
// cuts long titles; here the question is a quick pick: one row per choice with its tier and
// cost, and why, from `scopewise.choices`. Nothing runs unless a row is picked.
import * as vscode from "vscode";

export const CHOICES_COMMAND = "scopewise.choices"; // {of, data} -> {question, choices}

export interface Choice {
  title: string; // "simplify · quick: a short body · <$0.01"
  reason: string;
  data: object; // what scopewise.run takes
}

interface Choices {
  question: string;
  choices: Choice[];
}

/** The server's answer to `scopewise.choices`: its choices, or undefined when it refused
 *  (it has said why to the user). */
export function asChoices(answer: unknown): Choices | undefined {
  if (typeof answer !== "object" || answer === null) return undefined;
  const a = answer as Partial<Choices>;
  return typeof a.question === "string" && Array.isArray(a.choices) ? (a as Choices) : undefined;
}

/** One quick-pick row per choice: its name, then tier and cost, then why. */
export function rows(choices: Choice[]): (vscode.QuickPickItem & { choice: Choice })[] {
  return choices.map((choice) => {
    const [name, ...rest] = choice.title.split(" · ");
    const why = choice.reason.startsWith(`${name} · `) ? choice.reason.slice(name.length + 3) : choice.reason;
    return { label: name, description: rest.join(" · "), detail: why, choice };
  });
}

/** Ask the question; the choice picked, or undefined when dismissed. */
export async function pick(asked: Choices): Promise<Choice | undefined> {
  const question = asked.question.replace(/^scopewise: /, "");
  const picked = await vscode.window.showQuickPick(rows(asked.choices), {
    title: `scopewise: ${question}`,
    placeHolder: "pick one to run; Escape: nothing runs",
    matchOnDescription: true,
  });
  return picked?.choice;
}

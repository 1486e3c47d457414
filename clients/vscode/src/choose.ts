// "Refactor…" and "Project actions…" ask which one before anything runs. The server can ask
// in stock LSP (a notification with a button each), but a notification is easy to miss and
// cuts long titles; here the question is a quick pick: one row per choice with its tier and
// cost, and why, from `scopewise.choices`. Nothing runs unless a row is picked. Pure: no VS
// Code at run time (unit-tested under plain node); extension.ts shows the rows.
import type { QuickPickItem } from "vscode";

export const CHOICES_COMMAND = "scopewise.choices"; // {of, data} -> {question, choices}

export interface Choice {
  title: string; // "simplify · quick: a short body · <$0.01"
  reason: string;
  data: object; // what scopewise.run takes
}

export interface Choices {
  question: string;
  choices: Choice[];
}

/** The server's answer to `scopewise.choices`: its choices, or undefined when it refused
 *  (it has said why to the user). */
export function asChoices(answer: unknown): Choices | undefined {
  if (typeof answer !== "object" || answer === null) return undefined;
  const a = answer as Partial<Choices>;
  if (typeof a.question !== "string" || !Array.isArray(a.choices)) return undefined;
  const ok = (c: Partial<Choice> | null): c is Choice =>
    typeof c?.title === "string" && typeof c.reason === "string" && typeof c.data === "object" && c.data !== null;
  return { question: a.question, choices: (a.choices as (Partial<Choice> | null)[]).filter(ok) };
}

/** One quick-pick row per choice: its name, then tier and cost, then why. */
export function rows(choices: Choice[]): (QuickPickItem & { choice: Choice })[] {
  return choices.map((choice) => {
    const [name, ...rest] = choice.title.split(" · ");
    const why = choice.reason.startsWith(`${name} · `) ? choice.reason.slice(name.length + 3) : choice.reason;
    return { label: name, description: rest.join(" · "), detail: why, choice };
  });
}

/** The quick pick's title: the server's question without its "scopewise: " prefix, then
 *  with it once (the title bar names the extension). */
export function title(asked: Choices): string {
  return `scopewise: ${asked.question.replace(/^scopewise: /, "")}`;
}

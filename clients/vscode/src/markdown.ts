// A small Markdown renderer for the explanation panel. The model's text is data: every
// character is HTML-escaped first, then a few Markdown forms become tags (headings, code
// blocks and spans, emphasis, lists, quotes, rules, paragraphs). Links keep their text and
// show their target as text; nothing here makes a script, an attribute from the input, an
// image or a request. Pure: no VS Code here (unit-tested under plain node).

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Inline forms of one escaped line: code spans first (their content stays literal). */
function inline(escaped: string): string {
  const parts = escaped.split(/(`[^`]+`)/);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return `<code>${part.slice(1, -1)}</code>`;
      return part
        .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
        .replace(/(^|[^*\w])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
        .replace(/(^|[^\w])_([^_\s][^_]*)_(?!\w)/g, "$1<em>$2</em>")
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<span class="link">$1</span> <span class="target">($2)</span>');
    })
    .join("");
}

/** The HTML of a Markdown text (escaped: safe to put in a page with no scripts). */
export function renderMarkdown(markdown: string): string {
  const out: string[] = [];
  let para: string[] = [];
  let list: "ul" | "ol" | null = null;
  let fence: string[] | null = null;
  const endPara = () => {
    if (para.length) out.push(`<p>${para.join(" ")}</p>`);
    para = [];
  };
  const endList = () => {
    if (list) out.push(`</${list}>`);
    list = null;
  };
  for (const raw of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    if (fence) {
      if (/^\s*```/.test(raw)) {
        out.push(`<pre><code>${fence.join("\n")}</code></pre>`);
        fence = null;
      } else {
        fence.push(escapeHtml(raw));
      }
      continue;
    }
    if (/^\s*```/.test(raw)) {
      endPara();
      endList();
      fence = [];
      continue;
    }
    const line = escapeHtml(raw);
    const heading = /^(#{1,6})\s+(.*)$/.exec(raw);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(raw);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(raw);
    if (!raw.trim()) {
      endPara();
      endList();
    } else if (heading) {
      endPara();
      endList();
      const n = heading[1].length;
      out.push(`<h${n}>${inline(escapeHtml(heading[2]))}</h${n}>`);
    } else if (/^\s*(-{3,}|\*{3,}|_{3,})\s*$/.test(raw)) {
      endPara();
      endList();
      out.push("<hr>");
    } else if (bullet || numbered) {
      endPara();
      const kind = bullet ? "ul" : "ol";
      if (list !== kind) {
        endList();
        out.push(`<${kind}>`);
        list = kind;
      }
      out.push(`<li>${inline(escapeHtml((bullet ?? numbered)![1]))}</li>`);
    } else if (/^\s*>/.test(raw)) {
      endPara();
      endList();
      out.push(`<blockquote>${inline(escapeHtml(raw.replace(/^\s*>\s?/, "")))}</blockquote>`);
    } else {
      endList();
      para.push(inline(line));
    }
  }
  if (fence) out.push(`<pre><code>${fence.join("\n")}</code></pre>`); // still being written
  endPara();
  endList();
  return out.join("\n");
}

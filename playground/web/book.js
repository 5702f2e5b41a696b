// A reader for the course's pages (docs/book/*.md, copied into book/ by the build), so
// that the playground's links open a chapter without a server that renders markdown.
// book.html#07-gradient-flow-at-depth/eq-5-split-into-its-two-terms opens chapter 07 at
// that heading. It reads the subset of markdown the book is written in: headings,
// paragraphs, lists, tables, quotes, fenced code, images, links, emphasis and inline code;
// formulas stay as TeX.

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
export const slug = (text) =>
  text.toLowerCase().replace(/<[^>]+>/g, "").replace(/[^\p{L}\p{N} _-]/gu, "").trim().replace(/ /g, "-");

function inline(text, chapter) {
  const codes = [];
  let s = escape(text).replace(/`([^`]+)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
  s = s
    .replace(/!\[([^\]]*)\]\(([^)]+)\)/g, (_, alt, src) => `<img alt="${alt}" src="${src.startsWith("http") ? src : "book/" + src}">`)
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_, label, href) => {
      const page = href.match(/^([\w-]+)\.md(#.*)?$/);
      if (page) href = `book.html#${page[1]}${page[2] ? "/" + page[2].slice(1) : ""}`;
      else if (!/^(https?:|#)/.test(href)) href = `book/${href}`;
      return `<a href="${href}">${label}</a>`;
    })
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/(^|[\s(])_([^_\s][^_]*)_(?=[\s).,;:]|$)/g, "$1<em>$2</em>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[i]}</code>`);
}

export function render(md, chapter) {
  const lines = md.split("\n");
  const out = [];
  let para = [];
  const flush = () => { if (para.length) out.push(`<p>${inline(para.join(" "), chapter)}</p>`); para = []; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^(\s*)```/);
    if (fence) {
      flush();
      const body = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]); i++) body.push(lines[i]);
      out.push(`<pre><code>${escape(body.join("\n"))}</code></pre>`);
      continue;
    }
    const h = line.match(/^(#{1,6})\s+(.*)$/);
    if (h) {
      flush();
      out.push(`<h${h[1].length} id="${slug(h[2])}">${inline(h[2], chapter)}</h${h[1].length}>`);
      continue;
    }
    if (/^\s*$/.test(line)) { flush(); continue; }
    if (/^\|/.test(line)) {
      flush();
      const rows = [];
      for (; i < lines.length && /^\|/.test(lines[i]); i++) rows.push(lines[i]);
      i--;
      const cells = (r) => r.replace(/^\||\|$/g, "").split("|").map((c) => inline(c.trim(), chapter));
      const body = rows.filter((r) => !/^\|[\s:|-]+\|$/.test(r));
      out.push("<table>" + body.map((r, k) => `<tr>${cells(r).map((c) => (k ? `<td>${c}</td>` : `<th>${c}</th>`)).join("")}</tr>`).join("") + "</table>");
      continue;
    }
    const item = line.match(/^(\s*)([-*]|\d+\.)\s+(.*)$/);
    if (item) {
      flush();
      const ordered = /\d/.test(item[2]);
      const items = [];
      for (; i < lines.length; i++) {
        const m = lines[i].match(/^(\s*)([-*]|\d+\.)\s+(.*)$/);
        if (m) items.push(m[3]);
        else if (/^\s+\S/.test(lines[i]) && items.length) items[items.length - 1] += " " + lines[i].trim();
        else break;
      }
      i--;
      const tag = ordered ? "ol" : "ul";
      out.push(`<${tag}>${items.map((t) => `<li>${inline(t, chapter)}</li>`).join("")}</${tag}>`);
      continue;
    }
    if (/^>/.test(line)) { flush(); out.push(`<blockquote>${inline(line.replace(/^>\s?/, ""), chapter)}</blockquote>`); continue; }
    if (/^ {4}/.test(line) && para.length === 0) {
      const body = [];
      for (; i < lines.length && (/^ {4}/.test(lines[i]) || /^\s*$/.test(lines[i])); i++) body.push(lines[i].slice(4));
      i--;
      out.push(`<pre><code>${escape(body.join("\n").trimEnd())}</code></pre>`);
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return out.join("\n");
}

async function show() {
  const [chapter, anchor] = decodeURIComponent(location.hash.slice(1)).split("/");
  const el = document.getElementById("chapter");
  if (!/^[\w-]+$/.test(chapter ?? "")) { el.textContent = "No chapter named in the address."; return; }
  const response = await fetch(`book/${chapter}.md`);
  if (!response.ok) { el.textContent = `The chapter ${chapter} is not in book/ (${response.status}).`; return; }
  el.innerHTML = render(await response.text(), chapter);
  document.title = `resgrad: ${el.querySelector("h1")?.textContent ?? chapter}`;
  if (anchor) document.getElementById(anchor)?.scrollIntoView();
}

window.addEventListener("hashchange", show);
show();

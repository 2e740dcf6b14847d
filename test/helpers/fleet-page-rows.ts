// Reads the receiver's fleet page back into rows: as the renderer wrote it or as Chromium's
// --dump-dom serializes it once parsed (the same markup: the page has no script to change it).

export interface PageRowLine {
  /** "label value", or the value alone, as a person reads it. */
  text: string;
  /** The value's tone class: ok, bad, or "" for neither. */
  tone: string;
}

export interface PageRow {
  node: string;
  problem: boolean;
  /** Each cell's lines by the column's heading. */
  cells: Record<string, PageRowLine[]>;
}

const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&amp;": "&" };
const decode = (html: string): string => html.replace(/&(lt|gt|quot|#39|amp);/g, (e) => ENTITIES[e]);

function lines(cell: string): PageRowLine[] {
  return [...cell.matchAll(/<div>(?:<span class="k">(.*?)<\/span>)?<span(?: class="(ok|bad)")?>(.*?)<\/span><\/div>/g)].map((m) => ({
    text: decode(m[1] ? `${m[1]} ${m[3]}` : m[3]),
    tone: m[2] ?? "",
  }));
}

export function pageRows(html: string): PageRow[] {
  const body = html.slice(html.indexOf("<tbody>"), html.indexOf("</tbody>"));
  return [...body.matchAll(/<tr( class="problem")?><th scope="row">(.*?)<\/th>(.*?)<\/tr>/gs)].map((m) => ({
    node: decode(m[2]),
    problem: Boolean(m[1]),
    cells: Object.fromEntries([...m[3].matchAll(/<td data-label="([^"]*)"><div>(.*?)<\/div><\/td>/gs)].map((c) => [decode(c[1]), lines(c[2])])),
  }));
}

/** A cell's lines as text, joined with " | ". */
export function cellText(row: PageRow, heading: string): string {
  return (row.cells[heading] ?? []).map((l) => l.text).join(" | ");
}

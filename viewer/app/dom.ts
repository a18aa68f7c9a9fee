// Small DOM helpers shared by the views.

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A new element with a class and, optionally, its text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className !== '') e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The rows of a list that a scroll window shows, with a margin either side so a scroll does not flash. */
export function visibleRows(scroller: HTMLElement, rowHeightPx: number, rows: number): { first: number; last: number } {
  const margin = 30;
  const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeightPx) - margin);
  const last = Math.min(rows - 1, Math.ceil((scroller.scrollTop + scroller.clientHeight) / rowHeightPx) + margin);
  return { first, last };
}

/** A line without its `#step Tms ` head (the row shows those in their own column). */
export function body(line: string): string {
  return line.replace(/^#\d+ \d+ms /, '');
}

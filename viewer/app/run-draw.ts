// Drawing a window of the run's rows: the rows' HTML (time, decisions, the event's line) and the
// SVG under them (lane lines, fault spans, arrows, a mark per event). Built as strings and set
// with innerHTML once per scroll: one parse of ~150 rows is far cheaper than ~1,000 createElement
// calls, and only the window's rows and the arrows and spans that cross it are drawn.

import type { RunDocument } from '../document.ts';
import { body, escapeHtml } from './dom.ts';
import type { Arrow, Layout } from './run-layout.ts';

export const ROW_PX = 20;
export const TIME_PX = 96;
/** The event's text sits left of the lanes, so it stays in view whatever the number of nodes. */
export const TEXT_PX = 520;
export const LANES_LEFT_PX = TIME_PX + TEXT_PX;
export const LANE_PX = 64;

export function laneX(lane: number): number {
  return LANES_LEFT_PX + lane * LANE_PX + LANE_PX / 2;
}

/** What a window's drawing needs besides the layout. */
export interface Scene {
  readonly doc: RunDocument;
  readonly lanes: ReadonlyMap<string, number>;
  readonly layout: Layout;
  /** Highlight story events (only when some events are not in the story: else all would be). */
  readonly markStory: boolean;
  readonly selected: number | null;
}

const TEXT_STYLE = `left:${TIME_PX}px;width:${TEXT_PX - 8}px`;

export function rowsHtml(scene: Scene, first: number, last: number): string {
  const html: string[] = [];
  for (let r = first; r <= last; r++) html.push(rowHtml(scene, r));
  return html.join('');
}

function rowHtml(scene: Scene, r: number): string {
  const row = scene.layout.rows[r]!;
  const top = `style="top:${r * ROW_PX}px"`;
  if (row.kind === 'fold') {
    const n = row.to - row.from + 1;
    return `<div class="row fold" data-from="${row.from}" data-to="${row.to}" ${top} title="click to unfold"><span class="time"></span><span class="text" style="${TEXT_STYLE}">… ${n} event${n === 1 ? '' : 's'}</span></div>`;
  }
  const e = scene.doc.events[row.i]!;
  const classes = ['row', 'event', `kind-${e.kind}`];
  if (e.story && scene.markStory) classes.push('story');
  if (e.kind === 'lost') classes.push('lost');
  if (scene.selected === e.i) classes.push('selected');
  const decided = e.decisions === undefined ? '' : escapeHtml(e.decisions.join(' '));
  const badge = decided === '' ? '' : `<span class="decision" title="decisions: ${decided}">◆ ${decided}</span>`;
  return `<div class="${classes.join(' ')}" data-i="${e.i}" data-node="${escapeHtml(e.node)}" ${top}><span class="time">#${e.step} ${e.timeMs}ms</span><span class="text" style="${TEXT_STYLE}" title="${escapeHtml(e.line)}">${badge}${escapeHtml(body(e.line))}</span></div>`;
}

const DEFS = '<defs><marker id="head" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="head"/></marker></defs>';

/** The SVG of rows first..last: spans under lane lines under arrows under marks. */
export function svgHtml(scene: Scene, first: number, last: number): string {
  const parts: string[] = [DEFS];
  for (const s of scene.layout.spans) {
    if (s.toRow < first || s.fromRow > last) continue;
    for (const [from, to] of s.laneRuns) {
      const x = LANES_LEFT_PX + from * LANE_PX + 2;
      const w = (to - from + 1) * LANE_PX - 4;
      parts.push(`<rect class="fault-span fault-${escapeHtml(s.kind)}" x="${x}" y="${s.fromRow * ROW_PX}" width="${w}" height="${(s.toRow - s.fromRow + 1) * ROW_PX}"><title>${escapeHtml(s.description)}</title></rect>`);
    }
  }
  const [y0, y1] = [first * ROW_PX, (last + 1) * ROW_PX];
  scene.doc.nodes.forEach((_, k) => parts.push(`<line class="lane-line" x1="${laneX(k)}" x2="${laneX(k)}" y1="${y0}" y2="${y1}"/>`));
  // An arrow is drawn when any part of it is in the window: one sent above and delivered below crosses it.
  for (const a of scene.layout.arrows) {
    if (Math.max(a.fromRow, a.toRow) >= first && Math.min(a.fromRow, a.toRow) <= last) parts.push(arrowSvg(a));
  }
  for (let r = first; r <= last; r++) parts.push(markSvg(scene, r));
  return parts.join('');
}

function arrowSvg(a: Arrow): string {
  const [x1, x2] = [laneX(a.fromLane), laneX(a.toLane)];
  const [y1, y2] = [a.fromRow * ROW_PX + ROW_PX / 2, a.toRow * ROW_PX + ROW_PX / 2];
  if (!a.lost) return `<line class="arrow" data-i="${a.i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#head)"/>`;
  return `<line class="arrow lost-arrow" data-i="${a.i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>${crossSvg(x2, y2, a.i)}`;
}

/** The cross at the end of a lost message. */
function crossSvg(x: number, y: number, i: number): string {
  return `<path class="lost" data-i="${i}" d="M${x - 5},${y - 5} L${x + 5},${y + 5} M${x - 5},${y + 5} L${x + 5},${y - 5}"/>`;
}

/** A mark on the event's lane: a dot for its node, a band across every lane for world events and folds. */
function markSvg(scene: Scene, r: number): string {
  const row = scene.layout.rows[r]!;
  const y = r * ROW_PX + ROW_PX / 2;
  const band = (cls: string): string => `<line class="${cls}" x1="${LANES_LEFT_PX}" x2="${LANES_LEFT_PX + scene.doc.nodes.length * LANE_PX}" y1="${y}" y2="${y}"/>`;
  if (row.kind === 'fold') return band('fold-mark');
  const e = scene.doc.events[row.i]!;
  const lane = scene.lanes.get(e.node);
  if (lane === undefined) return band(`world-mark kind-${e.kind}`);
  const x = laneX(lane);
  // A loss whose send is unknown has no arrow to carry the cross: it goes on the lane itself.
  const cross = e.kind === 'lost' && e.sendIndex === undefined ? crossSvg(x, y, e.i) : '';
  const decision = e.decisions === undefined ? '' : `<rect class="decision-mark" x="${x + 5}" y="${y - 4}" width="8" height="8" transform="rotate(45 ${x + 9} ${y})"/>`;
  return `<circle class="dot kind-${e.kind}" data-i="${e.i}" cx="${x}" cy="${y}" r="${e.kind === 'send' ? 2.5 : 4}"/>${cross}${decision}`;
}

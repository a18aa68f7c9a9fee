// What a run leaves behind. Every run gets a fingerprint: a rolling FNV-1a hash over each step
// (kind, virtual time, node, message type, choices drawn so far), cheap enough for sweeps of
// thousands of seeds. The full trace (one record per event, written as JSON lines) is kept only
// when asked, because serialising every event costs far more than running it
// (measured: JSON per event cut a 5M-event loop from 3.2M to 0.66M events/s).

export type TraceEvent =
  | 'boot'
  | 'restart'
  | 'crash'
  | 'send'
  | 'deliver'
  | 'lost'
  | 'timer'
  | 'resume'
  | 'action'
  | 'fault'
  | 'heal'
  | 'log';

/**
 * One event of a traced run. `node` is where it happens (a send's sender, a delivery's receiver;
 * '' for world-wide events). Causality is kept as indices into the run's records: a delivery's
 * or a loss's `cause` is its send, a timer's the event that set it, a workflow's resumption the
 * event it yielded in, a fault's the step that injected it (the nemesis's, or a script's).
 */
export interface TraceRecord {
  readonly step: number;
  readonly timeMs: number;
  readonly event: TraceEvent;
  readonly node: string;
  /** The sender, for deliveries and losses. */
  readonly from?: string;
  /** The receiver, for sends. */
  readonly to?: string;
  /** 'msg', 'req' or 'rep' for sends, deliveries and losses. */
  readonly envelope?: string;
  readonly message?: unknown;
  readonly text?: string;
  /** The message's number in the run: a send and its deliveries (or loss) share it. */
  readonly msg?: number;
  /** Index of the record that caused this one (see above), when there is one. */
  readonly cause?: number;
  /** For faults, crashes and heals: the scheduled action that did it ('nemesis', a script's step). */
  readonly by?: string;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class Fingerprint {
  #a = FNV_OFFSET;
  #b = 0x9747b28c;

  fold(word: number): void {
    this.#a = Math.imul(this.#a ^ (word & 0xffff), FNV_PRIME);
    this.#a = Math.imul(this.#a ^ (word >>> 16), FNV_PRIME);
    this.#b = Math.imul(this.#b ^ word, 0x5bd1e995);
    this.#b ^= this.#b >>> 15;
  }

  /**
   * A string by its length and three of its characters: message types are few and distinct,
   * and this costs no lookup per step (a hash table of them was a twentieth of a sweep's time).
   */
  foldString(s: string): void {
    const n = s.length;
    this.fold(n === 0 ? 0 : (n << 24) ^ (s.charCodeAt(0) << 16) ^ (s.charCodeAt(n >> 1) << 8) ^ s.charCodeAt(n - 1));
  }

  /** The hash so far as one 32-bit word: a per-step print, to find where two runs part ways. */
  word(): number {
    return (this.#a ^ Math.imul(this.#b, 0x9e3779b1)) >>> 0;
  }

  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (this.#b >>> 0).toString(16).padStart(8, '0');
  }
}

/** The `type` of a message if it has one: the convention every model message follows. */
export function messageType(message: unknown): string {
  if (typeof message === 'object' && message !== null && 'type' in message) {
    const t = (message as { type: unknown }).type;
    if (typeof t === 'string') return t;
  }
  return typeof message;
}

/**
 * One line a person can read: `#12 340ms nexus -> sled-1 req VmmGetState {"vmmId":"vmm-3"}`.
 * Payloads are cut at `maxChars` (the story passes Infinity: its lines are few and must be whole).
 */
export function describeRecord(r: TraceRecord, maxChars = 160): string {
  const head = `#${r.step} ${r.timeMs}ms`;
  switch (r.event) {
    case 'send':
      return `${head} ${r.node} sends ${r.to} ${r.envelope} ${summarize(r.message, maxChars)}`;
    case 'deliver':
    case 'lost': {
      const verb = r.event === 'lost' ? ' LOST' : '';
      const why = r.event === 'lost' && r.text !== undefined ? ` (${r.text})` : '';
      return `${head} ${r.from} -> ${r.node}${verb} ${r.envelope} ${summarize(r.message, maxChars)}${why}`;
    }
    case 'timer':
      return `${head} ${r.node} timer ${summarize(r.message, maxChars)}`;
    case 'restart':
      return `${head} RESTART ${r.node} (from its durable state)`;
    case 'resume':
      return `${head} ${r.node} resumes ${r.text}`;
    case 'fault':
      return `${head} FAULT ${by(r)}${r.text}`;
    case 'crash':
      return `${head} FAULT ${by(r)}crash ${r.node}${r.text === undefined ? '' : ` ${r.text}`}`;
    case 'heal':
      return `${head} HEAL ${r.text}`;
    default:
      return `${head} ${r.node} ${r.event}${r.text === undefined ? '' : ` ${r.text}`}`;
  }
}

function by(r: TraceRecord): string {
  return r.by === undefined ? '' : `${r.by}: `;
}

export function summarize(message: unknown, maxChars = 160): string {
  const type = messageType(message);
  let rest: string;
  if (typeof message === 'object' && message !== null) {
    const { type: _omit, ...fields } = message as Record<string, unknown>;
    rest = Object.keys(fields).length === 0 ? '' : ` ${JSON.stringify(fields)}`;
  } else {
    rest = message === undefined ? '' : ` ${JSON.stringify(message)}`;
  }
  const line = type === 'object' ? rest.trim() : type + rest;
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
}

// What the HTML viewer shows: one run (or two, for a diff) as plain data. The CLI builds it from a
// traced run (cli/run-document.ts); the viewer (viewer/html.ts) turns it into one self-contained
// HTML file. Nothing here knows how it was produced: a document is JSON, embedded in the page.

/** One event of a run, as the viewer draws it. */
export interface ViewEvent {
  /** Position in `events` (0-based); arrows and state references use it. */
  readonly i: number;
  /** The simulator step the event belongs to (sends and logs share their step's number). */
  readonly step: number;
  readonly timeMs: number;
  /**
   * send: a node sent a message (an arrow starts here); deliver: it arrived (the arrow ends here);
   * lost: it was dropped (by the network, a partition, or a crash); timer, resume (a workflow
   * continues), action (a scheduled workload or nemesis step), log (the model's own note),
   * fault, heal, crash, restart.
   */
  readonly kind: 'send' | 'deliver' | 'lost' | 'timer' | 'resume' | 'action' | 'log' | 'fault' | 'heal' | 'crash' | 'restart';
  /** The lane: the node the event happens on ('' for world-wide events: faults, heals, actions). */
  readonly node: string;
  /** For send, deliver and lost: the other end (the receiver of a send, the sender of a delivery). */
  readonly peer?: string;
  /** For deliver and lost: the index of the send event it came from, when known. */
  readonly sendIndex?: number;
  /** The event as one readable line (the same text `run --all` prints). */
  readonly line: string;
  /** The decisions that shaped this event (`net.delayMs=7`, `sched.next=1`), if any. */
  readonly decisions?: readonly string[];
  /** In the story (the causal slice of the violation): shown; the rest is folded. */
  readonly story: boolean;
  /**
   * What the oracle could see after this event: for each node whose state is recorded, an index
   * into `RunDocument.states` (the node the event ran on, and the database). Absent: unchanged.
   */
  readonly state?: Readonly<Record<string, number>>;
}

/** A fault episode: a partition across lanes, a crash on one lane, a link fault, a signal. */
export interface ViewFault {
  readonly kind: string;
  readonly nodes: readonly string[];
  readonly description: string;
  readonly startMs: number;
  /** null: never ended within the run. */
  readonly endMs: number | null;
  /** Index of the event that started it, and of the one that ended it (null if none). */
  readonly startIndex: number;
  readonly endIndex: number | null;
}

export interface RunDocument {
  /** A title line: scenario, seed or tape, bug switches. */
  readonly title: string;
  readonly scenario: string;
  readonly bugs: readonly string[];
  readonly seed: number;
  /** The lanes, in order. */
  readonly nodes: readonly string[];
  readonly events: readonly ViewEvent[];
  readonly faults: readonly ViewFault[];
  /** null when the run passed. */
  readonly violation: {
    readonly invariant: string;
    /** The invariant's text from the catalog (what it promises). */
    readonly text: string;
    readonly message: string;
    readonly step: number;
    readonly timeMs: number;
    readonly phase: string;
  } | null;
  /** State snapshots, each a JSON value, shared between events (deduplicated). */
  readonly states: readonly unknown[];
  readonly steps: number;
  readonly fingerprint: string;
}

/** Two runs aligned event by event (`stairwell diff`). */
export interface DiffDocument {
  readonly left: RunDocument;
  readonly right: RunDocument;
  /** Pairs of event indices (left, right) in order; null where one side has no counterpart. */
  readonly pairs: readonly (readonly [number | null, number | null])[];
  /** Index into `pairs` of the first pair that differs, or null if the runs agree throughout. */
  readonly firstDivergence: number | null;
  /** One line: what differs there. */
  readonly summary: string;
}

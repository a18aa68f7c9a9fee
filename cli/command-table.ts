// Every command, its synopsis and its options with a line of help each: the one table that the
// parser (cli/args.ts, through commander) accepts and `stairwell help <command>`, `<command>
// --help` and `-h` print. A flag not in a command's row is refused with exit 2.

/**
 * How an option takes its value: 'value' once (given twice is an error), 'list' any number of
 * times, 'bool' none, 'json' an optional path ending in .json (bare: print the JSON on stdout).
 */
export type OptionKind = 'value' | 'list' | 'bool' | 'json';

export interface OptionSpec {
  readonly name: string;
  readonly kind: OptionKind;
  /** The value's placeholder in help: `N`, `A..B`, `F.json`. */
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  /** What follows the command's name in a usage line. */
  readonly synopsis: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
}

const BUG: OptionSpec = { name: 'bug', kind: 'list', value: 'ID', help: 'turn on a bug switch of the registry (repeatable; `stairwell list` shows them and the scenarios each applies to)' };
const STRATEGY: OptionSpec = { name: 'strategy', kind: 'value', value: 'S', help: 'how runs search: random (default), swarm, pct, or coverage (a search over many runs: sweep and museum only)' };
const JSON_OUT: OptionSpec = { name: 'json', kind: 'json', value: 'F.json', help: 'the result as JSON (docs/commands.md, "JSON output"): in F.json, or on stdout when no file follows' };
const JUNIT: OptionSpec = { name: 'junit', kind: 'value', value: 'F.xml', help: 'the result as JUnit XML, the format CI systems render' };
const QUIET: OptionSpec = { name: 'quiet', kind: 'bool', help: 'no progress lines on stderr' };
/** Which events `run`, `replay` and `shrink` print of a failing run: its story unless told otherwise. */
const EVENT_VIEW: readonly OptionSpec[] = [
  { name: 'all', kind: 'bool', help: 'print every event of the run (sends, deliveries, losses, timers, logs), not only its story' },
  { name: 'last', kind: 'value', value: 'N', help: 'print the last N events of the run, not its story' },
  { name: 'node', kind: 'list', value: 'ID', help: 'only events on, from or to this node (repeatable)' },
  { name: 'entity', kind: 'list', value: 'ID', help: 'only events whose message or text names this id, e.g. vmm-3 (repeatable: all must be named)' },
];
const SEED: OptionSpec = { name: 'seed', kind: 'value', value: 'N', help: 'the seed to run' };

export const COMMAND_TABLE: readonly CommandSpec[] = [
  {
    name: 'list',
    synopsis: '[file.ts] [--json [F.json]]',
    summary: 'scenarios, bug switches (and the scenarios each applies to), invariants, strategies',
    options: [JSON_OUT],
  },
  {
    name: 'run',
    synopsis: '<scenario|file.ts> --seed N [options]',
    summary: 'run one seed; on a violation print its story (the events that led to it) and a replay command',
    options: [
      SEED,
      BUG,
      { ...STRATEGY, help: 'random (default), swarm or pct' },
      ...EVENT_VIEW,
      { name: 'trace', kind: 'value', value: 'F.jsonl', help: 'write every event of the run as one JSON line' },
      { name: 'tape', kind: 'value', value: 'F.json', help: "write the run's tape (its choices), which `replay` and `shrink` read" },
      { name: 'config', kind: 'bool', help: "print the run's configuration first: every field, its value, unit and meaning (* where the scenario changed the default)" },
      JSON_OUT,
    ],
  },
  {
    name: 'sweep',
    synopsis: '[<scenario>|<file.ts>|all] --seeds A..B|random:N[@S] [options]',
    summary: 'run many seeds of one scenario or of all, on every core; exit 1 if any fails',
    options: [
      { name: 'seeds', kind: 'value', value: 'A..B|random:N[@S]', help: 'a range (generated as it runs: any size starts at once), or N seeds drawn from a start S (printed first; give @S to draw the same again)' },
      BUG,
      STRATEGY,
      { name: 'workers', kind: 'value', value: 'N', help: 'worker threads (default: one per core; 1 runs in this thread)' },
      { name: 'shard', kind: 'value', value: 'K/N', help: 'take every N-th seed from the K-th, so N machines split one sweep (`merge` joins them)' },
      { name: 'seconds', kind: 'value', value: 'S', help: 'stop after S seconds; --json then says which seeds were covered (complete: false)' },
      { name: 'max-failures', kind: 'value', value: 'N', help: 'stop after N failures (seeds already running finish)' },
      { name: 'tapes', kind: 'value', value: 'DIR', help: "write each failing run's tape to DIR as it is found (coverage sweeps: default stairwell-failures)" },
      { name: 'check-determinism', kind: 'bool', help: 'run each seed twice; two runs that differ are a DETERMINISM finding naming the first divergent event' },
      { name: 'probes', kind: 'bool', help: "count the runs that reach each coverage probe and print them, the scenario's required probes marked, and any required probe no run reached" },
      JSON_OUT,
      JUNIT,
      QUIET,
    ],
  },
  {
    name: 'merge',
    synopsis: '<F.json>... [options]',
    summary: "join the --json results of a sweep's shards; exit 1 if a shard failed, is missing or was interrupted",
    options: [JSON_OUT, JUNIT],
  },
  {
    name: 'replay',
    synopsis: '[<scenario>] <F.json> [options]',
    summary: 'replay a tape choice by choice; says where it diverges if the code changed since',
    options: [{ name: 'trace', kind: 'value', value: 'F.jsonl', help: 'write every event of the replay as one JSON line' }, ...EVENT_VIEW, JSON_OUT],
  },
  {
    name: 'shrink',
    synopsis: '<F.json> | <scenario|file.ts> --seed N [options]',
    summary: 'cut a failing run down to a short tape that fails the same invariant, and print its story',
    options: [
      SEED,
      BUG,
      { ...STRATEGY, help: 'random (default), swarm or pct (a tape names its own)' },
      { name: 'out', kind: 'value', value: 'F.json', help: 'where the shrunk tape goes (default: beside the input, or <scenario>-seed<N>.shrunk.json)' },
      { name: 'runs', kind: 'value', value: 'N', help: 'the budget, in runs of the scenario (default 4000): the same input shrinks to the same tape on any machine' },
      { name: 'seconds', kind: 'value', value: 'S', help: 'a cap on wall-clock time (default 600); when it cuts the shrink short the result says so' },
      ...EVENT_VIEW,
      JSON_OUT,
      QUIET,
    ],
  },
  {
    name: 'view',
    synopsis: '<F.json> | <scenario|file.ts> --seed N [options]',
    summary: 'write one self-contained HTML file of a run: lanes, messages, faults, decisions, its story unfolded, the state after any event',
    options: [
      SEED,
      BUG,
      { ...STRATEGY, help: 'random (default), swarm or pct (a tape names its own)' },
      { name: 'out', kind: 'value', value: 'F.html', help: 'where the view goes (default: beside the tape, or <scenario>-seed<N>.html)' },
    ],
  },
  {
    name: 'diff',
    synopsis: '<A> <B> | <F.json> --fixed [options]',
    summary: 'align two runs event by event and name the first divergence (A, B: a tape F.json, a trace F.jsonl, or <scenario>@<seed>); exit 1 if they differ',
    options: [
      { name: 'fixed', kind: 'bool', help: 'compare one tape under its bug switches with the same choices under the fixed protocol' },
      { ...BUG, help: 'bug switches for <scenario>@<seed> runs (repeatable)' },
      { name: 'out', kind: 'value', value: 'F.html', help: 'also write the two runs side by side in the HTML viewer' },
      JSON_OUT,
    ],
  },
  {
    name: 'museum',
    synopsis: '[--bug ID]... [options]',
    summary: 'find, shrink and replay every registered bug, and check the fixed protocol on the same seeds',
    options: [
      BUG,
      STRATEGY,
      { name: 'runs', kind: 'value', value: 'N', help: 'shrink budget per bug, in runs (default 4000)' },
      { name: 'seconds', kind: 'value', value: 'S', help: 'a wall-clock cap on each shrink (default 300), reported when it cuts one short' },
      { name: 'update', kind: 'bool', help: "write the shrunk tapes into the repository's museum/ (kept where the committed tape has no more decisions and still replays)" },
      { name: 'out', kind: 'value', value: 'DIR', help: 'write the shrunk tapes to DIR (default: a new temporary folder, named in the output)' },
      JSON_OUT,
      JUNIT,
      QUIET,
    ],
  },
  {
    name: 'bench',
    synopsis: '[options]',
    summary: 'measure throughput, sweep scaling, sweep memory, search power and shrinking on this machine',
    options: [
      JSON_OUT,
      { name: 'only', kind: 'value', value: 'LIST', help: 'sections among throughput, sweep, memory, search, shrink (comma-separated)' },
      { name: 'seeds', kind: 'value', value: 'N', help: 'throughput: seeds a round (default 500)' },
      { name: 'rounds', kind: 'value', value: 'R', help: 'rounds whose median is taken (default 5)' },
      { name: 'sweep-seeds', kind: 'value', value: 'N', help: 'sweep scaling: seeds of each scenario a round (default 2000)' },
      { name: 'starts', kind: 'value', value: 'K', help: 'search power: independent starts (default 7)' },
      { name: 'cap', kind: 'value', value: 'N', help: 'search power: runs a start at most (default 3000)' },
      { name: 'seconds', kind: 'value', value: 'S', help: 'shrinking: budget of each shrinker; memory: the sweep\'s budget (default 10)' },
      BUG,
    ],
  },
];

export const EXIT_STATUS_HELP = `exit status:
  0    clean: no violation (museum: every bug found, fixed protocol clean; merge: every shard present and complete)
  1    a violation (or a museum bug missed, or a merge with a missing or interrupted shard)
  2    bad usage or bad input (one line on stderr)
  3    internal error in stairwell (--debug or STAIRWELL_DEBUG=1 prints the stack)
  4    an output could not be written (the message says where it was kept)
  130  interrupted (Ctrl-C; 143 for SIGTERM): results so far are kept`;

// The command line: parsing (commander, over the table in command-table.ts) and the checks of
// each kind of value. A flag the command does not take, or a malformed value, is a UsageError
// (exit 2) in one line, raised before any work starts.

import type { EventView } from './report.ts';
import { STRATEGIES, type Strategy } from '../sim/strategy.ts';
import { registry, scenarioFile } from './registry.ts';
import { SCENARIO_FILE } from '../api/scenario-file.ts';
import type { Scenario } from '../api/scenario.ts';
import { randomSeeds, RANDOM_SEEDS_MAX, seedRange, type SeedSequence, type Shard } from '../sim/seed-sequence.ts';
import { Command, CommanderError } from 'commander';
import { COMMAND_TABLE, EXIT_STATUS_HELP, type CommandSpec, type OptionSpec } from './command-table.ts';
import { usage } from './exit.ts';
import type { Output } from './outputs.ts';

export interface Parsed {
  readonly positionals: string[];
  readonly flags: Map<string, string[]>;
}

/** What the command line asked for: a command to run, or help or the version, already printed. */
export type CommandLine = { readonly kind: 'command'; readonly name: string; readonly parsed: Parsed } | { readonly kind: 'printed' };

/**
 * Parse `argv` against the command table with commander. Help (`help [command]`, `--help`, `-h`)
 * and `--version` are printed here; any error of the command line is a UsageError (exit 2), in
 * one line that says where to look.
 */
export function parseCommandLine(argv: readonly string[], version: string, helpTo: NodeJS.WritableStream = process.stdout): CommandLine {
  let picked: CommandLine = { kind: 'printed' };
  const program = new Command('stairwell')
    .description('deterministic simulation testing for Oxide-style distributed-systems protocols')
    .usage('<command> [options]')
    .version(version, '--version', 'print the version')
    .option('--debug', 'print the stack of an internal error (also STAIRWELL_DEBUG=1)')
    .addHelpText('after', `\n${EXIT_STATUS_HELP}`)
    .configureHelp({ subcommandTerm: (cmd) => `${cmd.name()} ${cmd.usage()}` })
    .configureOutput({ outputError: () => {}, writeOut: (text) => helpTo.write(text) })
    .exitOverride();
  for (const spec of COMMAND_TABLE) {
    const command = program.command(spec.name).usage(spec.synopsis).description(spec.summary).argument('[args...]').exitOverride();
    for (const o of spec.options) command.option(flagsOf(o), o.help, (value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    command.action((args: string[], opts: Record<string, unknown>) => {
      picked = { kind: 'command', name: spec.name, parsed: parsedOf(spec, args, opts) };
    });
  }
  try {
    program.parse(withJsonValues(argv), { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return { kind: 'printed' };
    usage(oneLine(error, argv));
  }
  return picked;
}

function flagsOf(o: OptionSpec): string {
  switch (o.kind) {
    case 'bool':
      return `--${o.name}`;
    case 'json':
      return `--${o.name} [${o.value ?? 'F.json'}]`;
    case 'value':
    case 'list':
      return `--${o.name} <${o.value ?? 'value'}>`;
  }
}

function parsedOf(spec: CommandSpec, args: readonly string[], opts: Record<string, unknown>): Parsed {
  const flags = new Map<string, string[]>();
  for (const o of spec.options) {
    const value = opts[camelCase(o.name)];
    if (value === undefined) continue;
    if (o.kind === 'bool') {
      flags.set(o.name, ['']);
      continue;
    }
    const values = value as string[];
    if (o.kind !== 'list' && values.length > 1) usage(`--${o.name} given more than once`);
    flags.set(o.name, values);
  }
  return { positionals: [...args], flags };
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/**
 * `--json` takes a path only if it ends in .json (`sweep --json all` sweeps all, printing JSON):
 * write the value into the flag (`--json=F.json`, bare `--json=`) so commander never guesses.
 */
function withJsonValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg !== '--json') {
      out.push(arg);
      continue;
    }
    const next = argv[i + 1];
    const takesNext = next !== undefined && next.endsWith('.json') && !next.startsWith('-');
    out.push(`--json=${takesNext ? next : ''}`);
    if (takesNext) i++;
  }
  return out;
}

/** commander's message, in one line, with where to read more. */
function oneLine(error: CommanderError, argv: readonly string[]): string {
  const text = error.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)/, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ');
  const command = argv.find((a) => COMMAND_TABLE.some((c) => c.name === a));
  return `${text} (see 'stairwell ${command === undefined ? 'help' : `${command} --help`}')`;
}

export function one(p: Parsed, name: string): string | undefined {
  const values = p.flags.get(name);
  if (values !== undefined && values.length > 1) usage(`--${name} given more than once`);
  return values?.[0];
}

/** `--all`, `--last N`, `--node X`, `--entity Y`: which of a run's events to print (cli/report.ts). */
export function eventViewOf(p: Parsed): EventView {
  const last = one(p, 'last');
  if (p.flags.has('all') && last !== undefined) usage('--all prints every event, --last N the last N: give one');
  const lastN = last === undefined ? null : nonNegativeInt(last, '--last');
  if (lastN === 0) usage('--last must be at least 1');
  return { all: p.flags.has('all'), last: lastN, nodes: p.flags.get('node') ?? [], entities: p.flags.get('entity') ?? [] };
}

export function nonNegativeInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) usage(`${what} must be a non-negative integer, not '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) usage(`${what} is too large: ${text}`);
  return n;
}

/**
 * `--seeds`: `A..B` (a range, generated lazily), `random:N` (N seeds drawn from a fresh start,
 * which the sweep prints) or `random:N@S` (the same N seeds again).
 */
export function seedSequence(text: string, freshStart: () => number): SeedSequence {
  const range = /^(\d+)\.\.(\d+)$/.exec(text);
  if (range !== null) {
    const first = nonNegativeInt(range[1]!, 'a seed');
    const last = nonNegativeInt(range[2]!, 'a seed');
    if (first > last) usage(`--seeds ${text}: the range is empty (${first} > ${last})`);
    return seedRange(first, last);
  }
  const random = /^random:(\d+)(?:@(\d+))?$/.exec(text);
  if (random === null) usage(`--seeds takes A..B (e.g. 1..1000) or random:N[@S], not '${text}'`);
  const count = nonNegativeInt(random[1]!, 'random:N');
  if (count < 1 || count > RANDOM_SEEDS_MAX) usage(`--seeds ${text}: N must be 1..${RANDOM_SEEDS_MAX} (seeds are distinct 32-bit numbers)`);
  const start = random[2] === undefined ? freshStart() : nonNegativeInt(random[2], 'the start S of random:N@S');
  if (start >= 2 ** 32) usage(`--seeds ${text}: the start S must be below 2^32`);
  return randomSeeds(count, start);
}

/** `K/N`: the K-th of N machines sweeping one range takes every N-th seed from its K-th. */
export function shardOf(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) usage(`--shard takes K/N (e.g. 2/4), not '${text}'`);
  const index = nonNegativeInt(m[1]!, 'K of --shard K/N');
  const count = nonNegativeInt(m[2]!, 'N of --shard K/N');
  if (count < 1 || index < 1 || index > count) usage(`--shard ${text}: K must be 1..N`);
  return { index, count };
}

/** The scenario a name or a scenario file's path (`./lease.ts`, `./suite.ts#lease`) means. */
export function scenarioNamed(name: string | undefined): Scenario {
  const known = registry().scenarios.map((s) => s.name);
  if (name === undefined) usage(`name a scenario: ${known.join(', ')}`);
  const named = scenariosNamed(name);
  if (named.length > 1) usage(`${name} defines ${named.length} scenarios: name one as ${name}#<name> (${known.join(', ')})`);
  return named[0]!;
}

/** The scenarios a name means: one by name, or every scenario of the scenario file it names. */
export function scenariosNamed(name: string): readonly Scenario[] {
  const reg = registry();
  let picked = name;
  if (scenarioFile() !== null && SCENARIO_FILE.test(name)) {
    if (!name.includes('#')) return reg.scenarios;
    picked = name.slice(name.lastIndexOf('#') + 1);
  }
  const scenario = reg.scenario(picked);
  if (scenario === undefined) usage(`unknown scenario '${name}' (known: ${reg.scenarios.map((s) => s.name).join(', ')})`);
  return [scenario];
}

export function bugSwitches(ids: readonly string[]): string[] {
  for (const id of ids) if (registry().bug(id) === undefined) usage(`unknown bug '${id}' (see 'stairwell list')`);
  return [...new Set(ids)].sort();
}

/**
 * The switches for a run of `scenario`: each must be one whose code that scenario runs, or
 * the run would silently be the fixed protocol and a user would conclude the bug is unreachable.
 * `where` says what named the switch (`--bug`, or a tape).
 */
export function bugsFor(scenario: Scenario, ids: readonly string[], where = '--bug'): string[] {
  const bugs = bugSwitches(ids);
  for (const id of bugs) {
    const bug = registry().bug(id)!;
    if (!bug.appliesTo.includes(scenario.name)) usage(`${where} ${id} does not apply to ${scenario.name}; it applies to ${bug.appliesTo.join(', ')}`);
  }
  return bugs;
}

/** The scenarios of `all` that every switch applies to: `sweep all --bug X` sweeps where X can act. */
export function scenariosForBugs(scenarios: readonly Scenario[], ids: readonly string[]): Scenario[] {
  const bugs = bugSwitches(ids).map((id) => registry().bug(id)!);
  const fit = scenarios.filter((s) => bugs.every((b) => b.appliesTo.includes(s.name)));
  if (fit.length === 0) usage(`no scenario takes all of ${ids.join(', ')} (${bugs.map((b) => `${b.id}: ${b.appliesTo.join(', ')}`).join('; ')})`);
  return fit;
}

export function strategyNamed(name: string | undefined): Strategy {
  const s = name ?? 'random';
  if (!(STRATEGIES as readonly string[]).includes(s)) usage(`unknown strategy '${s}' (known: ${STRATEGIES.join(', ')})`);
  return s as Strategy;
}

/** A strategy that makes a single run of a seed: coverage is a search, whose runs only a sweep makes. */
export function singleRunStrategy(name: string | undefined, command: string): Strategy {
  const s = strategyNamed(name);
  if (s === 'coverage') usage(`${command} makes one run of a seed, and coverage is a search over many runs: sweep or museum with --strategy coverage, then replay or shrink the tape they write`);
  return s;
}

/**
 * The output paths among `names` that the command line gave, for checkOutputs (bare `--json`
 * prints on stdout, so it names no path).
 */
export function outputPaths(p: Parsed, names: readonly (readonly [string, Output['kind']])[]): Output[] {
  const found: Output[] = [];
  for (const [name, kind] of names) {
    const path = p.flags.get(name)?.[0];
    if (path !== undefined && path !== '') found.push({ flag: `--${name}`, path, kind });
  }
  return found;
}

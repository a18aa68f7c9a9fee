// Command-line parsing for the contract in shared/DESIGN.md: positionals, then flags; a flag
// given that the command does not take, or a malformed value, is a UsageError (exit 2).

import { STRATEGIES, type Strategy } from '../sim/strategy.ts';
import { findBug } from '../scenarios/bugs.ts';
import { findScenario, SCENARIOS } from '../scenarios/index.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { usage } from './usage-error.ts';

export interface Parsed {
  readonly positionals: string[];
  readonly flags: Map<string, string[]>;
}

/** `spec` maps each accepted flag to whether it takes a value ('value'), none ('bool'), or an optional .json path ('json'). */
export function parseArgs(argv: readonly string[], spec: Record<string, 'value' | 'bool' | 'json'>): Parsed {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const kind = spec[name];
    if (kind === undefined) usage(`unknown option --${name}`);
    let value = inline ?? '';
    if (kind === 'value' && inline === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) usage(`--${name} needs a value`);
      value = next;
      i++;
    } else if (kind === 'json' && inline === undefined && argv[i + 1]?.endsWith('.json') === true) {
      value = argv[++i]!;
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { positionals, flags };
}

export function one(p: Parsed, name: string): string | undefined {
  const values = p.flags.get(name);
  if (values !== undefined && values.length > 1) usage(`--${name} given more than once`);
  return values?.[0];
}

export function nonNegativeInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) usage(`${what} must be a non-negative integer, not '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) usage(`${what} is too large: ${text}`);
  return n;
}

export interface SeedRange {
  readonly first: number;
  readonly last: number;
}

export function seedRange(text: string): SeedRange {
  const m = /^(\d+)\.\.(\d+)$/.exec(text);
  if (m === null) usage(`--seeds takes A..B (e.g. 1..1000), not '${text}'`);
  const first = nonNegativeInt(m[1]!, 'a seed');
  const last = nonNegativeInt(m[2]!, 'a seed');
  if (first > last) usage(`--seeds ${text}: the range is empty (${first} > ${last})`);
  return { first, last };
}

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

/** `K/N`: the K-th of N machines sweeping one range takes every N-th seed from its K-th. */
export function shardOf(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (m === null) usage(`--shard takes K/N (e.g. 2/4), not '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) usage(`--shard ${text}: K must be 1..N`);
  return { index, count };
}

export function scenarioNamed(name: string | undefined): Scenario {
  if (name === undefined) usage(`name a scenario: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const scenario = findScenario(name);
  if (scenario === undefined) usage(`unknown scenario '${name}' (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  return scenario;
}

export function bugSwitches(ids: readonly string[]): string[] {
  for (const id of ids) if (findBug(id) === undefined) usage(`unknown bug '${id}' (see 'stairwell list')`);
  return [...new Set(ids)].sort();
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

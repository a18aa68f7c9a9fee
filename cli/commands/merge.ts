// stairwell merge <F.json>... [--json [F.json]] [--junit F.xml]
// Joins the `sweep --json` results of the shards of one sweep (same scenarios, bugs, strategy,
// seeds and shard count; distinct shards) into one result. A CI job that never uploaded its shard,
// or a shard that was interrupted, must not look green: exit 1 names each missing or interrupted
// shard, as does exit 1 for a failure. A shard stopped by its own --seconds or --max-failures
// budget is not interrupted: it says which seeds it covered. Exit 2 for results that do not belong
// together, or an output path that is one of the inputs.

import { readFileSync } from 'node:fs';
import { one, outputPaths, type Parsed } from '../args.ts';
import { EXIT, usage } from '../exit.ts';
import { sweepJunit } from '../junit.ts';
import { checkOutputs, outputs } from '../outputs.ts';
import { emitJson } from '../report.ts';
import { coveredText, summaryLines, type SweepJson } from '../sweep-result.ts';

interface ShardResult {
  readonly path: string;
  readonly r: SweepJson;
}

/** The merged result: a sweep's fields, plus what each shard did. */
interface MergedJson extends SweepJson {
  readonly missingShards: readonly string[];
  readonly interruptedShards: readonly string[];
  readonly shards: readonly { readonly shard: string; readonly path: string; readonly seeds: number; readonly complete: boolean; readonly stopped: string | null; readonly covered: SweepJson['covered'] }[];
}

export function merge(p: Parsed): number {
  if (p.positionals.length === 0) usage('merge takes the sweep --json results of the shards');
  checkOutputs(outputPaths(p, [['json', 'file'], ['junit', 'file']]), p.positionals);
  const parts = p.positionals.map((path) => ({ path, r: readResult(path) }));
  const merged = mergeResults(parts);
  const json = one(p, 'json');
  const junit = one(p, 'junit');
  if (json !== undefined) emitJson(json, merged, 'the merged results');
  if (junit !== undefined) outputs.write(junit, sweepJunit({ ...merged, seedsByScenario: seedsByScenario(parts), shardProblems: shardProblems(merged) }, `stairwell merge of ${merged.range}`), 'the JUnit results');
  if (json !== '') process.stdout.write(`${mergeLines(merged, parts).join('\n')}\n`);
  return merged.ok && merged.missingShards.length === 0 && merged.interruptedShards.length === 0 ? EXIT.ok : EXIT.violation;
}

function readResult(path: string): SweepJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    usage(`cannot read a sweep result from ${path}`);
  }
  const r = parsed as Partial<SweepJson> | null;
  if (r === null || typeof r !== 'object' || !Array.isArray(r.scenarios) || !Array.isArray(r.failures) || typeof r.seeds !== 'number' || typeof r.shard !== 'string' || !/^\d+\/\d+$/.test(r.shard) || typeof r.range !== 'string') {
    usage(`${path} is not a 'sweep --json' result`);
  }
  return r as SweepJson;
}

function mergeResults(parts: readonly ShardResult[]): MergedJson {
  const first = parts[0]!.r;
  const count = Number(first.shard.split('/')[1]);
  const key = (r: SweepJson): string => JSON.stringify([r.scenarios, r.bugs, r.strategy, r.range, r.shard.split('/')[1]]);
  const seen = new Set<string>();
  for (const { path, r } of parts) {
    if (key(r) !== key(first)) usage(`${path} is from another sweep (scenarios, bugs, strategy, seeds or shard count differ)`);
    if (seen.has(r.shard)) usage(`shard ${r.shard} is given twice`);
    seen.add(r.shard);
  }
  const missing = Array.from({ length: count }, (_, i) => `${i + 1}/${count}`).filter((s) => !seen.has(s));
  const interrupted = parts.filter(({ r }) => wasInterrupted(r)).map(({ r }) => r.shard);
  const order = new Map(first.scenarios.map((s, i) => [s, i]));
  const failures = parts.flatMap(({ r }) => r.failures).sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)! || a.seed - b.seed);
  const failureCount = parts.reduce((n, { r }) => n + (r.failureCount ?? r.failures.length), 0);
  const seeds = parts.reduce((n, { r }) => n + r.seeds, 0);
  const seconds = Math.max(...parts.map(({ r }) => r.seconds)); // the shards ran side by side
  const stopped = parts.map(({ r }) => r.stopped ?? null).find((s) => s !== null) ?? null;
  return {
    scenarios: first.scenarios,
    bugs: first.bugs,
    strategy: first.strategy,
    range: first.range,
    shard: missing.length === 0 ? '1/1' : [...seen].sort().join(','),
    total: parts.reduce((n, { r }) => n + (r.total ?? r.seeds), 0),
    seeds,
    failureCount,
    failures,
    ok: failureCount === 0,
    steps: parts.reduce((n, { r }) => n + r.steps, 0),
    seconds,
    seedsPerSecond: Number((seeds / Math.max(seconds, 1e-3)).toFixed(1)),
    complete: missing.length === 0 && parts.every(({ r }) => r.complete !== false),
    stopped,
    covered: first.scenarios.map((scenario) => ({ scenario, seeds: parts.reduce((n, { r }) => n + (r.covered?.find((c) => c.scenario === scenario)?.seeds ?? 0), 0), through: null })),
    peakRssMb: Math.max(...parts.map(({ r }) => r.peakRssMb ?? 0)),
    missingShards: missing,
    interruptedShards: interrupted,
    shards: parts.map(({ path, r }) => ({ shard: r.shard, path, seeds: r.seeds, complete: r.complete !== false, stopped: r.stopped ?? null, covered: r.covered ?? [] })),
  };
}

/** Incomplete for no budget of its own: killed, or still running when it was copied. */
function wasInterrupted(r: SweepJson): boolean {
  return r.complete === false && r.stopped !== 'seconds' && r.stopped !== 'max-failures';
}

function shardProblems(m: MergedJson): string[] {
  return [...m.missingShards.map((s) => `shard ${s} is missing`), ...m.interruptedShards.map((s) => `shard ${s} was interrupted before its end`)];
}

function seedsByScenario(parts: readonly ShardResult[]): Map<string, number> {
  const seeds = new Map<string, number>();
  for (const { r } of parts) for (const c of r.covered ?? []) seeds.set(c.scenario, (seeds.get(c.scenario) ?? 0) + c.seeds);
  return seeds;
}

function mergeLines(m: MergedJson, parts: readonly ShardResult[]): string[] {
  const lines = summaryLines(m).filter((l) => !l.startsWith('  stopped by'));
  if (m.missingShards.length > 0) lines.push(`MISSING shards: ${m.missingShards.join(', ')} (exit 1: a shard that never reported is not a clean one)`);
  if (m.interruptedShards.length > 0) lines.push(`INTERRUPTED shards: ${parts.filter(({ r }) => wasInterrupted(r)).map(({ r, path }) => `${r.shard} (${path})`).join(', ')}`);
  for (const { r } of parts) {
    if (r.stopped === 'seconds' || r.stopped === 'max-failures') lines.push(`  shard ${r.shard} stopped by its ${r.stopped === 'seconds' ? 'time' : 'failure'} budget: ${coveredText(r.covered ?? [])}`);
  }
  return lines;
}

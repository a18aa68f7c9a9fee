// stairwell merge <F.json>... [--json [F.json]]
// Joins the `sweep --json` results of the shards of one sweep (same scenarios, bugs, strategy,
// range, shard count; distinct shards) into one result, and says which shards are missing.
// Exit 1 if any shard found a failure, 2 on results that do not belong together.

import { readFileSync } from 'node:fs';
import { one, parseArgs } from '../args.ts';
import { emitJson } from '../report.ts';
import { usage } from '../usage-error.ts';
import { summaryLines, type SweepJson } from './sweep.ts';

function readResult(path: string): SweepJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    usage(`cannot read a sweep result from ${path}`);
  }
  const r = parsed as Partial<SweepJson>;
  if (!Array.isArray(r.scenarios) || !Array.isArray(r.failures) || typeof r.seeds !== 'number' || typeof r.shard !== 'string' || typeof r.range !== 'string') {
    usage(`${path} is not a 'sweep --json' result`);
  }
  return r as SweepJson;
}

export function merge(argv: readonly string[]): number {
  const p = parseArgs(argv, { json: 'json' });
  if (p.positionals.length === 0) usage('merge takes the sweep --json results of the shards');
  const parts = p.positionals.map((path) => ({ path, r: readResult(path) }));
  const first = parts[0]!.r;
  const count = Number(first.shard.split('/')[1]);
  const key = (r: SweepJson): string => JSON.stringify([r.scenarios, r.bugs, r.strategy, r.range, r.shard.split('/')[1]]);
  const seen = new Set<string>();
  for (const { path, r } of parts) {
    if (key(r) !== key(first)) usage(`${path} is from another sweep (scenarios, bugs, strategy, range or shard count differ)`);
    if (seen.has(r.shard)) usage(`shard ${r.shard} is given twice`);
    seen.add(r.shard);
  }
  const missing = Array.from({ length: count }, (_, i) => `${i + 1}/${count}`).filter((s) => !seen.has(s));
  const order = new Map(first.scenarios.map((s, i) => [s, i]));
  const failures = parts.flatMap(({ r }) => r.failures).sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)! || a.seed - b.seed);
  const seeds = parts.reduce((n, { r }) => n + r.seeds, 0);
  const seconds = Math.max(...parts.map(({ r }) => r.seconds)); // the shards ran side by side
  const merged: SweepJson & { readonly missingShards: readonly string[] } = {
    scenarios: first.scenarios,
    bugs: first.bugs,
    strategy: first.strategy,
    range: first.range,
    shard: missing.length === 0 ? '1/1' : [...seen].sort().join(','),
    seeds,
    failures,
    ok: failures.length === 0,
    steps: parts.reduce((n, { r }) => n + r.steps, 0),
    seconds,
    seedsPerSecond: Number((seeds / seconds).toFixed(1)),
    // A shard written by an interrupted sweep (complete: false) leaves the merge incomplete.
    complete: missing.length === 0 && parts.every(({ r }) => r.complete !== false),
    missingShards: missing,
  };
  const json = one(p, 'json');
  if (json !== undefined) emitJson(json, merged);
  if (json !== '') {
    const lines = summaryLines(merged);
    if (missing.length > 0) lines.push(`missing shards: ${missing.join(', ')}`);
    const cut = parts.filter(({ r }) => r.complete === false).map(({ path }) => path);
    if (cut.length > 0) lines.push(`interrupted before the end: ${cut.join(', ')}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return merged.ok ? 0 : 1;
}

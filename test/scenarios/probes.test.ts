import test from 'ava';
import { spawnSync } from 'node:child_process';
import type { ProbeReport, SweepJson } from '../../cli/sweep-result.ts';
import { SCENARIOS } from '../../scenarios/index.ts';
import { probeLines } from '../../cli/sweep-result.ts';

// Coverage probes (FoundationDB's CODE_PROBE, TigerBeetle's marks): a green sweep is a promise only
// if its runs reach the paths the invariants guard. Each scenario names the probes its default
// seeds must reach; this runs that sweep, as a user would, and asks that every one was reached.

const BIN = new URL('../../cli/bin.mjs', import.meta.url).pathname;

test('sweep all --seeds 1..2000 --probes: every scenario reaches every probe it requires', (t) => {
  const r = spawnSync(process.execPath, [BIN, 'sweep', 'all', '--seeds', '1..2000', '--probes', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as SweepJson;
  t.deepEqual(result.probes?.map((p) => p.scenario), SCENARIOS.map((s) => s.name));
  for (const report of result.probes ?? []) {
    t.is(report.seeds, 2000, report.scenario);
    t.deepEqual(report.missing, [], `${report.scenario} never reached: ${report.missing.join(', ')}`);
  }
});

test('the probe report marks required probes, counts runs, and names what was missed', (t) => {
  const report: ProbeReport = { scenario: 's', seeds: 10, hit: { 'a.b': 3, 'c.d': 10 }, missing: ['e.f'] };
  t.deepEqual(probeLines([report], () => ['a.b', 'e.f']), [
    'probes of s (10 seeds): 1 of 2 required reached, 2 reached in all',
    '  *       3  a.b',
    '         10  c.d',
    '  *       0  e.f',
    '  required, never reached: e.f',
  ]);
});

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import YAML from 'yaml';

// The nightly workflow (.github/workflows/nightly-sweep.yml): its wiring checked as data, and its
// two shell steps run here as written, on two shards of a small sweep, with the artifacts laid out
// as download-artifact lays them (one folder per artifact). `npx stairwell` becomes this checkout's
// executable, since the steps run outside the project folder.

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'cli', 'bin.mjs');

interface Step {
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
}
interface Job {
  readonly needs?: string;
  readonly if?: string;
  readonly steps: readonly Step[];
  readonly strategy?: { readonly 'fail-fast': boolean; readonly matrix: { readonly shard: readonly number[] } };
}
const workflow = YAML.parse(readFileSync(join(ROOT, '.github/workflows/nightly-sweep.yml'), 'utf8')) as { env: Record<string, string>; jobs: Record<string, Job> };
const { sweep, merge } = workflow.jobs as { sweep: Job; merge: Job };
const script = (job: Job, name: string): string => job.steps.find((s) => s.name === name)!.run!;

test('one matrix job per shard, every one run to its end, its results uploaded even when it fails', (t) => {
  const shards = Number(workflow.env.SHARDS);
  t.deepEqual(sweep.strategy?.matrix.shard, Array.from({ length: shards }, (_, i) => i + 1));
  t.false(sweep.strategy?.['fail-fast']);
  t.is(sweep.needs, 'plan', 'every shard draws from the one start the plan job computes');
  const upload = sweep.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
  t.is(upload.if, 'always()');
  t.is(merge.needs, 'sweep');
  t.is(merge.if, 'always()', 'the merge runs when shards fail, so it can say which');
  t.regex(script(sweep, 'sweep one shard'), /--shard "\$SHARD\/\$SHARDS"/);
});

function bash(cwd: string, text: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', text.replaceAll('npx stairwell', `node ${BIN}`)], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('its steps, run as written: two shards and a merge; the merge fails when a shard is missing', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'stairwell-nightly-'));
  const env = { SHARDS: '2', SEEDS: '120', START: '2718281828', STRATEGY: 'swarm', SECONDS_PER_SHARD: '60' };
  for (const shard of ['1', '2']) {
    const job = join(work, `job-${shard}`);
    mkdirSync(job);
    const r = bash(job, script(sweep, 'sweep one shard'), { ...env, SHARD: shard });
    t.is(r.status, 0, r.stderr);
    // download-artifact puts each artifact `shard-K` in a folder of that name.
    cpSync(join(job, 'out'), join(work, 'shards', `shard-${shard}`), { recursive: true });
  }
  const merged = bash(work, script(merge, 'merge the shards (fails on a failure, a missing shard or an interrupted one)'), env);
  t.is(merged.status, 0, merged.stderr + merged.stdout);
  const j = JSON.parse(readFileSync(join(work, 'merged.json'), 'utf8'));
  t.is(j.range, 'random:120@2718281828');
  t.is(j.seeds, 120 * 7);
  t.deepEqual(j.missingShards, []);
  const suites = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(join(work, 'merged.xml'), 'utf8'));
  t.truthy(suites.testsuites.testsuite);
  rmSync(join(work, 'shards', 'shard-2'), { recursive: true });
  const missing = bash(work, script(merge, 'merge the shards (fails on a failure, a missing shard or an interrupted one)'), env);
  t.is(missing.status, 1);
  t.regex(missing.stdout, /MISSING shards: 2\/2/);
  rmSync(join(work, 'shards'), { recursive: true });
  const none = bash(work, script(merge, 'merge the shards (fails on a failure, a missing shard or an interrupted one)'), env);
  t.is(none.status, 2, 'no shard at all: the merge cannot even start');
});

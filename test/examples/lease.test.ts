// examples/lease as a user has it: copied outside this repository, installed against this checkout
// (its package.json names stairwell by path), type-checked, swept (fixed: clean; the planted switch:
// found, exit 1), shrunk and replayed with the package's own `stairwell` command, imported from
// plain node without tsx, and its own ava suite run (the fast-check bridge finds the planted bug
// and prints the replay command). Only the public API: the copy cannot reach our files by path.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const copy = join(mkdtempSync(join(tmpdir(), 'stairwell-lease-')), 'lease');

function sh(command: string, args: readonly string[], timeoutMs = 120_000): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd: copy, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test.before(() => {
  const built = spawnSync(process.execPath, [join(ROOT, 'cli', 'build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr}`);
  cpSync(join(ROOT, 'examples', 'lease'), copy, { recursive: true, filter: (src) => !/node_modules|failures/.test(src) });
  const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  pkg.dependencies.stairwell = `file:${ROOT}`;
  writeFileSync(join(copy, 'package.json'), JSON.stringify(pkg, null, 2));
  const install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], 300_000);
  if (install.status !== 0) throw new Error(`npm install in the copy failed: ${install.out}`);
});

test.after.always(() => rmSync(join(copy, '..'), { recursive: true, force: true }));

test.serial('the copy is outside the repository and type-checks against the published types', (t) => {
  t.false(copy.startsWith(ROOT));
  t.true(existsSync(join(copy, 'node_modules', 'stairwell', 'dist', 'types', 'api', 'index.d.ts')));
  const r = sh('npx', ['tsc', '--noEmit']);
  t.is(r.status, 0, r.out);
});

test.serial('sweep: the fixed lease holds over 500 seeds; the planted switch is found (exit 1)', (t) => {
  const clean = sh('npx', ['stairwell', 'sweep', './scenario.ts', '--seeds', '1..500', '--quiet']);
  t.is(clean.status, 0, clean.out);
  t.regex(clean.out, /lease: 500 seeds, 0 failed/);
  const buggy = sh('npx', ['stairwell', 'sweep', './scenario.ts', '--seeds', '1..100', '--bug', 'lease/count-from-reply', '--tapes', 'tapes', '--quiet']);
  t.is(buggy.status, 1, buggy.out);
  t.regex(buggy.out, /first failure: lease seed \d+, L-I1 at step \d+/);
  t.regex(buggy.out, /replay: npx stairwell replay tapes\/lease-random-\d+\.json/);
});

test.serial('shrink, then replay: the shrunk tape still shows two holders, in a story of a few lines', (t) => {
  const first = sh('npx', ['stairwell', 'sweep', './scenario.ts', '--seeds', '1..100', '--bug', 'lease/count-from-reply', '--tapes', 'tapes', '--max-failures', '1', '--workers', '1', '--json']);
  const tape = (JSON.parse(first.out.slice(first.out.indexOf('{'))) as { failures: { replay: string }[] }).failures[0]!.replay.split(' ').at(-1)!;
  const shrunk = sh('npx', ['stairwell', 'shrink', tape, '--out', 'small.json', '--json']);
  t.is(shrunk.status, 1, shrunk.out);
  const summary = JSON.parse(shrunk.out) as { invariant: string; shrunkDecisions: number };
  t.is(summary.invariant, 'L-I1');
  const replay = sh('npx', ['stairwell', 'replay', 'small.json']);
  t.is(replay.status, 1, replay.out);
  t.regex(replay.out, /reproduced: L-I1/);
  t.regex(replay.out, /client-1 and client-2 both hold the lease/);
  t.true(replay.out.split('\n').length <= 40, replay.out);
});

test.serial('plain node imports stairwell and runs a scenario written in JavaScript', (t) => {
  const script = `
    import { defineScenario, runScenario, sweepScenario } from 'stairwell';
    import { seeds } from 'stairwell/fast-check';
    const ping = defineScenario({
      name: 'ping', summary: 'one node pings itself', invariants: ['PANIC'],
      setup(sim) {
        sim.addNode({ id: 'a', initDurable: () => null, boot: (env) => (env.setTimer(5, 'tick'), { onTimer: (e) => e.setTimer(5, 'tick') }) });
        return { afterStep: () => null, unmetGoal: () => null };
      },
    });
    const r = runScenario(ping, { seed: 1 });
    console.log(JSON.stringify({ ok: r.ok, steps: r.steps, seeds: sweepScenario(ping, { seeds: { from: 1, to: 20 } }).seeds, arbitrary: typeof seeds().generate }));
  `;
  const r = sh(process.execPath, ['--input-type=module', '-e', script]);
  t.is(r.status, 0, r.out);
  const j = JSON.parse(r.out) as { ok: boolean; steps: number; seeds: number; arbitrary: string };
  t.true(j.ok);
  t.true(j.steps > 0);
  t.is(j.seeds, 20);
  t.is(j.arbitrary, 'function');
});

test.serial("the example's own ava suite: the fast-check bridge finds the planted bug and prints its replay command", (t) => {
  const r = sh('npm', ['test', '--', '--tap']);
  t.is(r.status, 0, r.out);
  t.regex(r.out, /# pass 4/);
  t.regex(r.out, /L-I1 at step \d+: client-\d and client-\d both hold the lease/);
  t.regex(r.out, /replay: npx stairwell replay failures\/lease-lease_count_from_reply\.json/);
  const replay = sh('npx', ['stairwell', 'replay', 'failures/lease-lease_count_from_reply.json']);
  t.is(replay.status, 1, replay.out);
  t.regex(replay.out, /reproduced: L-I1/);
});

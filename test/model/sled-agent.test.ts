import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import type { NexusReply } from '../../model/nexus/api.ts';
import type { Process } from '../../ports/index.ts';
import { simSledAgent, type SledAgentProcess } from '../../model/sled-agent/node.ts';
import { seededChoices } from '../../sim/choice.ts';
import { Simulator } from '../../sim/simulator.ts';
import { singleRegionVolume } from '../../model/crucible/vcr-targets.ts';
import { VCRS_HAVE_NO_DIFFERENCE } from '../../model/crucible/vcr.ts';

/** A Nexus stand-in that acknowledges every report and remembers them. */
function fakeNexus(reports: string[]): { id: string; initDurable: () => null; boot: () => Process } {
  return {
    id: 'nexus',
    initDurable: () => null,
    boot: () => ({
      *onRequest(_env, _from, request) {
        const r = request as { type: string; state: { vmmState: { state: string; gen: number } } };
        reports.push(`${r.state.vmmState.state}@${r.state.vmmState.gen}`);
        return { type: 'Ok', state: null } satisfies NexusReply;
      },
    }),
  };
}

/** `runs`: the driver asks the VMM to run after registering it, and to stop 200 ms later. */
function world(bugs: string[], runs = true): { sim: Simulator; reports: string[]; table: () => SledAgentProcess['vmms'] } {
  const sim = new Simulator({ choices: seededChoices('1'), config: runConfig({ link: { delayMsMin: 5, delayMsMax: 5, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  const reports: string[] = [];
  sim.addNode(fakeNexus(reports));
  sim.addNode(simSledAgent({ id: 'sled', nexus: ['nexus'], nexusTimeoutMs: 100, progressMsMin: 50, progressMsMax: 50, publishAttempts: 10, migrationMsMax: 100, migrationFailPerMille: 0 }, new Set(bugs)));
  sim.addNode({
    id: 'driver',
    initDurable: () => null,
    boot(env) {
      env.spawn('drive', (function* () {
        yield { kind: 'call', to: 'sled', request: { type: 'VmmRegister', vmmId: 'v', instanceId: 'i', migration: null }, timeoutMs: 100 };
        if (!runs) return undefined;
        yield { kind: 'call', to: 'sled', request: { type: 'VmmPutState', vmmId: 'v', target: 'Running' }, timeoutMs: 100 };
        yield { kind: 'sleep', ms: 200 };
        yield { kind: 'call', to: 'sled', request: { type: 'VmmPutState', vmmId: 'v', target: 'Stopped' }, timeoutMs: 100 };
        return undefined;
      })());
      return {};
    },
  });
  return { sim, reports, table: () => (sim.node('sled').process as SledAgentProcess).vmms };
}

// sled-agent/src/common/instance.rs: a Stopped Propolis is published as a Stopping VMM, one
// generation up (every observation is); only Destroyed ends it.
test('a VMM walks Starting, Running, Stopping, Stopped (published Stopping), Destroyed, one generation per state, each published', (t) => {
  const { sim, reports, table } = world([]);
  while (sim.step() !== null);
  t.deepEqual(reports, ['Starting@2', 'Running@3', 'Stopping@4', 'Stopping@5', 'Destroyed@6']);
  t.is(table().size, 0, 'gone once Destroyed was acknowledged');
});

// Upstream's simulated sled-agent registers a VMM with sim_ensure(state, target None): it rests
// there until instance_ensure_state asks it to run (sled-agent/src/sim/sled_agent.rs instance_register).
test('a registered VMM rests Starting until Nexus asks it to run', (t) => {
  const { sim, reports, table } = world([], false);
  while (sim.step() !== null);
  t.deepEqual(reports, ['Starting@2']);
  t.is(table().get('v')?.state, 'Starting');
});

// sim/instance.rs request_transition: Stopped while the next resting state is Starting forces
// the VMM to Destroyed (force_state_to_destroyed), no Stopping walk.
test('a VMM stopped before it was asked to run is Destroyed at once', (t) => {
  const { sim, reports, table } = world([], false);
  sim.addNode({
    id: 'stopper',
    initDurable: () => null,
    boot(env) {
      env.spawn('stop', (function* () {
        yield { kind: 'sleep', ms: 20 };
        yield { kind: 'call', to: 'sled', request: { type: 'VmmPutState', vmmId: 'v', target: 'Stopped' }, timeoutMs: 100 };
        return undefined;
      })());
      return {};
    },
  });
  while (sim.step() !== null);
  t.deepEqual(reports, ['Starting@2', 'Destroyed@3']);
  t.is(table().size, 0);
});

test('the fixed sled-agent keeps a Destroyed VMM until Nexus has acknowledged it', (t) => {
  const { sim, table } = world([]);
  while (sim.step() !== null && table().get('v')?.state !== 'Destroyed');
  t.is(table().get('v')?.state, 'Destroyed');
  sim.hold('sled', 'nexus');
  for (let i = 0; i < 5; i++) sim.step();
  t.is(table().get('v')?.state, 'Destroyed', 'still there while the report is held');
  sim.release('sled', 'nexus');
  while (sim.step() !== null);
  t.is(table().size, 0);
});

test('with sled-agent/remove-before-notify the VMM is gone before Nexus hears of Destroyed', (t) => {
  const { sim, reports, table } = world(['sled-agent/remove-before-notify']);
  let sawDestroyed = false;
  while (sim.step() !== null) {
    if (!reports.includes('Destroyed@6') && table().size === 0 && reports.includes('Stopping@5')) sawDestroyed = true;
  }
  t.true(sawDestroyed, 'the table was empty while Destroyed was still unpublished');
  t.true(reports.includes('Destroyed@6'));
});

/** A fixed sled-agent beside a Nexus stand-in that records its reports. */
function sledBesideNexus(reports: string[]): Simulator {
  const sim = new Simulator({ choices: seededChoices('1'), config: runConfig({ link: { delayMsMin: 5, delayMsMax: 5, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  sim.addNode(fakeNexus(reports));
  sim.addNode(simSledAgent({ id: 'sled', nexus: ['nexus'], nexusTimeoutMs: 100, progressMsMin: 50, progressMsMax: 50, publishAttempts: 10, migrationMsMax: 100, migrationFailPerMille: 0 }, new Set()));
  return sim;
}

// The VCR replacement the simulated sled-agent answers for a disk, as Propolis would from
// crucible's compare_vcr_for_update (volume.rs tests: a read-only parent target changed is one
// target change; the same VCR again has no difference; a VM not running refuses).
test('a VCR for a running VMM\'s disk: a changed read-only parent target is Started, the same again a 400, a stopped VMM a 409', (t) => {
  const parent = (target: string) => singleRegionVolume('snap', [target, 'b', 'c'], true, 1, null);
  const disk = (target: string) => singleRegionVolume('disk', ['x', 'y', 'z'], false, 2, parent(target));
  const sim = sledBesideNexus([]);
  const answers: unknown[] = [];
  sim.addNode({
    id: 'driver',
    initDurable: () => null,
    boot(env) {
      env.spawn('drive', (function* () {
        yield { kind: 'call', to: 'sled', request: { type: 'VmmRegister', vmmId: 'v', instanceId: 'i', migration: null, disks: [{ backendId: 'd', vcr: disk('a') }] }, timeoutMs: 100 };
        yield { kind: 'call', to: 'sled', request: { type: 'VmmPutState', vmmId: 'v', target: 'Running' }, timeoutMs: 100 };
        yield { kind: 'sleep', ms: 200 };
        for (const target of ['n', 'n']) answers.push(((yield { kind: 'call', to: 'sled', request: { type: 'VmmVcrReplace', vmmId: 'v', backendId: 'd', vcr: disk(target) }, timeoutMs: 100 }) as { reply: { reply: unknown } }).reply.reply);
        yield { kind: 'call', to: 'sled', request: { type: 'VmmPutState', vmmId: 'v', target: 'Stopped' }, timeoutMs: 100 };
        answers.push(((yield { kind: 'call', to: 'sled', request: { type: 'VmmVcrReplace', vmmId: 'v', backendId: 'd', vcr: disk('m') }, timeoutMs: 100 }) as { reply: { reply: unknown } }).reply.reply);
        return undefined;
      })());
      return {};
    },
  });
  for (let i = 0; i < 10_000 && sim.step() !== null; i++);
  t.deepEqual(answers, [
    { type: 'VcrReplaced', status: 200, result: 'Started' },
    { type: 'Error', status: 400, message: VCRS_HAVE_NO_DIFFERENCE },
    { type: 'Error', status: 409, message: 'VM is Stopping' },
  ]);
});

// sim/instance.rs request_transition(Reboot): Running -> Rebooting -> Running, each published one
// generation up; a VMM not running refuses (400).
test('a reboot walks a Running VMM through Rebooting back to Running; one not running refuses it', (t) => {
  const reports: string[] = [];
  const sim = sledBesideNexus(reports);
  const answers: string[] = [];
  sim.addNode({
    id: 'driver',
    initDurable: () => null,
    boot(env) {
      env.spawn('drive', (function* () {
        const put = (target: string) => ({ kind: 'call', to: 'sled', request: { type: 'VmmPutState', vmmId: 'v', target }, timeoutMs: 100 }) as const;
        yield { kind: 'call', to: 'sled', request: { type: 'VmmRegister', vmmId: 'v', instanceId: 'i', migration: null }, timeoutMs: 100 };
        answers.push(((yield put('Reboot')) as { reply: { type: string } }).reply.type);
        yield put('Running');
        yield { kind: 'sleep', ms: 200 };
        answers.push(((yield put('Reboot')) as { reply: { type: string } }).reply.type);
        return undefined;
      })());
      return {};
    },
  });
  for (let i = 0; i < 10_000 && sim.step() !== null; i++);
  t.deepEqual(answers, ['Refused', 'VmmState']);
  t.deepEqual(reports, ['Starting@2', 'Running@3', 'Rebooting@4', 'Running@5']);
});

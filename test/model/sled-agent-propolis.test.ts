import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import type { VmmState } from '../../model/common/vmm-state.ts';
import { downstairs } from '../../model/crucible/downstairs/node.ts';
import type { NexusReply } from '../../model/nexus/api.ts';
import { call, sleep, type Flow, type Process } from '../../ports/index.ts';
import type { PropolisState } from '../../model/propolis/api.ts';
import { propolis } from '../../model/propolis/node.ts';
import type { SledAgentReply, SledAgentRequest } from '../../model/sled-agent/api.ts';
import { propolisSledAgent, vmmStateOf, type PropolisHostProcess } from '../../model/sled-agent/propolis-host.ts';
import { seededChoices } from '../../sim/choice.ts';
import { Simulator } from '../../sim/simulator.ts';
import { DISK, diskVcr, QUIET, REGION } from '../helpers/propolis-world.ts';

// The sled-agent that runs VMMs in Propolis (omicron b848b6df85 sled-agent/src/instance.rs and
// common/instance.rs), against a real Propolis and Crucible downstairs.

test('Propolis states map to VMM states as common/instance.rs does (From<PropolisInstanceState> for VmmState)', (t) => {
  const expected: Record<PropolisState, VmmState> = {
    Creating: 'Starting', // "a Propolis that is creating its VM objects is starting from the external API's perspective"
    Starting: 'Starting',
    Running: 'Running',
    Stopping: 'Stopping',
    Stopped: 'Stopping', // "should still appear to be Stopping ... since they cannot be restarted yet"
    Rebooting: 'Rebooting',
    Migrating: 'Migrating',
    Failed: 'Failed',
    Destroyed: 'Destroyed',
  };
  for (const [propolisState, vmmState] of Object.entries(expected)) t.is(vmmStateOf(propolisState as PropolisState), vmmState, propolisState);
});

/** A sled with two Propolis, three downstairs, a Nexus that records each report, and a script of sled-agent calls. */
function world(script: (ask: (r: SledAgentRequest) => Flow<SledAgentReply | 'timeout'>) => Flow<void>) {
  const sim = new Simulator({ choices: seededChoices('1'), config: runConfig({ link: { delayMsMin: 1, delayMsMax: 2, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  const reports: string[] = [];
  for (const id of ['ds-1', 'ds-2', 'ds-3']) sim.addNode(downstairs({ id, region: { ...REGION, regionId: `region-${id}` }, readOnly: false, idleMsMax: 3_000 }, new Set()));
  for (const id of ['propolis-a', 'propolis-b']) sim.addNode(propolis({ id, nexus: ['nexus'], tuning: QUIET, handshakeTimeoutMs: 200, vcrWaitMsMax: 5_000 }, new Set()));
  sim.addNode(propolisSledAgent({ id: 'sled', nexus: ['nexus'], nexusTimeoutMs: 200, publishAttempts: 20, propolis: ['propolis-a', 'propolis-b'], propolisTimeoutMs: 100, monitorEveryMs: 50, monitorMissesMax: 3, vcrTimeoutMs: 2_000 }));
  const nexus = (): Process => ({
    *onRequest(_env, _from, request) {
      const r = request as { type: string; vmmId?: string; state?: { vmmState: { state: string; gen: number } } };
      if (r.state !== undefined) reports.push(`${r.state.vmmState.state}@${r.state.vmmState.gen}`);
      return { type: 'Ok', state: null } satisfies NexusReply;
    },
  });
  sim.addNode({ id: 'nexus', initDurable: () => null, boot: nexus });
  function* ask(r: SledAgentRequest): Flow<SledAgentReply | 'timeout'> {
    const result = yield* call<SledAgentReply>('sled', r, 5_000);
    return result.ok ? result.reply : 'timeout';
  }
  sim.addNode({ id: 'client', initDurable: () => null, boot: (env) => (env.spawn('script', script(ask)), {}) });
  const host = (): PropolisHostProcess => sim.node('sled').process as PropolisHostProcess;
  return { sim, reports, host };
}

const register: SledAgentRequest = { type: 'VmmRegister', vmmId: 'vmm-1', instanceId: 'inst-1', migration: null, disks: [{ backendId: DISK, vcr: diskVcr(['ds-1', 'ds-2', 'ds-3'], 2) }] };

test('register, run, stop: Starting, Running, then Stopping until Propolis is Destroyed; the zone is removed and the Propolis free again (propolis_terminal_states_make_vmm_halted)', (t) => {
  const { sim, reports, host } = world(function* (ask) {
    yield* ask(register);
    yield* ask({ type: 'VmmPutState', vmmId: 'vmm-1', target: 'Running' });
    yield* sleep(1_000);
    yield* ask({ type: 'VmmPutState', vmmId: 'vmm-1', target: 'Stopped' });
    yield* sleep(1_000);
    yield* ask({ ...register, vmmId: 'vmm-2' });
    yield* ask({ type: 'VmmPutState', vmmId: 'vmm-2', target: 'Running' });
  });
  for (let i = 0; i < 200_000 && sim.step() !== null && !reports.includes('Destroyed@6'); i++);
  // Registered Starting at 2; Propolis Creating/Starting is Starting again, one generation up;
  // Stopped is still Stopping; Destroyed only once the zone is gone.
  t.deepEqual(reports, ['Starting@2', 'Starting@3', 'Running@4', 'Stopping@5', 'Destroyed@6']);
  for (const until = sim.now + 500; sim.now < until && sim.step() !== null; );
  t.is(host().vmms.size, 0, 'the VMM left the table once Destroyed was acknowledged');
  for (let i = 0; i < 200_000 && host().vmms.get('vmm-2')?.state !== 'Running' && sim.step() !== null; i++);
  t.is(host().vmms.get('vmm-2')?.propolis, 'propolis-a', 'the next VMM gets the Propolis the first one freed');
});

test('a Propolis that crashes under a running VMM fails it; a stop before any zone exists destroys the VMM at once', (t) => {
  const { sim, reports, host } = world(function* (ask) {
    yield* ask(register);
    yield* ask({ type: 'VmmPutState', vmmId: 'vmm-1', target: 'Running' });
  });
  for (let i = 0; i < 200_000 && !reports.includes('Running@4') && sim.step() !== null; i++);
  t.true(reports.includes('Running@4'), reports.join(' '));
  sim.crash('propolis-a');
  sim.restart('propolis-a');
  for (let i = 0; i < 200_000 && !reports.some((r) => r.startsWith('Failed')) && sim.step() !== null; i++);
  t.is(reports.at(-1), 'Failed@5', `the monitor found no VM on the restarted Propolis: ${reports.join(' ')}`);
  for (const until = sim.now + 500; sim.now < until && sim.step() !== null; );
  t.is(host().vmms.size, 0);

  const early = world(function* (ask) {
    yield* ask({ ...register, vmmId: 'vmm-2' });
    const r = yield* ask({ type: 'VmmPutState', vmmId: 'vmm-2', target: 'Stopped' });
    t.like(r, { type: 'VmmState', runtime: { state: 'Destroyed' } });
  });
  while (early.sim.step() !== null && early.sim.now < 5_000);
  t.deepEqual(early.reports.filter((r) => r.startsWith('Destroyed')).length, 1);
});

import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import type { AgentReply, AgentRequest } from '../../model/crucible/agent/api.ts';
import { crucibleAgent, type AgentDurable } from '../../model/crucible/agent/node.ts';
import { seededChoices } from '../../sim/choice.ts';
import { Simulator } from '../../sim/simulator.ts';

// The Crucible agent's records and answers (crucible 6d037cb6 agent/src/datafile.rs and its
// tests: test_region_create_is_idempotent-like behaviour, delete ordering; server.rs status codes).

type Step = AgentRequest | { readonly type: 'Wait'; readonly ms: number } | { readonly type: 'Crash'; readonly node: string };

/** Two agents; `steps` run in order from a driver, each call's answer recorded. */
function drive(steps: readonly Step[]): { answers: (AgentReply | 'timeout')[]; durable: (id: string) => AgentDurable } {
  const sim = new Simulator({ choices: seededChoices('1'), config: runConfig({ link: { delayMsMin: 1, delayMsMax: 1, lossPerMille: 0, dupPerMille: 0, fifo: true } }) });
  for (const id of ['agent-1', 'agent-2']) sim.addNode(crucibleAgent({ id, workMsMax: 10, createFailPerMille: 0, cloneTimeoutMs: 50 }));
  const answers: (AgentReply | 'timeout')[] = [];
  sim.addNode({
    id: 'nexus',
    initDurable: () => null,
    boot(env) {
      env.spawn('drive', (function* () {
        for (const s of steps) {
          if (s.type === 'Wait') yield { kind: 'sleep', ms: s.ms };
          else if (s.type === 'Crash') sim.bounce(s.node); // down and back: the durable records kept
          else {
            const to = 'address' in s ? 'agent-2' : 'agent-1';
            const r = (yield { kind: 'call', to, request: s, timeoutMs: 50 }) as { ok: boolean; reply?: AgentReply };
            answers.push(r.ok ? r.reply! : 'timeout');
          }
        }
        return undefined;
      })());
      return {};
    },
  });
  for (let i = 0; i < 10_000 && sim.step() !== null; i++);
  return { answers, durable: (id) => sim.node(id).durable as AgentDurable };
}

const wait: Step = { type: 'Wait', ms: 100 };

test('a region create is idempotent by id and settles Created; its delete is Tombstoned then Destroyed, and a create of it again reports Destroyed', (t) => {
  const { answers } = drive([
    { type: 'RegionCreate', regionId: 'r', source: null },
    { type: 'RegionCreate', regionId: 'r', source: null },
    wait,
    { type: 'RegionGet', regionId: 'r' },
    { type: 'RegionDelete', regionId: 'r' },
    wait,
    { type: 'RegionCreate', regionId: 'r', source: null },
    { type: 'RegionDelete', regionId: 'nope' },
  ]);
  t.deepEqual(answers, [
    { status: 200, state: 'Requested' },
    { status: 200, state: 'Requested' },
    { status: 200, state: 'Created' },
    { status: 204 },
    { status: 200, state: 'Destroyed' },
    { status: 500, message: 'region nope does not exist' },
  ]);
});

test('delete ordering: a region with snapshots is 400, a snapshot whose read-only downstairs runs is 500', (t) => {
  const { answers } = drive([
    { type: 'RegionCreate', regionId: 'r', source: null },
    wait,
    { type: 'SnapshotCreate', regionId: 'r', snapshotId: 's' },
    { type: 'RunningSnapshotCreate', regionId: 'r', snapshotId: 's' },
    wait,
    { type: 'RegionDelete', regionId: 'r' },
    { type: 'SnapshotDelete', regionId: 'r', snapshotId: 's' },
    { type: 'RunningSnapshotDelete', regionId: 'r', snapshotId: 's' },
    wait,
    { type: 'SnapshotDelete', regionId: 'r', snapshotId: 's' },
    { type: 'RegionDelete', regionId: 'r' },
  ]);
  t.deepEqual(answers, [
    { status: 200, state: 'Requested' },
    { status: 204 },
    { status: 200, state: 'Requested' },
    { status: 400, message: 'must delete snapshots first!' },
    { status: 500, message: 'read-only downstairs running for region r snapshot s' },
    { status: 204 },
    { status: 204 },
    { status: 204 },
  ]);
});

test('a clone whose source serves nothing is Failed; a crash keeps the records and the work resumes', (t) => {
  const { answers, durable } = drive([
    { type: 'RegionCreate', regionId: 'clone', source: 'agent-2:missing@s' },
    { type: 'RegionCreate', regionId: 'r', source: null },
    { type: 'Crash', node: 'agent-1' },
    { type: 'Wait', ms: 2_000 },
  ]);
  t.is(answers.length, 2);
  t.is(durable('agent-1').regions.get('clone')?.state, 'Failed');
  t.is(durable('agent-1').regions.get('r')?.state, 'Created', 'the create outlived the crash');
});

import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import { seededChoices, TapeReplay } from '../../sim/choice.ts';
import type { Flow, NodeDef } from '../../ports/index.ts';
import { BOUND_STEPS, DETERMINISM, PANIC, runSimulation, type RunSpec } from '../../sim/runner.ts';
import { Simulator } from '../../sim/simulator.ts';
import { caller, noOracle, pinger, pingPair, type Counter, type PingProcess } from '../helpers/ping-world.ts';

const limits = { workloadMs: 500, livenessMs: 100, maxSteps: 10_000 };
const config = runConfig(limits);
const pingSpec: RunSpec = {
  config: runConfig({ ...limits, link: { delayMsMin: 1, delayMsMax: 20, lossPerMille: 100, dupPerMille: 50, fifo: false } }),
  setup(sim) {
    pingPair(sim);
    return noOracle;
  },
};

test('the same seed gives the same fingerprint; another seed another', (t) => {
  const a = runSimulation(pingSpec, seededChoices('7'));
  const b = runSimulation(pingSpec, seededChoices('7'));
  const c = runSimulation(pingSpec, seededChoices('8'));
  t.is(a.fingerprint, b.fingerprint);
  t.is(a.steps, b.steps);
  t.not(a.fingerprint, c.fingerprint);
});

test('a recorded tape replays the same run', (t) => {
  const first = runSimulation(pingSpec, seededChoices('42'));
  const replay = new TapeReplay(first.choices.values, first.choices.labels);
  const again = runSimulation(pingSpec, replay.recorder);
  t.is(again.fingerprint, first.fingerprint);
  t.is(replay.divergence, null);
  t.deepEqual(again.choices.values, first.choices.values);
});

test('a partition blocks delivery both ways until repaired', (t) => {
  const sim = new Simulator({ choices: seededChoices('1') });
  pingPair(sim, 10);
  const cut = sim.partition('a', 'b');
  while (sim.now < 100) sim.step();
  const b = sim.node('b').process as PingProcess;
  t.is(b.received.length, 0);
  sim.repair(cut);
  while (sim.now < 200) sim.step();
  t.true(b.received.length > 0);
});

test('a one-way partition blocks one direction only', (t) => {
  const sim = new Simulator({ choices: seededChoices('1') });
  pingPair(sim, 10);
  sim.partitionOneWay('a', 'b');
  while (sim.now < 100) sim.step();
  t.is((sim.node('b').process as PingProcess).received.length, 0);
  t.true((sim.node('a').process as PingProcess).received.length > 0);
});

test('a crash loses volatile state, timers and in-flight messages; durable state survives', (t) => {
  const sim = new Simulator({ choices: seededChoices('3'), config: runConfig({ link: { delayMsMin: 5, delayMsMax: 5, lossPerMille: 0, dupPerMille: 0, fifo: false } }) });
  pingPair(sim, 10);
  while (sim.now < 100) sim.step();
  const before = sim.node('b').process as PingProcess;
  const durable = sim.node('b').durable as Counter;
  t.true(before.volatileCount > 0);
  t.is(durable.durableCount, before.volatileCount);
  const countAtCrash = durable.durableCount;
  sim.crash('b');
  t.is(sim.node('b').process, null);
  while (sim.now < 200) sim.step();
  t.is(durable.durableCount, countAtCrash, 'nothing is delivered to a crashed node');
  t.is((sim.node('a').process as PingProcess).received.filter((r) => r.startsWith('b:')).length > 0, true);
  const aGotBefore = (sim.node('a').process as PingProcess).received.length;
  while (sim.now < 220) sim.step();
  t.is((sim.node('a').process as PingProcess).received.length, aGotBefore, "b's timers died with it");
  sim.restart('b');
  const after = sim.node('b').process as PingProcess;
  t.is(after.volatileCount, 0, 'volatile state starts over');
  t.is((sim.node('b').durable as Counter).durableCount, countAtCrash, 'durable state is kept');
  while (sim.now < 300) sim.step();
  t.true(after.volatileCount > 0);
  t.is(sim.faultLog[0]?.kind, 'crash');
  t.is(sim.faultLog[0]?.endMs, 220);
});

test('a call gets the reply, or a timeout when the callee is cut off', (t) => {
  const sim = new Simulator({ choices: seededChoices('1') });
  sim.addNode(pinger('server', 'nobody', 0));
  sim.addNode(caller('client', 'server', 100));
  sim.addNode(caller('lonely', 'server', 100));
  sim.partition('lonely', 'server');
  while (sim.step() !== null);
  t.deepEqual((sim.node('client').process as PingProcess).results, [{ ok: true, reply: { type: 'Pong', echo: { type: 'Hello' } } }]);
  t.deepEqual((sim.node('lonely').process as PingProcess).results, [{ ok: false, error: 'timeout' }]);
});

test('held messages wait for release and then arrive', (t) => {
  const sim = new Simulator({ choices: seededChoices('1') });
  pingPair(sim, 10);
  sim.hold('a', 'b');
  while (sim.now < 100) sim.step();
  const b = sim.node('b').process as PingProcess;
  t.is(b.received.length, 0);
  sim.release('a', 'b');
  sim.step();
  t.true(b.received.length > 0);
});

test('events ready at the same time are ordered by a choice', (t) => {
  const orderFor = (first: number): string[] => {
    const sim = new Simulator({ choices: new TapeReplay([first], null).recorder, config: runConfig({ link: { delayMsMin: 5, delayMsMax: 5, lossPerMille: 0, dupPerMille: 0, fifo: false } }) });
    sim.addNode(pinger('sink', 'nobody', 0));
    for (const id of ['x', 'y']) {
      sim.addNode({ id, initDurable: () => null, boot: (env) => (env.send('sink', { type: 'Ping', n: id }), {}) } satisfies NodeDef<null>);
    }
    while (sim.step() !== null);
    return (sim.node('sink').process as PingProcess).received;
  };
  t.deepEqual(orderFor(0), ['x:x', 'y:y']);
  t.deepEqual(orderFor(1), ['y:y', 'x:x']);
});

const misbehaving = (fn: () => void): RunSpec => ({
  config,
  setup(sim) {
    sim.addNode(pinger('a', 'b', 10, fn));
    sim.addNode(pinger('b', 'a', 10));
    return noOracle;
  },
});

test('Math.random in protocol code is a DETERMINISM finding naming the call site', (t) => {
  const r = runSimulation(misbehaving(() => void Math.random()), seededChoices('1'));
  t.is(r.violation?.invariant, DETERMINISM);
  t.regex(r.violation?.message ?? '', /Math\.random\(\) called during a simulation run at .*simulator\.test\.ts:\d+/);
  t.is(typeof Math.random(), 'number', 'the guard is gone after the run');
});

test('Date.now, new Date() and setTimeout are caught too, even when swallowed', (t) => {
  for (const [fn, name] of [
    [() => Date.now(), 'Date.now()'],
    [() => new Date(), 'new Date()'],
    [() => setTimeout(() => {}, 1), 'setTimeout()'],
  ] as const) {
    const r = runSimulation(misbehaving(() => {
      try {
        fn();
      } catch {
        // protocol code that hides the error is still caught
      }
    }), seededChoices('1'));
    t.is(r.violation?.invariant, DETERMINISM, name);
    t.true(r.violation?.message.includes(name), name);
  }
  t.true(Date.now() > 0);
  t.true(new Date(0).getTime() === 0);
});

test('an exception in protocol code is a PANIC finding, not a harness crash', (t) => {
  const r = runSimulation(misbehaving(() => {
    throw new Error('assertion failed: upstairs in impossible state');
  }), seededChoices('1'));
  t.is(r.violation?.invariant, PANIC);
  t.regex(r.violation?.message ?? '', /^a panicked: assertion failed/);
});

test('an event storm hits the step bound and is reported, not hung', (t) => {
  const storm: RunSpec = {
    config: runConfig({ workloadMs: 1_000, livenessMs: 0, maxSteps: 5_000 }),
    setup(sim) {
      sim.addNode({
        id: 'storm',
        initDurable: () => null,
        boot(env) {
          env.setTimer(0, 'x');
          return { onTimer: (e) => (e.setTimer(0, 'x'), e.setTimer(0, 'y')) };
        },
      });
      return noOracle;
    },
  };
  const r = runSimulation(storm, seededChoices('1'));
  t.is(r.violation?.invariant, BOUND_STEPS);
  t.is(r.steps, 5_000);
});

test('a workflow that yields something else is a PANIC', (t) => {
  const r = runSimulation({
    config,
    setup(sim) {
      sim.addNode({ id: 'w', initDurable: () => null, boot: (env) => (env.spawn('bad', (function* (): Flow<unknown> { yield { kind: 'teleport' } as never; return undefined; })()), {}) });
      return noOracle;
    },
  }, seededChoices('1'));
  t.is(r.violation?.invariant, PANIC);
});

test('a node killed for good stays down: restart and heal leave it dead; the fault log says kill', (t) => {
  const sim = new Simulator({ choices: seededChoices('1') });
  pingPair(sim, 10);
  sim.kill('a');
  sim.restart('a');
  sim.healAll();
  t.false(sim.node('a').up);
  t.true(sim.node('a').dead);
  t.like(sim.faultLog.at(-1), { kind: 'kill', nodes: ['a'], endMs: null });
  sim.crash('b');
  sim.healAll();
  t.true(sim.node('b').up, 'a plain crash still heals');
});

test('tell delivers a message from outside the network to a live node, and is lost to a dead one', (t) => {
  const sim = new Simulator({ choices: seededChoices('1'), trace: true });
  pingPair(sim, 1_000);
  sim.at(5, 'alert', () => sim.tell('b', { type: 'Ping', n: 99 }));
  sim.at(6, 'alert', () => sim.tell('a', { type: 'Ping', n: 98 }));
  sim.kill('a');
  while (sim.now < 10) sim.step();
  t.deepEqual((sim.node('b').process as PingProcess).received, ['outside:99']);
  t.true(sim.records!.some((r) => r.event === 'lost' && r.node === 'a' && r.from === 'outside'));
});

test('a signalled fault tells its nodes when it starts and when it ends; the heal ends one still open', (t) => {
  const sim = new Simulator({ choices: seededChoices('1'), trace: true });
  pingPair(sim, 1_000);
  const record = sim.signal(['a', 'b'], { type: 'Ping', n: 1 }, { type: 'Ping', n: 0 }, 'errors on a,b');
  t.like(record, { kind: 'signal', nodes: ['a', 'b'], description: 'errors on a,b', endMs: null });
  sim.unsignal(record);
  sim.unsignal(record); // once only
  const open = sim.signal(['b'], { type: 'Ping', n: 2 }, { type: 'Ping', n: 3 }, 'errors on b');
  sim.healAll();
  t.deepEqual((sim.node('a').process as PingProcess).received, ['outside:1', 'outside:0']);
  t.deepEqual((sim.node('b').process as PingProcess).received, ['outside:1', 'outside:0', 'outside:2', 'outside:3']);
  t.not(open.endMs, null);
  t.deepEqual(sim.faultLog.map((f) => f.kind), ['signal', 'signal']);
});

test('a throw in the receiver of a message from outside is a PANIC finding, not a harness crash', (t) => {
  const spec: RunSpec = {
    config,
    setup(sim) {
      sim.addNode({ id: 'x', initDurable: () => null, boot: () => ({ onMessage: () => { throw new Error('bad alert'); } }) });
      sim.at(1, 'alert', () => sim.tell('x', 'boom'));
      return noOracle;
    },
  };
  const r = runSimulation(spec, seededChoices('1'));
  t.is(r.violation?.invariant, PANIC);
  t.regex(r.violation?.message ?? '', /bad alert/);
});

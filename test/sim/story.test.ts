// The story of a failing run (sim/story.ts) and the causal links of a traced run it is built
// from (sim/simulator.ts): sends and their deliveries, timers and their setters, decisions on the
// events they shaped, RESTART after a crash, faults naming the nemesis or script that did them.

import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import { ChoiceRecorder, seededChoices } from '../../sim/choice.ts';
import { cone, entitiesOf, mentions, tellStory } from '../../sim/story.ts';
import { Simulator } from '../../sim/simulator.ts';
import { describeRecord, type TraceRecord } from '../../sim/trace.ts';
import { caller, pinger } from '../helpers/ping-world.ts';

const zeros = (): ChoiceRecorder => new ChoiceRecorder(() => 0);

test('a traced run records each send, and a delivery points back at its send', (t) => {
  const sim = new Simulator({ choices: zeros(), trace: true });
  sim.addNode(pinger('a', 'b', 10));
  sim.addNode(pinger('b', 'a', 0));
  for (let i = 0; i < 4; i++) sim.step();
  const records = sim.records!;
  const delivery = records.findIndex((r) => r.event === 'deliver');
  t.true(delivery > 0);
  const send = records[records[delivery]!.cause!]!;
  t.is(send.event, 'send');
  t.is(send.node, 'a');
  t.is(send.to, 'b');
  t.is(send.msg, records[delivery]!.msg);
  t.regex(describeRecord(send), /a sends b msg Ping/);
  // The send happened in the timer's step: its cause is that timer.
  t.is(records[send.cause!]!.event, 'timer');
});

test('a lost message points back at its send; a restart reads RESTART', (t) => {
  const sim = new Simulator({ choices: zeros(), trace: true });
  sim.addNode(pinger('a', 'b', 10));
  sim.addNode(pinger('b', 'a', 0));
  const cut = sim.partition('a', 'b');
  sim.step(); // a's timer: the ping goes out, and is lost at delivery
  sim.step();
  sim.repair(cut);
  sim.bounce('b');
  const records = sim.records!;
  const lost = records.find((r) => r.event === 'lost')!;
  t.is(records[lost.cause!]!.event, 'send');
  t.is(lost.text, 'partitioned');
  const restart = records.find((r) => r.event === 'restart')!;
  t.is(restart.node, 'b');
  t.regex(describeRecord(restart), /RESTART b/);
  t.is(records.filter((r) => r.event === 'boot').length, 2, 'only first boots read boot');
});

test('a fault injected by a scheduled step names it', (t) => {
  const sim = new Simulator({ choices: zeros(), trace: true });
  sim.addNode(pinger('a', 'b', 0));
  sim.addNode(pinger('b', 'a', 0));
  sim.at(5, 'nemesis', () => sim.crash('b'));
  sim.step();
  const crash = sim.records!.find((r) => r.event === 'crash')!;
  t.is(crash.by, 'nemesis');
  t.regex(describeRecord(crash), /FAULT nemesis: crash b/);
});

test('a network draw belongs to the send it shaped; the pick of a ready event to that event', (t) => {
  // Every choice 1: each message is delayed (net.delayMs) and each pick takes the second event.
  const sim = new Simulator({ choices: new ChoiceRecorder((_l, n) => Math.min(1, n - 1)), trace: true, config: runConfig({ link: { delayMsMin: 1, delayMsMax: 5, lossPerMille: 0, dupPerMille: 0, fifo: false } }) });
  sim.addNode(pinger('a', 'b', 10));
  sim.addNode(pinger('b', 'a', 10));
  for (let i = 0; i < 8; i++) sim.step();
  const { labels, recordOf } = sim.choices;
  const records = sim.records!;
  labels.forEach((label, k) => {
    const owner = records[recordOf![k]!];
    if (label.startsWith('net.')) t.is(owner?.event, 'send', `${label} drawn for ${owner === undefined ? 'setup' : describeRecord(owner)}`);
    if (label === 'sched.next') t.true(owner !== undefined && ['deliver', 'timer', 'resume', 'action', 'lost'].includes(owner.event), label);
  });
  t.true(labels.includes('net.delayMs'));
});

test('ids are whole: vmm-7 is not in vmm-71 nor in vmm-7-b', (t) => {
  t.true(mentions('{"vmmId":"vmm-7"}', 'vmm-7'));
  t.false(mentions('{"vmmId":"vmm-71"}', 'vmm-7'));
  t.false(mentions('{"vmmId":"vmm-7-b"}', 'vmm-7'));
  t.true(mentions('VMM vmm-7 removed', 'vmm-7'));
});

test('the entities of a violation are the ids it names that the run knows', (t) => {
  const texts = ['{"vmmId":"vmm-2"}', '{"region":"region-2-1","snapshot":"snapshot-3"}'];
  t.deepEqual(entitiesOf("sled-1 says VMM vmm-2 does not exist; upstairs-a's client", ['sled-1', 'upstairs-a'], texts), ['sled-1', 'vmm-2', 'upstairs-a']);
  t.deepEqual(entitiesOf('request for region-2-1@snapshot-3 is stuck; read-only', [], texts), ['region-2-1', 'snapshot-3']);
});

test('the cone follows causes and each node\'s own order, and nothing later', (t) => {
  const r = (step: number, node: string, cause?: number): TraceRecord => ({ step, timeMs: step, event: 'deliver', node, ...(cause === undefined ? {} : { cause }) });
  // 0 a; 1 b (caused by 0); 2 c, unrelated; 3 b; 4 a (root).
  const records = [r(1, 'a'), r(2, 'b', 0), r(3, 'c'), r(4, 'b', 1), r(5, 'a', 3)];
  t.deepEqual(cone(records, [4]), [true, true, false, true, true]);
});

test('the story of a failing call: the chain from the violation back, folded repeats, the decisions', (t) => {
  const sim = new Simulator({ choices: seededChoices('1'), trace: true });
  sim.addNode(pinger('server', 'noise', 0));
  sim.addNode(pinger('noise', 'server', 7));
  sim.addNode(caller('client', 'server', 50));
  for (let i = 0; i < 40 && sim.step() !== null; i++);
  const records = sim.records!;
  const reply = records.findIndex((x) => x.event === 'deliver' && x.envelope === 'rep');
  t.true(reply > 0);
  const story = tellStory(records, sim.choices, { message: 'client got a Pong it did not expect', step: records[reply]!.step, phase: 'workload' }, sim.nodeIds);
  const text = story.lines.join('\n');
  // The reply and the request it answered are told; the noise node's pings (no id named) are not.
  t.regex(text, /server -> client rep Pong \{"echo":\{"type":"Hello"\}\}/);
  t.regex(text, /net.delayMs=\d+ \(at its send\)/, "the delay shows on the delivery it shaped");
  t.regex(text, /client -> server req Hello/);
  t.notRegex(text, /noise -> server/);
  t.true(story.lines.length <= 30);
});

test('a long story keeps its most telling lines and says how many it left out', (t) => {
  const records: TraceRecord[] = [];
  // 200 events that differ in words, not only in numbers: no fold merges them.
  const word = (k: number): string => String(k).replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
  for (let k = 0; k < 200; k++) records.push({ step: k + 1, timeMs: k, event: 'deliver', node: 'b', from: 'a', envelope: 'msg', message: { type: `Kind${word(k)}`, vmmId: 'vmm-1' } });
  records.push({ step: 201, timeMs: 200, event: 'timer', node: 'b', message: { type: 'Check', vmmId: 'vmm-1' } });
  records.push({ step: 201, timeMs: 200, event: 'log', node: 'b', text: 'vmm-1 forgotten' });
  const story = tellStory(records, null, { message: 'vmm-1 lost', step: 201, phase: 'workload' }, ['a', 'b']);
  t.is(story.lines.length, 30);
  t.regex(story.lines.at(-1)!, /^\(\d+ more lines about vmm-1 left out: --entity vmm-1 shows them\)$/);
  t.true(story.lines.some((l) => l.includes('vmm-1 forgotten')), 'the logged moment is kept');
});

test('repeats are folded with their count, the nodes that varied, and the last time', (t) => {
  const records: TraceRecord[] = [];
  for (let k = 0; k < 40; k++) records.push({ step: k + 1, timeMs: k, event: 'deliver', node: `ds-${(k % 3) + 1}`, from: 'up', envelope: 'msg', message: { type: 'Write', job: 'job-1' } });
  // A liveness failure: the whole run is its cone.
  const story = tellStory(records, null, { message: 'job-1 lost', step: 40, phase: 'liveness' }, ['up', 'ds-1', 'ds-2', 'ds-3']);
  t.true(story.lines.length < 5, story.lines.join('\n'));
  t.regex(story.lines.join('\n'), /×\d+ \(ds-1, ds-2, ds-3\) until \d+ms/);
});

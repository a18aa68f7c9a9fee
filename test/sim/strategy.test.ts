import test from 'ava';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import { seededChoices, TapeReplay } from '../../sim/choice.ts';
import { runSimulation } from '../../sim/runner.ts';

const spec = () => crucibleTakeover.spec(new Set());

test('swarm draws, per run, which faults it may use and how often, through the choice source', (t) => {
  const menuSize = crucibleTakeover.faultMenu.length;
  const kept: number[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    const r = runSimulation(spec(), seededChoices(String(seed)), { strategy: 'swarm' });
    const { labels, values } = r.choices;
    const keeps = labels.map((l, i) => (l.startsWith('swarm.keep.') ? values[i]! : -1)).filter((v) => v >= 0);
    t.is(keeps.length, menuSize, 'one keep-or-drop draw per fault option');
    t.true(labels.includes('swarm.injectPerMille'));
    kept.push(keeps.filter((v) => v >= 500).length);
  }
  t.true(Math.min(...kept) < menuSize / 2 && Math.max(...kept) > menuSize / 2, `kept per run: ${kept.join(',')}`);
});

test('random draws nothing of the sort, and a swarm run replays from its tape', (t) => {
  const random = runSimulation(spec(), seededChoices('7'));
  t.false(random.choices.labels.some((l) => l.startsWith('swarm.')));
  const swarm = runSimulation(spec(), seededChoices('7'), { strategy: 'swarm' });
  const again = runSimulation(spec(), new TapeReplay(swarm.choices.values, swarm.choices.labels).recorder, { strategy: 'swarm' });
  t.is(again.fingerprint, swarm.fingerprint);
  t.not(swarm.fingerprint, random.fingerprint);
});

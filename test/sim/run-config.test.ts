// The run configuration: one place for every field, its default and its bounds; a scenario's
// fields over the defaults; swarm varies the nemesis only within the stated bounds.
import test from 'ava';
import { seededChoices } from '../../sim/choice.ts';
import { configProblems, DEFAULT_RUN_CONFIG, describeRunConfig, RUN_CONFIG_FIELDS, runConfig } from '../../sim/run-config.ts';
import { nemesisFor } from '../../sim/strategy.ts';
import { Simulator } from '../../sim/simulator.ts';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';

test('every field of the configuration is described once, and the defaults are within bounds', (t) => {
  const paths = RUN_CONFIG_FIELDS.map((f) => f.path);
  t.is(new Set(paths).size, paths.length);
  t.deepEqual(configProblems(DEFAULT_RUN_CONFIG), []);
  t.is(describeRunConfig(DEFAULT_RUN_CONFIG).length, paths.length);
});

test("a scenario's fields go over the defaults, deeply; unknown fields and values out of bounds are refused", (t) => {
  const c = runConfig({ workloadMs: 12_000, nemesis: { injectPerMille: 350 } });
  t.is(c.nemesis.injectPerMille, 350);
  t.is(c.nemesis.gapMsMax, DEFAULT_RUN_CONFIG.nemesis.gapMsMax);
  t.deepEqual(configProblems({ ...c, nemesis: { ...c.nemesis, injectPerMille: 1001 } }), ['nemesis.injectPerMille must be in 0..1000, not 1001']);
  t.deepEqual(configProblems({ ...c, turbo: 1 }), ['unknown field turbo']);
  t.deepEqual(configProblems({ ...c, link: { ...c.link, fifo: 'yes' } }), ['link.fifo must be true or false, not "yes"']);
  t.is(crucibleTakeover.config.workloadMs, 12_000);
  t.true(describeRunConfig(crucibleTakeover.config).some((line) => line.startsWith('* workloadMs')));
});

test('swarm draws each run its menu and its injection rate within the configured bounds', (t) => {
  const config = runConfig({ swarm: { keepPerMille: 1000, injectPerMilleMin: 420, injectPerMilleMax: 440 } });
  const menu = crucibleTakeover.faultMenu;
  for (let seed = 1; seed <= 50; seed++) {
    const sim = new Simulator({ choices: seededChoices(String(seed)), strategy: 'swarm', config });
    const drawn = nemesisFor(sim, { ...config.nemesis, menu });
    t.true(drawn.injectPerMille >= 420 && drawn.injectPerMille <= 440, `seed ${seed}: ${drawn.injectPerMille}`);
    t.is(drawn.menu.length, menu.length, 'keepPerMille 1000 keeps every fault');
  }
});

import test from 'ava';
import fc from 'fast-check';
import { SweepPlan, type PlannedBatch } from '../../api/sweep-plan.ts';
import { randomSeeds, seedRange, sharded } from '../../sim/seed-sequence.ts';

test('batches go seed-major across scenarios, so a sweep cut short covers every scenario alike', (t) => {
  const plan = new SweepPlan(['a', 'b'], seedRange(1, 25), 10);
  const order = [];
  for (let b = plan.next(); b !== null; b = plan.next()) order.push(`${b.scenario}:${b.seeds[0]}-${b.seeds.at(-1)}`);
  t.deepEqual(order, ['a:1-10', 'b:1-10', 'a:11-20', 'b:11-20', 'a:21-25', 'b:21-25']);
  t.is(plan.total, 50);
});

test('a plan over ten billion seeds holds no list: the first batches come at once', (t) => {
  const plan = new SweepPlan(['a'], seedRange(1, 10_000_000_000));
  t.deepEqual(plan.next()!.seeds, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.is(plan.total, 10_000_000_000);
});

test('covered seeds are the longest run from the first with every batch done, whatever order batches finish in', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 30 }), fc.integer(), (length, batchSeeds, handedOut, salt) => {
      const plan = new SweepPlan(['a', 'b'], randomSeeds(length, 7), batchSeeds);
      const out: PlannedBatch[] = [];
      for (let i = 0; i < handedOut; i++) {
        const b = plan.next();
        if (b !== null) out.push(b);
      }
      // Finish them in a shuffled order (workers), then check the prefix per scenario.
      const shuffled = out.map((b, i) => ({ b, k: Math.imul(i + 1, salt | 1) >>> 0 })).sort((x, y) => x.k - y.k);
      for (const { b } of shuffled) plan.done(b);
      return plan.covered().every((c) => {
        const mine = out.filter((b) => b.scenario === c.scenario);
        const seeds = mine.reduce((n, b) => n + b.seeds.length, 0);
        return c.seeds === seeds && c.through === (seeds === 0 ? null : mine.at(-1)!.seeds.at(-1));
      });
    }),
  );
  t.pass();
});

test('a batch still out leaves a gap: coverage stops before it', (t) => {
  const plan = new SweepPlan(['a'], seedRange(1, 30), 10);
  const [b1, b2, b3] = [plan.next()!, plan.next()!, plan.next()!];
  plan.done(b1);
  plan.done(b3);
  t.deepEqual(plan.covered(), [{ scenario: 'a', seeds: 10, through: 10 }]);
  plan.done(b2);
  t.deepEqual(plan.covered(), [{ scenario: 'a', seeds: 30, through: 30 }]);
});

test('a batch cut short by a budget ends the coverage where it stopped', (t) => {
  const plan = new SweepPlan(['a'], sharded(seedRange(1, 100), { index: 2, count: 4 }), 10);
  const b = plan.next()!;
  t.deepEqual(b.seeds.slice(0, 3), [2, 6, 10]);
  plan.done(b, 3);
  t.deepEqual(plan.covered(), [{ scenario: 'a', seeds: 3, through: 10 }]);
});

test('a batch counted twice is a harness bug, caught at once rather than inflating the coverage', (t) => {
  const plan = new SweepPlan(['a'], seedRange(1, 30), 10);
  const b = plan.next()!;
  plan.done(b);
  t.throws(() => plan.done(b), { message: /done twice/ });
  t.throws(() => plan.done({ scenario: 'z', from: 0, seeds: [1] }), { message: /does not run/ });
});

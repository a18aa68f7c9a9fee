// The lease scenario: a lease server and two clients under delays, loss, partitions and crashes.
// Its registry describes the invariants it checks and the planted bug switch; `npx stairwell
// sweep ./scenario.ts --seeds 1..500` runs it, `--bug lease/count-from-reply` finds the bug.

import { defineRegistry, defineScenario, startNemesis, type FaultOption, type Oracle, type Simulator } from 'stairwell';
import { leaseClient, leaseServer, SERVER, type LeaseClient } from './lease.ts';

const CLIENTS = ['client-1', 'client-2'];
const LEASE_MS = 1_000;

const FAULTS: FaultOption[] = [
  { kind: 'crash', node: SERVER },
  ...CLIENTS.map((c): FaultOption => ({ kind: 'crash', node: c })),
  ...CLIENTS.map((c): FaultOption => ({ kind: 'partition', a: [c], b: [SERVER] })),
  { kind: 'link', from: '*', to: '*', lossPerMille: 200 },
  { kind: 'link', from: SERVER, to: '*', extraDelayMsMax: 300 },
];

function setup(sim: Simulator, { bugs, faultMenu }: { bugs: ReadonlySet<string>; faultMenu: readonly FaultOption[] }): Oracle {
  sim.addNode(leaseServer({ id: SERVER, leaseMs: LEASE_MS }));
  for (const id of CLIENTS) sim.addNode(leaseClient({ id, server: SERVER, timeoutMs: 500, holdMsMax: 400 }, bugs));
  startNemesis(sim, faultMenu);
  const client = (id: string): LeaseClient | null => sim.node(id).process as LeaseClient | null;
  return {
    afterStep: () => {
      const holders = CLIENTS.filter((id) => client(id)?.holds(sim.now) === true);
      if (holders.length < 2) return null;
      return { invariant: 'L-I1', message: `${holders.join(' and ')} both hold the lease at ${sim.now}ms` };
    },
    unmetGoal: () => (CLIENTS.some((id) => client(id)?.holds(sim.now) === true) ? null : { invariant: 'L-L1', message: 'no client holds the lease' }),
  };
}

export const lease = defineScenario({
  name: 'lease',
  summary: 'a lease server and 2 clients taking turns under delays, loss, partitions and crashes',
  invariants: ['L-I1', 'L-L1'],
  faultMenu: FAULTS,
  requiredProbes: ['lease.renewed', 'lease.taken-over'],
  config: { workloadMs: 10_000, livenessMs: 10_000, maxSteps: 50_000 },
  file: import.meta.url,
  setup,
});

export default defineRegistry({
  scenarios: [lease],
  invariants: [
    { id: 'L-I1', kind: 'safety', text: 'at most one client holds the lease at any moment: two holders both act as the only one (two leaders, two writers)' },
    { id: 'L-L1', kind: 'liveness', text: 'after heal, a client holds the lease again: no crash or lost grant leaves it stuck (the lease does not promise fairness)' },
  ],
  bugs: [
    {
      id: 'lease/count-from-reply',
      title: 'a client counts its lease from when the reply arrived, so a slow reply makes it hold the lease after the server has given it to the other client',
      source: 'planted (examples/lease)',
      scenario: 'lease',
      invariant: 'L-I1',
    },
  ],
});

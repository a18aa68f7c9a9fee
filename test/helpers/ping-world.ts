// A tiny world for engine tests: nodes that ping each other, count what they got (volatile and
// durable), and call each other through workflows. It knows nothing of Oxide.

import type { Env, Flow, NodeDef, Process } from '../../ports/index.ts';
import type { Oracle } from '../../sim/runner.ts';
import type { Simulator } from '../../sim/simulator.ts';

export interface Counter {
  durableCount: number;
}

export interface PingProcess extends Process {
  volatileCount: number;
  received: string[];
  results: unknown[];
}

/** A node that counts the pings it gets, pings `peer` every `periodMs`, and can call it. */
export function pinger(id: string, peer: string, periodMs: number, misbehave?: (env: Env) => void): NodeDef<Counter> {
  return {
    id,
    initDurable: () => ({ durableCount: 0 }),
    boot(env, durable): PingProcess {
      if (periodMs > 0) env.setTimer(periodMs, 'tick');
      const self: PingProcess = {
        volatileCount: 0,
        received: [],
        results: [],
        onTimer(e) {
          misbehave?.(e);
          e.send(peer, { type: 'Ping', from: id, n: self.volatileCount });
          e.setTimer(periodMs, 'tick');
        },
        onMessage(_e, from, message) {
          self.volatileCount++;
          durable.durableCount++;
          self.received.push(`${from}:${(message as { n: number }).n}`);
        },
        *onRequest(_e, _from, request): Flow<unknown> {
          return { type: 'Pong', echo: request };
        },
      };
      return self;
    },
  };
}

/** A workflow-driven caller: calls `to` once and records the result. */
export function caller(id: string, to: string, timeoutMs: number): NodeDef<null> {
  return {
    id,
    initDurable: () => null,
    boot(env): PingProcess {
      const self: PingProcess = { volatileCount: 0, received: [], results: [] };
      env.spawn('call', (function* (): Flow<unknown> {
        const r = yield { kind: 'call', to, request: { type: 'Hello' }, timeoutMs };
        self.results.push(r);
        return undefined;
      })());
      return self;
    },
  };
}

export const noOracle: Oracle = { afterStep: () => null, unmetGoal: () => null };

export function pingPair(sim: Simulator, periodMs = 10): void {
  sim.addNode(pinger('a', 'b', periodMs));
  sim.addNode(pinger('b', 'a', periodMs));
}

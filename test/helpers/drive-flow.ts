// Drive a model flow by hand, without the simulator: every call is answered by `respond`, every
// sleep returns at once, spawned flows run after the main one. Records each call made, so a test
// reads like Crucible's message-by-message unit tests.

import type { CallResult, Effect, Env, Flow } from '../../ports/index.ts';

export interface Call {
  readonly to: string;
  readonly request: { readonly type: string } & Record<string, unknown>;
}

export function driveFlow<R>(makeFlow: (env: Env) => Flow<R>, respond: (call: Call) => CallResult<unknown>, choose: (label: string, n: number) => number = () => 0): { result: R; calls: Call[] } {
  const calls: Call[] = [];
  const spawned: Flow<unknown>[] = [];
  let ids = 0;
  const env: Env = {
    self: 'test',
    now: () => 0,
    send: () => {},
    setTimer: () => {},
    spawn: (_name, f) => void spawned.push(f),
    choose,
    mintId: (prefix) => `${prefix}-${++ids}`,
    log: () => {},
  };
  const run = <T>(f: Flow<T>): T => {
    let input: unknown;
    for (let i = 0; i < 10_000; i++) {
      const r = f.next(input);
      if (r.done === true) return r.value;
      const effect: Effect = r.value;
      if (effect.kind === 'sleep') {
        input = undefined;
        continue;
      }
      const call = { to: effect.to, request: effect.request as Call['request'] };
      calls.push(call);
      input = respond(call);
    }
    throw new Error('flow did not finish in 10000 effects');
  };
  const result = run(makeFlow(env));
  for (let i = 0; i < spawned.length; i++) run(spawned[i]!);
  return { result, calls };
}

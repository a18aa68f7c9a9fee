// The determinism guard. While a run is in progress, wall-clock time, ambient randomness and real
// timers are off limits to everything it executes: Math.random, Date.now / new Date(),
// performance.now, setTimeout / setInterval / setImmediate, and crypto's random sources (the Web
// Crypto global and node:crypto, default and named imports alike). Reaching for one throws a
// DeterminismViolation that names the call site; the simulator reports it as a finding of the
// node whose code made the call. The first violation is also remembered, so code that swallows
// the error is still caught.
//
// The traps are put in place once, on first use, and are switched on and off by a flag: a sweep
// runs thousands of short runs, and re-patching node's builtin module exports for each one cost
// about a tenth of the run time. Outside a run the traps call straight through.

import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

export class DeterminismViolation extends Error {
  override name = 'DeterminismViolation';
}

let active = false;
let trapsSet = false;
let firstViolation: string | null = null;

/** The first forbidden call seen since the guard was switched on, even if the caller caught it. */
export function guardViolation(): string | null {
  return firstViolation;
}

/** Run `fn` with the guard on. Not re-entrant: one simulation run at a time per thread. */
export function withGuard<T>(fn: () => T): T {
  if (active) throw new Error('determinism guard switched on twice');
  setTraps();
  firstViolation = null;
  active = true;
  try {
    return fn();
  } finally {
    active = false;
  }
}

function setTraps(): void {
  if (trapsSet) return;
  trapsSet = true;
  const trap = (target: object, key: string, what: string): void => {
    const original = Object.getOwnPropertyDescriptor(target, key) ?? findDescriptor(target, key);
    if (original === undefined || original.configurable === false) return;
    const real = original.value ?? original.get?.call(target);
    if (typeof real !== 'function') return;
    const guarded = function (this: unknown, ...args: unknown[]): unknown {
      if (active) trip(what);
      return Reflect.apply(real as (...a: unknown[]) => unknown, this, args);
    };
    Object.defineProperty(target, key, { value: guarded, configurable: true, writable: true, enumerable: original.enumerable ?? false });
  };
  trap(Math, 'random', 'Math.random()');
  trap(globalThis, 'setTimeout', 'setTimeout()');
  trap(globalThis, 'setInterval', 'setInterval()');
  trap(globalThis, 'setImmediate', 'setImmediate()');
  trap(globalThis.performance, 'now', 'performance.now()');
  trap(globalThis.crypto, 'getRandomValues', 'crypto.getRandomValues()');
  trap(globalThis.crypto, 'randomUUID', 'crypto.randomUUID()');
  for (const key of ['randomBytes', 'randomUUID', 'randomInt', 'randomFillSync', 'getRandomValues']) trap(crypto, key, `crypto.${key}()`);
  const RealDate = Date;
  const GuardedDate = function (this: unknown, ...args: unknown[]) {
    if (active && new.target === undefined) trip('Date()');
    if (active && args.length === 0) trip('new Date()');
    return new.target === undefined ? RealDate() : Reflect.construct(RealDate, args, new.target);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(GuardedDate, RealDate);
  Object.defineProperty(GuardedDate, 'prototype', { value: RealDate.prototype });
  Object.defineProperty(GuardedDate, 'now', { value: guardedNow(RealDate.now), configurable: true, writable: true });
  Object.defineProperty(globalThis, 'Date', { value: GuardedDate, configurable: true, writable: true, enumerable: false });
  syncBuiltinESMExports();
}

function guardedNow(real: () => number): () => number {
  return () => {
    if (active) trip('Date.now()');
    return real();
  };
}

function findDescriptor(target: object, key: string): PropertyDescriptor | undefined {
  for (let o: object | null = Object.getPrototypeOf(target); o !== null; o = Object.getPrototypeOf(o)) {
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d !== undefined) return { ...d, configurable: true };
  }
  return undefined;
}

function trip(what: string): never {
  const message = `${what} called during a simulation run at ${callSite()}`;
  firstViolation ??= message;
  throw new DeterminismViolation(message);
}

/** The first stack frame outside this file, shortened to a path relative to the working dir. */
function callSite(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1);
  const frame = lines.find((l) => !l.includes('determinism-guard')) ?? '(unknown)';
  const cwd = process.cwd();
  return frame.trim().replace(/^at /, '').replaceAll(`file://${cwd}/`, '').replaceAll(`${cwd}/`, '');
}

// Assertions in protocol code. They stay on; a failed one is a finding (reported like a Crucible
// panic, with the seed), never a harness crash: the simulator catches what protocol code throws.

export class ProtocolPanic extends Error {
  override name = 'ProtocolPanic';
}

/** For constant messages; `if (!ok) panic(`...`)` builds a message only when it is needed. */
export function panicUnless(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ProtocolPanic(message);
}

export function panic(message: string): never {
  throw new ProtocolPanic(message);
}

/**
 * The default of an exhaustive `switch` over a union: a case left out fails the type check.
 * Hot paths (every message, every transaction) use this instead of ts-pattern's `match`, whose
 * per-call cost was a sixth of a sweep's run time.
 */
export function unreachable(value: never, what: string): never {
  throw new ProtocolPanic(`unhandled ${what}: ${JSON.stringify(value)}`);
}

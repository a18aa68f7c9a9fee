// Assertions in protocol code. They stay on; a failed one is a finding (reported like a Crucible
// panic, with the seed), never a harness crash: the simulator catches what protocol code throws.

export class ProtocolPanic extends Error {
  override name = 'ProtocolPanic';
}

export function panicUnless(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ProtocolPanic(message);
}

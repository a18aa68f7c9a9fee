// replace(old, new) of a downstairs target (crucible 6d037cb6, upstairs/src/downstairs.rs
// `replace`; volume.rs `compare_vcr_for_update`): Propolis hands the upstairs a VCR in which one target changed. Checked in
// order: a replacement already under way or done; both addresses already targets; the old one
// absent; another client stopping, repairing or reconnecting as Replaced, Offline or Faulted (one
// replacement or repair at a time). Otherwise the old target's jobs are skipped, the new address
// swapped in, and the client stopped with Replacing: it comes back as Replaced (live repair) if
// the upstairs is Active, else as New (reconciled with the others at activation).

import type { NodeId } from '../../../ports/index.ts';
import type { DownstairsClient, Upstairs } from './context.ts';

export type ReplaceResult = 'Started' | 'StartedAlready' | 'CompletedAlready' | 'Missing' | 'Invalid';

/** What replace(old, new) would do, without doing it; `client` is the one to replace when Started. */
export function checkReplace(up: Upstairs, old: NodeId, replacement: NodeId): { result: ReplaceResult; client: DownstairsClient | null; why: string } {
  const oldClient = up.clients.find((c) => c.address === old) ?? null;
  const newClient = up.clients.find((c) => c.address === replacement) ?? null;
  if (newClient !== null && oldClient === null) {
    const s = newClient.state;
    const underWay = (s.kind === 'Stopping' && s.reason === 'Replacing') || (s.kind === 'Connecting' && s.mode === 'Replaced') || s.kind === 'LiveRepair';
    return { result: underWay ? 'StartedAlready' : 'CompletedAlready', client: null, why: `${replacement} is already a target` };
  }
  if (newClient !== null) return { result: 'Invalid', client: null, why: `both ${old} and ${replacement} are targets` };
  if (oldClient === null) return { result: 'Missing', client: null, why: `${old} is not a target` };
  const busy = up.clients.find((c) => c !== oldClient && isRepairingOrReconnecting(c));
  if (busy !== undefined) return { result: 'Invalid', client: null, why: `client ${busy.index} is still being replaced or repaired` };
  return { result: 'Started', client: oldClient, why: '' };
}

function isRepairingOrReconnecting(c: DownstairsClient): boolean {
  const s = c.state;
  if (s.kind === 'Stopping' || s.kind === 'LiveRepair') return true;
  return s.kind === 'Connecting' && (s.mode === 'Replaced' || s.mode === 'Offline' || s.mode === 'Faulted');
}

// The upstairs' states and its clients' states (upstairs/src/{upstairs,client,lib}.rs), and the
// valid client transitions of client.rs (crucible 6d037cb6), asserted on every change.

import { panic } from '../../assert.ts';

export type NegotiationState = 'WaitConnect' | 'Start' | 'WaitForPromote' | 'WaitForRegionInfo' | 'GetExtentVersions' | 'WaitQuorum' | 'Reconcile' | 'LiveRepairReady';
export type ConnectionMode = 'New' | 'Offline' | 'Faulted' | 'Replaced';
export type ClientStopReason = 'Replacing' | 'Disabled' | 'Deactivated' | 'NegotiationFailed' | 'Fault';

export type DsState =
  | { readonly kind: 'Connecting'; readonly state: NegotiationState; readonly mode: ConnectionMode }
  | { readonly kind: 'Active' }
  | { readonly kind: 'LiveRepair' }
  | { readonly kind: 'Stopping'; readonly reason: ClientStopReason };

export type UpstairsState =
  | { readonly kind: 'Initializing' }
  | { readonly kind: 'GoActive'; readonly requestId: string }
  | { readonly kind: 'Active' }
  | { readonly kind: 'Deactivating'; readonly requestId: string }
  | { readonly kind: 'Disabled'; readonly reason: string };

export function connecting(state: NegotiationState, mode: ConnectionMode): DsState {
  return { kind: 'Connecting', state, mode };
}

export function describeDs(s: DsState): string {
  switch (s.kind) {
    case 'Connecting':
      return `Connecting{${s.state}, ${s.mode}}`;
    case 'Stopping':
      return `Stopping(${s.reason})`;
    default:
      return s.kind;
  }
}

const NEGOTIATION_NEXT: Readonly<Record<NegotiationState, readonly NegotiationState[]>> = {
  WaitConnect: ['Start'],
  Start: ['WaitForPromote'],
  WaitForPromote: ['WaitForRegionInfo'],
  WaitForRegionInfo: ['GetExtentVersions'],
  GetExtentVersions: ['WaitQuorum', 'LiveRepairReady'],
  WaitQuorum: ['Reconcile'],
  Reconcile: [],
  LiveRepairReady: ['Reconcile'],
};

/** Whether `from -> to` is an edge of the client state machine (client.rs), given the upstairs' state. Panics if not. */
export function checkTransition(client: number, from: DsState, to: DsState, upstairs: UpstairsState): void {
  const bad = (why: string): never => panic(`client ${client}: invalid transition ${describeDs(from)} -> ${describeDs(to)}: ${why}`);
  const upstairsActive = upstairs.kind === 'Active';
  if (to.kind === 'Connecting' && to.mode === 'New' && upstairsActive && from.kind !== 'Connecting') bad('no move into mode New while Active');
  switch (to.kind) {
    case 'Connecting':
      if (to.state === 'Start' || to.state === 'WaitConnect') return; // any restart; reinitialize from Stopping
      if (from.kind !== 'Connecting') return bad('negotiation steps only from Connecting');
      // set_connection_mode_faulted: live repair starting turns an Offline client Faulted in place.
      if (from.state === to.state && from.mode === 'Offline' && to.mode === 'Faulted') return;
      if (from.mode !== to.mode && !(from.state === 'LiveRepairReady' && to.state === 'Reconcile' && to.mode === 'New')) return bad('mode changes only on a restart');
      if (!NEGOTIATION_NEXT[from.state].includes(to.state)) return bad('not a negotiation step');
      return;
    case 'Active':
      if (from.kind === 'LiveRepair') return;
      if (from.kind !== 'Connecting') return bad('only from negotiation or live repair');
      if (from.state === 'WaitForRegionInfo' && from.mode === 'Offline') return;
      if (from.state === 'Reconcile' && from.mode === 'New') return;
      if (from.state === 'WaitQuorum' && from.mode === 'New') return; // nothing to reconcile
      if (from.state === 'LiveRepairReady' && (from.mode === 'Faulted' || from.mode === 'Replaced')) return;
      return bad('not a way into Active');
    case 'LiveRepair':
      if (from.kind === 'Connecting' && from.state === 'LiveRepairReady') return;
      return bad('only from LiveRepairReady');
    case 'Stopping':
      if (to.reason === 'Deactivated' && upstairs.kind !== 'Deactivating') return bad('Deactivated only while Deactivating');
      if (from.kind === 'Stopping') return bad('already stopping');
      return;
  }
}

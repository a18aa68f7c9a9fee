// What every Nexus flow needs: its environment, its configuration and the bug switches.

import type { Bugs, Env, NodeId } from '../ports.ts';

export interface NexusConfig {
  readonly id: NodeId;
  readonly db: NodeId;
  readonly sleds: readonly NodeId[];
  readonly dbTimeoutMs: number;
  readonly sledTimeoutMs: number;
  readonly watcherPeriodMs: number;
  readonly updaterPeriodMs: number;
}

export interface NexusContext {
  readonly env: Env;
  readonly config: NexusConfig;
  readonly bugs: Bugs;
}

// What the Propolis invariants read: each Propolis process and the VM it holds, the sled-agent
// that hosts them, the database and the user. Read-only.

import type { Tables } from '../model/crdb/tables.ts';
import type { PropolisProcess } from '../model/propolis/node.ts';
import type { PropolisHostProcess } from '../model/sled-agent/propolis-host.ts';
import type { UserProcess } from '../model/user/node.ts';
import type { FaultRecord } from '../sim/simulator.ts';

export interface PropolisWorld {
  readonly propolisIds: readonly string[];
  readonly sledId: string;
  readonly downstairsIds: readonly string[];
  /** null while the process is down. */
  propolis(id: string): PropolisProcess | null;
  sledAgent(): PropolisHostProcess | null;
  tables(): Tables;
  user(): UserProcess | null;
  faultLog(): readonly FaultRecord[];
  /** A node killed for good. */
  dead(id: string): boolean;
}

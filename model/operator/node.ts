// The operator. Paged when a physical disk fails (a message from outside the system: the
// hardware's alert), they expunge that disk through Nexus, asking again until Nexus says it is
// done. Region replacement then starts from the expunged disk (nexus/region-replacement.ts).
//
// Fault model: the operator is outside the rack and never crashes; the page may come late (the
// alert's drawn delay), and a request to Nexus may be lost, time out or meet a Nexus that cannot
// reach the database: it is asked again, at most a bounded number of times.

import { call, sleep, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import type { NexusReply } from '../nexus/api.ts';

export interface OperatorConfig {
  readonly id: NodeId;
  readonly nexus: readonly NodeId[];
  readonly timeoutMs: number;
  readonly attemptsMax: number;
}

/** What the hardware says when a disk dies: the downstairs it held. */
export interface DiskFailed {
  readonly type: 'DiskFailed';
  readonly downstairs: NodeId;
}

export interface OperatorProcess extends Process {
  /** Disks expunged, and alerts the operator gave up on. */
  readonly expunged: ReadonlySet<NodeId>;
  readonly abandoned: ReadonlySet<NodeId>;
}

const RETRY_PAUSE_MS = 500;

export function operator(config: OperatorConfig): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): OperatorProcess {
      const expunged = new Set<NodeId>();
      const abandoned = new Set<NodeId>();
      function* expunge(downstairs: NodeId): Flow<void> {
        for (let attempt = 0; attempt < config.attemptsMax; attempt++) {
          const nexus = config.nexus[env.choose('operator.nexus', config.nexus.length)]!;
          const r = yield* call<NexusReply>(nexus, { type: 'PhysicalDiskExpunge', downstairs }, config.timeoutMs);
          if (r.ok && r.reply.type === 'Ok') {
            expunged.add(downstairs);
            return;
          }
          yield* sleep(RETRY_PAUSE_MS);
        }
        abandoned.add(downstairs);
      }
      return {
        expunged,
        abandoned,
        onMessage(_env: Env, _from: NodeId, message: unknown): void {
          const m = message as DiskFailed;
          if (m.type === 'DiskFailed') env.spawn(`expunge ${m.downstairs}`, expunge(m.downstairs));
        },
      };
    },
  };
}

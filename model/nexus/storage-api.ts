// Nexus's external API for disks and snapshots (nexus/src/app/{disk,snapshot}.rs, omicron
// b848b6df85): a create or delete runs its saga and answers when it ends, as the external API
// does; attach and detach are single transactions, refused unless the instance has no VMM.

import type { Flow } from '../../ports/index.ts';
import { error, ok, type NexusReply, type NexusRequest } from './api.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { executeSaga } from './saga/executor.ts';
import type { SagaDef, SagaOutcome } from './saga/saga.ts';
import { diskCreate } from './sagas/disk-create.ts';
import { diskDelete } from './sagas/disk-delete.ts';
import { snapshotCreate } from './sagas/snapshot-create.ts';
import { snapshotDelete } from './sagas/snapshot-delete.ts';

type StorageRequest = Extract<NexusRequest, { type: 'DiskCreate' | 'DiskDelete' | 'DiskAttach' | 'DiskDetach' | 'SnapshotCreate' | 'SnapshotDelete' | 'StorageList' }>;

function reply(outcome: SagaOutcome): NexusReply {
  if (outcome.kind === 'Done') return ok();
  return outcome.kind === 'Failed' ? error('InternalError', outcome.error) : error('ServiceUnavailable', 'the saga log did not answer');
}

function* runSaga<P>(ctx: NexusContext, def: SagaDef<P>, params: P): Flow<NexusReply> {
  return reply(yield* executeSaga(ctx, def, ctx.env.mintId('saga'), params));
}

/**
 * The lookup before a delete (LookupPath ... fetch): a deleted disk or snapshot is NotFound, so a
 * delete asked again after its saga unwound finds it only if the undo put it back.
 */
function* lookupFails(ctx: NexusContext, r: Extract<StorageRequest, { type: 'DiskDelete' | 'SnapshotDelete' }>): Flow<NexusReply | null> {
  if (r.type === 'DiskDelete') {
    const d = yield* db<'DiskFetch'>(ctx, { type: 'DiskFetch', diskId: r.diskId });
    if (!d.ok) return error('ServiceUnavailable', 'the database did not answer');
    return d.reply.disk === null || d.reply.disk.timeDeleted != null ? error('NotFound', `disk ${r.diskId} not found`) : null;
  }
  const s = yield* db<'SnapshotFetch'>(ctx, { type: 'SnapshotFetch', snapshotId: r.snapshotId });
  if (!s.ok) return error('ServiceUnavailable', 'the database did not answer');
  return s.reply.snapshot === null || s.reply.snapshot.timeDeleted !== null ? error('NotFound', `snapshot ${r.snapshotId} not found`) : null;
}

export function* serveStorage(ctx: NexusContext, r: StorageRequest): Flow<NexusReply> {
  switch (r.type) {
    case 'DiskCreate':
      return yield* runSaga(ctx, diskCreate, { diskId: r.diskId, volumeId: `${r.diskId}-volume`, snapshotId: r.snapshotId });
    case 'DiskDelete':
      return (yield* lookupFails(ctx, r)) ?? (yield* runSaga(ctx, diskDelete, { diskId: r.diskId }));
    case 'SnapshotCreate':
      return yield* runSaga(ctx, snapshotCreate, { snapshotId: r.snapshotId, diskId: r.diskId, volumeId: `${r.snapshotId}-volume` });
    case 'SnapshotDelete':
      return (yield* lookupFails(ctx, r)) ?? (yield* runSaga(ctx, snapshotDelete, { snapshotId: r.snapshotId }));
    case 'DiskAttach':
    case 'DiskDetach': {
      const a = yield* db<'DiskSetAttachment'>(ctx, { type: 'DiskSetAttachment', diskId: r.diskId, instanceId: r.type === 'DiskAttach' ? r.instanceId : null });
      if (!a.ok) return error('ServiceUnavailable', 'the database did not answer');
      return a.reply.ok ? ok() : error(a.reply.error === 'NotFound' ? 'NotFound' : 'Conflict', a.reply.error);
    }
    case 'StorageList': {
      const l = yield* db<'StorageList'>(ctx, { type: 'StorageList' });
      if (!l.ok) return error('ServiceUnavailable', 'the database did not answer');
      return { type: 'Storage', disks: l.reply.disks, snapshots: l.reply.snapshots };
    }
  }
}

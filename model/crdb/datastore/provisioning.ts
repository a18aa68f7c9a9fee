// Virtual provisioning (virtual_provisioning_collection_update.rs): one resource row per
// instance, keyed by the instance id, and the collection's totals, changed in the same
// transaction and only when the row is inserted or deleted. Both directions are idempotent.

import { write, type Tables } from '../tables.ts';

export function provisioningInsertInstance(tables: Tables, instanceId: string): { charged: boolean } {
  const instance = tables.instance.get(instanceId);
  if (instance === undefined || tables.provisioning.has(instanceId)) return { charged: false };
  write(tables, () => {
    tables.provisioning.set(instanceId, { instanceId, cpus: instance.ncpus, ramMib: instance.memoryMib });
    tables.collection.cpus += instance.ncpus;
    tables.collection.ramMib += instance.memoryMib;
  });
  return { charged: true };
}

export function provisioningDeleteInstance(tables: Tables, instanceId: string, onlyIfActive: string | null): { released: boolean } {
  const row = tables.provisioning.get(instanceId);
  const instance = tables.instance.get(instanceId);
  if (row === undefined || instance === undefined) return { released: false };
  if (onlyIfActive !== null && instance.activePropolisId !== onlyIfActive) return { released: false };
  write(tables, () => {
    tables.provisioning.delete(instanceId);
    tables.collection.cpus -= row.cpus;
    tables.collection.ramMib -= row.ramMib;
  });
  return { released: true };
}

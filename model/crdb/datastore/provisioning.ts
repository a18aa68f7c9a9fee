// Virtual provisioning (virtual_provisioning_collection_update.rs): one resource row per
// instance, keyed by the instance id, and the collection's totals, changed in the same
// transaction and only when the row is inserted or deleted. Both directions are idempotent.

import { panic } from '../../assert.ts';
import { write, type Tables } from '../tables.ts';

export function provisioningInsertInstance(tables: Tables, instanceId: string, vmmId: string): { charged: boolean } {
  const instance = tables.instance.get(instanceId);
  if (instance === undefined || instance.activePropolisId !== vmmId) return { charged: false };
  if (tables.provisioning.has(instanceId)) return { charged: tables.provisioning.get(instanceId)!.vmmId === vmmId };
  write(tables, () => {
    tables.provisioning.set(instanceId, { instanceId, vmmId, cpus: instance.ncpus, ramMib: instance.memoryMib });
    tables.collection.cpus += instance.ncpus;
    tables.collection.ramMib += instance.memoryMib;
  });
  if (!(tables.collection.cpus >= instance.ncpus && tables.collection.ramMib >= instance.memoryMib)) panic(`instance ${instanceId}: charged, but the collection holds less than its charge`);
  return { charged: true };
}

export function provisioningDeleteInstance(tables: Tables, instanceId: string, vmmId: string | null): { released: boolean } {
  const row = tables.provisioning.get(instanceId);
  if (row === undefined || !tables.instance.has(instanceId)) return { released: false };
  if (vmmId !== null && row.vmmId !== vmmId) return { released: false };
  write(tables, () => {
    tables.provisioning.delete(instanceId);
    tables.collection.cpus -= row.cpus;
    tables.collection.ramMib -= row.ramMib;
  });
  // The collection is the sum of the charged rows: it never goes below zero.
  if (!(!tables.provisioning.has(instanceId) && tables.collection.cpus >= 0 && tables.collection.ramMib >= 0)) panic(`instance ${instanceId}: released, but the charge is still there or the collection went negative`);
  return { released: true };
}

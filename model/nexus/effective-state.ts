// The state a user sees, derived from the instance record and its active VMM
// (InstanceStateComputer::compute_state in nexus/db-model/src/vmm_state.rs).

import { match } from 'ts-pattern';
import type { ExternalInstanceState } from '../common/vmm-state.ts';
import type { InstanceSnapshot } from '../crdb/queries.ts';

export function effectiveState({ instance, activeVmm }: InstanceSnapshot): ExternalInstanceState {
  if (instance.state === 'Vmm' && activeVmm !== null) {
    return match(activeVmm.state)
      .returnType<ExternalInstanceState>()
      .with('Creating', 'Starting', () => 'Starting')
      .with('Running', () => 'Running')
      // Stopped, Destroyed and Failed VMMs still hold resources until the update folds them in,
      // so the instance is Stopping, not yet Stopped or Failed.
      .with('Stopping', 'Stopped', 'Destroyed', 'Failed', () => 'Stopping')
      .with('SagaUnwound', () => 'Failed')
      .with('Rebooting', () => 'Rebooting')
      .with('Migrating', () => 'Migrating')
      .exhaustive();
  }
  return match(instance.state)
    .returnType<ExternalInstanceState>()
    .with('NoVmm', 'Vmm', () => 'Stopped')
    .with('Creating', () => 'Creating')
    .with('Failed', () => 'Failed')
    .with('Destroyed', () => 'Destroyed')
    .exhaustive();
}

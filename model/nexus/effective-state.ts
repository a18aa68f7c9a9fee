// The state a user sees, derived from the instance record and its active VMM
// (InstanceStateComputer::compute_state in nexus/db-model/src/vmm_state.rs).

import { unreachable } from '../assert.ts';
import type { ExternalInstanceState } from '../common/vmm-state.ts';
import type { InstanceSnapshot } from '../crdb/queries.ts';

export function effectiveState({ instance, activeVmm }: Pick<InstanceSnapshot, 'instance' | 'activeVmm'>): ExternalInstanceState {
  // An instance with a migration under way is Migrating, whatever its VMMs say.
  if (instance.state === 'Vmm' && activeVmm !== null && instance.migrationId !== null) return 'Migrating';
  if (instance.state === 'Vmm' && activeVmm !== null) {
    const state = activeVmm.state;
    switch (state) {
      case 'Creating':
      case 'Starting':
        return 'Starting';
      case 'Running':
        return 'Running';
      // Stopped, Destroyed and Failed VMMs still hold resources until the update folds them in,
      // so the instance is Stopping, not yet Stopped or Failed.
      case 'Stopping':
      case 'Stopped':
      case 'Destroyed':
      case 'Failed':
        return 'Stopping';
      case 'SagaUnwound':
        return 'Failed';
      case 'Rebooting':
        return 'Rebooting';
      case 'Migrating':
        return 'Migrating';
      default:
        return unreachable(state, 'VMM state');
    }
  }
  const state = instance.state;
  switch (state) {
    case 'NoVmm':
    case 'Vmm':
      return 'Stopped';
    case 'Creating':
    case 'Failed':
    case 'Destroyed':
      return state;
    default:
      return unreachable(state, 'instance state');
  }
}

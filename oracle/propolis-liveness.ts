// Liveness goals of the propolis-start scenario, checked once every fault has healed (a
// downstairs killed for good stays dead: only a replacement can rescue a VM that needs it).
// P-L2  A Stop that a VM's queue accepted ends the VM: it is gone (Destroyed and run down).
// P-L1  A VM the user last asked to run is not left starting: a start blocked on an unreachable
//       downstairs must be rescued by the replacement VCR (checked before the instance goals,
//       which would otherwise report a symptom of it).
// P-I1  (its liveness half) Every VCR request a live VM's queue took has been answered.
// R-L1  No live volume names a downstairs that died for good (its region was replaced, whether or
//       not a VM runs: the redundancy the user pays for), and every region replacement of a
//       running instance's disk reaches Complete (with no VMM, no Pantry is modelled: the next
//       start boots with the new VCR, and its request waits for it).
// C-L2  A Running VM's upstairs are Active, every client Active (a replaced one repaired).
// P-L3  No Propolis holds a VM its sled-agent does not track as that Propolis's live VMM: a zone
//       left behind is a VM nobody can stop, and a Propolis no VMM can use.
// Then the instance goals O-L1, O-L2, O-L3 (instance-liveness.ts).

import { isTerminal } from '../model/common/vmm-state.ts';
import { regionSubVolumes } from '../model/crucible/vcr.ts';
import type { Vm } from '../model/propolis/vm.ts';
import type { Finding } from '../sim/runner.ts';
import { describeInstance, instanceLivenessGoal } from './instance-liveness.ts';
import type { InstanceWorld } from './instance-world.ts';
import type { PropolisWorld } from './propolis-world.ts';

export function propolisLivenessGoal(world: PropolisWorld, instanceWorld: InstanceWorld, instanceIds: readonly string[]): Finding | null {
  const vms = liveVms(world);
  return stopsHonoured(vms) ?? startsNotBlocked(world, instanceWorld, vms, instanceIds) ?? vcrsAnswered(vms) ?? replacementsComplete(world) ?? upstairsHealthy(world, vms) ?? zonesTracked(world, vms) ?? instanceLivenessGoal(instanceWorld, instanceIds);
}

function liveVms(world: PropolisWorld): { readonly propolis: string; readonly vm: Vm }[] {
  const vms: { propolis: string; vm: Vm }[] = [];
  for (const id of world.propolisIds) {
    const vm = world.propolis(id)?.vm() ?? null;
    if (vm !== null && vm.rundown !== 'Complete') vms.push({ propolis: id, vm });
  }
  return vms;
}

function stopsHonoured(vms: ReturnType<typeof liveVms>): Finding | null {
  for (const { propolis, vm } of vms) {
    if (vm.queue.awaitStop) return { invariant: 'P-L2', message: `${propolis} VM ${vm.vmmId} accepted a Stop but is still ${vm.published.state} (driver ${vm.phase.kind})` };
  }
  return null;
}

function startsNotBlocked(world: PropolisWorld, instanceWorld: InstanceWorld, vms: ReturnType<typeof liveVms>, instanceIds: readonly string[]): Finding | null {
  const user = world.user();
  const tables = world.tables();
  for (const id of instanceIds) {
    if (user?.lastAsked.get(id) !== 'start') continue;
    const row = tables.instance.get(id);
    const vmmId = row?.activePropolisId ?? null;
    const vm = vms.find((v) => v.vm.vmmId === vmmId)?.vm;
    if (vm === undefined || vm.queue.state !== 'StartPending') continue;
    const stuck = [...vm.backends.values()].flatMap((b) => b.upstairs.flatMap((p) => p.upstairs.clients.filter((c) => c.state.kind !== 'Connecting' || c.state.state !== 'WaitQuorum').map((c) => c.address)));
    const dead = stuck.filter((d) => world.dead(d));
    const request = [...tables.regionReplacement.values()].at(-1);
    return {
      invariant: 'P-L1',
      message: `instance ${id} was last asked to start but is ${describeInstance(instanceWorld, id)}: its VM is still starting (published ${vm.published.state})${dead.length > 0 ? `, waiting on ${dead.join(', ')}, dead for good` : ''}; ${request === undefined ? 'no region replacement was requested' : `region replacement ${request.id} is ${request.state}`}`,
    };
  }
  return null;
}

function vcrsAnswered(vms: ReturnType<typeof liveVms>): Finding | null {
  for (const { propolis, vm } of vms) {
    for (const requestId of vm.vcrAccepted) {
      if (!vm.vcrReplies.has(requestId)) return { invariant: 'P-I1', message: `${propolis} VM ${vm.vmmId} took VCR request ${requestId} and never answered it` };
    }
  }
  return null;
}

function replacementsComplete(world: PropolisWorld): Finding | null {
  const tables = world.tables();
  for (const volume of tables.volume.values()) {
    if (volume.timeDeleted !== null) continue;
    const dead = regionSubVolumes(volume.vcr).flatMap((r) => r.opts.target).find((t) => world.dead(t));
    if (dead !== undefined) return { invariant: 'R-L1', message: `volume ${volume.id} still names ${dead}, dead for good: its region was never replaced (disk ${tables.physicalDisk.get(dead)?.expunged === true ? '' : 'not '}expunged)` };
  }
  for (const r of tables.regionReplacement.values()) {
    if (r.state === 'Complete') continue;
    const disk = [...tables.disk.values()].find((d) => d.volumeId === r.volumeId);
    const instance = disk?.instanceId == null ? undefined : tables.instance.get(disk.instanceId);
    const vmm = instance?.activePropolisId == null ? undefined : tables.vmm.get(instance.activePropolisId);
    if (vmm?.state !== 'Running') continue; // no VMM to repair it: it waits for the next start (no Pantry)
    return { invariant: 'R-L1', message: `region replacement ${r.id} of ${r.oldRegionId} is still ${r.state}${r.operatingSagaId === null ? '' : ` (saga ${r.operatingSagaId})`} while instance ${instance!.id} runs` };
  }
  return null;
}

function zonesTracked(world: PropolisWorld, vms: ReturnType<typeof liveVms>): Finding | null {
  const sled = world.sledAgent();
  if (sled === null) return null;
  for (const { propolis, vm } of vms) {
    const vmm = sled.vmms.get(vm.vmmId);
    if (vmm === undefined || vmm.propolis !== propolis || isTerminal(vmm.state)) {
      const tracked = vmm === undefined ? 'no VMM of that id' : `VMM ${vmm.id} ${vmm.state} on ${vmm.propolis ?? 'no Propolis'}`;
      return { invariant: 'P-L3', message: `${propolis} holds VM ${vm.vmmId} (published ${vm.published.state}), but ${world.sledId} tracks ${tracked}: a zone left behind` };
    }
  }
  return null;
}

function upstairsHealthy(world: PropolisWorld, vms: ReturnType<typeof liveVms>): Finding | null {
  for (const { propolis, vm } of vms) {
    if (vm.published.state !== 'Running') continue;
    for (const backend of vm.backends.values()) {
      for (const p of backend.upstairs) {
        const up = p.upstairs;
        const idle = up.clients.find((c) => c.state.kind !== 'Active' && !world.dead(c.address));
        if (up.state.kind !== 'Active') return { invariant: 'C-L2', message: `${propolis} VM ${vm.vmmId} runs but its upstairs is ${up.state.kind}` };
        if (idle !== undefined) return { invariant: 'C-L2', message: `${propolis} VM ${vm.vmmId}: client ${idle.index} (${idle.address}) is ${idle.state.kind}, not back to Active` };
      }
    }
  }
  return null;
}

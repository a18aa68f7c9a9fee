// The bug registry: every switch that restores a historical (or planted) behaviour, where it came
// from, the scenario that exposes it, and the invariant that should catch it.

export interface BugEntry {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  /** The scenario that exposes it (the museum and the tests sweep this one). */
  readonly scenario: string;
  /**
   * Every scenario whose code reads the switch: a run of any other scenario is the fixed protocol
   * whatever the switch, so naming it there is refused (exit 2) rather than silently ignored.
   */
  readonly appliesTo: readonly string[];
  readonly invariant: string;
  /** Seeds (1..N) a sweep needs to find it, when more than the usual 2000: a rare race. */
  readonly sweepSeeds?: number;
}

/** The scenarios built on the instance world (Nexus, CockroachDB, sled-agents), the Crucible world, and the Propolis world (both, with Propolis between). */
const INSTANCE_WORLD = ['instance-lifecycle', 'instance-migration'] as const;
const CRUCIBLE_WORLD = ['crucible-activation', 'crucible-takeover', 'crucible-replacement'] as const;
const PROPOLIS_WORLD = ['propolis-start'] as const;
/** Instances on a simulated sled-agent beside disks and snapshots: the instance switches run here too. */
const SNAPSHOT_WORLD = ['region-snapshot-replacement'] as const;

export const BUGS: readonly BugEntry[] = [
  {
    id: 'sled-agent/remove-before-notify',
    title: 'the simulated sled-agent removes a Destroyed VMM from its table before Nexus has that state',
    source: 'omicron#7282 (test_disk_move_between_instances flake); RFD 486 §6.1',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-I5',
  },
  {
    id: 'nexus/no-updater-lock',
    title: 'instance-update sagas run without the updater lock: two see one snapshot, and the second releases the provisioning of the instance the user restarted in between',
    source: 'omicron#5749 (the instance-update saga), #5831 (the updater lock)',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...PROPOLIS_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-I7',
  },
  {
    id: 'nexus/lock-in-runtime-state',
    title: "the updater lock's fields travel with the runtime state, so a saga writing the runtime it read writes back the lock as it read it",
    source: 'omicron#5831 (why the lock lives apart from the runtime state)',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...PROPOLIS_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-I3',
  },
  {
    id: 'nexus/unwind-clears-vmm-ids',
    title: 'an unwinding start saga clears the instance\'s VMM id itself instead of marking its VMM SagaUnwound, leaving a VMM record nothing will ever clean up',
    source: 'omicron#5858 (SagaUnwound)',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...PROPOLIS_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-L2',
  },
  {
    id: 'nexus/start-undo-releases-any-charge',
    title: "an unwinding start saga releases the instance's virtual provisioning whoever charged it, so a start that lost a race releases the charge of the start that won",
    source: 'found by stairwell: omicron sis_account_virtual_resources_undo calls virtual_provisioning_collection_delete_instance keyed by instance id alone (newest stored version; an older one had a generation guard); not reported upstream',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...PROPOLIS_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-I7',
    sweepSeeds: 7_000, // a rare race: first failing seed 6540 (912 before the user reboots too; 12653 before saga errors joined the menu)
  },
  {
    id: 'nexus/start-reregisters-after-crash',
    title: 'Nexus today (found here): a start saga re-run after a Nexus crash registers its VMM again without looking; if the sled-agent lost the VMM meanwhile (a crash) and Nexus marked it Failed and folded it, the sled-agent runs it again: a VM no instance holds, while the instance may be restarted elsewhere',
    source: 'omicron b848b6df85 instance_start.rs sis_ensure_registered (no check of the VMM record), steno re-running the node in progress on recovery; found by this scenario (README)',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...PROPOLIS_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-L4',
  },
  {
    id: 'nexus/migrate-reregisters-target',
    title: 'the instance-migrate saga registers its target VMM blind at every retry: one whose answer was lost, which the sled-agent then lost and Nexus marked Failed and folded, is registered again and runs, a VM no instance holds',
    source: 'omicron b848b6df85 instance_migrate.rs sim_ensure_destination_propolis (instance_ensure_registered, no read of the VMM record first); found by stairwell (issue 13), the migrate twin of nexus/start-reregisters-after-crash',
    scenario: 'instance-migration',
    appliesTo: ['instance-migration'], // the only scenario that migrates
    invariant: 'O-L4',
    sweepSeeds: 11_000, // a rare race: first failing seed 10634
  },
  {
    id: 'nexus/mark-failed-any-state',
    title: "Nexus's synthesized Failed (watcher or stop 404) overwrites a Destroyed or Creating VMM",
    source: 'omicron b848b6df85 mark_vmm_failed writes Failed at gen+1 whatever the VMM state; found by stairwell, not reported upstream',
    scenario: 'instance-lifecycle',
    appliesTo: [...INSTANCE_WORLD, ...PROPOLIS_WORLD, ...SNAPSHOT_WORLD],
    invariant: 'O-I6',
  },
  {
    id: 'crucible/disable-one-client',
    title: 'on YouAreNoLongerActive or UuidMismatch the upstairs disables only the offending client and goes back to Initializing, leaving the other two running and the pending activation unanswered',
    source: 'crucible#1721 (before it: set_inactive plus DownstairsClient::disable); commit 03858b91',
    scenario: 'crucible-takeover',
    appliesTo: [...CRUCIBLE_WORLD, ...PROPOLIS_WORLD],
    invariant: 'C-I5',
  },
  {
    id: 'crucible/accept-equal-generation',
    title: 'the downstairs promotes a second upstairs session at the generation already active, beside the active one',
    source: 'planted fault (not a historical bug): the equal-generation rule of PromoteToActive (downstairs promote_to_active), so we know the oracle sees split brain',
    scenario: 'crucible-takeover',
    appliesTo: [...CRUCIBLE_WORLD, ...PROPOLIS_WORLD],
    invariant: 'C-I1',
  },
  {
    id: 'crucible/replace-while-initializing',
    title: 'a replace while the upstairs is Initializing leaves a client Stopping(Replacing); a GoActive that arrives before its task stopped panics',
    source: 'crucible#1716, fixed in #1717 (set_active_request)',
    scenario: 'crucible-replacement',
    appliesTo: [...CRUCIBLE_WORLD, ...PROPOLIS_WORLD],
    invariant: 'PANIC',
  },
  {
    id: 'crucible/reconcile-ties-to-lowest',
    title: 'crucible today: when all three clients need live repair while Active (the source of a repair lost mid-way, the others already faulted), they are reconciled and an extent dirty on two with equal generation and flush is taken from the lowest client, which may be one that missed writes the other had acknowledged: the write is gone, though the guest was told it succeeded and a later flush succeeds too',
    source: 'crucible 6d037cb6 downstairs.rs reconcile_from_live_repair_ready and mend.rs find_source (ties to the lowest client); reinitialize (no replay while a live repair runs); found by stairwell (issue 13)',
    scenario: 'crucible-replacement',
    appliesTo: [...CRUCIBLE_WORLD, ...PROPOLIS_WORLD],
    invariant: 'C-L5',
    sweepSeeds: 3_000, // first failing seed 2995 (C-L5; C-I10 and C-I9 too, further on)
  },
  {
    id: 'crucible/flush-past-extent-limit',
    title: 'a flush during live repair is sent to the client under repair without its extent limit: extents not yet repaired, dirty with writes the others have since overwritten, are stamped with the new flush number and then look equal to the source, so their repair is a no-op and the stale blocks stay',
    source: 'planted fault (not a historical bug): the extent_limit of IOop::Flush during live repair (upstairs downstairs.rs submit_flush, client.rs prune_deps, region.rs region_flush), so we know the oracle sees a repair skipped on equal metadata',
    scenario: 'crucible-replacement',
    appliesTo: [...CRUCIBLE_WORLD, ...PROPOLIS_WORLD],
    invariant: 'C-L5',
  },
  {
    id: 'propolis/vcr-denied-while-starting',
    title: 'Propolis before #880 and #873: the queue denies a VCR replacement while the VM starts (403 StartInProgress), and start_vm awaits its backends inline; a VM starting against a dead downstairs never takes the VCR that would rescue it (a Stop during that start is never taken either: P-L2, often the first failure a sweep shows)',
    source: 'propolis#841 (the old disposition table, pre-#880 request_queue.rs at 9ee2e1f5; start_vm before #873 at 7cd7c880)',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'P-L1',
  },
  {
    id: 'propolis/start-awaited-inline',
    title: "Propolis between #880 and #873: the queue accepts the VCR (and a Stop) while the VM starts, but start_vm awaits the backends' activation inline and takes nothing off the queue until it ends (a blocked start: P-L1; a Stop never taken: P-L2)",
    source: 'propolis#873 (5b732615) fixed it; the driver before it, 7cd7c880',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'P-L1',
  },
  {
    id: 'propolis/reboot-despite-pending-stop',
    title: "Propolis before #880: when a start completes, the queue's dispositions are reset and forget a Stop queued during the start; a Reboot (or migration out) is let through and the old try_queue's assertion that Start is being ignored fails (the switch restores the pre-#873 driver too, so a sweep meets its P-L1 and P-L2 first)",
    source: 'propolis#880 (7cd7c880) commit message, the motivation of the queue rewrite; the assertion in pre-#880 get_new_dispositions (read at 9ee2e1f5)',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'PANIC',
  },
  {
    id: 'propolis/migrate-accepted-while-starting',
    title: "Propolis today: the queue accepts a migration out while a start is pending, and start_vm's loop treats a dequeued Migrate as unreachable: a client's migrate request during a blocked start panics the state driver",
    source: 'found by stairwell reading propolis 372a5744 (request_queue.rs should_queue; state_driver.rs start_vm `unreachable!`); the queue test request_queuing_before_start_acknowledged expects the acceptance; not reported upstream',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'PANIC',
  },
  {
    id: 'propolis/migrate-handshake-failure-unreported',
    title: 'Propolis today: a migration out whose handshake fails publishes a migration error but reports no completion to the queue, which then awaits that migration for the VM\'s life and denies every later Reboot and migration (403)',
    source: 'found by stairwell reading propolis 372a5744 (state_driver.rs migrate_as_source returns before notify_request_completed); not reported upstream',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'P-I2',
  },
  {
    id: 'nexus/replacement-waits-for-running',
    title: 'Nexus today: the region replacement drive saga sends a VCR only to a Running or Rebooting VMM, so a VM starting against the dead downstairs is never sent the replacement that would let it activate (the start stalls for good)',
    source: 'omicron b848b6df85 region_replacement_drive.rs (prepare and propolis_client_for_instance); omicron#7398 proposes sending to Starting VMMs (open upstream); the default here is that fix, in both places',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'P-L1',
  },
  {
    id: 'nexus/replacement-never-polls',
    title: 'Nexus today never polls a VMM it sent a replacement to, and waits for a repair notice instead; with the VCR sent to Starting VMMs (omicron#7398), a VMM that answered VcrMatches before its volume was healthy and then activated with nothing to reconcile sends no notice, and the replacement never finishes',
    source: 'omicron b848b6df85 region_replacement_drive.rs check_from_previous_propolis_step (LastStepStillRunning, "TODO Nexus needs to poll"), with omicron PR #7398 (6667911e86)',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'R-L1',
    // first failing seed 1001 (966 before reconciliation followed mend.rs, 8732 before an Offline client's replay lost its round trip, 7883 before saga errors, 97 while every run's first start failed)
  },
  {
    id: 'nexus/replacement-resend-refused',
    title: 'Nexus today: a drive saga whose VCR reached Propolis but whose answer was lost (Nexus crashed mid-call, a reply dropped) sends the same VCR at the next drive, gets 400 "The VCRs have no difference" and fails, every time: the replacement never finishes while that VMM runs',
    source: 'omicron b848b6df85 region_replacement_drive.rs execute (any Propolis error fails the action); crucible 6d037cb6 volume.rs compare_vcr_for_update (identical VCRs refused); propolis 372a5744 state_driver.rs reconfigure_crucible_volume (the spec keeps the applied VCR)',
    scenario: 'propolis-start',
    appliesTo: PROPOLIS_WORLD,
    invariant: 'R-L1',
    sweepSeeds: 90_000, // a rare race: first failing seed 88007 (an answer lost while the VCR call is in flight; 64478 before live repair went extent by extent, 27640 before an Offline client's replay lost its round trip, 46791 before saga errors joined the menu)
  },
  {
    id: 'nexus/rsr-no-new-region-volume',
    title: 'before #7046: no volume holds the new read-only region but the snapshot volume, so a user deleting the snapshot frees it while disks made from the snapshot still have to be moved onto it; their steps fail for ever and the request never completes',
    source: 'omicron#7046 (09b150f1: the new region volume and the finish saga); region_snapshot_replacement_start.rs rsrss_new_region_volume_create',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-I6',
  },
  {
    id: 'nexus/rsr-ignores-deleted-volumes',
    title: 'before #7046: steps made for soft-deleted volumes, no way out of Requested for a step whose volume or target is gone, no shortcut to Complete, the finish done in the task: users deleting disks and snapshots mid-replacement leave requests stuck (with their locks) for ever',
    source: 'omicron#7046 (09b150f1): region_snapshot_replacement_{start,step,finish}.rs tasks, the step saga\'s notify',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L1',
  },
  {
    id: 'nexus/rsr-lock-needs-live-volume',
    title: 'between #7046 and #7862: the volume_repair lock refuses a volume that does not exist, so once a snapshot was deleted (its volume hard-deleted) no replacement can be requested for its region snapshots and every disk made from it keeps a target on the expunged disk',
    source: 'omicron#7790 ("post sled expungement, not all volumes were repaired"), fixed by #7862 (aa9160c8) volume_repair.rs volume_repair_insert_in_txn',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L2',
  },
  {
    id: 'nexus/rw-sweep-returns-volume-early',
    title: 'before #7046: find_deleted_volume_regions returns a soft-deleted volume for hard deletion as soon as one of its regions is freed, while others are still held by region snapshots; those regions are then never found again and leak',
    source: 'omicron#6353, fixed across #6659 and #7046 (volume.rs find_deleted_volume_regions; test_racing_replacements_for_soft_deleted_disk_volume)',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L3',
  },
  {
    id: 'nexus/hard-delete-leaks-usage',
    title: 'Nexus today: volume_hard_delete leaves the volume\'s usage rows behind (a step saga that unwinds after its swap hard-deletes a stash holding the new region\'s row), so a reference count is one too high for good',
    source: 'omicron#7855, PR #7852 (open) "Clean up volume usage records created by sagas"; volume.rs volume_hard_delete',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-I4',
  },
  {
    id: 'nexus/rsr-step-stash-unlocked',
    title: 'Nexus today (found here): a step saga\'s stash names the old target from the swap until the step completes, and nothing claims it, so the step task makes a step for the stash; if the first step then unwinds (its VMM not Running), its undo cannot swap back onto a target freed meanwhile and the saga never ends',
    source: 'omicron b848b6df85 region_snapshot_replacement_step.rs (task: the comment on old_snapshot_volume_id; saga: rssrs_create_fake_volume); found by this scenario (README)',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L1',
  },
  {
    id: 'nexus/snapshot-delete-no-undo',
    title: 'Nexus today (found here): a snapshot delete that unwinds after its volume\'s soft delete (no node of it has an undo) leaves the snapshot gone for its user and its region snapshots never deleted, so neither they nor the regions they were taken of are ever freed',
    source: 'omicron b848b6df85 snapshot_delete.rs (ssd_delete_snapshot_record: no undo), volume_delete.rs (no undos); disk_delete.rs undoes its record delete (Faulted); found by this scenario under saga error injection (README)',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L3',
  },
  {
    id: 'nexus/rsr-undo-drops-stash',
    title: 'Nexus today (found here): a replacement saga that unwinds after its volume was deleted mid-saga skips the swap back, so its stash still holds the old target\'s reference, and the undo hard-deletes the stash: the target is never freed, its record never goes, and the request never completes',
    source: 'omicron b848b6df85 region_snapshot_replacement_{start,step}.rs (create_fake_volume undo: volume_hard_delete), volume.rs volume_replace_snapshot (a deleted volume is left alone); found by this scenario (README)',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L1',
    sweepSeeds: 3_500, // a rare race: the volume deleted while the step waits on its VMM (first seed 3189; 2171 before the start saga read its VMM before every registration, 6359 before saga errors)
  },
  {
    id: 'nexus/rsr-snapshot-still-creating',
    title: 'Nexus today (found here): a replacement requested for a region snapshot whose snapshot is still being created finds no snapshot volume and skips it; the snapshot saga then creates that volume naming the lost target, locked by the request, which no step may touch: the request never completes',
    source: 'omicron b848b6df85 region_snapshot.rs find_region_snapshots_on_expunged_physical_disks (no snapshot state), snapshot_create.rs (volume record after the running snapshots), #7862 (the lock allows a volume that does not exist); found by this scenario (README)',
    scenario: 'region-snapshot-replacement',
    appliesTo: SNAPSHOT_WORLD,
    invariant: 'V-L1',
  },
];

export function findBug(id: string): BugEntry | undefined {
  return BUGS.find((b) => b.id === id);
}

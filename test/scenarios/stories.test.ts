// The story of every museum bug (sim/story.ts): at most 30 lines, and the events that make the
// bug in it, as the registry's title tells it. And `stairwell view` of every museum tape: one
// self-contained page with no external URL.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { scenarioNamed } from '../../cli/args.ts';
import { execute } from '../../api/execute.ts';
import { storyOf } from '../../sim/story.ts';
import { runDocument } from '../../api/run-document.ts';
import { BUILTIN } from '../../scenarios/index.ts';
import { tapeInput } from '../../cli/run-input.ts';
import { BUGS } from '../../scenarios/index.ts';
import { renderRunHtml } from '../../viewer/html.ts';

/** Per bug, what its story must show: the moves that make the bug (see each bug's title). */
const KEY_EVENTS: Readonly<Record<string, readonly RegExp[]>> = {
  // The VMM leaves the table before its last state is published; the watcher is told 404.
  'sled-agent/remove-before-notify': [/VMM vmm-\d+ removed from the table before its final state was published/, /LOST req CpapiVmmPut .*"state":"Destroyed"/, /rep NoSuchInstance/],
  // An update commits with no lock and releases the provisioning of the restarted instance.
  'nexus/no-updater-lock': [/InstanceCommitUpdate \{[^}]*"lock":null/, /ProvisioningDeleteInstance/, /instance-start.*"reason":"AutoRestart"/],
  // The update saga commits the runtime with the lock as it read it (stale).
  'nexus/lock-in-runtime-state': [/UpdaterLock/, /UpdaterInherit/, /InstanceCommitUpdate .*"stale":\{"updaterId":"saga-\d+","updaterGen":\d+\}/],
  // An injected error unwinds the start saga, whose undo forces the instance back.
  'nexus/unwind-clears-vmm-ids': [/FAULT nemesis: saga errors on/, /VmmInsert/, /InstanceMoveToStartingUndo \{[^}]*"force":true/],
  // The losing start's undo releases the charge of the winning one.
  'nexus/start-undo-releases-any-charge': [/SagaUnwind \{"sagaId":"saga-\d+","error":"ensure_running/, /SagaNodeUndone \{[^}]*"node":"account_virtual_resources"/, /FAULT nemesis: crash sled-\d/],
  // Nexus crashes mid-start; the sled-agent loses the VMM, it is marked Failed and deleted; the recovered saga registers it again.
  'nexus/start-reregisters-after-crash': [/FAULT nemesis: crash nexus-\d/, /VMM vmm-\d+ marked Failed/, /VmmMarkDeleted/, /RESTART nexus-\d/, /"sagas":\[\{"id":"saga-\d+","name":"instance-start"/],
  // The migration target is registered, lost, marked Failed and deleted, then migrated into again.
  'nexus/migrate-reregisters-target': [/VmmRegister \{[^}]*"migration":\{/, /VMM vmm-\d+ marked Failed/, /VmmMarkDeleted/, /VmmMigrateIn/],
  // A synthesized Failed overwrites the VMM, and the instance ends Failed after a stop.
  'nexus/mark-failed-any-state': [/InstanceStop/, /VMM vmm-\d+ marked Failed at gen \d+/, /InstanceCommitUpdate .*"state":"Failed"/],
  'crucible/disable-one-client': [/GoActiveWithGen \{[^}]*"gen":2/, /YouAreNoLongerActive/, /client 0 disabled \(YouAreNoLongerActive/],
  // Two sessions of upstairs-b promoted at generation 2 by ds-2, across its crash.
  'crucible/accept-equal-generation': [/FAULT nemesis: crash upstairs-b/, /RESTART upstairs-b/, /PromoteToActive[^}]*"sessionId":"upstairs-b-session-2"/, /PromoteToActive[^}]*"sessionId":"upstairs-b-session-13"/],
  'crucible/replace-while-initializing': [/Replace \{[^}]*"old":"ds-1"/, /Stopping\(Replacing\)/, /GoActiveWithGen/],
  // A downstairs crashes with writes in flight; repair copies extent data; the guest's write is gone.
  'crucible/reconcile-ties-to-lowest': [/FAULT nemesis: crash ds-\d/, /rep ExtentData/, /GuestReply/],
  'crucible/flush-past-extent-limit': [/GuestWrite \{[^}]*"extent":3/, /FAULT nemesis: crash ds-\d/, /rep ExtentData/],
  // The VCR is refused while the VM starts against a downstairs dead for good.
  'propolis/vcr-denied-while-starting': [/crash ds-1 for good/, /VmmPutState \{[^}]*"target":"Running"|InstanceEnsure \{"vmmId":"vmm-\d+"|"requested":"Run"/, /InstanceVcrReplace/, /PropolisAnswered .*"status":403,"message":"instance state change not allowed: StartInProgress"/],
  'propolis/start-awaited-inline': [/crash ds-1 for good/, /VmmPutState \{[^}]*"target":"Running"|InstanceEnsure \{"vmmId":"vmm-\d+"|"requested":"Run"/, /InstanceVcrReplace/, /propolis did not answer/],
  'propolis/reboot-despite-pending-stop': [/"requested":"Stop"/, /"requested":"Reboot"/],
  'propolis/migrate-accepted-while-starting': [/"requested":"Run"/, /InstanceMigrateStart/],
  'propolis/migrate-handshake-failure-unreported': [/InstanceMigrateStart/, /MigrateHandshake/, /HandshakeRefused/],
  'nexus/replacement-waits-for-running': [/crash ds-1 for good/, /RegionReplacementInsert/, /not in a state to receive request: Starting/],
  'nexus/replacement-never-polls': [/crash ds-\d for good/, /PropolisAnswered \{[^}]*"type":"VcrReplaced"/, /RegionReplacementStepInsert/],
  'nexus/replacement-resend-refused': [/FAULT nemesis: crash nexus-1/, /RESTART nexus-1/, /refused the VCR: propolis: 400 The VCRs have no difference/],
  // The replacement moves a volume onto the new region while the user's snapshot delete frees it.
  'nexus/rsr-no-new-region-volume': [/VolumeReplaceSnapshot/, /"node":"delete_snapshot_record"/, /VolumeSoftDelete \{"volumeId":"snapshot-\d+-volume"\}/],
  // Steps made for a volume the user deleted, a target gone: no way out.
  'nexus/rsr-ignores-deleted-volumes': [/RsrStepInsert/, /"volumeId":"disk-\d+-volume","deleted":true/, /target deleted/],
  'nexus/rsr-lock-needs-live-volume': [/crash agent-\d for good/, /RsrInsert/, /"error":"volume does not exist"/],
  'nexus/rw-sweep-returns-volume-early': [/VolumeSoftDelete \{"volumeId":"disk-1-volume"\}/, /find_freed_crucible_regions/, /VolumeHardDelete \{"volumeId":"disk-1-volume"/],
  'nexus/hard-delete-leaks-usage': [/SagaUnwind/, /VolumeHardDelete \{"volumeId":"saga-\d+-stash"/],
  'nexus/rsr-step-stash-unlocked': [/RsrStepInsert \{[^}]*"volumeId":"saga-\d+-stash"|"volumeId":"saga-\d+-stash"/, /VolumeReplaceSnapshot/, /RsrStepTransition .*"to":"VolumeDeleted"/],
  // The snapshot delete unwinds after its soft delete: the story shows the injected saga errors
  // and the deletes; the unwinding saga names no id of the violation (docs/how-it-works.md, "Reading a story").
  'nexus/snapshot-delete-no-undo': [/FAULT nemesis: saga errors on nexus-1/, /VolumeSoftDelete/],
  'nexus/rsr-undo-drops-stash': [/VolumeRepairLock \{"volumeId":"saga-\d+-stash"/, /RsrStepTransition .*"to":"Requested"/, /RsrStepTransition .*"to":"VolumeDeleted"/],
  'nexus/rsr-snapshot-still-creating': [/VolumeReplaceSnapshot/, /RsrStepTransition .*"to":"VolumeDeleted"/, /crash agent-1 for good/],
};

const tapePath = (id: string): string => new URL(`../../museum/${id.replace(/\//g, '__')}.json`, import.meta.url).pathname;

test('every registered bug has its key events listed', (t) => {
  t.deepEqual(Object.keys(KEY_EVENTS).sort(), BUGS.map((b) => b.id).sort());
});

for (const bug of BUGS) {
  test(`the story of ${bug.id} is at most 30 lines and shows what makes the bug`, (t) => {
    const tape = JSON.parse(readFileSync(tapePath(bug.id), 'utf8')) as { scenario: string; bugs: string[]; seed: number; choices: [string, number, number][] };
    const { outcome } = execute({ scenario: scenarioNamed(tape.scenario), bugs: tape.bugs, seed: tape.seed, tape: { values: tape.choices.map((c) => c[2]), labels: null }, trace: true });
    t.is(outcome.violation?.invariant, bug.invariant);
    const story = storyOf(outcome)!;
    t.true(story.lines.length <= 30, `${story.lines.length} lines`);
    const text = story.lines.join('\n');
    for (const key of KEY_EVENTS[bug.id] ?? []) t.regex(text, key);
  });
}

test('view of every museum tape: one page, the violation in it, no external URL', (t) => {
  for (const bug of BUGS) {
    const input = tapeInput(tapePath(bug.id));
    if (input.kind !== 'run') return t.fail('a tape is a run');
    const doc = runDocument(input.request, input.title, BUILTIN.invariant);
    t.is(doc.violation?.invariant, bug.invariant, bug.id);
    t.true(doc.events.some((e) => e.story) && doc.events.some((e) => e.state !== undefined), bug.id);
    const html = renderRunHtml(doc);
    t.notRegex(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, bug.id);
    t.notRegex(html, /https?:\/\//, `${bug.id}: no URL at all`);
  }
});

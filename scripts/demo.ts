// The job `npm start` runs: a small synthetic cohort through the real pathway on the real server,
// with the scheme's durations scaled down so twelve weeks pass in seconds.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPolicy, scalePolicy, WEEK, type CommandPayload, type CommandType, type ReferralFacts } from '../machines';
import { caseViewQuery, caseWorkflowId, commandUpdates, ledgerWorkflowId, type CaseView } from '../workflows/definitions';
import { caseloadsQuery, setRosterUpdate } from '../workflows/ledger-definitions';
import type { pathwayCase } from '../workflows/case';
import type { capacityLedger } from '../workflows/capacity-ledger';

export interface DemoOptions {
  client: Client;
  taskQueue: string;
  address: string;
  uiUrl?: string;
  codecUrl?: string;
}

const worker = { role: 'linkWorker', id: 'lw-amina' } as const;
const person = { role: 'person', id: 'self' } as const;
const swemwbs = (answers: number[]) => ({ instrument: 'SWEMWBS' as const, answers });

export async function runDemo({ client, taskQueue, address, uiUrl, codecUrl }: DemoOptions): Promise<void> {
  const schemeId = 'demo';
  // Twelve weeks become twelve seconds.
  const policy = scalePolicy({ ...defaultPolicy, schemeId }, WEEK / 1000);
  const ledger = await client.workflow.start<typeof capacityLedger>('capacityLedger', {
    workflowId: ledgerWorkflowId(schemeId),
    taskQueue,
    args: [{ schemeId, caseloadCap: policy.caseloadCap }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  await ledger.executeUpdate(setRosterUpdate, { args: [[{ id: 'lw-amina' }, { id: 'lw-ben' }]] });

  const run = randomUUID().slice(0, 6);
  const facts = (name: string, extra: Partial<ReferralFacts> = {}): ReferralFacts => ({
    referralId: `demo-${run}-${name}`,
    schemeId,
    route: 'GP',
    age: 78,
    area: 'Brandywell',
    targetGroups: [],
    needs: ['loneliness', 'isolation'],
    flags: [],
    consent: true,
    riskFlags: [],
    referredAt: Date.now(),
    ...extra,
  });
  const refer = (f: ReferralFacts) =>
    client.workflow.start<typeof pathwayCase>('pathwayCase', { taskQueue, workflowId: caseWorkflowId(f.referralId), args: [{ referral: f, policy }] });
  const send = <K extends CommandType>(h: WorkflowHandle, type: K, payload: CommandPayload<K>) =>
    h.executeUpdate(commandUpdates[type] as never, { args: [payload] }) as Promise<CaseView>;
  const until = async (h: WorkflowHandle, done: (v: CaseView) => boolean) => {
    for (let i = 0; ; i++) {
      const v = await h.query(caseViewQuery);
      if (done(v) || i > 600) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  console.log('\nReferring a small cohort (durations scaled: 1 week = 1 second)...');
  // Mr P: intensive tier, a transport barrier, twelve weeks of support, review fires on its own.
  const mrP = await refer(facts('mr-p'));
  // An inappropriate referral: severe mental illness is redirected by the scheme's rules.
  const redirected = await refer(facts('redirect', { flags: ['severeMentalIllness'], route: 'hospital' }));
  // Nobody answers: three attempts and the case closes as unable to contact.
  const noContact = await refer(facts('no-contact', { route: 'self', age: 66 }));

  await until(mrP, (v) => v.stage === 'triage');
  await send(mrP, 'TRIAGE.ACCEPT', { actor: worker });
  await until(mrP, (v) => v.stage === 'firstContact');
  await send(mrP, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: worker });
  await send(mrP, 'VISIT.RECORD', { location: 'home', durationMinutes: 120, measures: [swemwbs([2, 2, 2, 3, 2, 2, 2])], barriers: ['transport', 'confidence'], actor: worker });
  await send(mrP, 'PLAN.DRAFT', {
    goals: [{ id: 'g1', text: 'Get back to the lunch club' }],
    activities: [{ id: 'a1', category: 'connecting', name: 'Community lunch club' }],
    barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
    tier: 'intensive',
    volunteer: false,
    actor: worker,
  });
  await send(mrP, 'PLAN.AGREE', { party: 'person', actor: person });
  await send(mrP, 'PLAN.AGREE', { party: 'linkWorker', actor: worker });
  for (let i = 0; i < 4; i++) {
    await send(mrP, 'SESSION.LOG', { kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: false, actor: worker });
  }

  await until(noContact, (v) => v.stage === 'triage');
  await send(noContact, 'TRIAGE.ACCEPT', { actor: worker });
  await until(noContact, (v) => v.stage === 'firstContact');
  for (let i = 0; i < policy.contact.maxAttempts; i++) {
    await send(noContact, 'CONTACT.ATTEMPT', { outcome: 'noAnswer', channel: 'phone', actor: worker });
  }

  console.log('Waiting for the twelve-week review to fall due on its own...');
  await until(mrP, (v) => v.stage === 'review');
  await send(mrP, 'REVIEW.RECORD', { measures: [swemwbs([4, 4, 3, 4, 4, 4, 3])], goalsMet: 'all', outcome: 'discharge', actor: worker });

  const cases = await Promise.all([mrP, redirected, noContact].map((h) => h.query(caseViewQuery)));
  const caseloads = await ledger.query(caseloadsQuery);
  console.log('\nOutcomes');
  for (const c of cases) {
    console.log(`  ${c.caseId.padEnd(34)} ${c.stage.padEnd(12)} ${c.discharge?.reason ?? ''}  (${c.timeline.length} steps)`);
  }
  console.log('\nCaseloads');
  for (const w of caseloads.linkWorkers) console.log(`  ${w.id.padEnd(12)} ${w.open}/${w.cap} open`);
  console.log(`  waitlist: ${caseloads.waitlist.length}`);

  console.log('\nWhere to look');
  if (uiUrl) console.log(`  Web UI:            ${uiUrl}/namespaces/default/workflows`);
  if (codecUrl) console.log(`  codec server:      ${codecUrl} (the UI decrypts payloads through it)`);
  console.log(`  a case's view:     temporal workflow query --address ${address} -w ${mrP.workflowId} --type view${codecUrl ? ` --codec-endpoint ${codecUrl}` : ''}`);
  console.log(`  cases by stage:    temporal workflow list --address ${address} --query "PathwayStage = 'discharged'"`);
}

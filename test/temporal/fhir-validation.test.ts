// Every FHIR resource the gateway will return, built from real cases on a real worker (time-skipping
// server: the 12-week review arrives by itself), validated by the HAPI FHIR R4 validator: a full
// pathway stage by stage, every discharge reason, a waitlist, a safeguarding hold and the scheme's
// availability. Zero errors; warnings are allowed and counted. One JVM for the whole file.
// Beside the resources built directly, the same cases are fetched over HTTP from the gateway (Task,
// ServiceRequest, searchset and outcome Bundles, HealthcareService, CapabilityStatement and
// OperationOutcomes), so what a host actually receives is what gets validated.
import type { Resource } from '@medplum/fhirtypes';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathwayClient } from '../../client';
import { PersonKey } from '../../client/person';
import { DISCHARGE_REASONS, type MeasureSubmission } from '../../machines';
import {
  codeSystemUrl,
  codeSystems,
  healthcareServiceFor,
  connectionFhirIdOf,
  onwardReferralTaskFor,
  operationOutcome,
  outcomeFor,
  serviceRequestFor,
  taskFor,
} from '../../gateway/fhir/resources';
import { flagDuplicatesUpdate, outcomeRecordQuery, ledgerWorkflowId, type CaseView } from '../../workflows/definitions';
import { caseloadsQuery } from '../../workflows/ledger-definitions';
import { startFhirValidator, type FhirValidator } from '../support/fhir-validator';
import { allocated, dataConverter, driveTo, linkWorker, openScheme, refer, referral, send, startPathwayWorker, supervisor, until, view } from '../support/pathway';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { gatewayHarness, type GatewayHarness } from './gateway.harness';

const NHS_NUMBER = { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' };

const measures = (better: boolean): MeasureSubmission[] => [
  { instrument: 'SWEMWBS', answers: better ? [4, 4, 3, 4, 4, 3, 4] : [2, 2, 3, 2, 2, 3, 2] },
  { instrument: 'GAD7', answers: better ? [0, 1, 0, 1, 0, 1, 0] : [2, 2, 1, 2, 2, 1, 2] },
  { instrument: 'PHQ9', answers: better ? [0, 1, 0, 1, 0, 1, 0, 1, 0] : [2, 2, 1, 2, 2, 1, 2, 1, 2] },
  { instrument: 'UCLA3', answers: better ? [1, 1, 2] : [3, 3, 2] },
  { instrument: 'ONS4', answers: better ? [8, 8, 7, 2] : [4, 5, 4, 7] },
];

describe('FHIR resources of real cases pass the HAPI FHIR R4 validator', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let close: () => Promise<void>;
  let running: Promise<void>;
  let validator: FhirValidator;
  const taskQueue = uniqueTaskQueue('fhir');
  const built: Array<{ label: string; resource: Resource }> = [];
  // Each resource goes to the validator as it is built, so HAPI works while the cases move on.
  const validations: Array<Promise<{ label: string; errors: string[]; warnings: string[] }>> = [];
  function keep(...entries: Array<{ label: string; resource: Resource }>) {
    for (const entry of entries) {
      built.push(entry);
      validations.push(validator.validate(entry.resource).then((r) => ({ label: entry.label, errors: r.errors, warnings: r.warnings })));
    }
  }

  // Two gateways on the same cases: scheme `fhir` as configured by default, and with `fhir.codesOnly`.
  let gateway: GatewayHarness;
  let codesOnlyGateway: GatewayHarness;
  let token: string;
  let codesOnlyToken: string;
  let pathway: PathwayClient;
  const SCHEMES = ['fhir', 'fhir-small'];

  /** A GET on a gateway; the body (a resource) is checked for its status and goes to the validator. */
  async function served(label: string, url: string, status = 200, via: { app: FastifyInstance; token: string | null } = { app: gateway.app, token }) {
    const r = await via.app.inject({ method: 'GET', url, headers: via.token ? { authorization: `Bearer ${via.token}` } : {} });
    expect(r.statusCode, `${label}: ${r.body}`).toBe(status);
    const resource = r.json() as Resource;
    keep({ label: `HTTP ${label}`, resource });
    return resource as Resource & Record<string, any>;
  }

  beforeAll(async () => {
    // The JVM starts while the test server and worker do.
    const starting = startFhirValidator();
    env = await createTimeSkippingEnv({ dataConverter: await dataConverter() });
    ({ worker, close } = await startPathwayWorker({ address: env.address, namespace: env.namespace ?? 'default', taskQueue }));
    running = worker.run();
    const personKey = PersonKey.generate();
    pathway = await PathwayClient.fromClient(env.client, { taskQueue, personKey });
    gateway = await gatewayHarness(pathway, SCHEMES);
    codesOnlyGateway = await gatewayHarness(await PathwayClient.fromClient(env.client, { taskQueue, personKey, policies: { fhir: { schemeId: 'fhir', fhir: { codesOnly: true } } } }), SCHEMES);
    token = await gateway.token();
    codesOnlyToken = await codesOnlyGateway.token();
    validator = await starting;
  });
  afterAll(async () => {
    await gateway?.app.close();
    await codesOnlyGateway?.app.close();
    worker?.shutdown();
    await running;
    await close?.();
    await env?.teardown();
    await validator?.close();
  });

  /** The open case's Task and ServiceRequest as they are now. */
  async function openResources(label: string, handle: WorkflowHandle): Promise<CaseView> {
    const v = await view(handle);
    keep({ label: `${label} Task`, resource: taskFor(v, { patient: NHS_NUMBER }) }, { label: `${label} ServiceRequest`, resource: serviceRequestFor(v, { needs: ['loneliness', 'gardening'] }) });
    expect((await served(`${label} Task`, `/fhir/Task/${v.caseId}`)).businessStatus.coding[0].code).toBe(v.stage);
    await served(`${label} ServiceRequest`, `/fhir/ServiceRequest/${v.caseId}`);
    return v;
  }

  /** A closed case: its Task, ServiceRequest and outcome, with and without free text. */
  async function closedResources(label: string, handle: WorkflowHandle): Promise<CaseView> {
    const v = await until(handle, (x) => x.stage === 'discharged');
    const record = await handle.query(outcomeRecordQuery);
    keep(
      { label: `${label} Task`, resource: taskFor(v) },
      { label: `${label} ServiceRequest`, resource: serviceRequestFor(v, { patient: NHS_NUMBER, needs: record.needs }) },
      ...outcomeFor(v, record, { codesOnly: false }).map((resource) => ({ label: `${label} ${resource.id}`, resource })),
      ...outcomeFor(v, record, { codesOnly: true, patient: NHS_NUMBER }).map((resource) => ({ label: `${label} codes only ${resource.id}`, resource })),
    );
    // What the referrer receives: the closed Task (its output referencing the outcome), and the outcome.
    const task = await served(`${label} Task`, `/fhir/Task/${v.caseId}`);
    await served(`${label} ServiceRequest`, `/fhir/ServiceRequest/${v.caseId}`);
    const outcome = await served(`${label} outcome Bundle`, `/fhir/Observation?based-on=ServiceRequest/${v.caseId}`);
    const ids = (outcome.entry ?? []).map((e: any) => `Observation/${e.resource.id}`);
    for (const output of task.output ?? []) expect(ids).toContain(output.valueReference.reference);
    const codesOnly = await served(`${label} codes-only outcome Bundle`, `/fhir/Observation?based-on=ServiceRequest/${v.caseId}`, 200, { app: codesOnlyGateway.app, token: codesOnlyToken });
    expect(JSON.stringify(codesOnly)).not.toContain('valueString');
    outcomes.set(label, { full: outcome, codesOnly });
    return v;
  }

  const outcomes = new Map<string, { full: Record<string, any>; codesOnly: Record<string, any> }>();

  it('builds resources along a full pathway, to every discharge reason, and HAPI finds no errors in any', { timeout: 600_000 }, async () => {
    const client = env.client;
    const pol = await openScheme(client, taskQueue, 'fhir', { roster: [{ id: 'lw-1' }, { id: 'lw-2' }] });
    const reasons = new Set<string>();

    // The full pathway, stage by stage, with every instrument at the first visit and at review.
    const journey = await refer(client, taskQueue, referral({ schemeId: 'fhir', needs: ['loneliness', 'isolation'] }), pol);
    let v = await until(journey, (x) => x.stage === 'triage');
    await openResources('triage', journey);
    await send(journey, 'TRIAGE.ACCEPT', { actor: linkWorker });
    v = await until(journey, (x) => x.stage === 'firstContact');
    await openResources('firstContact', journey);
    await send(journey, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: allocated(v) });
    await openResources('firstVisit', journey);
    await send(journey, 'VISIT.RECORD', { location: 'home', durationMinutes: 90, measures: measures(false), barriers: ['transport'], actor: allocated(v) });
    await openResources('coProducedPlan', journey);
    await send(journey, 'PLAN.DRAFT', {
      goals: [{ id: 'g1', text: 'Get out twice a week' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
      barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
      tier: 'standard',
      volunteer: false,
      actor: allocated(v),
    });
    await send(journey, 'PLAN.AGREE', { party: 'person', actor: { role: 'person', id: 'self' } });
    await send(journey, 'PLAN.AGREE', { party: 'linkWorker', actor: allocated(v) });
    await openResources('support', journey);

    // Onward referrals from the plan (connections), one to each end a provider can give it; the
    // one left unanswered is declined for its provider when the review's weeks pass its deadline.
    const staff = { role: 'linkWorker', id: allocated(v).id } as const;
    const provider = { role: 'provider', id: 'staff-1' } as const;
    const propose = (serviceId: string) => pathway.proposeConnection(v.caseId, { serviceId, category: 'connecting', providerId: 'org-community', actor: staff });
    const onward = {
      completed: await propose('svc-lunch_club'),
      rejected: await propose('svc-walking.group'),
      failed: await propose('svc-mens-shed'),
      inProgress: await propose('svc-choir'),
      cancelled: await propose('svc-art-class'),
    };
    keep({ label: 'onward referral requested Task', resource: onwardReferralTaskFor(await pathway.getConnection(onward.cancelled.connectionId)) });
    await pathway.respondToConnection(onward.completed.connectionId, { accept: true, actor: provider });
    keep({ label: 'onward referral accepted Task', resource: onwardReferralTaskFor(await pathway.getConnection(onward.completed.connectionId)) });
    for (let i = 0; i < 2; i++) await pathway.recordAttendance(onward.completed.connectionId, { actor: provider });
    await pathway.completeConnection(onward.completed.connectionId, { actor: provider });
    await pathway.respondToConnection(onward.rejected.connectionId, { accept: false, reason: 'Full until spring', actor: provider });
    await pathway.respondToConnection(onward.failed.connectionId, { accept: true, actor: provider });
    await pathway.stopConnection(onward.failed.connectionId, { reason: 'Stopped going', actor: staff });
    await pathway.respondToConnection(onward.inProgress.connectionId, { accept: true, actor: provider });
    await pathway.recordAttendance(onward.inProgress.connectionId, { actor: provider });

    // A second case to hand off to befriending, brought to support beside the first, so one
    // stretch of skipped weeks brings both to review.
    const befriended = await refer(client, taskQueue, referral({ schemeId: 'fhir' }), pol);
    await driveTo(befriended, 'support');
    const reviewDue = Math.max(
      ...(await Promise.all([journey, befriended].map(async (h) => (await view(h)).deadlines.find((d) => d.event.type === 'DEADLINE.REVIEW')!.dueAt))),
    );
    await env.sleep(reviewDue - (await env.currentTimeMs()) + 60_000);
    await until(journey, (x) => x.stage === 'review');
    await openResources('review', journey);
    await send(journey, 'REVIEW.RECORD', { measures: measures(true), goalsMet: 'all', outcome: 'discharge', personAccount: 'I see people every week now', actor: allocated(v) });
    reasons.add((await closedResources('connected', journey)).discharge!.reason);
    // The onward referrals as a host's staff read them: one by one, and all of the case's by part-of.
    const staffToken = await gateway.token({ sub: staff.id, role: 'linkWorker' });
    for (const [status, c] of Object.entries(onward)) {
      const expected = status === 'inProgress' ? 'in-progress' : status;
      keep({ label: `onward referral ${expected} Task`, resource: onwardReferralTaskFor(await pathway.getConnection(c.connectionId)) });
      const task = await served(`onward referral ${expected} Task`, `/fhir/Task/${connectionFhirIdOf(c.connectionId)}`, 200, { app: gateway.app, token: staffToken });
      expect(task.status).toBe(expected);
    }
    const partOf = await served('onward referrals searchset Bundle', `/fhir/Task?part-of=Task/${v.caseId}`, 200, { app: gateway.app, token: staffToken });
    expect(partOf.total).toBe(Object.keys(onward).length);

    const atReview = await until(befriended, (x) => x.stage === 'review');
    await send(befriended, 'REVIEW.RECORD', { measures: [measures(true)[0]!], goalsMet: 'some', outcome: 'befriend', actor: allocated(atReview) });
    await openResources('befriendingHandoff', befriended);
    await send(befriended, 'BEFRIENDING.RESULT', { result: 'accepted', service: 'Good Neighbours', actor: allocated(atReview) });
    reasons.add((await closedResources('handedOff', befriended)).discharge!.reason);

    // Closed at triage or screening.
    const redirected = await refer(client, taskQueue, referral({ schemeId: 'fhir' }), pol);
    await until(redirected, (x) => x.stage === 'triage');
    await send(redirected, 'TRIAGE.REDIRECT', { service: 'Community mental health team', reason: 'Needs specialist support', actor: linkWorker });
    reasons.add((await closedResources('redirected', redirected)).discharge!.reason);

    const declined = await refer(client, taskQueue, referral({ schemeId: 'fhir' }), pol);
    await until(declined, (x) => x.stage === 'triage');
    await send(declined, 'TRIAGE.DECLINE', { reason: 'Needs personal care', actor: linkWorker });
    expect((await closedResources('declined at triage', declined)).discharge!.reason).toBe('declined');

    const screened = await refer(client, taskQueue, referral({ schemeId: 'fhir', consent: false }), pol);
    expect((await closedResources('declined at screening', screened)).discharge!.reason).toBe('declined');

    // Never reached.
    const unreached = await refer(client, taskQueue, referral({ schemeId: 'fhir' }), pol);
    let u = await driveTo(unreached, 'firstContact');
    for (const outcome of ['noAnswer', 'leftMessage', 'wrongNumber'] as const) {
      await send(unreached, 'CONTACT.ATTEMPT', { outcome, channel: 'phone', actor: allocated(u) });
      if (outcome !== 'wrongNumber') u = await view(unreached);
    }
    reasons.add((await closedResources('unableToContact', unreached)).discharge!.reason);

    // A supervisor confirms a flagged duplicate.
    const duplicate = await refer(client, taskQueue, referral({ schemeId: 'fhir' }), pol);
    await until(duplicate, (x) => x.stage === 'triage');
    await duplicate.executeUpdate(flagDuplicatesUpdate, { args: [{ duplicates: [{ caseId: `case-${'ref-older'}`, match: 'nhsNumber' }] }] });
    await send(duplicate, 'DUPLICATE.RESOLVE', { resolution: 'duplicate', of: 'case-ref-older', actor: supervisor });
    reasons.add((await closedResources('duplicate', duplicate)).discharge!.reason);

    // Staff close a case for each reason they may give, from the first visit.
    for (const reason of ['goalsMet', 'withdrew', 'movedAway', 'died', 'admittedLongTerm', 'escalatedToStatutory', 'declined', 'consentWithdrawn'] as const) {
      const handle = await refer(client, taskQueue, referral({ schemeId: 'fhir' }), pol);
      const at = await driveTo(handle, 'coProducedPlan');
      await send(handle, 'DISCHARGE', { reason, actor: allocated(at) });
      reasons.add((await closedResources(reason, handle)).discharge!.reason);
    }
    expect([...reasons].sort()).toEqual([...DISCHARGE_REASONS].sort());

    // A full scheme: a waitlist, a safeguarding hold, and the scheme's availability.
    const small = await openScheme(client, taskQueue, 'fhir-small', { caseloadCap: 1 });
    const holder = await refer(client, taskQueue, referral({ schemeId: 'fhir-small' }), small);
    const h = await driveTo(holder, 'firstVisit');
    const waiting = await refer(client, taskQueue, referral({ schemeId: 'fhir-small' }), small);
    await until(waiting, (x) => x.stage === 'triage');
    await send(waiting, 'TRIAGE.ACCEPT', { actor: linkWorker });
    await until(waiting, (x) => x.stage === 'waitlisted');
    await openResources('waitlisted', waiting);
    await send(holder, 'SAFEGUARDING.RAISE', { category: 'selfNeglect', actor: allocated(h) });
    await openResources('onHold', holder);
    const loads = await client.workflow.getHandle(ledgerWorkflowId('fhir-small')).query(caseloadsQuery);
    const service = healthcareServiceFor('fhir-small', loads, { now: await env.currentTimeMs() });
    expect(service.characteristic?.[0]?.coding?.[0]?.code).toBe('waitlist');
    keep({ label: 'HealthcareService waitlist', resource: service });
    keep({ label: 'HealthcareService accepting', resource: healthcareServiceFor('fhir', await client.workflow.getHandle(ledgerWorkflowId('fhir')).query(caseloadsQuery), { now: await env.currentTimeMs() }) });
    keep({ label: 'OperationOutcome', resource: operationOutcome([{ code: 'invalid', diagnostics: 'Task.focus must reference a ServiceRequest', expression: 'Task.focus' }]) });
    keep(...codeSystems().map((resource) => ({ label: `CodeSystem ${resource.id}`, resource })));

    // The rest of what the gateway serves: a searchset, capacity, its CapabilityStatement, refusals.
    const search = await served('Task searchset Bundle', `/fhir/Task?focus=ServiceRequest/${journey.workflowId}`);
    expect(search.entry.map((e: any) => e.resource.id)).toEqual([journey.workflowId]);
    await served('HealthcareService', '/fhir/HealthcareService/fhir-small');
    await served('HealthcareService searchset Bundle', '/fhir/HealthcareService?identifier=fhir');
    await served('CapabilityStatement', '/fhir/metadata', 200, { app: gateway.app, token: null });
    await served('OperationOutcome 401', '/fhir/Task/case-none', 401, { app: gateway.app, token: null });
    await served('OperationOutcome 404', '/fhir/Task/case-none', 404);
    await served('OperationOutcome 400', '/fhir/Observation?based-on=ServiceRequest/case-none&code=x', 400);
    await served('OperationOutcome 403', '/fhir/HealthcareService/elsewhere', 403);
    // The scheme's codes-only switch drops the person's own account and nothing else.
    const connected = outcomes.get('connected')!;
    const account = connected.full.entry.filter((e: any) => e.resource.valueString !== undefined);
    expect(account).toHaveLength(1);
    expect(connected.codesOnly.total).toBe(connected.full.total - 1);

    const started = Date.now();
    const results = await Promise.all(validations);
    const seconds = (Date.now() - started) / 1000;
    const errors = results.flatMap((r) => r.errors.map((e) => `${r.label}: ${e}`));
    const warnings = results.reduce((n, r) => n + r.warnings.length, 0);
    console.log(`[fhir] ${results.length} resources validated by HAPI FHIR (${seconds.toFixed(1)}s after the last was built): ${errors.length} errors, ${warnings} warnings`);
    expect(errors).toEqual([]);
    expect(new Set(built.map((b) => b.resource.resourceType))).toEqual(new Set(['Task', 'ServiceRequest', 'Observation', 'HealthcareService', 'OperationOutcome', 'CodeSystem', 'Bundle', 'CapabilityStatement']));
    expect(built.filter((b) => b.label.startsWith('HTTP ') && b.label.includes('outcome Bundle')).length).toBeGreaterThanOrEqual(2 * DISCHARGE_REASONS.length);
  });

  it('the validator does find errors: a stage its code system does not define, a Task without intent', async () => {
    const broken = {
      resourceType: 'Task',
      status: 'requested',
      businessStatus: { coding: [{ system: codeSystemUrl('stage'), code: 'notAStage' }] },
    } as unknown as Resource;
    const { errors } = await validator.validate(broken);
    expect(errors.some((e) => e.includes('notAStage'))).toBe(true);
    expect(errors.some((e) => e.includes('intent'))).toBe(true);
  });
});

// The gateway's pure parts: SMART scopes, the stage/discharge → Task.status table, and reading a
// Gravity referral into the SDK's referral (which fields, and which FHIR element a refusal names).
import { describe, expect, it } from 'vitest';
import { DISCHARGE_REASONS, STAGES } from '../../../machines';
import { scopeGrants } from '../../../gateway/auth';
import { FhirError } from '../../../gateway/fhir/outcome';
import { fromTask, toHostReferral } from '../../../gateway/fhir/referral';
import { TASK_STATUS_BY_STAGE, TASK_STATUSES, taskStatus } from '../../../gateway/fhir/resources';
import { referralTask } from '../../temporal/gateway.harness';

describe('SMART scopes', () => {
  it('reads v2 and v1 scopes', () => {
    expect(scopeGrants(['system/Task.cru'], 'Task', 'c')).toBe(true);
    expect(scopeGrants(['system/Task.cru'], 'Task', 'd')).toBe(false);
    expect(scopeGrants(['system/Task.r'], 'ServiceRequest', 'r')).toBe(false);
    expect(scopeGrants(['system/*.rs'], 'ServiceRequest', 's')).toBe(true);
    expect(scopeGrants(['system/Task.read'], 'Task', 'r')).toBe(true);
    expect(scopeGrants(['system/Task.read'], 'Task', 'u')).toBe(false);
    expect(scopeGrants(['system/Task.write'], 'Task', 'u')).toBe(true);
    // v2 permissions come in the order c r u d s; anything else is not a scope.
    expect(scopeGrants(['system/Task.urc'], 'Task', 'c')).toBe(false);
    expect(scopeGrants(['patient/Task.cru', 'user/Task.cru'], 'Task', 'c')).toBe(false);
  });
});

describe('Task.status', () => {
  it('has a status for every open stage and every discharge reason', () => {
    const closed = (reason: (typeof DISCHARGE_REASONS)[number], triage?: 'declined') => taskStatus({ stage: 'discharged', discharge: { reason } as never, ...(triage && { triage: { decision: triage } as never }) });
    for (const stage of STAGES) if (stage !== 'discharged') expect(TASK_STATUSES).toContain(TASK_STATUS_BY_STAGE[stage]);
    for (const reason of DISCHARGE_REASONS) {
      expect(TASK_STATUSES).toContain(closed(reason));
      expect(TASK_STATUSES).toContain(closed(reason, 'declined'));
    }
    expect(closed('declined', 'declined')).toBe('rejected');
    expect(closed('declined')).toBe('cancelled');
    expect(closed('unableToContact')).toBe('failed');
    expect(closed('withdrew')).toBe('cancelled');
    expect(closed('connected')).toBe('completed');
  });
});

describe('referral mapping', () => {
  it('reads the referral fields from the Task and its contained resources', () => {
    const task = referralTask({ schemeId: 'scheme-a', identifier: 'gp-ref-1', needs: ['loneliness', 'debt'] });
    const r = toHostReferral(fromTask(task));
    expect(r).toMatchObject({ referralId: 'gp-ref-1', schemeId: 'scheme-a', route: 'GP', area: 'BT48', needs: ['loneliness', 'debt'], consent: true, referredAt: '2026-11-30T09:00:00Z' });
    expect(r.person).toMatchObject({ givenName: 'Ada', dateOfBirth: '1950-03-14' });
    expect(r.person.nhsNumber).toMatch(/^999\d{7}$/);
    expect(toHostReferral(fromTask(referralTask({ schemeId: 's', consent: 'rejected' }))).consent).toBe(false);
  });

  it('names every missing element, never its value', () => {
    const task = referralTask({ schemeId: 'scheme-a' }) as any;
    delete task.contained[1].birthDate;
    task.contained[1].address = [{ postalCode: 'NOT A POSTCODE' }];
    task.contained[0].category = [];
    let error: FhirError | undefined;
    try {
      toHostReferral(fromTask(task));
    } catch (err) {
      error = err as FhirError;
    }
    expect(error).toBeInstanceOf(FhirError);
    expect(error!.status).toBe(400);
    expect(error!.issues.map((i) => i.expression).sort()).toEqual(['Patient.address', 'Patient.birthDate', 'ServiceRequest.category']);
    expect(JSON.stringify(error!.issues)).not.toContain('NOT A POSTCODE');
  });
});

// The FHIR resources of a case, from views of the pure pathway machine: status mapping for every
// stage and discharge reason, coded reasons, privacy (no names, codes only on request), capacity
// bands and the OperationOutcome builder. HAPI validation runs in test/temporal/fhir-validation.
import { describe, expect, it } from 'vitest';
import { DISCHARGE_REASONS, INSTRUMENTS } from '../../../machines';
import {
  FHIR_BASE,
  TASK_STATUS_BY_STAGE,
  WAIT_BAND_MONTH_MS,
  codeSystemUrl,
  codeSystems,
  caseIdOfObservation,
  fhirIdOf,
  healthcareServiceFor,
  operationOutcome,
  outcomeFor,
  serviceRequestFor,
  taskFor,
} from '../../../gateway/fhir/resources';
import type { Caseloads } from '../../../workflows/ledger-definitions';
import { dischargedCases, openCases, recordOf, viewOf } from './fhir-cases';

const STAGE_SYSTEM = codeSystemUrl('stage');
const REASON_SYSTEM = codeSystemUrl('statusReason');

function definedCodes(url: string): string[] {
  const system = codeSystems().find((s) => s.url === url);
  if (!system) throw new Error(`no code system ${url}`);
  return (system.concept ?? []).map((c) => c.code!);
}

/** Every coding in a resource whose system is one of ours must be a code that system defines. */
function ownCodings(resource: unknown): Array<{ system: string; code: string }> {
  const found: Array<{ system: string; code: string }> = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.system === 'string' && o.system.startsWith(`${FHIR_BASE}/CodeSystem/`) && typeof o.code === 'string') found.push({ system: o.system, code: o.code });
      Object.values(o).forEach(walk);
    }
  };
  walk(resource);
  return found;
}

describe('Task of a case', () => {
  it('maps every open stage to its Task.status, carries the stage as businessStatus and codes the waits', () => {
    const cases = openCases();
    expect(cases.map(([s]) => s)).toEqual(Object.keys(TASK_STATUS_BY_STAGE));
    for (const [stage, c] of cases) {
      const task = taskFor(viewOf(c));
      expect(task.status, stage).toBe(TASK_STATUS_BY_STAGE[stage as keyof typeof TASK_STATUS_BY_STAGE]);
      expect(task.intent).toBe('order');
      expect(task.businessStatus?.coding).toEqual([expect.objectContaining({ system: STAGE_SYSTEM, code: stage })]);
      const reason = task.statusReason?.coding?.[0]?.code;
      expect(reason, stage).toBe(stage === 'waitlisted' ? 'waitlisted' : stage === 'onHold' ? 'safeguardingHold' : undefined);
      expect(task.output).toBeUndefined();
    }
  });

  it('closes with the documented status and a coded reason for every discharge reason', () => {
    const expected: Record<string, string> = {
      connected: 'completed',
      handedOff: 'completed',
      goalsMet: 'completed',
      redirected: 'rejected',
      duplicate: 'rejected',
      'declined at triage': 'rejected',
      'declined at screening': 'rejected',
      'declined by the person': 'cancelled',
      withdrew: 'cancelled',
      consentWithdrawn: 'cancelled',
      unableToContact: 'failed',
      movedAway: 'failed',
      died: 'failed',
      admittedLongTerm: 'failed',
      escalatedToStatutory: 'failed',
    };
    const cases = dischargedCases();
    expect(new Set(cases.map(([, r]) => r))).toEqual(new Set(DISCHARGE_REASONS));
    for (const [name, reason, c] of cases) {
      const view = viewOf(c);
      const task = taskFor(view);
      expect(task.status, name).toBe(expected[name]);
      expect(task.businessStatus?.coding?.[0]?.code).toBe('discharged');
      expect(task.statusReason?.coding).toEqual([expect.objectContaining({ system: REASON_SYSTEM, code: reason })]);
      // The outcome starts at the discharge reason Observation that outcomeFor builds.
      const reference = task.output?.[0]?.valueReference?.reference;
      const observations = outcomeFor(view, recordOf(c, view), { codesOnly: false });
      expect(observations.map((o) => `Observation/${o.id}`)).toContain(reference);
      // Every outcome Observation's id leads back to its case (GET /fhir/Observation/{id}).
      for (const o of observations) expect(caseIdOfObservation(o.id!), o.id).toBe(view.caseId);
      expect(serviceRequestFor(view).status).toBe(expected[name] === 'completed' ? 'completed' : 'revoked');
    }
  });

  it('refers to the person only by the identifier the host gave, and carries no staff-written reason', () => {
    const [, , declined] = dischargedCases().find(([n]) => n === 'declined at triage')!;
    const view = viewOf(declined);
    const plain = taskFor(view);
    expect(plain.for).toBeUndefined();
    expect(JSON.stringify(plain)).not.toContain('Needs personal care');
    const withPatient = taskFor(view, { patient: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } });
    expect(withPatient.for).toEqual({ type: 'Patient', identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } });
    expect(withPatient.owner).toEqual({ type: 'HealthcareService', identifier: { system: `${FHIR_BASE}/NamingSystem/scheme-id`, value: view.schemeId } });
    expect(withPatient.focus?.reference).toBe(`ServiceRequest/${withPatient.id}`);
  });

  it('uses only codes its own code systems define', () => {
    for (const [, c] of [...openCases(), ...dischargedCases().map(([n, , c]) => [n, c] as const)]) {
      const view = viewOf(c);
      const resources = [taskFor(view), serviceRequestFor(view, { needs: ['loneliness', 'gardening'] })];
      if (view.stage === 'discharged') resources.push(...(outcomeFor(view, recordOf(c, view), { codesOnly: false }) as never[]));
      for (const { system, code } of resources.flatMap(ownCodings)) expect(definedCodes(system), system).toContain(code);
    }
  });
});

describe('ServiceRequest of a case', () => {
  it('is the SNOMED CT social prescribing referral, with needs coded where the project codes them', () => {
    const [, c] = openCases()[0]!;
    const request = serviceRequestFor(viewOf(c), { needs: ['loneliness', 'gardening'] });
    expect(request.code?.coding).toEqual([{ system: 'http://snomed.info/sct', code: '871731000000106', display: 'Referral to social prescribing service (procedure)' }]);
    expect(request.status).toBe('active');
    expect(request.intent).toBe('order');
    expect(request.subject.identifier?.system).toBe(`${FHIR_BASE}/NamingSystem/referral-subject`);
    expect(request.reasonCode).toEqual([
      { coding: [expect.objectContaining({ system: codeSystemUrl('need'), code: 'loneliness' })], text: 'loneliness' },
      { text: 'gardening' },
    ]);
  });
});

describe('outcome Observations', () => {
  const [, , connected] = dischargedCases().find(([n]) => n === 'connected')!;
  const view = viewOf(connected);
  const record = recordOf(connected, view);

  it('carry every measure before and after, with LOINC codes for PHQ-9 and GAD-7, and the GP code', () => {
    const observations = outcomeFor(view, record, { codesOnly: false });
    const codes = observations.map((o) => o.code.coding?.[0]?.code);
    expect(codes).toContain('44261-6');
    expect(codes).toContain('70274-6');
    for (const instrument of INSTRUMENTS) {
      const taken = observations.filter((o) => o.code.coding?.some((c) => c.code === instrument));
      expect(taken.map((o) => o.category?.[1]?.coding?.[0]?.code), instrument).toEqual(['baseline', 'review']);
    }
    const gp = observations.find((o) => o.code.coding?.[0]?.system === 'http://snomed.info/sct');
    expect(gp?.code.coding?.[0]?.code).toBe('871731000000106');
    const ons4 = observations.find((o) => o.code.coding?.[0]?.code === 'ONS4');
    expect(ons4?.component).toHaveLength(4);
  });

  it('person declining after acceptance files 871711000000103', () => {
    const [, , c] = dischargedCases().find(([n]) => n === 'declined by the person')!;
    const v = viewOf(c);
    const codes = outcomeFor(v, recordOf(c, v), { codesOnly: true }).map((o) => o.code.coding?.[0]?.code);
    expect(codes).toContain('871711000000103');
  });

  it('codes only: no free text anywhere, the same codes and numbers', () => {
    const withAccount = { ...record, personAccount: 'I go to the lunch club every week now' };
    const full = outcomeFor(view, withAccount, { codesOnly: false });
    const codesOnly = outcomeFor(view, withAccount, { codesOnly: true });
    expect(JSON.stringify(full)).toContain('lunch club');
    const text = JSON.stringify(codesOnly);
    expect(text).not.toContain('lunch club');
    expect(text).not.toMatch(/"(text|valueString|note)"/);
    expect(codesOnly.map((o) => o.id)).toEqual(full.filter((o) => o.valueString === undefined).map((o) => o.id));
  });
});

describe('HealthcareService availability', () => {
  const base: Caseloads = { schemeId: 's', caseloadCap: 2, linkWorkers: [{ id: 'lw-1', open: 1, cap: 2, cases: [] }], waitlist: [], open: 1, full: false };
  const now = Date.UTC(2026, 5, 1);
  const characteristic = (c: Caseloads) => healthcareServiceFor('s', c, { now }).characteristic?.map((x) => x.coding?.[0]?.code);

  it('is accepting with room, a waitlist when full, not accepting with nobody on the roster', () => {
    expect(characteristic(base)).toEqual(['accepting', 'under1Month']);
    const full = { ...base, linkWorkers: [{ id: 'lw-1', open: 2, cap: 2, cases: [] }], open: 2, full: true };
    expect(characteristic({ ...full, waitlist: [{ caseId: 'case-a', since: now - 10 * 24 * 3600_000, position: 1 }] })).toEqual(['waitlist', 'under1Month']);
    const nobody = healthcareServiceFor('s', { ...base, linkWorkers: [], open: 0 }, { now });
    expect(nobody.characteristic?.[0]?.coding?.[0]?.code).toBe('notAccepting');
    expect(nobody.active).toBe(false);
  });

  it('bands the longest wait: under 1 month, 1–3 months, over 3 months', () => {
    const waiting = (ms: number) => ({ ...base, full: true, waitlist: [{ caseId: 'case-b', since: now - 1000, position: 2 }, { caseId: 'case-a', since: now - ms, position: 1 }] });
    expect(characteristic(waiting(WAIT_BAND_MONTH_MS - 1))?.[1]).toBe('under1Month');
    expect(characteristic(waiting(WAIT_BAND_MONTH_MS))?.[1]).toBe('1to3Months');
    expect(characteristic(waiting(3 * WAIT_BAND_MONTH_MS))?.[1]).toBe('1to3Months');
    expect(characteristic(waiting(3 * WAIT_BAND_MONTH_MS + 1))?.[1]).toBe('over3Months');
  });

  it('names no case on the waitlist', () => {
    const service = healthcareServiceFor('s', { ...base, full: true, waitlist: [{ caseId: 'case-secret', since: now, position: 1 }] }, { now });
    expect(JSON.stringify(service)).not.toContain('case-secret');
  });
});

describe('ids and OperationOutcome', () => {
  it('keeps a case id that is a FHIR id, and digests one that is not, stably', () => {
    expect(fhirIdOf('case-ref-1')).toBe('case-ref-1');
    const odd = fhirIdOf('case-ref_with:colon');
    expect(odd).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(fhirIdOf('case-ref_with:colon')).toBe(odd);
    expect(fhirIdOf(`case-${'x'.repeat(70)}`)).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
  });

  it('builds issues with severity, code, diagnostics and the field as expression', () => {
    expect(operationOutcome([{ code: 'required', diagnostics: 'Task.focus is required', expression: 'Task.focus' }])).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'required', diagnostics: 'Task.focus is required', expression: ['Task.focus'] }],
    });
    expect(() => operationOutcome([])).toThrow(RangeError);
  });
});

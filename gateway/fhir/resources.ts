// FHIR R4 resources of a case, built from the engine's own read models (the case view, its outcome
// record, a scheme's caseloads). Pure: no I/O, no clock (callers pass `now`), so the gateway, tests
// and any host tool build the same resources from the same facts. docs/fhir.md has the mapping
// table and the source of every code used here.
//
// Privacy: a case holds no name, NHS number or date of birth and neither does anything here. The
// person is referred to by an identifier only when the host supplies one (its own, e.g. an NHS
// number it already holds); staff-written free text (triage reasons, a redirect's service) never
// leaves in a Task, and an outcome built with `codesOnly` carries codes and numbers only.
import { createHash } from 'node:crypto';
// The published build compiles this file as CommonJS (the notifying activity reaches it) and the
// FHIR types package is ESM: a type-only import must say how it resolves.
import type {
  CodeableConcept,
  CodeSystem,
  Coding,
  HealthcareService,
  Identifier,
  Observation,
  ObservationComponent,
  OperationOutcome,
  OperationOutcomeIssue,
  Organization,
  Patient,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes' with { 'resolution-mode': 'import' };
import type { MeasureTaken, OutcomeRecord } from '../../evidence/outcomeRecord';
import { DISCHARGE_REASONS, type DischargeReason } from '../../machines/context';
import { INSTRUMENTS, ONS4_ITEMS, measureBands, type Instrument, type Ons4Item } from '../../machines/measures';
import { STAGES, type Stage } from '../../machines/stage';
import type { CaseView } from '../../workflows/definitions';
import { REFERRAL_ROUTES, type ReferralRoute } from '../../machines/referral';
import { CODE_SYSTEM_IDS, FHIR_BASE, IDENTIFIER_SYSTEMS, LOINC, OBSERVATION_CATEGORY, SERVICE_REFERRAL_METHOD, SNOMED, TASK_CODE, UCUM, codeSystemUrl, type CodeSystemName } from './systems';
import type { Caseloads } from '../../workflows/ledger-definitions';
import type { ConnectionView } from '../../workflows/connection-definitions';
import { CONNECTION_STATUSES, type ConnectionStatus } from '../../machines/connection';

export { FHIR_BASE, IDENTIFIER_SYSTEMS, LOINC, SNOMED, codeSystemUrl } from './systems';

// ---------------------------------------------------------------------------------------------
// The project's own code systems: one definition of each code, from which the CodeSystem resources
// below are generated, so a code used in a resource is always one the published system defines.

interface Concept {
  code: string;
  display: string;
  definition?: string;
}

const STAGE_DISPLAY: Record<Stage, string> = {
  triage: 'Awaiting triage',
  allocating: 'Accepted, awaiting a link worker',
  waitlisted: 'Accepted, on the waitlist',
  firstContact: 'Allocated, first contact being made',
  firstVisit: 'Reached, first visit to come',
  coProducedPlan: 'Plan being co-produced',
  support: 'In support',
  review: 'At review',
  extensionPending: 'Extension awaiting approval',
  befriendingHandoff: 'Handing off to befriending',
  onHold: 'On hold for safeguarding',
  discharged: 'Discharged',
};

const DISCHARGE_DISPLAY: Record<DischargeReason, string> = {
  connected: 'Connected to community support (plan completed at review)',
  handedOff: 'Handed off to a befriending service',
  redirected: 'Redirected to a more suitable service',
  unableToContact: 'Unable to contact',
  duplicate: 'Duplicate of another referral for the same person',
  goalsMet: 'Goals met',
  withdrew: 'Person withdrew',
  movedAway: 'Person moved away',
  died: 'Person died',
  admittedLongTerm: 'Admitted to long-term care',
  escalatedToStatutory: 'Escalated to statutory services',
  declined: 'Declined',
  consentWithdrawn: 'Consent withdrawn',
};

/** Why a Task is where it is: every discharge reason, and the two reasons an open case waits. */
export const STATUS_REASON_WAITLISTED = 'waitlisted';
export const STATUS_REASON_SAFEGUARDING = 'safeguardingHold';

const INSTRUMENT_DISPLAY: Record<Instrument, string> = {
  SWEMWBS: 'Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS) metric score',
  GAD7: 'Generalized anxiety disorder 7 item (GAD-7) total score',
  PHQ9: 'Patient Health Questionnaire 9 item (PHQ-9) total score',
  UCLA3: 'UCLA loneliness scale, three-item version, total score',
  ONS4: 'ONS personal wellbeing (ONS4), life satisfaction as headline score',
};

/**
 * LOINC codes where LOINC has one for the score the engine keeps (sources in docs/fhir.md). SWEMWBS,
 * the three-item UCLA scale and ONS4 have none that we could find, so they use the project's own
 * code system (and say so in the docs) rather than a code that might not mean what we report.
 */
const LOINC_TOTALS: Partial<Record<Instrument, Coding>> = {
  PHQ9: { system: LOINC, code: '44261-6', display: 'Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]' },
  GAD7: { system: LOINC, code: '70274-6', display: 'Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]' },
};

const ONS4_ITEM_DISPLAY: Record<Ons4Item, string> = {
  lifeSatisfaction: 'ONS4 life satisfaction',
  worthwhile: 'ONS4 things done in life are worthwhile',
  happiness: 'ONS4 happiness yesterday',
  anxiety: 'ONS4 anxiety yesterday',
};

const TIMEPOINTS = ['baseline', 'review', 'discharge'] as const;
type Timepoint = (typeof TIMEPOINTS)[number];
const TIMEPOINT_DISPLAY: Record<Timepoint, string> = {
  baseline: 'Baseline (first visit)',
  review: 'At review',
  discharge: 'At discharge (latest check-in after review)',
};

const OUTCOME_CODES: Concept[] = [
  { code: 'dischargeReason', display: 'Reason the social prescribing case closed' },
  { code: 'personAccount', display: "The person's own account of what changed" },
];

export const AVAILABILITY = ['accepting', 'waitlist', 'notAccepting'] as const;
export type Availability = (typeof AVAILABILITY)[number];
export const WAIT_BANDS = ['under1Month', '1to3Months', 'over3Months'] as const;
export type WaitBand = (typeof WAIT_BANDS)[number];

const AVAILABILITY_DISPLAY: Record<Availability, string> = {
  accepting: 'Accepting referrals: a link worker has room',
  waitlist: 'Accepting referrals onto a waitlist',
  notAccepting: 'Not accepting referrals',
};
const WAIT_BAND_DISPLAY: Record<WaitBand, string> = {
  under1Month: 'Wait under 1 month',
  '1to3Months': 'Wait 1 to 3 months',
  over3Months: 'Wait over 3 months',
};

/** Needs tags the project codes (its own system); any other need travels as text only. */
const NEED_DISPLAY = {
  loneliness: 'Loneliness',
  isolation: 'Social isolation',
  bereavement: 'Bereavement',
  transport: 'Transport',
  debt: 'Debt',
  housing: 'Housing',
  mentalWellbeing: 'Mental wellbeing',
  physicalActivity: 'Physical activity',
} as const;

const ROUTE_DISPLAY: Record<ReferralRoute, string> = {
  GP: 'General practice',
  practiceNurse: 'Practice nurse',
  communityNurse: 'Community nurse',
  pharmacist: 'Pharmacist',
  hospital: 'Hospital',
  secondaryMentalHealth: 'Secondary mental health services',
  adultSocialCare: 'Adult social care',
  localAuthority: 'Local authority',
  vcs: 'Voluntary and community sector',
  communityOutreach: 'Community outreach',
  self: 'Self-referral',
  familyOrFriend: 'Family or friend',
};

const CONNECTION_STATUS_DISPLAY: Record<ConnectionStatus, string> = {
  proposed: 'Proposed by the link worker, not yet sent',
  sent: 'Sent to the provider, awaiting an answer',
  accepted: 'Accepted by the provider',
  declined: 'Declined by the provider',
  noResponse: 'Declined for the provider: no response by the deadline',
  attending: 'The person is attending',
  stopped: 'Stopped before completion',
  completed: 'Completed',
};

/** Why an onward referral ended where it did (the staff's own words stay in the engine). */
const CONNECTION_STATUS_REASONS: Concept[] = [
  { code: 'declinedByProvider', display: 'The provider declined the referral' },
  { code: 'noResponse', display: 'No response from the provider by the deadline' },
  { code: 'stopped', display: 'The person stopped attending, or never started' },
];

const CONNECTION_OUTPUTS: Concept[] = [
  { code: 'attendances', display: 'Attendances recorded' },
  { code: 'firstAttendance', display: 'First attendance' },
  { code: 'lastAttendance', display: 'Latest attendance' },
];

const META_TAG_REFERRAL = { code: 'referralManagement', display: 'Referral management Task (Gravity pattern, base R4 profile)' };

const SYSTEMS = {
  stage: { id: CODE_SYSTEM_IDS.stage, title: 'Social prescribing pathway stage', concepts: STAGES.map((s) => ({ code: s, display: STAGE_DISPLAY[s] })) },
  statusReason: {
    id: CODE_SYSTEM_IDS.statusReason,
    title: 'Why a social prescribing referral is where it is',
    concepts: [
      ...DISCHARGE_REASONS.map((r) => ({ code: r, display: DISCHARGE_DISPLAY[r] })),
      { code: STATUS_REASON_WAITLISTED, display: 'Waiting for a link worker: caseloads are full' },
      { code: STATUS_REASON_SAFEGUARDING, display: 'Held while a safeguarding concern is open' },
    ],
  },
  measure: {
    id: CODE_SYSTEM_IDS.measure,
    title: 'Wellbeing measures without a LOINC code, and their parts',
    concepts: [
      ...INSTRUMENTS.map((i) => ({ code: i, display: INSTRUMENT_DISPLAY[i] })),
      ...ONS4_ITEMS.map((i) => ({ code: `ONS4.${i}`, display: ONS4_ITEM_DISPLAY[i] })),
    ],
  },
  band: {
    id: CODE_SYSTEM_IDS.band,
    title: "A wellbeing measure's band, as the engine scores it",
    concepts: INSTRUMENTS.flatMap((i) => measureBands(i).map((b) => ({ code: bandCode(i, b), display: `${i} ${b}` }))),
  },
  timepoint: { id: CODE_SYSTEM_IDS.timepoint, title: 'When in the pathway a measure was taken', concepts: TIMEPOINTS.map((t) => ({ code: t, display: TIMEPOINT_DISPLAY[t] })) },
  outcome: { id: CODE_SYSTEM_IDS.outcome, title: 'Outcome observations of a social prescribing case', concepts: OUTCOME_CODES },
  availability: {
    id: CODE_SYSTEM_IDS.availability,
    title: 'Whether a scheme takes referrals, and how long the wait is',
    concepts: [
      ...AVAILABILITY.map((a) => ({ code: a, display: AVAILABILITY_DISPLAY[a] })),
      ...WAIT_BANDS.map((w) => ({ code: w, display: WAIT_BAND_DISPLAY[w] })),
    ],
  },
  need: { id: CODE_SYSTEM_IDS.need, title: 'Needs a social prescribing referral names', concepts: Object.entries(NEED_DISPLAY).map(([code, display]) => ({ code, display })) },
  tag: { id: CODE_SYSTEM_IDS.tag, title: 'Tags on resources the engine publishes', concepts: [META_TAG_REFERRAL] },
  route: { id: CODE_SYSTEM_IDS.route, title: 'How a social prescribing referral came', concepts: REFERRAL_ROUTES.map((r) => ({ code: r, display: ROUTE_DISPLAY[r] })) },
  connectionStatus: {
    id: CODE_SYSTEM_IDS.connectionStatus,
    title: 'Where a connection to a community service (an onward referral) stands',
    concepts: CONNECTION_STATUSES.map((c) => ({ code: c, display: CONNECTION_STATUS_DISPLAY[c] })),
  },
  connectionStatusReason: { id: CODE_SYSTEM_IDS.connectionStatusReason, title: 'Why an onward referral to a community service ended', concepts: CONNECTION_STATUS_REASONS },
  connectionOutput: { id: CODE_SYSTEM_IDS.connectionOutput, title: 'What an onward referral to a community service reports back', concepts: CONNECTION_OUTPUTS },
} as const satisfies Record<CodeSystemName, { id: string; title: string; concepts: readonly Concept[] }>;

type SystemName = CodeSystemName;

/** `PHQ9.moderately-severe`: a band's code, from the instrument and the band's label. */
function bandCode(instrument: Instrument, band: string): string {
  return `${instrument}.${band.replace(/\s+/g, '-')}`;
}

function coding(name: SystemName, code: string): Coding {
  const concept = (SYSTEMS[name].concepts as readonly Concept[]).find((c) => c.code === code);
  if (!concept) throw new RangeError(`no code ${code} in the ${SYSTEMS[name].id} code system`);
  return { system: codeSystemUrl(name), code, display: concept.display };
}

function concept(name: SystemName, code: string): CodeableConcept {
  return { coding: [coding(name, code)] };
}

/** The CodeSystem resources the codes above come from, for the gateway to serve and validators to load. */
export function codeSystems(): CodeSystem[] {
  return Object.values(SYSTEMS).map((s) => ({
    resourceType: 'CodeSystem',
    id: s.id,
    url: `${FHIR_BASE}/CodeSystem/${s.id}`,
    version: '1',
    name: s.id
      .split('-')
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(''),
    title: s.title,
    status: 'active',
    experimental: false,
    publisher: 'Social prescribing engine',
    description: `${s.title}. Defined by the social prescribing engine; see docs/fhir.md.`,
    caseSensitive: true,
    content: 'complete',
    count: s.concepts.length,
    concept: s.concepts.map((c) => ({ code: c.code, display: c.display })),
  }));
}

// ---------------------------------------------------------------------------------------------
// Ids and references

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The FHIR id of a case's Task and ServiceRequest. A case id is usually a valid FHIR id already;
 * one that is not (`_` or `:` in the referral id, or over 64 characters) gets a stable digest, and
 * the gateway finds the case by the Task's identifier instead.
 */
export function fhirIdOf(caseId: string): string {
  if (FHIR_ID.test(caseId)) return caseId;
  return `h-${createHash('sha256').update(caseId).digest('hex').slice(0, 40)}`;
}

/**
 * The FHIR id of a connection's onward-referral Task. A connection id is `<case id>:conn:<service
 * id>`, which no FHIR id can hold (':', '_'), so: `cn-`, then the id without its `case-` prefix with
 * '.', ':' and '_' written as '.' and their hex code (`.2E`, `.3A`, `.5F`), like percent-encoding.
 * Reversible (`connectionIdOfFhirId`) and never a case's Task id (those start `case-` or `h-`). Over
 * 64 characters it is `cnh-` and a digest instead, which only a search finds (docs/fhir.md).
 */
export function connectionFhirIdOf(connectionId: string): string {
  const bare = connectionId.startsWith('case-') ? connectionId.slice('case-'.length) : connectionId;
  const encoded = `${CONNECTION_ID_PREFIX}${bare.replace(/[.:_]/g, (c) => `.${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
  if (FHIR_ID.test(encoded)) return encoded;
  return `${CONNECTION_DIGEST_PREFIX}${createHash('sha256').update(connectionId).digest('hex').slice(0, 40)}`;
}

const CONNECTION_ID_PREFIX = 'cn-';
const CONNECTION_DIGEST_PREFIX = 'cnh-';
const ENCODED_CONNECTION = /^cn-((?:[A-Za-z0-9-]|\.(?:2E|3A|5F))+)$/;

/** Is this FHIR id a connection's (readable or digest), rather than a case's? */
export function isConnectionFhirId(id: string): boolean {
  return id.startsWith(CONNECTION_ID_PREFIX) || id.startsWith(CONNECTION_DIGEST_PREFIX);
}

/** The connection id a readable connection FHIR id stands for; undefined for a digest or anything else. */
export function connectionIdOfFhirId(id: string): string | undefined {
  const m = ENCODED_CONNECTION.exec(id);
  if (!m) return undefined;
  const connectionId = `case-${m[1]!.replace(/\.(2E|3A|5F)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))}`;
  return connectionFhirIdOf(connectionId) === id ? connectionId : undefined;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** How the host identifies the person, if it chose to give an identifier (never a name). */
export interface PatientIdentifier {
  system: string;
  value: string;
}

export interface CaseResourceOptions {
  patient?: PatientIdentifier;
  /** The referral's needs (the case view has none; the outcome record's `needs` does), for reasonCode. */
  needs?: readonly string[];
}

function patientReference(options: CaseResourceOptions): Reference<Patient> | undefined {
  return options.patient ? { type: 'Patient', identifier: { system: options.patient.system, value: options.patient.value } } : undefined;
}

/** ServiceRequest.subject is required; without the host's identifier it names "the person referral X is about". */
function subjectReference(view: Pick<CaseView, 'referralId'>, options: CaseResourceOptions): Reference<Patient> {
  return patientReference(options) ?? { type: 'Patient', identifier: { system: IDENTIFIER_SYSTEMS.referralSubject, value: view.referralId } };
}

function schemeReference(schemeId: string): Reference<HealthcareService> {
  return { type: 'HealthcareService', identifier: { system: IDENTIFIER_SYSTEMS.scheme, value: schemeId } };
}

/** Observation.performer cannot be a HealthcareService: the scheme as the organisation that runs it. */
function schemeOrganisation(schemeId: string): Reference<Organization> {
  return { type: 'Organization', identifier: { system: IDENTIFIER_SYSTEMS.scheme, value: schemeId } };
}

function caseIdentifiers(view: Pick<CaseView, 'caseId' | 'referralId'>): Identifier[] {
  return [
    { use: 'official', system: IDENTIFIER_SYSTEMS.referral, value: view.referralId },
    { use: 'secondary', system: IDENTIFIER_SYSTEMS.case, value: view.caseId },
  ];
}

function referredAtOf(view: CaseView): number | undefined {
  return view.timeline[0]?.at;
}

/** When the case last changed: its last timeline entry (Task.lastModified, meta.lastUpdated, the ETag's date). */
export function lastModifiedOf(view: Pick<CaseView, 'timeline'>): number | undefined {
  return view.timeline.at(-1)?.at;
}

// ---------------------------------------------------------------------------------------------
// Task: the referral's status, as Gravity's referral management reads it

// The mapping itself lives beside the machine, where the case workflow publishes it for search.
import { taskStatus } from '../../machines/task-status';
export { TASK_STATUSES, TASK_STATUS_BY_DISCHARGE, TASK_STATUS_BY_STAGE, taskStatus, type TaskStatus } from '../../machines/task-status';

function statusReasonOf(view: CaseView): CodeableConcept | undefined {
  if (view.stage === 'discharged' && view.discharge) return concept('statusReason', view.discharge.reason);
  if (view.stage === 'waitlisted') return concept('statusReason', STATUS_REASON_WAITLISTED);
  if (view.stage === 'onHold') return concept('statusReason', STATUS_REASON_SAFEGUARDING);
  return undefined;
}

export function taskFor(view: CaseView, options: CaseResourceOptions = {}): Task {
  const id = fhirIdOf(view.caseId);
  const referredAt = referredAtOf(view);
  const lastModified = lastModifiedOf(view);
  const patient = patientReference(options);
  const statusReason = statusReasonOf(view);
  return {
    resourceType: 'Task',
    id,
    meta: { versionId: String(view.sequence), ...(lastModified !== undefined && { lastUpdated: iso(lastModified) }), tag: [coding('tag', META_TAG_REFERRAL.code)] },
    identifier: caseIdentifiers(view),
    basedOn: [{ reference: `ServiceRequest/${id}` }],
    status: taskStatus(view),
    ...(statusReason && { statusReason }),
    businessStatus: concept('stage', view.stage),
    intent: 'order',
    code: { coding: [{ system: TASK_CODE, code: 'fulfill', display: 'Fulfill the focal request' }] },
    focus: { reference: `ServiceRequest/${id}` },
    ...(patient && { for: patient }),
    ...(referredAt !== undefined && { authoredOn: iso(referredAt) }),
    ...(lastModified !== undefined && { lastModified: iso(lastModified) }),
    owner: schemeReference(view.schemeId),
    // The outcome starts at the discharge reason; its other Observations are `based-on` the same ServiceRequest.
    ...(view.stage === 'discharged' &&
      view.discharge && {
        output: [{ type: concept('outcome', 'dischargeReason'), valueReference: { reference: `Observation/${dischargeReasonId(view)}` } }],
      }),
  };
}

function dischargeReasonId(view: Pick<CaseView, 'caseId'>): string {
  return observationId(view, 'reason');
}

/** The suffixes outcome Observations carry after the case's id: one definition, for building and for reading back. */
const OBSERVATION_SUFFIX = new RegExp(`-(reason|gp|account|(?:${INSTRUMENTS.join('|')})-(?:${TIMEPOINTS.join('|')}))$`);

/**
 * The case an outcome Observation's id belongs to, for `GET /fhir/Observation/{id}`; undefined when
 * the id is not one of ours. A digest id (a case id that is no FHIR id) cannot be read back this way;
 * its Observations are found by searching `based-on` the ServiceRequest.
 */
export function caseIdOfObservation(id: string): string | undefined {
  const m = OBSERVATION_SUFFIX.exec(id);
  return m && !id.startsWith('h-') ? id.slice(0, m.index) : undefined;
}

/** Observation ids: the case's id with a suffix, shortened by digest when that would pass 64 characters. */
function observationId(view: Pick<CaseView, 'caseId'>, suffix: string): string {
  const candidate = `${view.caseId}-${suffix}`;
  if (FHIR_ID.test(candidate)) return candidate;
  return `h-${createHash('sha256').update(view.caseId).digest('hex').slice(0, 24)}-${suffix}`.slice(0, 64);
}

// ---------------------------------------------------------------------------------------------
// Onward referral: a connection to a community service, as a Task `partOf` the case's Task

/**
 * Task.status of a connection (Gravity's meanings): the provider turning it down is `rejected`; the
 * deadline passing unanswered is the scheme withdrawing it, `cancelled`; a person who stopped (or
 * never started) after the provider accepted is `failed`: accepted but not completed.
 */
export const CONNECTION_TASK_STATUS: Record<ConnectionStatus, NonNullable<Task['status']>> = {
  proposed: 'draft',
  sent: 'requested',
  accepted: 'accepted',
  declined: 'rejected',
  noResponse: 'cancelled',
  attending: 'in-progress',
  stopped: 'failed',
  completed: 'completed',
};

const CONNECTION_STATUS_REASON: Partial<Record<ConnectionStatus, string>> = { declined: 'declinedByProvider', noResponse: 'noResponse', stopped: 'stopped' };

/** When the connection last changed: its latest recorded time. */
export function connectionLastModified(view: Pick<ConnectionView, 'proposedAt' | 'sentAt' | 'respondedAt' | 'lastAttendedAt' | 'endedAt'>): number {
  return Math.max(view.proposedAt, view.sentAt ?? 0, view.respondedAt ?? 0, view.lastAttendedAt ?? 0, view.endedAt ?? 0);
}

/**
 * The onward-referral Task of a connection: `partOf` the case's referral Task, `owner` the provider's
 * organisation, `focus` the directory's service, both by identifier. No reason text (a decline's,
 * a stop's) and nothing of the person: the reason is coded, the attendances are counts and times.
 */
export function onwardReferralTaskFor(view: ConnectionView): Task {
  const lastModified = connectionLastModified(view);
  const reason = CONNECTION_STATUS_REASON[view.status];
  const reasonConcept = reason ? concept('connectionStatusReason', reason) : undefined;
  const attended = view.attendances > 0 || ['accepted', 'attending', 'stopped', 'completed'].includes(view.status);
  const output: NonNullable<Task['output']> = attended ? [{ type: concept('connectionOutput', 'attendances'), valueUnsignedInt: view.attendances }] : [];
  if (view.firstAttendedAt !== undefined) output.push({ type: concept('connectionOutput', 'firstAttendance'), valueDateTime: iso(view.firstAttendedAt) });
  if (view.lastAttendedAt !== undefined) output.push({ type: concept('connectionOutput', 'lastAttendance'), valueDateTime: iso(view.lastAttendedAt) });
  return {
    resourceType: 'Task',
    id: connectionFhirIdOf(view.connectionId),
    meta: { lastUpdated: iso(lastModified), tag: [coding('tag', META_TAG_REFERRAL.code)] },
    identifier: [{ use: 'official', system: IDENTIFIER_SYSTEMS.connection, value: view.connectionId }],
    partOf: [{ reference: `Task/${fhirIdOf(view.caseId)}` }],
    status: CONNECTION_TASK_STATUS[view.status],
    ...(reasonConcept && { statusReason: { ...reasonConcept, text: reasonConcept.coding![0]!.display! } }),
    businessStatus: concept('connectionStatus', view.status),
    intent: 'order',
    code: { coding: [{ system: TASK_CODE, code: 'fulfill', display: 'Fulfill the focal request' }] },
    focus: { type: 'HealthcareService', identifier: { system: IDENTIFIER_SYSTEMS.directoryService, value: view.serviceId } },
    ...(view.firstAttendedAt !== undefined && { executionPeriod: { start: iso(view.firstAttendedAt), ...(view.endedAt !== undefined && { end: iso(view.endedAt) }) } }),
    authoredOn: iso(view.sentAt ?? view.proposedAt),
    lastModified: iso(lastModified),
    requester: schemeOrganisation(view.schemeId),
    owner: { type: 'Organization', identifier: { system: IDENTIFIER_SYSTEMS.provider, value: view.providerId } },
    ...(view.responseDueAt !== undefined && { restriction: { period: { ...(view.sentAt !== undefined && { start: iso(view.sentAt) }), end: iso(view.responseDueAt) } } }),
    ...(output.length > 0 && { output }),
  };
}

// ---------------------------------------------------------------------------------------------
// ServiceRequest: the referral itself

export const SNOMED_SOCIAL_PRESCRIBING_REFERRAL: Coding = {
  system: SNOMED,
  code: '871731000000106',
  display: 'Referral to social prescribing service (procedure)',
};
const SNOMED_PATIENT_REFERRAL: Coding = { system: SNOMED, code: '3457005', display: 'Patient referral (procedure)' };

export function serviceRequestStatus(view: Pick<CaseView, 'stage' | 'discharge' | 'triage'>): NonNullable<ServiceRequest['status']> {
  if (view.stage === 'onHold') return 'on-hold';
  if (view.stage !== 'discharged') return 'active';
  return taskStatus(view) === 'completed' ? 'completed' : 'revoked';
}

export function serviceRequestFor(view: CaseView, options: CaseResourceOptions = {}): ServiceRequest {
  const referredAt = referredAtOf(view);
  return {
    resourceType: 'ServiceRequest',
    id: fhirIdOf(view.caseId),
    identifier: caseIdentifiers(view),
    status: serviceRequestStatus(view),
    intent: 'order',
    category: [{ coding: [SNOMED_PATIENT_REFERRAL] }],
    code: { coding: [SNOMED_SOCIAL_PRESCRIBING_REFERRAL] },
    subject: subjectReference(view, options),
    ...(referredAt !== undefined && { authoredOn: iso(referredAt) }),
    performer: [schemeReference(view.schemeId)],
    ...(options.needs && options.needs.length > 0 && { reasonCode: reasonCodesFor(options.needs) }),
  };
}

/** Needs a referral named, coded where the project codes them; others as text (they are scheme tags, not free text about the person). */
export function reasonCodesFor(needs: readonly string[]): CodeableConcept[] {
  return needs.map((need) => (Object.hasOwn(NEED_DISPLAY, need) ? { ...concept('need', need), text: need } : { text: need }));
}

// ---------------------------------------------------------------------------------------------
// Outcome: Observations a GP system files at discharge

export interface OutcomeOptions extends CaseResourceOptions {
  /**
   * The scheme's switch for people who did not consent to share details: codes and numbers only,
   * no free text (no person's account).
   */
  codesOnly: boolean;
}

function measureCode(instrument: Instrument): CodeableConcept {
  const loinc = LOINC_TOTALS[instrument];
  return { coding: loinc ? [loinc, coding('measure', instrument)] : [coding('measure', instrument)] };
}

function scoreQuantity(score: number): Observation['valueQuantity'] {
  // UCUM's unity: a score has no unit, and annotations like {score} are ignored when units compare.
  return { value: score, unit: 'score', system: UCUM, code: '1' };
}

/**
 * Every measure the record holds, at each timepoint it was taken (baseline is "before"; discharge,
 * else review, is "after"), the discharge reason, the GP code and, unless codes only, the person's
 * own account. Each Observation is `basedOn` the case's ServiceRequest.
 */
export function outcomeFor(view: CaseView, record: OutcomeRecord, options: OutcomeOptions): Observation[] {
  const id = fhirIdOf(view.caseId);
  const subject = subjectReference(view, options);
  const basedOn: Reference<ServiceRequest>[] = [{ reference: `ServiceRequest/${id}` }];
  const performer = [schemeOrganisation(view.schemeId)];
  const out: Observation[] = [];

  const dischargedAt = record.dates.dischargedAt ?? view.discharge?.at;
  if (record.dischargeReason && dischargedAt !== undefined) {
    out.push({
      resourceType: 'Observation',
      id: dischargeReasonId(view),
      basedOn,
      status: 'final',
      code: concept('outcome', 'dischargeReason'),
      subject,
      effectiveDateTime: iso(dischargedAt),
      performer,
      valueCodeableConcept: concept('statusReason', record.dischargeReason),
    });
  }

  if (record.gpMessage) {
    const at = record.gpMessage.snomedCode === SNOMED_SOCIAL_PRESCRIBING_REFERRAL.code ? (record.dates.firstContactAt ?? dischargedAt) : dischargedAt;
    out.push({
      resourceType: 'Observation',
      id: observationId(view, 'gp'),
      basedOn,
      status: 'final',
      code: { coding: [{ system: SNOMED, code: record.gpMessage.snomedCode, display: record.gpMessage.display }] },
      subject,
      ...(at !== undefined && { effectiveDateTime: iso(at) }),
      performer,
    });
  }

  for (const instrument of INSTRUMENTS) {
    const series = record.measures[instrument];
    if (!series) continue;
    for (const timepoint of TIMEPOINTS) {
      const taken = series[timepoint];
      if (!taken) continue;
      out.push(measureObservation(view, instrument, timepoint, taken, { subject, basedOn, performer, codesOnly: options.codesOnly }));
    }
  }

  if (!options.codesOnly && record.personAccount !== undefined && record.dates.reviewAt !== undefined) {
    out.push({
      resourceType: 'Observation',
      id: observationId(view, 'account'),
      basedOn,
      status: 'final',
      code: concept('outcome', 'personAccount'),
      subject,
      effectiveDateTime: iso(record.dates.reviewAt),
      performer,
      valueString: record.personAccount,
    });
  }
  return out;
}

function measureObservation(
  view: CaseView,
  instrument: Instrument,
  timepoint: Timepoint,
  taken: MeasureTaken,
  common: { subject: Reference<Patient>; basedOn: Reference<ServiceRequest>[]; performer: Reference<Organization>[]; codesOnly: boolean },
): Observation {
  const components: ObservationComponent[] =
    instrument === 'ONS4' && taken.items
      ? ONS4_ITEMS.flatMap((item) => {
          const scored = taken.items?.[item];
          if (!scored) return [];
          return [{ code: concept('measure', `ONS4.${item}`), valueQuantity: scoreQuantity(scored.score) }];
        })
      : [];
  return {
    resourceType: 'Observation',
    id: observationId(view, `${instrument}-${timepoint}`),
    basedOn: common.basedOn,
    status: 'final',
    category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'survey', display: 'Survey' }] }, concept('timepoint', timepoint)],
    code: measureCode(instrument),
    subject: common.subject,
    ...(taken.takenAt !== undefined && { effectiveDateTime: iso(taken.takenAt) }),
    performer: common.performer,
    valueQuantity: scoreQuantity(taken.score),
    ...(measureBands(instrument).includes(taken.band) && { interpretation: [concept('band', bandCode(instrument, taken.band))] }),
    ...(components.length > 0 && { component: components }),
  };
}

// ---------------------------------------------------------------------------------------------
// HealthcareService: a scheme's availability from its capacity ledger

const DAY_MS = 24 * 60 * 60 * 1000;
/** A month as the wait bands count it: 30 days, so "under 1 month" is under 30 days of waiting. */
export const WAIT_BAND_MONTH_MS = 30 * DAY_MS;

/**
 * Not accepting: no link worker on the roster (or none may hold a case). Accepting: someone has
 * room and nobody waits. Otherwise a referral joins the waitlist.
 */
export function availabilityOf(caseloads: Pick<Caseloads, 'linkWorkers' | 'waitlist' | 'full'>): Availability {
  const capacity = caseloads.linkWorkers.reduce((n, w) => n + w.cap, 0);
  if (caseloads.linkWorkers.length === 0 || capacity === 0) return 'notAccepting';
  if (!caseloads.full && caseloads.waitlist.length === 0) return 'accepting';
  return 'waitlist';
}

/** The longest wait of anyone on the waitlist now, in bands; no waitlist is no wait. */
export function waitBandOf(caseloads: Pick<Caseloads, 'waitlist'>, now: number): WaitBand {
  const oldest = caseloads.waitlist.reduce((min, w) => Math.min(min, w.since), Infinity);
  const waited = oldest === Infinity ? 0 : Math.max(0, now - oldest);
  if (waited < WAIT_BAND_MONTH_MS) return 'under1Month';
  if (waited <= 3 * WAIT_BAND_MONTH_MS) return '1to3Months';
  return 'over3Months';
}

export function healthcareServiceFor(schemeId: string, caseloads: Caseloads, options: { now: number }): HealthcareService {
  const availability = availabilityOf(caseloads);
  return {
    resourceType: 'HealthcareService',
    id: fhirIdOf(schemeId),
    identifier: [{ system: IDENTIFIER_SYSTEMS.scheme, value: schemeId }],
    active: availability !== 'notAccepting',
    type: [{ coding: [SNOMED_SOCIAL_PRESCRIBING_REFERRAL], text: 'Social prescribing' }],
    name: schemeId,
    characteristic: [concept('availability', availability), concept('availability', waitBandOf(caseloads, options.now))],
    referralMethod: [{ coding: [{ system: SERVICE_REFERRAL_METHOD, code: 'elec', display: 'Secure Messaging' }] }],
    appointmentRequired: false,
  };
}

// ---------------------------------------------------------------------------------------------
// OperationOutcome: the gateway's one builder of error answers

export interface OutcomeIssue {
  severity?: OperationOutcomeIssue['severity'];
  code: OperationOutcomeIssue['code'];
  /** What is wrong, by rule: never the value that was sent. */
  diagnostics: string;
  /** The field, as a FHIRPath expression (e.g. `Task.focus`). */
  expression?: string | readonly string[];
}

export function operationOutcome(issues: readonly OutcomeIssue[]): OperationOutcome {
  if (issues.length === 0) throw new RangeError('an OperationOutcome needs at least one issue');
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity ?? 'error',
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression !== undefined && { expression: typeof i.expression === 'string' ? [i.expression] : [...i.expression] }),
    })),
  };
}


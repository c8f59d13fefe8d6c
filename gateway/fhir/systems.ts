// Every identifier system and code system the gateway reads or writes, defined once. The concepts
// of the project's own code systems (and the CodeSystem resources published from them) are in
// resources.ts; their canonical URLs are here, so the inbound referral reader uses the same ones.

/** The project's canonical base: its code systems and identifier systems live under it. */
export const FHIR_BASE = 'https://social-prescribing.example/fhir';

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const TASK_CODE = 'http://hl7.org/fhir/CodeSystem/task-code';
export const SERVICE_REFERRAL_METHOD = 'http://terminology.hl7.org/CodeSystem/service-referral-method';
export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Identifier systems: the engine's own ids, and the scheme a case belongs to. */
export const IDENTIFIER_SYSTEMS = {
  referral: `${FHIR_BASE}/NamingSystem/referral-id`,
  case: `${FHIR_BASE}/NamingSystem/case-id`,
  scheme: `${FHIR_BASE}/NamingSystem/scheme-id`,
  /** "The person referral X is about", for a ServiceRequest whose host gave no patient identifier. */
  referralSubject: `${FHIR_BASE}/NamingSystem/referral-subject`,
  /** A connection to a community service (an onward referral): `<case id>:conn:<service id>`. */
  connection: `${FHIR_BASE}/NamingSystem/connection-id`,
  /** A service in a scheme's directory (Open Referral UK service id). */
  directoryService: `${FHIR_BASE}/NamingSystem/directory-service-id`,
  /** The organisation that runs a directory service: a connection's provider. */
  provider: `${FHIR_BASE}/NamingSystem/provider-id`,
} as const;

/** The ids of the project's own code systems (their concepts are in resources.ts). */
export const CODE_SYSTEM_IDS = {
  stage: 'pathway-stage',
  statusReason: 'pathway-status-reason',
  measure: 'wellbeing-measure',
  band: 'measure-band',
  timepoint: 'measure-timepoint',
  outcome: 'pathway-outcome',
  availability: 'service-availability',
  need: 'social-need',
  tag: 'resource-tag',
  route: 'referral-route',
  connectionStatus: 'connection-status',
  connectionStatusReason: 'connection-status-reason',
  connectionOutput: 'connection-output',
} as const;
export type CodeSystemName = keyof typeof CODE_SYSTEM_IDS;

/** Canonical URL of one of the project's code systems. */
export function codeSystemUrl(name: CodeSystemName): string {
  return `${FHIR_BASE}/CodeSystem/${CODE_SYSTEM_IDS[name]}`;
}

/** How a referral says which route it came by (ServiceRequest.category). */
export const ROUTE_SYSTEM = codeSystemUrl('route');

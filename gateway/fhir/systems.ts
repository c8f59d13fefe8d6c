// The identifier and code systems the gateway reads and writes, defined once.

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
/** The project's own code systems: the pathway's words, as FHIR codings. */
const BASE = 'https://social-prescribing.example/fhir';
export const SCHEME_SYSTEM = `${BASE}/Id/scheme`;
export const REFERRAL_ID_SYSTEM = `${BASE}/Id/referral`;
export const ROUTE_SYSTEM = `${BASE}/CodeSystem/referral-route`;
export const STAGE_SYSTEM = `${BASE}/CodeSystem/pathway-stage`;
export const DISCHARGE_REASON_SYSTEM = `${BASE}/CodeSystem/discharge-reason`;
export const NEED_SYSTEM = `${BASE}/CodeSystem/need`;
export const TASK_CODE_SYSTEM = 'http://hl7.org/fhir/CodeSystem/task-code';
export const AVAILABILITY_SYSTEM = `${BASE}/CodeSystem/scheme-availability`;
export const WAIT_BAND_SYSTEM = `${BASE}/CodeSystem/wait-band`;

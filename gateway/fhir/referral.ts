// A Gravity referral (TaskForReferralManagement whose focus is a ServiceRequest, with the Patient
// and Consent contained or beside it in a transaction Bundle) turned into the SDK's HostReferral.
// Only what `refer()` takes is read; the rest of the resources is ignored, never stored.
import { referralRouteSchema, type ReferralRoute } from '../../machines';
import type { HostReferral } from '../../client';
import { FhirError, invalid, type Issue } from './outcome';
import { NHS_NUMBER_SYSTEM, ROUTE_SYSTEM } from './systems';

type Json = Record<string, unknown>;

export interface ReferralResources {
  task: Json;
  serviceRequest: Json;
  patient: Json | undefined;
  consent: Json | undefined;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `#id` within the Task's `contained`, or a resource in `others` by fullUrl or `Type/id`. */
function resolve(reference: unknown, contained: Json[], others: Map<string, Json>, type: string): Json | undefined {
  const ref = isObject(reference) ? str(reference['reference']) : undefined;
  if (ref === undefined) return undefined;
  const found = ref.startsWith('#') ? contained.find((r) => r['id'] === ref.slice(1)) : others.get(ref);
  return found && found['resourceType'] === type ? found : undefined;
}

function firstOfType(resources: Json[], type: string): Json | undefined {
  return resources.find((r) => r['resourceType'] === type);
}

/** From a Task posted on its own: its focus and the rest are contained resources. */
export function fromTask(task: Json): ReferralResources {
  const contained = arr(task['contained']).filter(isObject);
  return pick(task, contained, new Map(), 'Task');
}

/** From a transaction Bundle: one Task, the rest as entries (or contained in the Task). */
export function fromBundle(bundle: Json): ReferralResources {
  if (bundle['type'] !== 'transaction') throw invalid('Bundle.type', "must be 'transaction'", 'value');
  const entries = arr(bundle['entry']);
  const resources: Json[] = [];
  const byUrl = new Map<string, Json>();
  entries.forEach((e, i) => {
    if (!isObject(e) || !isObject(e['resource'])) throw invalid(`Bundle.entry[${i}].resource`, 'each entry needs a resource', 'required');
    const r = e['resource'];
    const request = isObject(e['request']) ? e['request'] : undefined;
    if (request && str(request['method']) !== 'POST' && str(request['method']) !== 'PUT') throw invalid(`Bundle.entry[${i}].request.method`, 'only POST (or PUT) entries are accepted in a referral', 'not-supported');
    resources.push(r);
    const fullUrl = str(e['fullUrl']);
    if (fullUrl) byUrl.set(fullUrl, r);
    if (typeof r['resourceType'] === 'string' && typeof r['id'] === 'string') byUrl.set(`${r['resourceType']}/${r['id']}`, r);
  });
  const tasks = resources.filter((r) => r['resourceType'] === 'Task');
  if (tasks.length !== 1) throw invalid('Bundle.entry', 'a referral Bundle holds exactly one Task', 'structure');
  const task = tasks[0]!;
  const contained = arr(task['contained']).filter(isObject);
  return pick(task, contained, byUrl, 'Bundle', resources);
}

function pick(task: Json, contained: Json[], others: Map<string, Json>, where: string, loose: Json[] = []): ReferralResources {
  const serviceRequest = resolve(task['focus'], contained, others, 'ServiceRequest');
  if (!serviceRequest) throw invalid('Task.focus', 'must reference the ServiceRequest (contained, or an entry of the Bundle)', 'required');
  const patient = resolve(task['for'], contained, others, 'Patient') ?? resolve(serviceRequest['subject'], contained, others, 'Patient') ?? firstOfType([...contained, ...loose], 'Patient');
  const consent = firstOfType([...contained, ...loose], 'Consent');
  void where;
  return { task, serviceRequest, patient, consent };
}

/** The ServiceRequest's business identifier: what makes a repeat the same referral. */
export function referralIdOf(sr: Json): string {
  const ids = arr(sr['identifier']).filter(isObject);
  const value = ids.map((i) => str(i['value'])).find((v) => v !== undefined && v.length > 0);
  if (value === undefined) throw invalid('ServiceRequest.identifier', 'a referral needs an identifier (its value becomes the case id)', 'required');
  return value;
}

/** The scheme the referral is for: `Task.owner` or `ServiceRequest.performer`, by identifier or reference. */
export function schemeOf(task: Json, sr: Json): { schemeId: string; expression: string } {
  const fromRef = (ref: unknown): string | undefined => {
    if (!isObject(ref)) return undefined;
    const id = isObject(ref['identifier']) ? str(ref['identifier']['value']) : undefined;
    if (id) return id;
    const r = str(ref['reference']);
    const m = r ? /^(?:Organization|HealthcareService)\/(.+)$/.exec(r) : null;
    return m?.[1];
  };
  const owner = fromRef(task['owner']);
  if (owner !== undefined) return { schemeId: owner, expression: 'Task.owner' };
  const performer = arr(sr['performer']).map(fromRef).find((v) => v !== undefined);
  if (performer !== undefined) return { schemeId: performer, expression: 'ServiceRequest.performer' };
  throw invalid('Task.owner', 'name the scheme in Task.owner (or ServiceRequest.performer) by identifier', 'required');
}

function routeOf(sr: Json): ReferralRoute {
  for (const category of arr(sr['category']).filter(isObject)) {
    for (const coding of arr(category['coding']).filter(isObject)) {
      if (coding['system'] !== ROUTE_SYSTEM) continue;
      const route = referralRouteSchema.safeParse(coding['code']);
      if (route.success) return route.data;
      throw invalid('ServiceRequest.category', `the route code must be one of ${referralRouteSchema.options.join(', ')}`, 'value');
    }
  }
  // Who asked, when the category does not say: the person themselves or someone close to them.
  const requester = isObject(sr['requester']) ? str(sr['requester']['reference']) : undefined;
  if (requester?.startsWith('Patient')) return 'self';
  if (requester?.startsWith('RelatedPerson')) return 'familyOrFriend';
  throw invalid('ServiceRequest.category', `code the referral route in system ${ROUTE_SYSTEM}`, 'required');
}

/** The postal district (outward code) of a UK postcode, or the address's district: coarse enough to be a fact, not an address. */
function areaOf(patient: Json | undefined): string | undefined {
  for (const address of arr(patient?.['address']).filter(isObject)) {
    const district = str(address['district']);
    if (district && district.trim()) return district.trim().slice(0, 64);
    const postcode = str(address['postalCode'])?.trim().toUpperCase();
    const m = postcode ? /^([A-Z]{1,2}\d[A-Z\d]?)\s*\d[A-Z]{2}$/.exec(postcode) ?? /^([A-Z]{1,2}\d[A-Z\d]?)$/.exec(postcode) : null;
    if (m) return m[1];
  }
  return undefined;
}

function consentOf(consent: Json | undefined): boolean {
  if (!consent) return false;
  const provision = isObject(consent['provision']) ? consent['provision'] : undefined;
  return consent['status'] === 'active' && provision?.['type'] !== 'deny';
}

function tagsOf(concepts: unknown): string[] {
  const tags: string[] = [];
  for (const c of arr(concepts).filter(isObject)) {
    const code = arr(c['coding']).filter(isObject).map((k) => str(k['code'])).find((k) => k !== undefined);
    if (code !== undefined) tags.push(code);
  }
  return tags;
}

/** FHIR `date` or `dateTime` as the SDK's instant: a date alone is that day's UTC midnight. */
function instantOf(value: unknown): string | undefined {
  const s = str(value);
  if (s === undefined) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s;
}

export function toHostReferral(parts: ReferralResources): HostReferral {
  const { task, serviceRequest: sr, patient, consent } = parts;
  if (!patient) throw invalid('Task.for', 'the referral needs the Patient (contained, or an entry of the Bundle)', 'required');
  const issues: Issue[] = [];
  const name = arr(patient['name']).filter(isObject)[0];
  const givenName = arr(name?.['given']).map(str).find((g) => g !== undefined);
  const familyName = str(name?.['family']);
  if (givenName === undefined) issues.push({ code: 'required', expression: 'Patient.name.given', diagnostics: 'is required' });
  if (familyName === undefined) issues.push({ code: 'required', expression: 'Patient.name.family', diagnostics: 'is required' });
  const dateOfBirth = str(patient['birthDate']);
  if (dateOfBirth === undefined) issues.push({ code: 'required', expression: 'Patient.birthDate', diagnostics: 'is required' });
  const area = areaOf(patient);
  if (area === undefined) issues.push({ code: 'required', expression: 'Patient.address', diagnostics: 'needs a UK postcode or a district (only its postal district is kept)' });
  const nhs = arr(patient['identifier']).filter(isObject).find((i) => i['system'] === NHS_NUMBER_SYSTEM);
  let route: ReferralRoute | undefined;
  let referralId: string | undefined;
  let scheme: string | undefined;
  for (const read of [() => (route = routeOf(sr)), () => (referralId = referralIdOf(sr)), () => (scheme = schemeOf(task, sr).schemeId)]) {
    try {
      read();
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new FhirError(400, issues);
  const referredAt = instantOf(sr['authoredOn']) ?? instantOf(task['authoredOn']);
  return {
    referralId: referralId!,
    schemeId: scheme!,
    route: route!,
    area: area!,
    needs: tagsOf(sr['reasonCode']),
    consent: consentOf(consent),
    ...(referredAt !== undefined && { referredAt }),
    person: {
      givenName: givenName!,
      familyName: familyName!,
      dateOfBirth: dateOfBirth!,
      ...(nhs && str(nhs['value']) !== undefined && { nhsNumber: str(nhs['value'])! }),
    },
  };
}

/** Where each field of a HostReferral came from, so the SDK's validation names the FHIR element. */
export const REFERRAL_FIELD_EXPRESSIONS: Record<string, string> = {
  referralId: 'ServiceRequest.identifier',
  schemeId: 'Task.owner',
  route: 'ServiceRequest.category',
  area: 'Patient.address',
  needs: 'ServiceRequest.reasonCode',
  consent: 'Consent',
  referredAt: 'ServiceRequest.authoredOn',
  'person.nhsNumber': 'Patient.identifier',
  'person.givenName': 'Patient.name.given',
  'person.familyName': 'Patient.name.family',
  'person.dateOfBirth': 'Patient.birthDate',
};

export function referralExpression(path: string): string {
  if (REFERRAL_FIELD_EXPRESSIONS[path]) return REFERRAL_FIELD_EXPRESSIONS[path]!;
  const head = Object.keys(REFERRAL_FIELD_EXPRESSIONS).find((k) => path.startsWith(`${k}[`) || path.startsWith(`${k}.`));
  return head ? REFERRAL_FIELD_EXPRESSIONS[head]! : 'Task';
}

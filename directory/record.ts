// An HSDS service reduced to what matching reads: one record a service, kept beside the relational
// rows so a search parses a few hundred small objects instead of joining eight tables.
import type { HsdsService, Weekday } from './hsds';
import type { ActivityCategory } from './taxonomy';

export interface ServiceLocation {
  id: string;
  name?: string;
  postcode?: string;
  area?: string;
  latitude?: number;
  longitude?: number;
  /** A location's accessibility records say step-free, level or wheelchair access. */
  stepFree: boolean;
  /** HSDS `transportation`: how to get there by public transport. */
  transport?: string;
}

export interface ServiceSchedule {
  byday: Weekday[];
  opensAt?: string;
  closesAt?: string;
  description?: string;
}

export interface ServiceRecord {
  id: string;
  name: string;
  organizationId: string;
  organizationName: string;
  hsdsStatus: HsdsService['status'];
  termIds: string[];
  termCodes: string[];
  categories: ActivityCategory[];
  /** No cost option asks for money. */
  free: boolean;
  eligibility?: string;
  minimumAge?: number;
  maximumAge?: number;
  /** Areas served: each location's area and the service areas' names. */
  areas: string[];
  locations: ServiceLocation[];
  schedules: ServiceSchedule[];
}

const STEP_FREE = /step[- ]?free|level access|wheelchair (access|accessible)|ramp(ed)? access|accessible entrance|lift to all floors/i;
const NOT_STEP_FREE = /\b(no|not|without)\b[^.;]{0,30}(step[- ]?free|level access|wheelchair|ramp|lift)|steps? (only|up to|to the entrance)/i;

/** Step-free when some accessibility record says so and none says otherwise. */
export function isStepFree(texts: string[]): boolean {
  return texts.some((t) => STEP_FREE.test(t)) && !texts.some((t) => NOT_STEP_FREE.test(t));
}

const opt = <K extends string, V>(key: K, value: V | null | undefined) => (value == null || value === '' ? {} : ({ [key]: value } as { [P in K]: V }));

export function toServiceRecord(s: HsdsService, categoryOf: (termId: string) => ActivityCategory | undefined): ServiceRecord {
  const locations: ServiceLocation[] = s.service_at_locations.map(({ location: l }) => {
    const address = l.addresses?.[0];
    const texts = (l.accessibility ?? []).flatMap((a) => [a.description, a.details, a.accessibility].filter((t): t is string => typeof t === 'string'));
    return {
      id: l.id,
      ...opt('name', l.name),
      ...opt('postcode', address?.postal_code?.trim()),
      ...opt('area', (address?.region ?? address?.city)?.trim()),
      ...opt('latitude', l.latitude),
      ...opt('longitude', l.longitude),
      stepFree: isStepFree(texts),
      ...opt('transport', l.transportation?.trim()),
    };
  });
  const termIds = [...new Set(s.attributes.map((a) => a.taxonomy_term.id))];
  const areas = new Set<string>();
  for (const l of locations) if (l.area) areas.add(l.area);
  for (const a of s.service_areas) {
    const name = (a.name ?? a.service_area)?.trim();
    if (name) areas.add(name);
  }
  return {
    id: s.id,
    name: s.name,
    organizationId: s.organization.id,
    organizationName: s.organization.name,
    hsdsStatus: s.status,
    termIds,
    termCodes: [...new Set(s.attributes.map((a) => a.taxonomy_term.code ?? a.taxonomy_term.id))],
    categories: [...new Set(termIds.map(categoryOf).filter((c): c is ActivityCategory => c !== undefined))],
    free: !s.cost_options.some((c) => (c.amount ?? 0) > 0),
    ...opt('eligibility', s.eligibility_description),
    ...opt('minimumAge', s.minimum_age),
    ...opt('maximumAge', s.maximum_age),
    areas: [...areas],
    locations,
    schedules: s.schedules.map((h) => ({
      byday: h.byday ?? [],
      ...opt('opensAt', h.opens_at?.slice(0, 5)),
      ...opt('closesAt', h.closes_at?.slice(0, 5)),
      ...opt('description', h.description),
    })),
  };
}

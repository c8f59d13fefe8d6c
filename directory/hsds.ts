// The Open Referral UK / HSDS 3.0 records the importer reads, as zod schemas, and their reduction to
// what the engine keeps. Field names are the standard's (`service_at_locations`, `cost_options`,
// `accessibility`, `attributes[].taxonomy_term`...). Objects are loose: a council's export carries
// many fields the engine has no use for (phones, contacts, funding), and they are not refused.
import { z } from 'zod';

const id = z.string().trim().min(1, { error: 'must not be empty' }).max(200, { error: 'at most 200 characters' });
const text = z.string().max(10_000);
const optionalText = text.nullish();
/** `HH:MM` or `HH:MM:SS`, as HSDS writes `opens_at` and `closes_at`. */
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, { error: 'must be a time of day, HH:MM' });
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** iCal's BYDAY as HSDS carries it: "MO,WE" (an ordinal like "1MO" keeps its day). */
const byday = z
  .string()
  .transform((s) => s.split(',').map((d) => d.trim().toUpperCase().replace(/^[+-]?\d+/, '')).filter((d) => d !== ''))
  .pipe(z.array(z.enum(WEEKDAYS, { error: 'must be days as MO,TU,WE,TH,FR,SA,SU' })));

const organizationSchema = z.looseObject({ id, name: text.min(1, { error: 'must not be empty' }) });

const accessibilitySchema = z.looseObject({
  id: id.optional(),
  description: optionalText,
  details: optionalText,
  /** ORUK's older exports name the text `accessibility`. */
  accessibility: optionalText,
});

const addressSchema = z.looseObject({
  address_1: optionalText,
  city: optionalText,
  region: optionalText,
  postal_code: optionalText,
});

const locationSchema = z.looseObject({
  id,
  name: optionalText,
  latitude: z.number().min(-90).max(90).nullish(),
  longitude: z.number().min(-180).max(180).nullish(),
  transportation: optionalText,
  addresses: z.array(addressSchema).nullish(),
  accessibility: z.array(accessibilitySchema).nullish(),
});

const serviceAtLocationSchema = z.looseObject({ id, location: locationSchema });

const taxonomyTermSchema = z.looseObject({
  id,
  code: optionalText,
  name: text.min(1, { error: 'must not be empty' }),
  parent_id: id.nullish(),
  taxonomy: optionalText,
  taxonomy_id: id.nullish(),
  taxonomy_detail: z.looseObject({ id, name: optionalText }).nullish(),
});

const attributeSchema = z.looseObject({ id, taxonomy_term_id: id.optional(), taxonomy_term: taxonomyTermSchema });

const costOptionSchema = z.looseObject({
  id,
  option: optionalText,
  amount: z.number().min(0, { error: 'must not be negative' }).nullish(),
  currency: optionalText,
  amount_description: optionalText,
});

const scheduleSchema = z.looseObject({
  id,
  freq: z.enum(['WEEKLY', 'MONTHLY']).nullish(),
  byday: byday.nullish(),
  opens_at: clock.nullish(),
  closes_at: clock.nullish(),
  description: optionalText,
});

const serviceAreaSchema = z.looseObject({ id: id.optional(), name: optionalText, service_area: optionalText });

export const SERVICE_STATUSES = ['active', 'inactive', 'defunct', 'temporarily closed'] as const;

/** One HSDS 3.0 service with the related records a council's `/services/{id}` answer embeds. */
export const hsdsServiceSchema = z.looseObject({
  id,
  name: text.min(1, { error: 'must not be empty' }),
  description: optionalText,
  status: z.enum(SERVICE_STATUSES, { error: `must be one of ${SERVICE_STATUSES.join(', ')}` }),
  eligibility_description: optionalText,
  minimum_age: z.number().int().min(0).max(130).nullish(),
  maximum_age: z.number().int().min(0).max(130).nullish(),
  organization: organizationSchema,
  service_at_locations: z.array(serviceAtLocationSchema).default([]),
  attributes: z.array(attributeSchema).default([]),
  cost_options: z.array(costOptionSchema).default([]),
  schedules: z.array(scheduleSchema).default([]),
  service_areas: z.array(serviceAreaSchema).default([]),
});
export type HsdsService = z.output<typeof hsdsServiceSchema>;

/** A refused record: which one, where in it, and why. Never the record's content. */
export interface RefusedRecord {
  /** The record's `id`, or its position in the file when it has none. */
  recordId: string;
  path: string;
  reason: string;
}

/** `listedId`: the refused record's own id, when it has one (it is still listed, so not removed). */
export type ParsedRecord = { ok: true; service: HsdsService } | { ok: false; refused: RefusedRecord[]; listedId?: string };

/** zod's words for an absent field, said plainly. */
const plain = (message: string) => (/^Invalid input: expected \w+, received undefined$/.test(message) ? 'is missing' : message);

export function parseServiceRecord(raw: unknown, index: number): ParsedRecord {
  const rawId = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  const listedId = typeof rawId === 'string' && rawId.trim() !== '' && rawId.trim().length <= 200 ? rawId.trim() : undefined;
  const recordId = listedId ?? `#${index + 1}`;
  const refuse = (refused: RefusedRecord[]): ParsedRecord => ({ ok: false, refused, ...(listedId !== undefined && { listedId }) });
  const parsed = hsdsServiceSchema.safeParse(raw);
  if (!parsed.success) {
    return refuse(parsed.error.issues.map((i) => ({ recordId, path: i.path.join('.') || '(record)', reason: plain(i.message) })));
  }
  const s = parsed.data;
  if (s.minimum_age != null && s.maximum_age != null && s.minimum_age > s.maximum_age) {
    return refuse([{ recordId, path: 'minimum_age', reason: 'must not be above maximum_age' }]);
  }
  const badHours = s.schedules.findIndex((h) => h.opens_at != null && h.closes_at != null && h.opens_at >= h.closes_at);
  if (badHours >= 0) return refuse([{ recordId, path: `schedules.${badHours}.closes_at`, reason: 'must be after opens_at' }]);
  return { ok: true, service: s };
}

/**
 * The records of an export: a bare array of services, or one page of the ORUK / HSDS API's paged
 * answer (`contents` in HSDS 3.0, `content` in ORUK's first API), with its paging numbers.
 */
export function recordsOf(body: unknown): { records: unknown[]; totalPages?: number; page?: number } | undefined {
  if (Array.isArray(body)) return { records: body };
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const records = Array.isArray(b['contents']) ? b['contents'] : Array.isArray(b['content']) ? b['content'] : undefined;
  if (!records) return undefined;
  const num = (k: string) => (typeof b[k] === 'number' && Number.isFinite(b[k]) ? (b[k] as number) : undefined);
  const totalPages = num('total_pages') ?? num('totalPages');
  const page = num('page_number') ?? num('number') ?? num('page');
  return { records, ...(totalPages !== undefined && { totalPages }), ...(page !== undefined && { page }) };
}

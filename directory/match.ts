// Ranking: pure, over the candidate records the database returned. The rules, in order
// (docs/directory.md says the same for people):
//   1. a service must meet at least one need: a taxonomy term (or a narrower one under it) or an
//      activity category; each term matched scores 10, each category matched 6;
//   2. barriers are filters: step-free, free, transport, the area served, the day and time;
//   3. then nearer is better (up to 3 points inside 5 miles), free and step-free add 1 each, a
//      timetable that fits the day asked adds 2, and no timetable at all ("by arrangement") takes 1;
//   4. ties go to the nearer, then by name, then by id, so the same query gives the same order.
import type { MatchQuery, MatchResult } from './types';
import type { ServiceRecord, ServiceSchedule } from './record';
import type { ActivityCategory } from './taxonomy';

/** A need as the query names it, resolved against the scheme's taxonomy. */
export interface ResolvedNeed {
  need: string;
  /** Words for the explanation: the term's name, or the category. */
  label: string;
  category?: ActivityCategory;
  /** The term and every term under it; empty for a category. */
  termIds: ReadonlySet<string>;
  isCategory: boolean;
}

const DAY_NAMES = { MO: 'Mondays', TU: 'Tuesdays', WE: 'Wednesdays', TH: 'Thursdays', FR: 'Fridays', SA: 'Saturdays', SU: 'Sundays' } as const;

export function milesBetween(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 3958.8 * 2 * Math.asin(Math.min(1, Math.sqrt(h)));
}

function fitsTime(h: ServiceSchedule, day: MatchQuery['day'], time: string | undefined): boolean {
  if (day !== undefined && !h.byday.includes(day)) return false;
  if (time === undefined) return true;
  return h.opensAt !== undefined && h.closesAt !== undefined && h.opensAt <= time && time < h.closesAt;
}

function hours(h: ServiceSchedule, day: MatchQuery['day']): string {
  const days = day !== undefined ? DAY_NAMES[day] : h.byday.map((d) => DAY_NAMES[d]).join(', ');
  return h.opensAt && h.closesAt ? `${days} ${h.opensAt}-${h.closesAt}` : days;
}

export interface Scored extends MatchResult {
  matchedNeeds: string[];
}

/** The service's score and explanation for the query, or undefined when it does not fit. */
export function scoreService(r: ServiceRecord, query: MatchQuery, needs: readonly ResolvedNeed[]): Scored | undefined {
  if (r.hsdsStatus !== 'active') return undefined;
  const met = needs.filter((n) => (n.isCategory ? n.category !== undefined && r.categories.includes(n.category) : r.termIds.some((t) => n.termIds.has(t))));
  if (met.length === 0) return undefined;
  if (query.area !== undefined && !r.areas.some((a) => a.toLowerCase() === query.area!.toLowerCase())) return undefined;
  if (query.needsFree && !r.free) return undefined;
  const stepFree = r.locations.find((l) => l.stepFree);
  if (query.needsStepFree && !stepFree) return undefined;
  const onRoute = r.locations.find((l) => l.transport !== undefined);
  const bringsPeople = r.termCodes.includes('transport-provided');
  if (query.needsTransport && !onRoute && !bringsPeople) return undefined;

  let miles: number | undefined;
  if (query.near) {
    for (const l of r.locations) {
      if (l.latitude === undefined || l.longitude === undefined) continue;
      const d = milesBetween(query.near, { latitude: l.latitude, longitude: l.longitude });
      if (miles === undefined || d < miles) miles = d;
    }
    if (query.maxMiles !== undefined && (miles === undefined || miles > query.maxMiles)) return undefined;
  }

  const timed = query.day !== undefined || query.time !== undefined;
  const fitting = r.schedules.find((h) => fitsTime(h, query.day, query.time));
  if (timed && r.schedules.length > 0 && !fitting) return undefined;

  let score = met.reduce((sum, n) => sum + (n.isCategory ? 6 : 10), 0);
  const reasons = [`matches ${met.map((n) => n.label).join(', ')}`];
  if (stepFree) {
    score += 1;
    reasons.push('step-free');
  }
  if (r.free) {
    score += 1;
    reasons.push('free');
  }
  if (query.needsTransport) reasons.push(bringsPeople ? 'transport provided' : 'on a bus route');
  if (timed) {
    if (fitting) {
      score += 2;
      reasons.push(hours(fitting, query.day));
    } else {
      score -= 1;
      reasons.push('times by arrangement');
    }
  }
  if (miles !== undefined) {
    score += 3 * Math.max(0, 1 - miles / 5);
    reasons.push(`${miles.toFixed(1)} miles`);
  }
  return {
    serviceId: r.id,
    name: r.name,
    organizationName: r.organizationName,
    score: Math.round(score * 100) / 100,
    explanation: reasons.join('; '),
    matchedNeeds: met.map((n) => n.need),
    ...(miles !== undefined && { miles: Math.round(miles * 10) / 10 }),
  };
}

export function rank(results: Scored[]): Scored[] {
  return results.sort(
    (a, b) => b.score - a.score || (a.miles ?? Infinity) - (b.miles ?? Infinity) || a.name.localeCompare(b.name) || (a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0),
  );
}

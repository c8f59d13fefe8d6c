// The service directory's contract: what the connection loop asks of a scheme's directory of
// community services (Open Referral UK / HSDS 3.0), whichever database holds it. The importer and
// the matcher implement it; the connection workflow's activities only call it.
import type { z } from 'zod';
import type { activityCategorySchema } from '../machines/events';

type ActivityCategory = z.output<typeof activityCategorySchema>;

/** A service as the engine sees it: reference data, never patient data. */
export interface DirectoryService {
  id: string;
  schemeId: string;
  name: string;
  organizationName: string;
  /** The HSDS organisation id: the provider, for counting its responses across services. */
  organizationId?: string;
  /** The pathway's activity categories the service's taxonomy terms map onto. */
  categories: ActivityCategory[];
  /** HSDS taxonomy term codes. */
  taxonomyTerms: string[];
  area?: string;
  stepFree: boolean;
  free: boolean;
  /** `removed` once a re-import no longer lists it; kept so open connections can still name it. */
  status: 'active' | 'removed';
}

/** What a link worker looks for: the plan's needs and the person's barriers, never their identity. */
export interface MatchQuery {
  schemeId: string;
  /** Needs as taxonomy term codes or activity categories. */
  needs: string[];
  area?: string;
  needsStepFree?: boolean;
  needsFree?: boolean;
  /** Services already tried for this need (declined, no response), left out of the answer. */
  excludeServiceIds?: string[];
  limit?: number;
  /** Only services a location of which is on a bus route, or that bring people (`transport-provided`). */
  needsTransport?: boolean;
  /** Where the person starts from (a postcode's centroid, never their address): ranks by distance. */
  near?: { latitude: number; longitude: number };
  /** With `near`: leave out services further than this. */
  maxMiles?: number;
  /** Only services open on this day (iCal BYDAY: MO..SU), and at `time` (HH:MM) when given. */
  day?: 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';
  time?: string;
  /** Record needs with no match in the gap register (default true; a preview passes false). */
  recordUnmet?: boolean;
}

/** One ranked answer with the reasons a person can read ("matches loneliness; step-free"). */
export interface MatchResult {
  serviceId: string;
  name: string;
  score: number;
  explanation: string;
  organizationName?: string;
  /** The query's needs this service meets. */
  matchedNeeds?: string[];
  /** Distance from `near` to the nearest of its locations. */
  miles?: number;
}

export interface ServiceDirectory {
  match(query: MatchQuery): Promise<MatchResult[]>;
  getService(schemeId: string, serviceId: string): Promise<DirectoryService | undefined>;
  close(): Promise<void>;
}

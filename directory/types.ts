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
}

/** One ranked answer with the reasons a person can read ("matches loneliness; step-free"). */
export interface MatchResult {
  serviceId: string;
  name: string;
  score: number;
  explanation: string;
}

export interface ServiceDirectory {
  match(query: MatchQuery): Promise<MatchResult[]>;
  getService(schemeId: string, serviceId: string): Promise<DirectoryService | undefined>;
  close(): Promise<void>;
}

// The capacity ledger's typed surface: one long-lived workflow per scheme that owns caseloads,
// link-worker assignment and the waitlist, because no single case can see the others.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface LinkWorker {
  id: string;
  /** Overrides the scheme's caseload cap for this person (part-time staff, say). */
  cap?: number;
}

export interface LedgerState {
  roster: LinkWorker[];
  /** caseId → the link worker whose caseload it counts against. */
  holders: Record<string, { linkWorkerId: string; since: number }>;
  /** First come, first admitted. */
  waitlist: Array<{ caseId: string; since: number }>;
  /** Raised once each time the scheme goes from having room to being full. */
  overloads: number;
  full: boolean;
}

export interface LedgerInput {
  schemeId: string;
  caseloadCap: number;
  state?: LedgerState;
  /** Continue-as-new earlier than Temporal suggests (tests). */
  limits?: { historyEvents?: number };
}

export interface PlaceRequest {
  caseId: string;
  /** When the case asked (the case's clock), so a retried request keeps its place in the queue. */
  at: number;
}

export interface Caseloads {
  schemeId: string;
  caseloadCap: number;
  linkWorkers: Array<{ id: string; open: number; cap: number; cases: string[] }>;
  waitlist: Array<{ caseId: string; since: number; position: number }>;
  open: number;
  full: boolean;
}

export const requestPlaceSignal = defineSignal<[PlaceRequest]>('requestPlace');
export const releasePlaceSignal = defineSignal<[{ caseId: string }]>('releasePlace');
export const setRosterUpdate = defineUpdate<Caseloads, [LinkWorker[]]>('setRoster');
export const caseloadsQuery = defineQuery<Caseloads>('caseloads');

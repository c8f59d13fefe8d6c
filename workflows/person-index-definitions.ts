// The person index's typed surface: one long-lived workflow per scheme that remembers which cases
// were opened for which person, so a new referral can be flagged as a likely duplicate. It never
// sees a name, a date of birth or an NHS number: only keyed fingerprints (HMAC-SHA256 under a key
// the client holds), which cannot be reversed or recomputed without that key.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PossibleDuplicateCase } from '../machines/events';

/**
 * A scheme's index is sharded by the first two hex digits of each fingerprint, one workflow a shard:
 * one workflow for the whole scheme only grew (about 200 bytes a referral) until its
 * continue-as-new input passed Temporal's 2 MB limit, some ten thousand referrals in.
 */
export const PERSON_INDEX_SHARDS = 256;
/** Fingerprints one shard keeps (the oldest go first): 256 shards keep about half a million, some 260,000 referrals. */
export const MAX_SHARD_FINGERPRINTS = 2048;
/** Cases kept under one fingerprint, the most recent. */
export const MAX_CASES_PER_FINGERPRINT = 20;

/** The shard a fingerprint (64 lower-case hex digits) belongs to. */
export function personIndexShard(fingerprint: string): string {
  return fingerprint.slice(0, 2);
}

export function personIndexWorkflowId(schemeId: string, shard: string): string {
  return `person-index-${schemeId}-${shard}`;
}

export type PersonMatch = PossibleDuplicateCase['match'];
/** Strongest evidence first: a case matched on both is reported once, as an NHS-number match. */
export const PERSON_MATCHES: readonly PersonMatch[] = ['nhsNumber', 'nameAndDateOfBirth'];

/** Hex HMAC-SHA256 digests of the normalised identifiers; `nhsNumber` only when the host knew it. */
export interface PersonFingerprints {
  nhsNumber?: string;
  nameAndDateOfBirth: string;
}

/** The fingerprints of one referral that fall in one shard: at least one of them. */
export interface RegisterPersonRequest {
  caseId: string;
  fingerprints: Partial<PersonFingerprints>;
}

/** Another case that looks like the same person: its id and how it matched, nothing about the person. */
export type PossibleDuplicate = PossibleDuplicateCase;

export interface ForgetCaseRequest {
  caseId: string;
}

export interface PersonIndexState {
  /** `<match>:<fingerprint>` → case ids, oldest first. */
  cases: Record<string, string[]>;
  /** How many keys `cases` has, kept so the cap is checked without counting them every time. */
  size?: number;
}

export interface PersonIndexInput {
  schemeId: string;
  /** Absent on a scheme's one unsharded index from before sharding. */
  shard?: string;
  state?: PersonIndexState;
  /** Continue-as-new earlier than Temporal suggests (tests). */
  limits?: { historyEvents?: number };
}

/**
 * Records the case under its fingerprints and answers with the other cases that share one. Idempotent:
 * registering the same case again changes nothing and gives the same answer.
 */
export const registerPersonUpdate = defineUpdate<PossibleDuplicate[], [RegisterPersonRequest]>('registerPerson');

/** How many fingerprints and cases the index holds: enough to watch it grow, nothing about anyone. */
export const personIndexSizeQuery = defineQuery<{ fingerprints: number; cases: number }>('size');

/**
 * Removes the case from every fingerprint it was registered under (the person withdrew consent).
 * A signal, sent by the case's own activity under the case id alone: idempotent, and it needs no answer.
 */
export const forgetCaseSignal = defineSignal<[ForgetCaseRequest]>('forgetCase');

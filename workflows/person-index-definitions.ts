// The person index's typed surface: one long-lived workflow per scheme that remembers which cases
// were opened for which person, so a new referral can be flagged as a likely duplicate. It never
// sees a name, a date of birth or an NHS number: only keyed fingerprints (HMAC-SHA256 under a key
// the client holds), which cannot be reversed or recomputed without that key.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PossibleDuplicateCase } from '../machines/events';

export function personIndexWorkflowId(schemeId: string): string {
  return `person-index-${schemeId}`;
}

export type PersonMatch = PossibleDuplicateCase['match'];

/** Hex HMAC-SHA256 digests of the normalised identifiers; `nhsNumber` only when the host knew it. */
export interface PersonFingerprints {
  nhsNumber?: string;
  nameAndDateOfBirth: string;
}

export interface RegisterPersonRequest {
  caseId: string;
  fingerprints: PersonFingerprints;
}

/** Another case that looks like the same person: its id and how it matched, nothing about the person. */
export type PossibleDuplicate = PossibleDuplicateCase;

export interface ForgetCaseRequest {
  caseId: string;
}

export interface PersonIndexState {
  /** `<match>:<fingerprint>` → case ids, oldest first. */
  cases: Record<string, string[]>;
}

export interface PersonIndexInput {
  schemeId: string;
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

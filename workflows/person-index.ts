// The scheme's person index, an entity workflow: fingerprints of people referred → their cases.
// Its state lives only in workflow history and continue-as-new input, both of which go through the
// payload codec, and holds keyed fingerprints rather than identifiers in any case.
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  forgetCaseSignal,
  MAX_CASES_PER_FINGERPRINT,
  MAX_SHARD_FINGERPRINTS,
  PERSON_MATCHES,
  personIndexSizeQuery,
  registerPersonUpdate,
  type PersonIndexInput,
  type PersonIndexState,
  type PersonMatch,
  type PossibleDuplicate,
  type RegisterPersonRequest,
} from './person-index-definitions';

const FINGERPRINT = /^[0-9a-f]{64}$/;
const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const MATCHES = PERSON_MATCHES;

function validate(request: RegisterPersonRequest): void {
  // Messages name fields only: a fingerprint is harmless, but the rule is the same everywhere.
  if (!request || typeof request.caseId !== 'string' || !CASE_ID.test(request.caseId)) {
    throw ApplicationFailure.nonRetryable('caseId: must be a case id', 'InvalidCommand');
  }
  const fp = request.fingerprints;
  if (!fp || (fp.nameAndDateOfBirth === undefined && fp.nhsNumber === undefined)) {
    throw ApplicationFailure.nonRetryable('fingerprints: needs at least one', 'InvalidCommand');
  }
  for (const match of MATCHES) {
    const value = fp[match];
    if (value !== undefined && (typeof value !== 'string' || !FINGERPRINT.test(value))) {
      throw ApplicationFailure.nonRetryable(`fingerprints.${match}: must be 64 lower-case hex digits`, 'InvalidCommand');
    }
  }
}

/**
 * Records the case under its fingerprints in `state` and answers with the other cases that share
 * one. Pure (the workflow's handler, and the unit test that fills a scheme's shards).
 */
export function registerPerson(state: PersonIndexState, { caseId, fingerprints }: RegisterPersonRequest): PossibleDuplicate[] {
  const found = new Map<string, PersonMatch>();
  for (const match of MATCHES) {
    const fingerprint = fingerprints[match];
    if (fingerprint === undefined) continue;
    const key = `${match}:${fingerprint}`;
    state.size ??= Object.keys(state.cases).length;
    if (!(key in state.cases)) state.size += 1;
    const cases = (state.cases[key] ??= []);
    for (const other of cases) if (other !== caseId && !found.has(other)) found.set(other, match);
    if (!cases.includes(caseId)) cases.push(caseId);
    if (cases.length > MAX_CASES_PER_FINGERPRINT) cases.splice(0, cases.length - MAX_CASES_PER_FINGERPRINT);
  }
  // Bounded: past its cap the shard forgets its oldest fingerprints (keys keep insertion order).
  if ((state.size ?? 0) > MAX_SHARD_FINGERPRINTS) {
    // Enumerating the keys costs their number, so only when one must go.
    for (const oldest in state.cases) {
      if (state.size! <= MAX_SHARD_FINGERPRINTS) break;
      delete state.cases[oldest];
      state.size! -= 1;
    }
  }
  return [...found].map(([other, match]) => ({ caseId: other, match }));
}

export async function personIndex(input: PersonIndexInput): Promise<void> {
  const state: PersonIndexState = input.state ?? { cases: {} };

  setHandler(registerPersonUpdate, (request): PossibleDuplicate[] => registerPerson(state, request), { validator: validate });

  setHandler(forgetCaseSignal, (request) => {
    // A malformed signal cannot be refused (signals have no validator); it is ignored, never stored.
    if (!request || typeof request.caseId !== 'string' || !CASE_ID.test(request.caseId)) return;
    for (const [key, cases] of Object.entries(state.cases)) {
      const kept = cases.filter((c) => c !== request.caseId);
      if (kept.length === 0) {
        delete state.cases[key];
        if (state.size !== undefined) state.size -= 1;
      } else if (kept.length !== cases.length) state.cases[key] = kept;
    }
  });

  setHandler(personIndexSizeQuery, () => ({
    fingerprints: Object.keys(state.cases).length,
    cases: new Set(Object.values(state.cases).flat()).size,
  }));

  const limit = input.limits?.historyEvents ?? Infinity;
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > limit);
  await condition(allHandlersFinished);
  await continueAsNew<typeof personIndex>({ ...input, state });
}

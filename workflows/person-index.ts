// The scheme's person index, an entity workflow: fingerprints of people referred → their cases.
// Its state lives only in workflow history and continue-as-new input, both of which go through the
// payload codec, and holds keyed fingerprints rather than identifiers in any case.
import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  forgetCaseSignal,
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
// Strongest evidence first: a case matched on both is reported once, as an NHS-number match.
const MATCHES: readonly PersonMatch[] = ['nhsNumber', 'nameAndDateOfBirth'];

function validate(request: RegisterPersonRequest): void {
  // Messages name fields only: a fingerprint is harmless, but the rule is the same everywhere.
  if (!request || typeof request.caseId !== 'string' || !CASE_ID.test(request.caseId)) {
    throw ApplicationFailure.nonRetryable('caseId: must be a case id', 'InvalidCommand');
  }
  const fp = request.fingerprints;
  if (!fp || typeof fp.nameAndDateOfBirth !== 'string' || !FINGERPRINT.test(fp.nameAndDateOfBirth)) {
    throw ApplicationFailure.nonRetryable('fingerprints.nameAndDateOfBirth: must be 64 lower-case hex digits', 'InvalidCommand');
  }
  if (fp.nhsNumber !== undefined && (typeof fp.nhsNumber !== 'string' || !FINGERPRINT.test(fp.nhsNumber))) {
    throw ApplicationFailure.nonRetryable('fingerprints.nhsNumber: must be 64 lower-case hex digits', 'InvalidCommand');
  }
}

export async function personIndex(input: PersonIndexInput): Promise<void> {
  const state: PersonIndexState = input.state ?? { cases: {} };

  setHandler(
    registerPersonUpdate,
    ({ caseId, fingerprints }): PossibleDuplicate[] => {
      const found = new Map<string, PersonMatch>();
      for (const match of MATCHES) {
        const fingerprint = fingerprints[match];
        if (fingerprint === undefined) continue;
        const key = `${match}:${fingerprint}`;
        const cases = (state.cases[key] ??= []);
        for (const other of cases) if (other !== caseId && !found.has(other)) found.set(other, match);
        if (!cases.includes(caseId)) cases.push(caseId);
      }
      return [...found].map(([other, match]) => ({ caseId: other, match }));
    },
    { validator: validate },
  );

  setHandler(forgetCaseSignal, (request) => {
    // A malformed signal cannot be refused (signals have no validator); it is ignored, never stored.
    if (!request || typeof request.caseId !== 'string' || !CASE_ID.test(request.caseId)) return;
    for (const [key, cases] of Object.entries(state.cases)) {
      const kept = cases.filter((c) => c !== request.caseId);
      if (kept.length === 0) delete state.cases[key];
      else if (kept.length !== cases.length) state.cases[key] = kept;
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

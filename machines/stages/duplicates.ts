import { possibleDuplicate, type PathwayContext } from '../context';
import type { PathwayEvent } from '../events';
import { bySupervisor, payload, update, type Args } from './kit';

/*
 * Possible duplicates, in every stage and on hold: the flag from the person index, and a
 * supervisor's answer to it (a duplicate closes the case, giving back any place it held).
 */

/** A supervisor answers an open flag; `of`, when given, must be one of the flagged cases. */
function duplicateResolvable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'DUPLICATE.RESOLVE');
  if (!bySupervisor(event) || !possibleDuplicate(context)) return false;
  return e.of === undefined || context.duplicates!.cases.some((d) => d.caseId === e.of);
}

export const duplicateGuards = {
  duplicatesNew: ({ context, event }: Args) => {
    const known = new Set(context.duplicates?.cases.map((d) => d.caseId) ?? []);
    return payload(event, 'DUPLICATES.FLAGGED').duplicates.some((d) => !known.has(d.caseId));
  },
  confirmsDuplicate: ({ context, event }: Args) =>
    duplicateResolvable(context, event) && payload(event, 'DUPLICATE.RESOLVE').resolution === 'duplicate',
  clearsDuplicate: ({ context, event }: Args) =>
    duplicateResolvable(context, event) && payload(event, 'DUPLICATE.RESOLVE').resolution === 'notDuplicate',
};

export const duplicateActions = {
  recordDuplicates: update({
    duplicates: ({ context, event }) => {
      const e = payload(event, 'DUPLICATES.FLAGGED');
      const cases = [...(context.duplicates?.cases ?? [])];
      for (const d of e.duplicates) if (!cases.some((c) => c.caseId === d.caseId)) cases.push({ caseId: d.caseId, match: d.match });
      // A new match is news a supervisor has not answered yet, even if they answered an earlier one.
      return { cases, flaggedAt: context.duplicates?.flaggedAt ?? e.at };
    },
  }),
  resolveDuplicate: update({
    duplicates: ({ context, event }) => {
      const e = payload(event, 'DUPLICATE.RESOLVE');
      return { ...context.duplicates!, resolution: { resolution: e.resolution, ...(e.of !== undefined && { of: e.of }), at: e.at, by: e.actor } };
    },
  }),
};

export const duplicateHandling = {
  'DUPLICATES.FLAGGED': { guard: 'duplicatesNew', actions: 'recordDuplicates' },
  'DUPLICATE.RESOLVE': [
    {
      guard: 'confirmsDuplicate',
      target: '#discharged',
      actions: ['resolveDuplicate', { type: 'recordDischarge', params: { reason: 'duplicate' } }, 'releaseHeldPlace'],
    },
    { guard: 'clearsDuplicate', actions: 'resolveDuplicate' },
  ],
} as const;

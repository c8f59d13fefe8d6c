// The connection loop's side effects: the referral and its nudges sent to the provider, and the
// next match the scheme's service directory suggests when a connection ends without the person
// joining. The link worker is told through the existing supervisor notice (activities/index.ts).
import { z } from 'zod';
import type { ServiceDirectory } from '../directory/types';
import { safeIdSchema } from '../machines/ids';
import { MAX_TAG } from '../machines/limits';
import type { ProviderNotice } from '../machines/notices';
import type { ActivityEnvelope } from '../workflows/definitions';
import type { ConnectionMatchBasis } from '../workflows/connection-definitions';
import { deliverMessage, envelopeSchema, MAX_SUGGESTIONS, parse, type ActivityDeps, type DeliveryReceipt } from './index';

export interface ConnectionActivityDeps extends ActivityDeps {
  /** The scheme's service directory, if the worker has one; without it no next match is suggested. */
  directory?: ServiceDirectory;
}

const connectionIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$/, { error: 'must be an id' });

const providerNoticeSchema = z.object({
  kind: z.enum(['referral', 'nudge']),
  connectionId: connectionIdSchema,
  serviceId: safeIdSchema,
  n: z.int().min(0).max(100),
  responseDueAt: z.number().int().min(0),
}) satisfies z.ZodType<ProviderNotice>;

const suggestionRequestSchema = z.object({
  schemeId: safeIdSchema,
  match: z.object({
    needs: z.array(z.string().min(1).max(MAX_TAG)).max(32),
    area: z.string().min(1).max(MAX_TAG).optional(),
    needsStepFree: z.boolean().optional(),
    needsFree: z.boolean().optional(),
  }),
  excludeServiceIds: z.array(safeIdSchema).max(100),
});

export interface Suggestion {
  serviceId: string;
  name: string;
  explanation: string;
}

export function createConnectionActivities(deps: ConnectionActivityDeps) {
  return {
    /** Sends the provider the referral, or a nudge to answer it; once per key, however often retried. */
    async notifyProvider(input: ActivityEnvelope & { notice: ProviderNotice }): Promise<DeliveryReceipt> {
      const { notice, ...envelope } = parse('notifyProvider', envelopeSchema.extend({ notice: providerNoticeSchema }), input);
      return deliverMessage(deps, 'notifyProvider', 'provider', envelope, notice);
    },

    /** The directory's best next services for the same needs, those already tried left out. */
    async suggestNextMatch(input: { schemeId: string; match: ConnectionMatchBasis; excludeServiceIds: string[] }): Promise<Suggestion[]> {
      const { schemeId, match, excludeServiceIds } = parse('suggestNextMatch', suggestionRequestSchema, input);
      if (!deps.directory || match.needs.length === 0) return [];
      let results;
      try {
        results = await deps.directory.match({
          schemeId,
          needs: match.needs,
          ...(match.area !== undefined && { area: match.area }),
          ...(match.needsStepFree !== undefined && { needsStepFree: match.needsStepFree }),
          ...(match.needsFree !== undefined && { needsFree: match.needsFree }),
          excludeServiceIds,
          limit: MAX_SUGGESTIONS,
        });
      } catch (err) {
        // A need the directory has no term for can never match: no suggestion, and the link worker
        // is still told. Anything else (the database away) is retried like any activity.
        if ((err as Error | undefined)?.name === 'UnknownNeedError') return [];
        throw err;
      }
      // Directory text is reference data, but a notice caps what it carries.
      const cap = (s: string) => (s.length > 500 ? `${s.slice(0, 497)}...` : s);
      return results
        .filter((r) => !excludeServiceIds.includes(r.serviceId) && safeIdSchema.safeParse(r.serviceId).success)
        .slice(0, MAX_SUGGESTIONS)
        .map((r) => ({ serviceId: r.serviceId, name: cap(r.name), explanation: cap(r.explanation) }));
    },
  };
}

export type ConnectionActivities = ReturnType<typeof createConnectionActivities>;

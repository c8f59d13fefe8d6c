// The demo's connections to community services (docs/connections.md): the shipped sample directory
// imported for the demo's scheme, the directory's matches for a person's needs and barriers, and
// providers played through the client: one accepts and the person attends until they complete,
// one accepts and the person stops, one declines, one never answers and is declined for at the
// scaled deadline after its nudges (the link worker told, with the next match, which is proposed).
import { join } from 'node:path';
import type { PathwayClient } from '../client';
import type { ConnectionView } from '../workflows/connection-definitions';
import { importDirectory, type ImportReport, type MatchQuery, type SqlDirectory } from '../directory';
import type { ActivityCategory } from '../directory/taxonomy';

/** The invented borough's ORUK export (directory/sample/, docs/directory.md). */
export const SAMPLE_DIRECTORY = join(__dirname, '..', 'directory', 'sample', 'services.json');

/**
 * Imports the sample into the scheme's directory. An import is the directory (docs/directory.md), so
 * running it again changes nothing and never fails.
 */
export function importSampleDirectory(directory: SqlDirectory, schemeId: string): Promise<ImportReport> {
  return importDirectory(directory, schemeId, SAMPLE_DIRECTORY);
}

/** Who answers for every provider in the demo: their staff, through the client as a provider's system would. */
const staff = { role: 'provider', id: 'staff-desk' } as const;

export interface DemoConnectionsOptions {
  client: PathwayClient;
  directory: SqlDirectory;
  schemeId: string;
  /** One policy day in real milliseconds. */
  dayMs: number;
  /** The link worker acting on the case now. */
  linkWorker(caseId: string): Promise<{ role: 'linkWorker'; id: string }>;
  /** Who the case is, for the demo's lines (a label, never the person's details). */
  label(caseId: string): string;
}

/** What a person looks for: the directory's needs and the barriers from their first visit. */
export interface Need {
  needs: string[];
  category: ActivityCategory;
  area: string;
  barriers?: Pick<MatchQuery, 'needsTransport' | 'needsStepFree' | 'needsFree'>;
}

export function demoConnections({ client, directory, schemeId, dayMs, linkWorker, label }: DemoConnectionsOptions) {
  const sleep = (days: number) => new Promise((r) => setTimeout(r, days * dayMs));
  const say = (caseId: string, what: string) => console.log(`  ${label(caseId)}: ${what}`);
  const days = (c: Pick<ConnectionView, 'sentAt' | 'respondedAt' | 'endedAt'>) => (((c.respondedAt ?? c.endedAt ?? 0) - (c.sentAt ?? 0)) / dayMs).toFixed(1);

  /** Proposes a service: the directory's best match for the need, or a suggestion the engine made. */
  const propose = async (caseId: string, serviceId: string, category: ActivityCategory, why: string) => {
    const service = await directory.getService(schemeId, serviceId);
    const c = await client.proposeConnection(caseId, {
      serviceId,
      category,
      ...(service?.organizationId && { providerId: service.organizationId }),
      actor: await linkWorker(caseId),
    });
    say(caseId, `proposed ${service?.name ?? serviceId} (${why})`);
    return c;
  };

  /** The directory's best match, leaving out the services the case already had a connection to. */
  const bestMatch = async (caseId: string, need: Need) => {
    const tried = ((await client.getCase(caseId)).connections ?? []).map((c) => c.serviceId);
    const [best] = await directory.match({ schemeId, needs: need.needs, area: need.area, ...need.barriers, excludeServiceIds: tried, limit: 1 });
    if (!best) throw new Error(`${label(caseId)}: the sample directory has no ${need.needs.join(' or ')} in ${need.area}`);
    return propose(caseId, best.serviceId, need.category, best.explanation);
  };

  const accept = async (c: ConnectionView, afterDays: number) => {
    await sleep(afterDays);
    await client.respondToConnection(c.connectionId, { accept: true, actor: staff });
  };
  const attend = async (c: ConnectionView, times: number, everyDays = 7) => {
    for (let i = 0; i < times; i++) {
      await sleep(everyDays);
      await client.recordAttendance(c.connectionId, { actor: staff });
    }
  };
  /** The connection once `ended` holds of it, or as it is after `giveUpDays`. */
  const until = async (c: ConnectionView, ended: (v: ConnectionView) => boolean, giveUpDays: number): Promise<ConnectionView> => {
    const giveUp = Date.now() + giveUpDays * dayMs;
    for (;;) {
      const v = await client.getConnection(c.connectionId);
      if (ended(v) || Date.now() > giveUp) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** The engine's next match for a connection that ended unanswered or declined, proposed in its place. */
  const proposeSuggestion = async (caseId: string, ended: ConnectionView) => {
    const [next] = ended.suggestions;
    if (!next) return undefined;
    return propose(caseId, next.serviceId, ended.category, `the engine's next match: ${next.explanation}`);
  };

  return {
    /** Accepted after two days, attended weekly `times` times, then completed. */
    async attendsAndCompletes(caseId: string, need: Need, times: number) {
      const c = await bestMatch(caseId, need);
      await accept(c, 2);
      await attend(c, times);
      await client.completeConnection(c.connectionId, { actor: staff });
      const done = await client.getConnection(c.connectionId);
      say(caseId, `${c.serviceId} answered after ${days(done)} days, attended ${done.attendances} times, completed`);
    },
    /** Accepted after three days, attended `times` times, then the person stops, with the reason. */
    async attendsAndStops(caseId: string, need: Need, times: number, reason: string) {
      const c = await bestMatch(caseId, need);
      await accept(c, 3);
      await attend(c, times);
      await client.stopConnection(c.connectionId, { reason, actor: await linkWorker(caseId) });
      const done = await client.getConnection(c.connectionId);
      say(caseId, `${c.serviceId} answered after ${days(done)} days, attended ${done.attendances} times, stopped`);
    },
    /** Never answered: nudged, declined for at the deadline; the suggested next match accepts and is attended. */
    async neverAnswered(caseId: string, need: Need) {
      const c = await bestMatch(caseId, need);
      // The deadline (14 days, scaled) ends it; the next match is asked for before the link worker is
      // told. Waiting is generous (six weeks) for a busy machine: it ends as soon as that is done.
      const ended = await until(c, (v) => v.status !== 'sent' && v.suggestions.length > 0, 42);
      say(caseId, `${c.serviceId} never answered: nudged ${ended.nudgesSent} time(s), ${ended.status} after ${days(ended)} days; the link worker was told`);
      const next = await proposeSuggestion(caseId, ended);
      if (!next) return;
      await accept(next, 1);
      await attend(next, 2);
    },
    /** Declined by the provider (with a reason the link worker hears); the suggested next match accepts, attended once. */
    async declined(caseId: string, need: Need, reason: string) {
      const c = await bestMatch(caseId, need);
      await sleep(1);
      await client.respondToConnection(c.connectionId, { accept: false, reason, actor: staff });
      const ended = await until(c, (v) => v.suggestions.length > 0, 14);
      say(caseId, `${c.serviceId} declined after ${days(ended)} days; the link worker was told`);
      const next = await proposeSuggestion(caseId, ended);
      if (!next) return;
      await accept(next, 2);
      await attend(next, 1);
    },
  };
}

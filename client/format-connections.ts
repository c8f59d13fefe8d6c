// How the CLI shows connections and providers: plain tables, times in UTC (client/format.ts).
import type { ProviderFigures } from '../evidence/connections';
import type { ConnectionSummary } from '../machines/connection';
import { table, time } from './format';

export function connectionsTable(connections: ConnectionSummary[]): string {
  if (connections.length === 0) return 'no connections';
  return table(
    ['connection', 'service', 'category', 'status', 'sent', 'answer due', 'answered', 'nudges', 'attendances'],
    connections.map((c) => [
      c.connectionId,
      c.serviceId,
      c.category,
      c.autoDeclined ? `${c.status} (no answer)` : c.status,
      time(c.sentAt),
      time(c.responseDueAt),
      time(c.respondedAt),
      c.nudgesSent,
      c.attendances,
    ]),
  );
}

export function providersTable(providers: ProviderFigures[]): string {
  if (providers.length === 0) return 'no providers';
  return table(
    ['provider', 'sent', 'answered', 'within deadline', 'auto-declined', 'median days to answer'],
    providers.map((p) => [p.providerId, p.sent, p.answered, p.withinDeadline, p.autoDeclined, p.medianResponseDays === null ? '' : p.medianResponseDays.toFixed(1)]),
  );
}

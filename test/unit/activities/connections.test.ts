// The connection loop's activities against the real SQLite directory with the sample services:
// the next match for a category leaves out every service tried, a need the directory has no term
// for suggests nothing (rather than retrying for ever), and the provider's notices go out once a key.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnectionActivities } from '../../../activities/connections';
import { MemorySink } from '../../../activities/outbox';
import { importDirectory, openDirectory, type SqlDirectory } from '../../../directory';
import { digitFree } from '../../../machines/ids';

describe('connection activities', () => {
  const open: SqlDirectory[] = [];
  afterAll(async () => {
    for (const d of open) await d.close();
  });

  it('suggests the next services for the category from the sample directory, leaving out the ones tried', async () => {
    const directory = await openDirectory(':memory:');
    open.push(directory);
    const schemeId = `sch-${digitFree(randomUUID().slice(0, 8))}`;
    await importDirectory(directory, schemeId, join(__dirname, '../../../directory/sample/services.json'));
    const { suggestNextMatch } = createConnectionActivities({ sink: new MemorySink(), directory });
    const first = await suggestNextMatch({ schemeId, match: { needs: ['active'] }, excludeServiceIds: [] });
    expect(first.length).toBeGreaterThan(1);
    const tried = first.slice(0, 2).map((s) => s.serviceId);
    const next = await suggestNextMatch({ schemeId, match: { needs: ['active'] }, excludeServiceIds: tried });
    expect(next.length).toBeGreaterThan(0);
    for (const s of next) expect(tried).not.toContain(s.serviceId);
    for (const s of next) expect((await directory.getService(schemeId, s.serviceId))?.categories).toContain('active');
    expect(await suggestNextMatch({ schemeId, match: { needs: ['no-such-need'] }, excludeServiceIds: [] })).toEqual([]);
  });

  it('sends the provider each notice once under its key', async () => {
    const sink = new MemorySink();
    const { notifyProvider } = createConnectionActivities({ sink });
    const input = {
      caseId: 'case-ref-a',
      schemeId: 'sch-a',
      idempotencyKey: 'case-ref-a:conn:svc-a:nudge-1',
      notice: { kind: 'nudge' as const, connectionId: 'case-ref-a:conn:svc-a', serviceId: 'svc-a', n: 1, responseDueAt: 1 },
    };
    expect((await notifyProvider(input)).duplicate).toBe(false);
    expect((await notifyProvider(input)).duplicate).toBe(true);
    expect(sink.messages.map((m) => m.channel)).toEqual(['provider']);
    await expect(notifyProvider({ ...input, notice: { ...input.notice, serviceId: 'Jane Smith' } })).rejects.toThrow(/notice\.serviceId/);
  });
});

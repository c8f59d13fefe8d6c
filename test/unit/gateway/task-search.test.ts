import { describe, expect, it } from 'vitest';
import { caseSearchAttributes } from '../../../workflows/case-search-attributes';
import { taskListFilters, type TaskSearch } from '../../../gateway/task-search';
import { TASK_STATUSES } from '../../../machines/task-status';
import { taskFor } from '../../../gateway/fhir/resources';
import { Case } from '../machine/driver';
import { dischargedCases, openCases, viewOf } from './fhir-cases';

const at = Date.parse('2026-11-30T09:00:00Z');
const since = (prefix: TaskSearch['lastUpdated'][number]['prefix'], t = at) => ({ prefix, at: t, raw: `${prefix}${new Date(t).toISOString()}` });

describe('the Task search as visibility filters', () => {
  it('turns status and _lastUpdated into list filters, ge and le a millisecond out', () => {
    expect(taskListFilters({ statuses: ['requested', 'requested', 'on-hold'], lastUpdated: [] })).toEqual({ taskStatus: ['requested', 'on-hold'] });
    expect(taskListFilters({ lastUpdated: [since('gt')] })).toEqual({ changedAfter: at });
    expect(taskListFilters({ lastUpdated: [since('ge')] })).toEqual({ changedAfter: at - 1 });
    expect(taskListFilters({ lastUpdated: [since('lt')] })).toEqual({ changedBefore: at });
    expect(taskListFilters({ lastUpdated: [since('le')] })).toEqual({ changedBefore: at + 1 });
    // Several bounds: the tightest of each side.
    expect(taskListFilters({ lastUpdated: [since('gt'), since('gt', at + 5), since('lt', at + 60), since('le', at + 10)] })).toEqual({ changedAfter: at + 5, changedBefore: at + 11 });
  });
});

describe('the Task status a case publishes', () => {
  const published = (c: Case, changedAt?: number) => {
    const view = viewOf(c);
    const pairs = caseSearchAttributes(c.context, view.stage, 0, changedAt === undefined ? undefined : { changedAt });
    return (name: string) => pairs.find((p) => p.key.name === name)?.value;
  };

  it('is the status the gateway gives its Task, at every open stage and every discharge', () => {
    const cases = [...openCases().map(([, c]) => c), ...dischargedCases().map(([, , c]) => c)];
    const seen = new Set<string>();
    for (const c of cases) {
      const value = published(c, at);
      expect(value('PathwayTaskStatus')).toBe(taskFor(viewOf(c)).status);
      expect((value('PathwayChangedAt') as Date).getTime()).toBe(at);
      seen.add(value('PathwayTaskStatus') as string);
    }
    expect([...seen].sort()).toEqual([...TASK_STATUSES].sort());
  });

  it('is not published by a case replaying history written before the change', () => {
    const value = published(new Case());
    expect(value('PathwayTaskStatus')).toBeUndefined();
    expect(value('PathwayChangedAt')).toBeUndefined();
  });
});

// A scheme's service directory held in memory, for tests that run before (or without) the SQLite
// directory: it keeps the contract (directory/types.ts), matching by category and leaving out the
// services already tried, so the connection loop's next-match suggestion is exercised for real.
import type { DirectoryService, MatchQuery, MatchResult, ServiceDirectory } from '../../directory/types';

export const TEST_SERVICES: Array<Omit<DirectoryService, 'schemeId'>> = [
  { id: 'svc-lunch-club', name: 'Brandywell lunch club', organizationName: 'Brandywell Community Association', categories: ['connecting'], taxonomyTerms: [], stepFree: true, free: true, status: 'active' },
  { id: 'svc-mens-shed', name: "Bogside men's shed", organizationName: 'Sheds Together', categories: ['connecting', 'practical'], taxonomyTerms: [], stepFree: false, free: true, status: 'active' },
  { id: 'svc-walking-group', name: 'Riverside walking group', organizationName: 'Walk Well', categories: ['active'], taxonomyTerms: [], stepFree: false, free: true, status: 'active' },
  { id: 'svc-art-class', name: 'Creative cafe art class', organizationName: 'Arts for All', categories: ['creative'], taxonomyTerms: [], stepFree: true, free: false, status: 'active' },
  { id: 'svc-chair-yoga', name: 'Chair yoga', organizationName: 'Walk Well', categories: ['active'], taxonomyTerms: [], stepFree: true, free: true, status: 'active' },
];

export function testDirectory(schemeId: string, services = TEST_SERVICES): ServiceDirectory {
  const all = services.map((s) => ({ ...s, schemeId }));
  return {
    async match(query: MatchQuery): Promise<MatchResult[]> {
      return all
        .filter((s) => s.schemeId === query.schemeId && s.status === 'active' && !(query.excludeServiceIds ?? []).includes(s.id))
        .filter((s) => s.categories.some((c) => query.needs.includes(c)))
        .filter((s) => (!query.needsStepFree || s.stepFree) && (!query.needsFree || s.free))
        .map((s) => ({ serviceId: s.id, name: s.name, score: 1, explanation: `matches ${s.categories.filter((c) => query.needs.includes(c)).join(', ')}${s.stepFree ? '; step-free' : ''}` }))
        .slice(0, query.limit ?? 10);
    },
    async getService(scheme: string, serviceId: string) {
      return all.find((s) => s.schemeId === scheme && s.id === serviceId);
    },
    async close() {},
  };
}

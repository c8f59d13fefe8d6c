// How long the console takes to render a list of 1,000 open cases: the render function alone
// (`caseListPage`, which builds the whole HTML page from case summaries), with generated summaries,
// so it measures the console's own cost, not Temporal visibility's. Prints p50/p95/max of 200 runs.
import { caseListPage } from '../console/views';
import type { CaseSummary } from '../client';
import { STAGES } from '../machines';

const N = 1000;
const RUNS = 200;
const now = Date.now();
const cases: CaseSummary[] = Array.from({ length: N }, (_, i) => ({
  caseId: `case-ref-${String(i).padStart(6, '0')}`,
  referralId: `ref-${String(i).padStart(6, '0')}`,
  schemeId: 'bench',
  stage: STAGES[i % STAGES.length]!,
  linkWorkerId: `lw-${i % 7}`,
  escalated: i % 11 === 0,
  possibleDuplicate: false,
  ...(i % 5 !== 0 && { nextDueAt: now + (i - 500) * 3_600_000 }),
  overdue: i < 500 && i % 5 !== 0,
  open: true,
  startedAt: now - i * 86_400_000,
}));
const ctx = { base: '/console', user: { id: 'sup-1', role: 'supervisor' as const, schemes: ['bench'] }, csrf: 'x'.repeat(43), now };

for (let i = 0; i < 20; i++) caseListPage(ctx, cases, 'Cases');
const times: number[] = [];
let bytes = 0;
for (let i = 0; i < RUNS; i++) {
  const t = process.hrtime.bigint();
  bytes = caseListPage(ctx, cases, 'Cases').length;
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
console.log(`console list of ${N} open cases, render only (${RUNS} runs, ${(bytes / 1024).toFixed(0)} KiB of HTML):`);
console.log(`  p50 ${at(0.5).toFixed(2)} ms   p95 ${at(0.95).toFixed(2)} ms   max ${at(1).toFixed(2)} ms   (budget 300 ms p95)`);
if (at(0.95) > 300) process.exitCode = 1;

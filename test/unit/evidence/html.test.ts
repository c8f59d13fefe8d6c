import { describe, expect, it } from 'vitest';
import { reportToHtml } from '../../../evidence/html';
import { buildCohortReport } from '../../../evidence/report';
import { cohortSpecs, recordOf } from './cohort';

const report = buildCohortReport(cohortSpecs().map(recordOf), { schemeId: 'north' });
const html = reportToHtml(report);

function svgs(page: string): string[] {
  return page.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
}

describe('HTML report', () => {
  it('writes SVG whose every attribute is well quoted (the font list included)', () => {
    const tags = svgs(html).flatMap((svg) => svg.match(/<[a-zA-Z][^>]*>/g) ?? []);
    expect(tags.length).toBeGreaterThan(0);
    const broken = tags.filter((tag) => !/^<[a-zA-Z][\w:-]*(\s+[\w:-]+="[^"]*")*\s*\/?>$/.test(tag));
    expect(broken).toEqual([]);
    expect(html).toContain('font-family');
  });

  it('renders a period whose dates are out of a Date\'s range instead of throwing', () => {
    expect(() => reportToHtml(buildCohortReport([], { from: 9e15, to: 8.7e15 }))).not.toThrow();
  });

  it('is one document with one inline SVG per chart', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg\b/g)).toHaveLength(4);
    expect(html.match(/<figure>/g)).toHaveLength(4);
  });

  it('runs no script and fetches nothing', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\bsrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
    expect(html).not.toMatch(/href\s*=\s*["']?https?:/i);
    // The only addresses left are XML namespace names, which nothing dereferences.
    const urls = html.match(/https?:\/\/[^\s"'<>]+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
  });

  it('draws the charts the issue asks for, with the report figures', () => {
    const [funnel, change, discharge, deadlines] = svgs(html);
    expect(funnel).toContain('From referral to completion');
    expect(funnel).toContain(`Referred: ${report.totals.referrals} (100%)`);
    expect(change).toContain('Change in wellbeing');
    expect(change).toContain(`SWEMWBS (n=${report.person.measures[0]!.withBoth})`);
    expect(discharge).toContain('Discharge reasons');
    expect(discharge).toContain('handedOff');
    expect(deadlines).toContain('Deadlines met and missed');
    expect(deadlines).toContain(report.system.deadlines.byMonth[0]!.month);
  });

  it('gives no two elements the same id, so one chart cannot borrow another’s clip path', () => {
    const ids = html.match(/\sid="[^"]+"/g) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('escapes text it did not write', () => {
    const page = reportToHtml(buildCohortReport([]), { title: 'Bogside & <Brandywell>' });
    expect(page).toContain('<title>Bogside &#38; &#60;Brandywell&#62;</title>');
    expect(page).not.toContain('<Brandywell>');
  });

  it('still draws four charts for an empty period, saying there is nothing yet', () => {
    const page = reportToHtml(buildCohortReport([]));
    expect(page.match(/<svg\b/g)).toHaveLength(4);
    expect(page).toContain('No referrals in this period');
    expect(page).toContain('No discharges in this period');
  });

  it('is the same page every time for the same report', () => {
    expect(reportToHtml(report)).toBe(html);
  });
});

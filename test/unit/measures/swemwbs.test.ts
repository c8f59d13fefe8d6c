import { describe, expect, it } from 'vitest';
import { scoreMeasure, swemwbsMetricScore } from '../../../machines/measures';

// Written out from Warwick Medical School's SWEMWBS raw-to-metric conversion table
// (Stewart-Brown et al. 2009; Ng Fat et al. 2017, Table 1), not from the implementation.
const PUBLISHED: ReadonlyArray<[raw: number, metric: number]> = [
  [7, 7.0],
  [8, 9.51],
  [9, 11.25],
  [10, 12.4],
  [11, 13.33],
  [12, 14.08],
  [13, 14.75],
  [14, 15.32],
  [15, 15.84],
  [16, 16.36],
  [17, 16.88],
  [18, 17.43],
  [19, 17.98],
  [20, 18.59],
  [21, 19.25],
  [22, 19.98],
  [23, 20.73],
  [24, 21.54],
  [25, 22.35],
  [26, 23.21],
  [27, 24.11],
  [28, 25.03],
  [29, 26.02],
  [30, 27.03],
  [31, 28.13],
  [32, 29.31],
  [33, 30.7],
  [34, 32.55],
  [35, 35.0],
];

/** Seven answers in 1..5 that add up to `raw`. */
function answersFor(raw: number): number[] {
  const answers = Array<number>(7).fill(1);
  let left = raw - 7;
  for (let i = 0; i < 7 && left > 0; i++) {
    const add = Math.min(4, left);
    answers[i] = 1 + add;
    left -= add;
  }
  return answers;
}

describe('SWEMWBS raw to metric conversion', () => {
  it('covers every raw total from 7 to 35', () => {
    expect(PUBLISHED.map(([raw]) => raw)).toEqual(Array.from({ length: 29 }, (_, i) => i + 7));
  });

  it.each(PUBLISHED)('raw %i converts to metric %f', (raw, metric) => {
    expect(swemwbsMetricScore(raw)).toBe(metric);
    const scored = scoreMeasure({ instrument: 'SWEMWBS', answers: answersFor(raw) });
    expect(scored.raw).toBe(raw);
    expect(scored.score).toBe(metric);
  });

  it('is strictly increasing, so a higher raw total never lowers the metric', () => {
    for (let i = 1; i < PUBLISHED.length; i++) {
      expect(PUBLISHED[i]![1]).toBeGreaterThan(PUBLISHED[i - 1]![1]);
    }
  });

  it.each([6, 36, 20.5, Number.NaN])('refuses raw %s outside the table', (raw) => {
    expect(() => swemwbsMetricScore(raw)).toThrow(RangeError);
  });
});

describe('SWEMWBS bands (Warwick PHQ-9 benchmarks; low merges probable and possible depression)', () => {
  // Boundaries sit between raw 22 (19.98) and 23 (20.73), and between raw 30 (27.03) and 31 (28.13).
  it.each([
    [7, 'low'],
    [22, 'low'],
    [23, 'moderate'],
    [30, 'moderate'],
    [31, 'high'],
    [35, 'high'],
  ] as const)('raw %i is %s', (raw, band) => {
    expect(scoreMeasure({ instrument: 'SWEMWBS', answers: answersFor(raw) }).band).toBe(band);
  });
});

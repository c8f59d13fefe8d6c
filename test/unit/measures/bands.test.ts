import { describe, expect, it } from 'vitest';
import {
  measureBands,
  measureDirection,
  measureScoreRange,
  scoreMeasure,
  type Instrument,
  type MeasureSubmission,
} from '../../../machines/measures';

/** `count` answers in min..max adding up to `total`, filled from the front. */
function spread(total: number, count: number, min: number, max: number): number[] {
  const answers = Array<number>(count).fill(min);
  let left = total - count * min;
  for (let i = 0; i < count && left > 0; i++) {
    const add = Math.min(max - min, left);
    answers[i] = min + add;
    left -= add;
  }
  if (left !== 0) throw new Error(`cannot make ${total} from ${count} answers`);
  return answers;
}

function submission(instrument: Instrument, answers: number[]): MeasureSubmission {
  return { instrument, answers } as MeasureSubmission;
}

describe('GAD-7 severity bands (0–4, 5–9, 10–14, 15–21)', () => {
  it.each([
    [0, 'minimal'],
    [4, 'minimal'],
    [5, 'mild'],
    [9, 'mild'],
    [10, 'moderate'],
    [14, 'moderate'],
    [15, 'severe'],
    [21, 'severe'],
  ] as const)('total %i is %s', (total, band) => {
    const scored = scoreMeasure(submission('GAD7', spread(total, 7, 0, 3)));
    expect(scored).toMatchObject({ raw: total, score: total, band });
  });
});

describe('PHQ-9 severity bands (0–4, 5–9, 10–14, 15–19, 20–27)', () => {
  it.each([
    [0, 'minimal'],
    [4, 'minimal'],
    [5, 'mild'],
    [9, 'mild'],
    [10, 'moderate'],
    [14, 'moderate'],
    [15, 'moderately severe'],
    [19, 'moderately severe'],
    [20, 'severe'],
    [27, 'severe'],
  ] as const)('total %i is %s', (total, band) => {
    const scored = scoreMeasure(submission('PHQ9', spread(total, 9, 0, 3)));
    expect(scored).toMatchObject({ raw: total, score: total, band });
  });
});

describe('UCLA-3 loneliness (ONS convention: 3–5 not lonely, 6–9 lonely)', () => {
  it.each([
    [3, 'not lonely'],
    [5, 'not lonely'],
    [6, 'lonely'],
    [9, 'lonely'],
  ] as const)('total %i is %s', (total, band) => {
    const scored = scoreMeasure(submission('UCLA3', spread(total, 3, 1, 3)));
    expect(scored).toMatchObject({ raw: total, score: total, band });
  });
});

describe('ONS4 personal wellbeing', () => {
  it.each([
    [0, 'low'],
    [4, 'low'],
    [5, 'medium'],
    [6, 'medium'],
    [7, 'high'],
    [8, 'high'],
    [9, 'very high'],
    [10, 'very high'],
  ] as const)('life satisfaction %i is %s and is the headline score', (life, band) => {
    const scored = scoreMeasure(submission('ONS4', [life, 5, 5, 5]));
    expect(scored).toMatchObject({ score: life, band });
    expect(scored.items?.lifeSatisfaction).toEqual({ score: life, band });
  });

  it('reports each item with its own band, anxiety on its reversed thresholds', () => {
    const scored = scoreMeasure(submission('ONS4', [8, 4, 9, 1]));
    expect(scored.items).toEqual({
      lifeSatisfaction: { score: 8, band: 'high' },
      worthwhile: { score: 4, band: 'low' },
      happiness: { score: 9, band: 'very high' },
      anxiety: { score: 1, band: 'very low' },
    });
  });

  it.each([
    [0, 'very low'],
    [1, 'very low'],
    [2, 'low'],
    [3, 'low'],
    [4, 'medium'],
    [5, 'medium'],
    [6, 'high'],
    [10, 'high'],
  ] as const)('anxiety %i is %s', (anxiety, band) => {
    expect(scoreMeasure(submission('ONS4', [5, 5, 5, anxiety])).items?.anxiety.band).toBe(band);
  });
});

describe('direction, bands and ranges', () => {
  it('says which way is better for change reporting', () => {
    expect(measureDirection('SWEMWBS')).toBe('higherIsBetter');
    expect(measureDirection('ONS4')).toBe('higherIsBetter');
    expect(measureDirection('GAD7')).toBe('lowerIsBetter');
    expect(measureDirection('PHQ9')).toBe('lowerIsBetter');
    expect(measureDirection('UCLA3')).toBe('lowerIsBetter');
  });

  it('lists bands lowest score first', () => {
    expect(measureBands('PHQ9')).toEqual(['minimal', 'mild', 'moderate', 'moderately severe', 'severe']);
    expect(measureBands('SWEMWBS')).toEqual(['low', 'moderate', 'high']);
    expect(measureBands('UCLA3')).toEqual(['not lonely', 'lonely']);
  });

  it('gives the range of the headline score', () => {
    expect(measureScoreRange('SWEMWBS')).toEqual({ min: 7, max: 35 });
    expect(measureScoreRange('GAD7')).toEqual({ min: 0, max: 21 });
    expect(measureScoreRange('PHQ9')).toEqual({ min: 0, max: 27 });
    expect(measureScoreRange('UCLA3')).toEqual({ min: 3, max: 9 });
    expect(measureScoreRange('ONS4')).toEqual({ min: 0, max: 10 });
  });

  it('keeps the answers it scored, copied', () => {
    const answers = [1, 2, 3, 0, 1, 2, 3];
    const scored = scoreMeasure(submission('GAD7', answers));
    expect(scored.answers).toEqual(answers);
    expect(scored.answers).not.toBe(answers);
    expect(scored.items).toBeUndefined();
  });
});

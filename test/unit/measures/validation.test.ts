import { describe, expect, it } from 'vitest';
import {
  measureSubmissionSchema,
  parseMeasureSubmission,
  scoreMeasure,
  type MeasureSubmission,
} from '../../../machines/measures';

function failures(input: unknown): string[] {
  const result = parseMeasureSubmission(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return result.errors;
}

function paths(input: unknown): PropertyKey[][] {
  const result = measureSubmissionSchema.safeParse(input);
  if (result.success) throw new Error('expected a failure');
  return result.error.issues.map((i) => i.path);
}

describe('measure submissions', () => {
  it('accepts a well-formed submission of each instrument', () => {
    const good: MeasureSubmission[] = [
      { instrument: 'SWEMWBS', answers: [1, 2, 3, 4, 5, 1, 2] },
      { instrument: 'GAD7', answers: [0, 1, 2, 3, 0, 1, 2] },
      { instrument: 'PHQ9', answers: [0, 1, 2, 3, 0, 1, 2, 3, 0] },
      { instrument: 'UCLA3', answers: [1, 2, 3] },
      { instrument: 'ONS4', answers: [0, 10, 5, 7] },
    ];
    for (const sub of good) expect(parseMeasureSubmission(sub)).toEqual({ success: true, data: sub });
  });

  it.each([
    ['SWEMWBS', 6, 7],
    ['SWEMWBS', 8, 7],
    ['GAD7', 9, 7],
    ['PHQ9', 7, 9],
    ['UCLA3', 4, 3],
    ['ONS4', 3, 4],
  ] as const)('rejects %s with %i answers, naming answers', (instrument, given, needed) => {
    const errors = failures({ instrument, answers: Array<number>(given).fill(1) });
    expect(errors).toEqual([`answers: ${instrument} needs exactly ${needed} answers`]);
  });

  it.each([
    ['SWEMWBS', [1, 2, 3, 0, 5, 1, 2], 3, '1 to 5'],
    ['SWEMWBS', [1, 2, 3, 4, 6, 1, 2], 4, '1 to 5'],
    ['GAD7', [0, 1, 2, 3, 4, 1, 2], 4, '0 to 3'],
    ['GAD7', [0, -1, 2, 3, 0, 1, 2], 1, '0 to 3'],
    ['PHQ9', [0, 1, 2, 3, 0, 1, 2, 3, 4], 8, '0 to 3'],
    ['UCLA3', [0, 2, 3], 0, '1 to 3'],
    ['UCLA3', [1, 2, 4], 2, '1 to 3'],
    ['ONS4', [0, 11, 5, 7], 1, '0 to 10'],
    ['ONS4', [0, 10, 5, -1], 3, '0 to 10'],
  ] as const)('rejects an out-of-range %s answer and names answers[i]', (instrument, answers, index, range) => {
    expect(paths({ instrument, answers })).toEqual([['answers', index]]);
    expect(failures({ instrument, answers })).toEqual([`answers[${index}]: must be a whole number from ${range}`]);
  });

  it('rejects non-integers and non-numbers at their index', () => {
    expect(failures({ instrument: 'GAD7', answers: [0, 1.5, 2, 3, 0, 1, 2] })).toEqual([
      'answers[1]: must be a whole number from 0 to 3',
    ]);
    expect(failures({ instrument: 'PHQ9', answers: [0, 1, 2, '3', 0, 1, 2, 3, 0] })).toEqual([
      'answers[3]: must be a whole number from 0 to 3',
    ]);
    expect(paths({ instrument: 'ONS4', answers: [1, Number.NaN, 2, null] })).toEqual([
      ['answers', 1],
      ['answers', 3],
    ]);
    expect(paths({ instrument: 'UCLA3', answers: [1, Infinity, 2] })).toEqual([['answers', 1]]);
  });

  it('reports every bad answer, not only the first', () => {
    expect(failures({ instrument: 'SWEMWBS', answers: [0, 2, 9, 4, 5, 1, 2.5] })).toEqual([
      'answers[0]: must be a whole number from 1 to 5',
      'answers[2]: must be a whole number from 1 to 5',
      'answers[6]: must be a whole number from 1 to 5',
    ]);
  });

  it('rejects a missing or non-list answers field', () => {
    expect(failures({ instrument: 'GAD7' })).toEqual(['answers: GAD7 answers must be a list of 7 numbers']);
    expect(failures({ instrument: 'GAD7', answers: '0123012' })).toEqual([
      'answers: GAD7 answers must be a list of 7 numbers',
    ]);
  });

  it.each([['WEMWBS'], ['gad7'], [''], [undefined], [7]])('rejects unknown instrument %s, naming instrument', (instrument) => {
    expect(paths({ instrument, answers: [1, 2, 3] })).toEqual([['instrument']]);
    expect(failures({ instrument, answers: [1, 2, 3] })).toEqual([
      'instrument: instrument must be one of SWEMWBS, GAD7, PHQ9, UCLA3, ONS4',
    ]);
  });

  it('rejects something that is not a submission at all', () => {
    expect(failures(null)).toHaveLength(1);
    expect(failures(null)[0]).toMatch(/^\(submission\): /);
  });

  it('refuses to score a hand-built invalid value', () => {
    const bad = { instrument: 'GAD7', answers: [9, 9, 9, 9, 9, 9, 9] } as MeasureSubmission;
    expect(() => scoreMeasure(bad)).toThrow(/answers/);
  });
});

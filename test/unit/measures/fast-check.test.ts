// The machine's own measure check (isMeasureSubmission, no zod) must give zod's answer for every
// input, or a guard would let through what the boundary refuses, or refuse what it lets through.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANSWERS, INSTRUMENTS, isMeasureSubmission, measureSubmissionSchema, scoreMeasure } from '../../../machines/measures';

const nearlyValid = fc.record(
  {
    instrument: fc.oneof(fc.constantFrom(...INSTRUMENTS), fc.constantFrom('swemwbs', 'GAD-7', '', 'constructor', '__proto__'), fc.anything()),
    answers: fc.oneof(
      fc.array(fc.oneof(fc.integer({ min: -2, max: 12 }), fc.double({ min: -1, max: 11 }), fc.constantFrom(NaN, -0, Infinity, '3', null)), { minLength: 2, maxLength: 10 }),
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 3, maxLength: 9 }),
      fc.anything(),
    ),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

// Counts and ranges as the instruments define them, so the generator reaches valid input often.
const closeToValid = fc.constantFrom(...INSTRUMENTS).chain((instrument) => {
  const { count, min, max } = ANSWERS[instrument];
  const answer = fc.oneof({ weight: 30, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, min + 0.5, -0, NaN) });
  return fc.record({ instrument: fc.constant(instrument), answers: fc.array(answer, { minLength: count - 1, maxLength: count + 1 }) });
});

describe('isMeasureSubmission', () => {
  it('agrees with measureSubmissionSchema on generated input', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(closeToValid, nearlyValid, fc.anything()), (input) => {
        const zod = measureSubmissionSchema.safeParse(input).success;
        expect(isMeasureSubmission(input)).toBe(zod);
        if (zod) accepted += 1;
      }),
      { numRuns: 20_000 },
    );
    // The generator must reach the accepting side too, or the agreement says little.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('leaves scoring unchanged: a valid submission scores as its parsed form does', () => {
    fc.assert(
      fc.property(fc.constantFrom(...INSTRUMENTS), fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 3, maxLength: 9 }), (instrument, answers) => {
        const input = { instrument, answers, note: 'ignored' };
        const parsed = measureSubmissionSchema.safeParse(input);
        if (!parsed.success) {
          expect(() => scoreMeasure(input as never)).toThrow();
          return;
        }
        expect(scoreMeasure(input as never)).toEqual(scoreMeasure(parsed.data));
      }),
      { numRuns: 5_000 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { digitFree, isValidNhsNumber, safeIdSchema } from '../../../machines/ids';

const refused = (value: string) => {
  const result = safeIdSchema.safeParse(value);
  expect(result.success, value).toBe(false);
  const message = result.error!.issues.map((i) => i.message).join('; ');
  // The error names the rule, never the value.
  expect(message).not.toContain(value);
  return message;
};

describe('safeIdSchema keeps personal data out of ids', () => {
  it('knows a valid NHS number by its check digit', () => {
    expect(isValidNhsNumber('9434765919')).toBe(true);
    expect(isValidNhsNumber('9434765918')).toBe(false);
    expect(isValidNhsNumber('943476591')).toBe(false);
  });

  it('refuses an NHS number, bare or with separators', () => {
    for (const id of ['9434765919', 'ref-9434765919', 'p943-476-5919', '943.476.5919', 'a_943_476_5919x']) {
      expect(refused(id)).toMatch(/NHS number/);
    }
  });

  it('refuses a date in any common spelling', () => {
    for (const id of ['Jane.Doe_1950-03-14', 'x-1950.3.14', 'born-14-03-1950', '14_03_1950', 'dob19500314', '14031950-a', '03-14-1950']) {
      expect(refused(id)).toMatch(/date/);
    }
  });

  it('still accepts the ids the scheme and the tests use', () => {
    for (const id of [
      'gp-2025-00017',
      'ref-2025',
      'case-r-100',
      'lw-1',
      'north',
      '9434765918', // ten digits failing the check: not an NHS number
      '19434765919', // a longer run of digits, such as a timestamp
      '1796000000000-0001',
      'gp-2025-13-45', // no such month or day
      'ref-20251345',
      'k20250114-3f9a'.replace('2025', '99'), // year outside the range
      'sess:2025:7',
    ]) {
      expect(safeIdSchema.safeParse(id).success, id).toBe(true);
    }
  });

  it('still refuses free text first, with the character rule', () => {
    expect(refused('Jane Doe')).toMatch(/1-128 characters/);
  });
});

describe('digitFree', () => {
  it('makes random hex an id the schema always takes, where bare hex is now and then refused', () => {
    let bareRefused = 0;
    for (let i = 0; i < 20_000; i++) {
      const hex = randomUUID().replace(/-/g, '').slice(0, 12);
      if (!safeIdSchema.safeParse(`ref-${hex}`).success) bareRefused += 1;
      expect(safeIdSchema.safeParse(`ref-${digitFree(hex)}`).success).toBe(true);
    }
    // Twelve random hex digits hold a valid date or NHS number often enough to break a test run
    // that invents a few hundred references: the reason this helper exists.
    expect(bareRefused).toBeGreaterThan(0);
  });
});

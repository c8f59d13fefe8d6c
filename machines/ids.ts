import { z } from 'zod';

// Separators a person might type inside an NHS number or a date, among the characters an id allows.
const SEP = '[-._:]';

/**
 * An NHS number: ten digits whose last is the modulus-11 check digit of the first nine. Written
 * as one run of ten digits, or as 3-3-4 groups with the same separator twice ("943-476-5919"). A
 * ten-digit window inside a longer run of digits (a timestamp) is not read as one.
 */
const NHS_NUMBER_SHAPES = [/(?<!\d)(\d{10})(?!\d)/g, new RegExp(`(?<![\\d])(\\d{3})(${SEP})(\\d{3})\\2(\\d{4})(?!\\d)`, 'g')];

const NHS_NUMBER_WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2];

/** The modulus-11 check digit for the first nine digits; undefined when no NHS number can start so. */
export function nhsCheckDigit(firstNine: string): number | undefined {
  const sum = NHS_NUMBER_WEIGHTS.reduce((acc, w, i) => acc + w * Number(firstNine[i]), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** NHS numbers carry a modulus-11 check digit; a typo almost always fails it. */
export function isValidNhsNumber(digits: string): boolean {
  return /^\d{10}$/.test(digits) && nhsCheckDigit(digits.slice(0, 9)) === Number(digits[9]);
}

function containsNhsNumber(value: string): boolean {
  return NHS_NUMBER_SHAPES.some((shape) =>
    [...value.matchAll(shape)].some((m) => isValidNhsNumber(m.slice(1).filter((g) => /^\d+$/.test(g)).join(''))),
  );
}

// Years a date of birth, a referral or an appointment could carry. A year on its own (the
// "2025" of "gp-2025-00017") is not a date; it takes a real month and day beside it.
const YEAR = '(?:19|20)\\d{2}';
const DATE_SHAPES: Array<{ shape: RegExp; order: 'ymd' | 'dmy' }> = [
  { shape: new RegExp(`(?<!\\d)(${YEAR})(${SEP})(\\d{1,2})\\2(\\d{1,2})(?!\\d)`, 'g'), order: 'ymd' },
  { shape: new RegExp(`(?<!\\d)(\\d{1,2})(${SEP})(\\d{1,2})\\2(${YEAR})(?!\\d)`, 'g'), order: 'dmy' },
  { shape: new RegExp(`(?<!\\d)(${YEAR})()(\\d{2})(\\d{2})(?!\\d)`, 'g'), order: 'ymd' },
  { shape: new RegExp(`(?<!\\d)(\\d{2})()(\\d{2})(${YEAR})(?!\\d)`, 'g'), order: 'dmy' },
];

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function containsDate(value: string): boolean {
  return DATE_SHAPES.some(({ shape, order }) =>
    [...value.matchAll(shape)].some((m) => {
      const [a, , b, c] = m.slice(1).map(Number) as [number, number, number, number];
      // DD-MM-YYYY or, as a US system would write it, MM-DD-YYYY: either is a date of birth.
      return order === 'ymd' ? isCalendarDate(a, b, c) : isCalendarDate(c, b, a) || isCalendarDate(c, a, b);
    }),
  );
}

/**
 * Identifiers travel into Temporal workflow ids, search attributes and logs, which the codec does
 * not encrypt, so they are limited to characters that need no escaping anywhere and cannot smuggle
 * free text (a name, an NHS number with spaces) into an index; nor may they hold an NHS number or
 * a date (a date of birth), however written. Errors say which rule, never the value.
 */
export const safeIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    error: 'must be 1-128 characters of letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
    abort: true,
  })
  .refine((value) => !containsNhsNumber(value), {
    error: 'must not contain an NHS number (identifiers are stored unencrypted); use the referral system\'s own reference',
    abort: true,
  })
  .refine((value) => !containsDate(value), {
    error: 'must not contain a date such as a date of birth (identifiers are stored unencrypted)',
  });

/**
 * Random hex made fit for an id: its digits become letters, so it can never hold an NHS number or
 * a date, which the id schema refuses (eight random hex digits are a valid date now and then). For
 * the references tests, benchmarks and demos invent; a host sends its own.
 */
export function digitFree(hex: string): string {
  return hex.replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)]!);
}

import { z } from 'zod';

/**
 * Wellbeing instruments a scheme may take at baseline, review and discharge (Bogside & Brandywell
 * use SWEMWBS, GAD-7 and PHQ-9; the British Red Cross evaluation used UCLA loneliness; ONS4 is the
 * national personal wellbeing set). Pure and dependency-light so the workflow bundle can score too.
 */
export const instrumentSchema = z.enum(['SWEMWBS', 'GAD7', 'PHQ9', 'UCLA3', 'ONS4']);
export type Instrument = z.infer<typeof instrumentSchema>;

export const INSTRUMENTS: readonly Instrument[] = instrumentSchema.options;

interface AnswerSpec {
  count: number;
  min: number;
  max: number;
}

/** How many answers each instrument takes, and their range: the rule both checks below follow. */
export const ANSWERS: Readonly<Record<Instrument, Readonly<AnswerSpec>>> = {
  SWEMWBS: { count: 7, min: 1, max: 5 },
  GAD7: { count: 7, min: 0, max: 3 },
  PHQ9: { count: 9, min: 0, max: 3 },
  UCLA3: { count: 3, min: 1, max: 3 },
  ONS4: { count: 4, min: 0, max: 10 },
};

// The messages repeat the rule so that a referrer-facing error is readable on its own; the issue
// path (answers[3]) names the field, and formatMeasureIssues puts the two together.
function answersSchema(instrument: Instrument) {
  const { count, min, max } = ANSWERS[instrument];
  const rule = `must be a whole number from ${min} to ${max}`;
  const item = z.int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
  return z
    .array(item, { error: `${instrument} answers must be a list of ${count} numbers` })
    .length(count, { error: `${instrument} needs exactly ${count} answers` });
}

export const measureSubmissionSchema = z.discriminatedUnion(
  'instrument',
  [
    z.object({ instrument: z.literal('SWEMWBS'), answers: answersSchema('SWEMWBS') }),
    z.object({ instrument: z.literal('GAD7'), answers: answersSchema('GAD7') }),
    z.object({ instrument: z.literal('PHQ9'), answers: answersSchema('PHQ9') }),
    z.object({ instrument: z.literal('UCLA3'), answers: answersSchema('UCLA3') }),
    z.object({ instrument: z.literal('ONS4'), answers: answersSchema('ONS4') }),
  ],
  { error: `instrument must be one of ${instrumentSchema.options.join(', ')}` },
);
export type MeasureSubmission = z.infer<typeof measureSubmissionSchema>;

/**
 * The same rule as `measureSubmissionSchema`, without zod: the pathway machine checks the measures
 * of every visit, check-in and review in a guard and again when it scores them, and zod's parse was
 * the largest share of those steps' cost. A unit test holds the two to the same answer over
 * generated input; zod stays at the boundary, where its messages are wanted.
 */
export function isMeasureSubmission(input: unknown): input is MeasureSubmission {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const { instrument, answers } = input as { instrument?: unknown; answers?: unknown };
  if (typeof instrument !== 'string' || !Object.hasOwn(ANSWERS, instrument)) return false;
  const { count, min, max } = ANSWERS[instrument as Instrument];
  if (!Array.isArray(answers) || answers.length !== count) return false;
  for (let i = 0; i < count; i++) {
    const a: unknown = answers[i];
    if (typeof a !== 'number' || !Number.isInteger(a) || a < min || a > max) return false;
  }
  return true;
}

/** `answers[3]` style, so a form can point at the offending box. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(submission)' : out;
}

export function formatMeasureIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`);
}

export type MeasureParse =
  | { success: true; data: MeasureSubmission }
  | { success: false; errors: string[] };

export function parseMeasureSubmission(input: unknown): MeasureParse {
  const result = measureSubmissionSchema.safeParse(input);
  return result.success
    ? { success: true, data: result.data }
    : { success: false, errors: formatMeasureIssues(result.error) };
}

// ---------------------------------------------------------------------------------------------
// Scoring

/**
 * SWEMWBS raw total (7–35) to metric score. The raw sum is not interval-scaled; the Rasch-derived
 * metric is, and it is what published norms and other studies report, so change is computed on it.
 * Source: Warwick Medical School's SWEMWBS conversion table (Stewart-Brown et al. 2009, Health Qual
 * Life Outcomes 7:15; reproduced in Ng Fat et al. 2017, Qual Life Res 26:1129). Index = raw − 7.
 */
const SWEMWBS_METRIC: readonly number[] = [
  7.0, 9.51, 11.25, 12.4, 13.33, 14.08, 14.75, 15.32, 15.84, 16.36, 16.88, 17.43, 17.98, 18.59,
  19.25, 19.98, 20.73, 21.54, 22.35, 23.21, 24.11, 25.03, 26.02, 27.03, 28.13, 29.31, 30.7, 32.55,
  35.0,
];

export function swemwbsMetricScore(raw: number): number {
  const metric = SWEMWBS_METRIC[raw - 7];
  if (!Number.isInteger(raw) || metric === undefined) {
    throw new RangeError(`SWEMWBS raw score must be a whole number from 7 to 35, got ${raw}`);
  }
  return metric;
}

/** Upper bounds are exclusive: a score belongs to the first band whose `below` it is under. */
interface Band {
  label: string;
  below: number;
}

/**
 * SWEMWBS bands follow Warwick's cut points benchmarked against PHQ-9 (metric 7–17 probable
 * depression, 18–20 possible depression, 21–27 average, 28–35 high wellbeing), with the first two
 * merged into "low": a link worker reports wellbeing, not a screen for depression. Metric scores are
 * not whole numbers, so the published whole-number ranges are read as rounding (27.03 → average).
 */
const SWEMWBS_BANDS: readonly Band[] = [
  { label: 'low', below: 20.5 },
  { label: 'moderate', below: 27.5 },
  { label: 'high', below: Infinity },
];

// Spitzer et al. 2006 (GAD-7) and Kroenke et al. 2001 (PHQ-9) severity thresholds.
const GAD7_BANDS: readonly Band[] = [
  { label: 'minimal', below: 5 },
  { label: 'mild', below: 10 },
  { label: 'moderate', below: 15 },
  { label: 'severe', below: Infinity },
];

const PHQ9_BANDS: readonly Band[] = [
  { label: 'minimal', below: 5 },
  { label: 'mild', below: 10 },
  { label: 'moderate', below: 15 },
  { label: 'moderately severe', below: 20 },
  { label: 'severe', below: Infinity },
];

// ONS convention for the three-item UCLA scale (Hughes et al. 2004), each item 1–3.
const UCLA3_BANDS: readonly Band[] = [
  { label: 'not lonely', below: 6 },
  { label: 'lonely', below: Infinity },
];

// ONS personal wellbeing thresholds: life satisfaction, worthwhile and happiness...
const ONS_POSITIVE_BANDS: readonly Band[] = [
  { label: 'low', below: 5 },
  { label: 'medium', below: 7 },
  { label: 'high', below: 9 },
  { label: 'very high', below: Infinity },
];

// ...and anxiety, where the scale runs the other way, so its labels describe anxiety itself.
const ONS_ANXIETY_BANDS: readonly Band[] = [
  { label: 'very low', below: 2 },
  { label: 'low', below: 4 },
  { label: 'medium', below: 6 },
  { label: 'high', below: Infinity },
];

function bandOf(bands: readonly Band[], score: number): string {
  for (const band of bands) if (score < band.below) return band.label;
  throw new RangeError(`no band for ${score}`);
}

const BANDS: Record<Instrument, readonly Band[]> = {
  SWEMWBS: SWEMWBS_BANDS,
  GAD7: GAD7_BANDS,
  PHQ9: PHQ9_BANDS,
  UCLA3: UCLA3_BANDS,
  ONS4: ONS_POSITIVE_BANDS,
};

/** Band labels of an instrument's headline score, lowest score first. */
export function measureBands(instrument: Instrument): readonly string[] {
  return BANDS[instrument].map((b) => b.label);
}

export const ONS4_ITEMS = ['lifeSatisfaction', 'worthwhile', 'happiness', 'anxiety'] as const;
export type Ons4Item = (typeof ONS4_ITEMS)[number];

export const scoredItemSchema = z.object({ score: z.number(), band: z.string().max(64) });

export const scoredMeasureSchema = z.object({
  instrument: instrumentSchema,
  answers: z.array(z.number()).max(Math.max(...Object.values(ANSWERS).map((a) => a.count))),
  raw: z.number(),
  score: z.number(),
  band: z.string().max(64),
  // ONS4 only: each item scored and banded on its own, as the ONS reports them.
  items: z.record(z.enum(ONS4_ITEMS), scoredItemSchema).optional(),
});
export type ScoredMeasure = z.infer<typeof scoredMeasureSchema>;

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function scoreMeasure(sub: MeasureSubmission): ScoredMeasure {
  // Re-validate: a caller holding a typed value may still have built it by hand. zod only to
  // explain a refusal; a valid submission is scored as given (the schema transforms nothing).
  const checked = isMeasureSubmission(sub) ? sub : measureSubmissionSchema.parse(sub);
  const answers = [...checked.answers];
  const { instrument } = checked;
  switch (instrument) {
    case 'SWEMWBS': {
      const raw = sum(answers);
      const score = swemwbsMetricScore(raw);
      return { instrument, answers, raw, score, band: bandOf(SWEMWBS_BANDS, score) };
    }
    case 'GAD7':
    case 'PHQ9':
    case 'UCLA3': {
      const raw = sum(answers);
      return { instrument, answers, raw, score: raw, band: bandOf(BANDS[instrument], raw) };
    }
    case 'ONS4': {
      const [lifeSatisfaction, worthwhile, happiness, anxiety] = answers as [number, number, number, number];
      const positive = (score: number) => ({ score, band: bandOf(ONS_POSITIVE_BANDS, score) });
      return {
        instrument,
        answers,
        raw: lifeSatisfaction,
        score: lifeSatisfaction,
        band: bandOf(ONS_POSITIVE_BANDS, lifeSatisfaction),
        items: {
          lifeSatisfaction: positive(lifeSatisfaction),
          worthwhile: positive(worthwhile),
          happiness: positive(happiness),
          anxiety: { score: anxiety, band: bandOf(ONS_ANXIETY_BANDS, anxiety) },
        },
      };
    }
  }
}

export type MeasureDirection = 'higherIsBetter' | 'lowerIsBetter';

const DIRECTION: Record<Instrument, MeasureDirection> = {
  SWEMWBS: 'higherIsBetter',
  GAD7: 'lowerIsBetter',
  PHQ9: 'lowerIsBetter',
  UCLA3: 'lowerIsBetter',
  // The headline ONS4 score is life satisfaction; anxiety's reversal is carried by its own bands.
  ONS4: 'higherIsBetter',
};

export function measureDirection(instrument: Instrument): MeasureDirection {
  return DIRECTION[instrument];
}

/** Range of the headline `score`, for chart axes and sanity checks. */
export function measureScoreRange(instrument: Instrument): { min: number; max: number } {
  const { count, min, max } = ANSWERS[instrument];
  return instrument === 'ONS4' ? { min, max } : { min: count * min, max: count * max };
}

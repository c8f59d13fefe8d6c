// The needs a social prescribing directory is searched by, as taxonomy terms, and which of the
// pathway's activity categories each belongs to. The sample directory uses these codes; a council's
// own terms map through their parent's code, else through words in their name.
import type { z } from 'zod';
import type { activityCategorySchema } from '../machines/events';

export type ActivityCategory = z.output<typeof activityCategorySchema>;

/** The sample's taxonomy by code: a top-level term names its category, the rest their parent. */
export const SOCIAL_PRESCRIBING_TERMS: Record<string, { name: string; parent?: string; category?: ActivityCategory }> = {
  'social-connection': { name: 'Social connection', category: 'connecting' },
  loneliness: { name: 'Loneliness and isolation', parent: 'social-connection' },
  befriending: { name: 'Befriending', parent: 'social-connection' },
  'lunch-clubs': { name: 'Lunch clubs', parent: 'social-connection' },
  'mens-sheds': { name: "Men's sheds", parent: 'social-connection' },
  carers: { name: "Carers' support", parent: 'social-connection' },
  volunteering: { name: 'Volunteering', parent: 'social-connection' },
  'mental-wellbeing': { name: 'Mental wellbeing', parent: 'social-connection' },
  'physical-activity': { name: 'Physical activity', category: 'active' },
  'walking-groups': { name: 'Walking groups', parent: 'physical-activity' },
  'gentle-exercise': { name: 'Gentle exercise', parent: 'physical-activity' },
  dance: { name: 'Dance', parent: 'physical-activity' },
  swimming: { name: 'Swimming', parent: 'physical-activity' },
  gardening: { name: 'Gardening and green spaces', parent: 'physical-activity' },
  'creative-arts': { name: 'Creative arts', category: 'creative' },
  'arts-crafts': { name: 'Arts and crafts', parent: 'creative-arts' },
  'music-singing': { name: 'Music and singing', parent: 'creative-arts' },
  'creative-writing': { name: 'Creative writing', parent: 'creative-arts' },
  'practical-support': { name: 'Practical support', category: 'practical' },
  'benefits-advice': { name: 'Benefits advice', parent: 'practical-support' },
  'debt-advice': { name: 'Debt advice', parent: 'practical-support' },
  housing: { name: 'Housing', parent: 'practical-support' },
  'digital-skills': { name: 'Digital skills', parent: 'practical-support' },
  employment: { name: 'Employment and training', parent: 'practical-support' },
  /** A feature, not a need: no category. */
  'transport-provided': { name: 'Transport provided' },
};

/** The term whose presence says a service brings people to it. */
export const TRANSPORT_TERM = 'transport-provided';

// For a council's own taxonomy (LGA service types, OpenActive activities): words in a term's name.
const NAME_WORDS: Array<[RegExp, ActivityCategory]> = [
  [/walk|exercise|sport|swim|danc|fitness|yoga|tai chi|cycl|garden|allotment|physical/i, 'active'],
  [/art|craft|music|sing|choir|writ|drama|theatre|photograph|creative/i, 'creative'],
  [/benefit|debt|money|housing|employ|job|digital|advice|food|energy|legal/i, 'practical'],
  [/lonel|isolat|befriend|social|lunch club|men's shed|carer|volunteer|wellbeing|peer support|community group/i, 'connecting'],
];

export interface TermLike {
  id: string;
  code: string;
  name: string;
  parentId?: string | undefined;
}

/**
 * The category of a term: its own or nearest ancestor's code in the table above, else the first
 * ancestor (itself first) whose name says one. Undefined when nothing says.
 */
export function categoryOfTerm(term: TermLike, byId: ReadonlyMap<string, TermLike>): ActivityCategory | undefined {
  const chain: TermLike[] = [];
  for (let t: TermLike | undefined = term; t && !chain.includes(t) && chain.length < 20; t = t.parentId ? byId.get(t.parentId) : undefined) chain.push(t);
  for (const t of chain) {
    const known = SOCIAL_PRESCRIBING_TERMS[t.code];
    if (known?.category) return known.category;
    if (known?.parent) return SOCIAL_PRESCRIBING_TERMS[known.parent]?.category;
  }
  for (const t of chain) for (const [words, category] of NAME_WORDS) if (words.test(t.name)) return category;
  return undefined;
}

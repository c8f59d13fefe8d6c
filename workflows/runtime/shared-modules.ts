// Loaded once per worker into the workflow sandbox's shared module cache (the bundler's
// `preloadModules`) instead of once per cached case: the libraries (zod, xstate) and the
// pathway's own schemas and machine were most of what each case cost (docs/benchmarks.md, memory).
//
// Only pure modules belong here: nothing that imports `@temporalio/workflow`, and nothing that
// holds state of its own. One copy then serves every case, so a case could only see another's
// doing through module state, and these modules have none: the machine and its helpers are
// functions of their arguments (they spawn, invoke and schedule nothing), and what zod and xstate
// memoize on a schema or state node is a function of that schema or node alone, whichever case
// computes it first. xstate's one module-level counter names actors (`x:0`, `x:1`, ...); the
// pathway's names never leave the case's scope, and replay tests would fail if one reached history.
import { z } from 'zod';
import * as machinesIndex from '../../machines';
import * as connection from '../../machines/connection';
import * as context from '../../machines/context';
import * as effects from '../../machines/effects';
import * as escalations from '../../machines/escalations';
import * as events from '../../machines/events';
import * as ids from '../../machines/ids';
import * as limits from '../../machines/limits';
import * as measures from '../../machines/measures';
import * as notices from '../../machines/notices';
import * as pathway from '../../machines/pathway';
import * as policy from '../../machines/policy';
import * as referral from '../../machines/referral';
import * as sessions from '../../machines/sessions';
import * as rules from '../../machines/rules';
import * as stage from '../../machines/stage';
import * as stageAllocation from '../../machines/stages/allocation';
import * as stageBefriending from '../../machines/stages/befriending';
import * as stageConnections from '../../machines/stages/connections';
import * as stageDischarge from '../../machines/stages/discharge';
import * as stageDuplicates from '../../machines/stages/duplicates';
import * as stageEffects from '../../machines/stages/effects';
import * as stageEscalation from '../../machines/stages/escalation';
import * as stageExtension from '../../machines/stages/extension';
import * as stageFirstContact from '../../machines/stages/first-contact';
import * as stageFirstVisit from '../../machines/stages/first-visit';
import * as stageHold from '../../machines/stages/hold';
import * as stageKit from '../../machines/stages/kit';
import * as stagePlan from '../../machines/stages/plan';
import * as stageReview from '../../machines/stages/review';
import * as stageScreening from '../../machines/stages/screening';
import * as stageSupport from '../../machines/stages/support';
import * as stageTriage from '../../machines/stages/triage';
import * as taskStatus from '../../machines/task-status';
import * as timers from '../../machines/timers';
import * as outcomeRecord from '../../evidence/outcomeRecord';
import * as fromCase from '../../evidence/from-case';
import * as refusals from '../refusals';
import * as freezing from './freeze-data';

// zod writes its default locale and memoizer into its global config when the first schema is
// built; build and run one now, before the sandbox freezes that config.
z.object({ warm: z.string() }).safeParse({ warm: 1 });

/**
 * The project's shared modules, each frozen here at its namespace. The sandbox deep-freezes every
 * shared module after preloading, but stops at an object already frozen. The schemas under these
 * namespaces must stay writable: zod rewrites a schema's parse on its first run and resets a
 * pattern's `lastIndex` before each test, and both throw on a frozen object. The namespaces
 * themselves are frozen, so no case can replace an export, and so is every export that is plain
 * data (lists, tables, the default policy), all the way down, so no case can change one under
 * another: what the sandbox's own freeze was for.
 */
export const SHARED_PROJECT_MODULES = [
  machinesIndex,
  connection,
  context,
  effects,
  escalations,
  events,
  ids,
  limits,
  measures,
  notices,
  pathway,
  policy,
  referral,
  sessions,
  rules,
  stage,
  stageAllocation,
  stageBefriending,
  stageConnections,
  stageDischarge,
  stageDuplicates,
  stageEffects,
  stageEscalation,
  stageExtension,
  stageFirstContact,
  stageFirstVisit,
  stageHold,
  stageKit,
  stagePlan,
  stageReview,
  stageScreening,
  stageSupport,
  stageTriage,
  taskStatus,
  timers,
  outcomeRecord,
  fromCase,
  refusals,
  freezing,
];
for (const namespace of SHARED_PROJECT_MODULES) {
  for (const value of Object.values(namespace)) freezing.freezeData(value);
  Object.freeze(namespace);
}

// Task subscriptions through the client: each scheme's subscriptions live in its own workflow
// (workflows/subscriptions.ts), which the first subscription starts. A subscription id carries its
// scheme (`<scheme>.s<12 letters>`), so reading or deleting one needs no lookup, and it is a valid
// FHIR id. PathwayClient's subscribe, getSubscription, unsubscribe and subscriptions call these.
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { z } from 'zod';
import { digitFree, safeIdSchema } from '../machines/ids';
import { NOTICE_TEXT_MAX } from '../machines/policy';
import type { schemeSubscriptions } from '../workflows/subscriptions';
import {
  subscribeUpdate,
  subscriptionsQuery,
  subscriptionsWorkflowId,
  unsubscribeUpdate,
  type SubscriptionLimits,
  type SubscriptionRecord,
  type SubscriptionState,
} from '../workflows/subscription-definitions';
import { endpointProblem, headersProblem } from './endpoint';
import { queryWorkflow } from './reads';
import { InvalidInputError, SubscriptionNotFoundError, applicationFailureOf, formatPath, isNotFound } from './errors';

/** A scheme id that fits inside a FHIR id with the subscription's own part. */
const schemeForSubscription = safeIdSchema.refine((s) => /^[A-Za-z0-9.-]{1,48}$/.test(s), { error: 'must be at most 48 letters, digits, "." or "-" to carry subscriptions' });

export const subscriptionIdSchema = z.string().regex(/^[A-Za-z0-9.-]{1,48}\.s[a-p]{12}$/, { error: 'must be a subscription id' });

export const subscribeInputSchema = z.strictObject({
  schemeId: schemeForSubscription,
  /** The subscribing client (a token's `sub`): only it may read or delete the subscription. */
  clientId: safeIdSchema,
  endpoint: z.string().superRefine((v, ctx) => {
    const problem = endpointProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  headers: z
    .array(z.string())
    .default([])
    .superRefine((v, ctx) => {
      const problem = headersProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  /** The public FHIR base the notifications' references use. */
  baseUrl: z.url({ protocol: /^https?$/ }).max(512),
  reason: z.string().min(1).max(NOTICE_TEXT_MAX).optional(),
});
export type SubscribeInput = z.input<typeof subscribeInputSchema>;

function parse<S extends z.ZodType>(what: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: false });
  if (result.success) return result.data;
  throw new InvalidInputError(what, result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
}

function schemeOfSubscription(id: string): string {
  return id.slice(0, id.lastIndexOf('.s'));
}

/** `limits` go to the scheme's subscriptions workflow only when this call starts it. */
export async function subscribe(temporal: Client, taskQueue: string, input: SubscribeInput, limits?: SubscriptionLimits): Promise<SubscriptionState> {
  const parsed = parse('subscription', subscribeInputSchema, input);
  const record: SubscriptionRecord = {
    id: `${parsed.schemeId}.s${digitFree(randomBytes(6).toString('hex'))}`,
    schemeId: parsed.schemeId,
    clientId: parsed.clientId,
    endpoint: parsed.endpoint,
    headers: parsed.headers,
    baseUrl: parsed.baseUrl.replace(/\/$/, ''),
    createdAt: Date.now(),
    ...(parsed.reason !== undefined && { reason: parsed.reason }),
  };
  try {
    return await temporal.workflow.executeUpdateWithStart(subscribeUpdate, {
      args: [record],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof schemeSubscriptions>('schemeSubscriptions', {
        workflowId: subscriptionsWorkflowId(parsed.schemeId),
        taskQueue,
        args: [{ schemeId: parsed.schemeId, ...(limits && { limits }) }],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  } catch (err) {
    if (applicationFailureOf(err)?.type === 'TooManySubscriptions') throw new InvalidInputError('subscription', [{ path: 'schemeId', message: 'the scheme holds as many subscriptions as it may' }], { cause: err });
    throw err;
  }
}

/** Every subscription of a scheme (none when it has never had one). */
export async function subscriptionsOf(temporal: Client, schemeId: string): Promise<SubscriptionState[]> {
  const id = parse('schemeId', safeIdSchema, schemeId);
  try {
    return await queryWorkflow(temporal, subscriptionsWorkflowId(id), subscriptionsQuery);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

export async function getSubscription(temporal: Client, subscriptionId: string): Promise<SubscriptionState> {
  const id = parse('subscriptionId', subscriptionIdSchema, subscriptionId);
  const found = (await subscriptionsOf(temporal, schemeOfSubscription(id))).find((s) => s.record.id === id);
  if (!found) throw new SubscriptionNotFoundError(id);
  return found;
}

/** Ends the subscription: nothing more is sent, what was queued is dropped. Returns it as it was, status `off`. */
export async function unsubscribe(temporal: Client, subscriptionId: string): Promise<SubscriptionState> {
  const id = parse('subscriptionId', subscriptionIdSchema, subscriptionId);
  let ended: SubscriptionState | null;
  try {
    ended = await temporal.workflow.getHandle(subscriptionsWorkflowId(schemeOfSubscription(id))).executeUpdate(unsubscribeUpdate, { args: [{ id }] });
  } catch (err) {
    if (isNotFound(err)) throw new SubscriptionNotFoundError(id, { cause: err });
    throw err;
  }
  if (!ended) throw new SubscriptionNotFoundError(id);
  return ended;
}

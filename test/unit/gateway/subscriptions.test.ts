// The pure parts of Task subscriptions: which endpoints and headers may be registered, the
// subscription ids and input the client takes, and the R4 Backport shapes of a Subscription, its
// status and a notification (the HAPI validator checks real ones in test/temporal/subscriptions.test.ts).
import { describe, expect, it } from 'vitest';
import { endpointProblem, headerPairs, headersProblem } from '../../../client/endpoint';
import { subscribeInputSchema, subscriptionIdSchema } from '../../../client/subscriptions';
import { BACKPORT_EXTENSIONS, TASK_STATUS_TOPIC, notificationBundle, subscriptionResource, subscriptionStatus } from '../../../gateway/fhir/subscription';
import type { SubscriptionRecord } from '../../../workflows/subscription-definitions';

const record: SubscriptionRecord = {
  id: 'brandywell.sabcdefghijkl',
  schemeId: 'brandywell',
  clientId: 'gp-system-a',
  endpoint: 'https://receiver.example/hook',
  headers: ['Authorization: Bearer secret-value'],
  baseUrl: 'https://gw.example/fhir',
  createdAt: 0,
};
const event = { number: 7, change: { caseId: 'case-ref-abc', schemeId: 'brandywell', sequence: 12, stage: 'firstContact' as const, at: Date.UTC(2026, 11, 1, 9) } };

describe('subscription endpoints and headers', () => {
  it('takes http and https URLs without credentials or a fragment', () => {
    expect(endpointProblem('https://receiver.example/hook?x=1')).toBeUndefined();
    expect(endpointProblem('http://127.0.0.1:8080/hook')).toBeUndefined();
    for (const bad of ['ftp://receiver.example/hook', 'file:///etc/passwd', 'javascript:alert(1)', 'relative/path', '', 'https://u:p@receiver.example/', 'https://u@receiver.example/', 'https://receiver.example/#frag', `https://x.example/${'a'.repeat(3000)}`, 42]) {
      expect(endpointProblem(bad), String(bad).slice(0, 40)).toBeDefined();
    }
  });
  it('never repeats the URL in its answer', () => {
    expect(endpointProblem('https://user:hunter2@receiver.example/')).not.toContain('hunter2');
  });
  it('takes a few one-line headers, never Host or Content-* or a line break', () => {
    expect(headersProblem(['Authorization: Bearer x', 'X-Api-Key: y'])).toBeUndefined();
    expect(headerPairs(['Authorization: Bearer x:y'])).toEqual([['Authorization', 'Bearer x:y']]);
    for (const bad of [['Host: evil'], ['Content-Type: text/plain'], ['X: a\r\nY: b'], ['no colon'], [': empty name'], Array(6).fill('X: y'), 'X: y']) {
      expect(headersProblem(bad)).toBeDefined();
    }
  });
});

describe('subscription ids and input', () => {
  it('ids carry the scheme and fit a FHIR id', () => {
    expect(subscriptionIdSchema.safeParse('brandywell.sabcdefghijkl').success).toBe(true);
    expect(subscriptionIdSchema.safeParse('brandywell.s0123456789ab').success).toBe(false);
    expect(subscriptionIdSchema.safeParse('../etc.sabcdefghijkl').success).toBe(false);
    expect(/^[A-Za-z0-9\-.]{1,64}$/.test(`${'a'.repeat(48)}.sabcdefghijkl`)).toBe(true);
  });
  it('refuses a bad endpoint, headers or a scheme too long to carry subscriptions', () => {
    const ok = { schemeId: 'brandywell', clientId: 'gp-a', endpoint: 'https://r.example/hook', baseUrl: 'https://gw.example/fhir' };
    expect(subscribeInputSchema.safeParse(ok).success).toBe(true);
    expect(subscribeInputSchema.safeParse({ ...ok, endpoint: 'ftp://r.example' }).success).toBe(false);
    expect(subscribeInputSchema.safeParse({ ...ok, headers: ['Host: x'] }).success).toBe(false);
    expect(subscribeInputSchema.safeParse({ ...ok, schemeId: 'a'.repeat(60) }).success).toBe(false);
    expect(subscribeInputSchema.safeParse({ ...ok, baseUrl: 'ftp://gw.example' }).success).toBe(false);
    expect(subscribeInputSchema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
  });
});

describe('R4 Backport shapes', () => {
  it('a Subscription names the topic, the filter, rest-hook and id-only, and hides header values', () => {
    const sub = subscriptionResource({ record, status: 'active', eventsSinceStart: 0, delivered: 0 });
    expect(sub).toMatchObject({
      resourceType: 'Subscription',
      id: record.id,
      status: 'active',
      criteria: TASK_STATUS_TOPIC,
      _criteria: { extension: [{ url: BACKPORT_EXTENSIONS.filterCriteria, valueString: 'Task?owner=brandywell' }] },
      channel: { type: 'rest-hook', endpoint: record.endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: BACKPORT_EXTENSIONS.payloadContent, valueCode: 'id-only' }] } },
    });
    expect(JSON.stringify(sub)).not.toContain('secret-value');
  });
  it('a notification is a history Bundle: the status with the event number first, then the Task by URL only', () => {
    const bundle = notificationBundle(record, 'active', event);
    expect(bundle.type).toBe('history');
    const [status, task] = bundle.entry!;
    const params = Object.fromEntries(status!.resource!.resourceType === 'Parameters' ? status!.resource!.parameter!.map((p) => [p.name, p]) : []);
    expect(params['events-since-subscription-start']!.valueString).toBe('7');
    expect(params['type']!.valueCode).toBe('event-notification');
    expect(params['notification-event']!.part).toEqual([
      { name: 'event-number', valueString: '7' },
      { name: 'timestamp', valueInstant: '2026-12-01T09:00:00.000Z' },
      { name: 'focus', valueReference: { reference: 'https://gw.example/fhir/Task/case-ref-abc' } },
    ]);
    expect(task).toEqual({ fullUrl: 'https://gw.example/fhir/Task/case-ref-abc', request: { method: 'PUT', url: 'Task/case-ref-abc' }, response: { status: '200' } });
    // The same event always makes the same Bundle, so a receiver can recognise a repeat.
    expect(notificationBundle(record, 'active', event)).toEqual(bundle);
    expect(notificationBundle(record, 'active', { ...event, number: 8 }).id).not.toBe(bundle.id);
  });
  it('$status reports the count with no events', () => {
    const status = subscriptionStatus(record, 'error', 3, 'query-status');
    expect(status.parameter!.map((p) => p.name)).toEqual(['subscription', 'topic', 'status', 'type', 'events-since-subscription-start']);
    expect(status.parameter!.find((p) => p.name === 'status')!.valueCode).toBe('error');
  });
});

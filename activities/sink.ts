// Where the pathway's side effects are delivered. The activities build the messages; a sink only
// stores or forwards them, so a host can swap the local outbox for its own transport (a queue, an
// HTTP endpoint, its case-management system) without touching the activities or the workflow.

export const OUTBOX_CHANNELS = ['referrer', 'supervisor', 'volunteer', 'befriending', 'outcome', 'provider'] as const;
export type OutboxChannel = (typeof OUTBOX_CHANNELS)[number];

/**
 * One delivery. Never patient data: case and scheme ids, kinds, codes and reasons only (the
 * workflow never hands activities a name or contact details, and the activities add none).
 */
export interface OutboxMessage {
  /** The idempotency key: a second delivery under the same key must change nothing. */
  key: string;
  channel: OutboxChannel;
  caseId: string;
  schemeId: string;
  /** When the activity delivered it (epoch ms); not part of what makes two deliveries the same. */
  at: number;
  /** Plain JSON. */
  body: unknown;
}

export interface Sink {
  /**
   * Stores or forwards `message` at most once per key. Resolves `{ duplicate: true }` without
   * doing anything when the key was delivered before; rejects when the delivery may not have
   * happened, so the caller retries under the same key.
   */
  deliver(message: OutboxMessage): Promise<{ duplicate: boolean }>;
}

/**
 * A key delivered before with a different message: a bug in whoever makes keys, which would
 * otherwise silently swallow the second message. Retrying cannot fix it.
 */
export class IdempotencyKeyConflictError extends Error {
  constructor(readonly key: string, readonly channel: OutboxChannel) {
    super(`idempotency key ${key} was already used for a different ${channel} message`);
    this.name = 'IdempotencyKeyConflictError';
  }
}

/**
 * What makes two deliveries the same: everything but `at`, which differs between retries.
 * JSON.stringify keeps insertion order, and a retry rebuilds the body the same way, so equal
 * bodies stringify equally; a body read back from the JSON-lines file does too.
 */
export function deliveryFingerprint(message: Pick<OutboxMessage, 'channel' | 'caseId' | 'schemeId' | 'body'>): string {
  return JSON.stringify([message.channel, message.caseId, message.schemeId, message.body ?? null]);
}

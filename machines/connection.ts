// One connection of a case to a community service (a walking group, a lunch club, a benefits
// adviser), as its own pure machine: proposed by the link worker, sent to the provider, answered
// (or declined for them at the response deadline, after nudges), then attended until it stops or
// completes. It knows nothing of Temporal: the connection workflow sends it events stamped with
// workflow time and carries out the effects it queues.
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { activityCategorySchema } from './events';
import { safeIdSchema } from './ids';
import { MAX_TEXT } from './limits';

export const CONNECTION_STATUSES = ['proposed', 'sent', 'accepted', 'declined', 'noResponse', 'attending', 'stopped', 'completed'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];
/** Where a connection ends: nothing more happens to it. */
export const CONNECTION_END_STATUSES = ['declined', 'noResponse', 'stopped', 'completed'] as const satisfies readonly ConnectionStatus[];

/** Attendances a connection keeps the times of; the count goes on past it. */
export const MAX_ATTENDANCE_TIMES = 200;

const text = z.string().min(1).max(MAX_TEXT);

/** Who answers for a connection: the provider (a service's staff), or the link worker or a supervisor for them. */
export const connectionActorSchema = z.object({
  role: z.enum(['provider', 'linkWorker', 'supervisor']),
  id: safeIdSchema,
});
export type ConnectionActor = z.output<typeof connectionActorSchema>;

/** What hosts, providers and link workers send a connection; the workflow stamps the time. */
export const connectionCommandSchemas = {
  RESPOND: z.object({ accept: z.boolean(), reason: text.optional(), actor: connectionActorSchema }).strict(),
  ATTEND: z.object({ actor: connectionActorSchema }).strict(),
  STOP: z.object({ reason: text, actor: connectionActorSchema }).strict(),
  COMPLETE: z.object({ actor: connectionActorSchema }).strict(),
} as const;
export type ConnectionCommandType = keyof typeof connectionCommandSchemas;
export const CONNECTION_COMMAND_TYPES = Object.keys(connectionCommandSchemas) as ConnectionCommandType[];
export type ConnectionCommand = {
  [K in ConnectionCommandType]: { type: K } & z.output<(typeof connectionCommandSchemas)[K]>;
}[ConnectionCommandType];

/** Why a connection waiting for its provider ends when the directory no longer lists the service. */
export const SERVICE_REMOVED_REASON = 'service removed from the directory';

export type ConnectionEvent =
  | { type: 'SEND'; at: number }
  /** A directory re-import no longer lists the service (sent by the client after the import, not by a host). */
  | { type: 'SERVICE.REMOVED'; at: number }
  | { type: 'NUDGE.DUE'; at: number }
  | { type: 'DEADLINE.RESPONSE'; at: number }
  | (ConnectionCommand & { at: number });

/** What the machine asks the workflow to do, in order; ids come from the connection and a counter. */
export type ConnectionEffect =
  | { kind: 'sendToProvider'; what: 'referral' | 'nudge'; n: number }
  | { kind: 'tellLinkWorker'; why: 'noResponse' | 'declined' | 'stopped' | 'serviceRemoved' }
  | { kind: 'suggestNextMatch' };

export interface ConnectionInput {
  connectionId: string;
  serviceId: string;
  category: z.output<typeof activityCategorySchema>;
  /** Who runs the service: the directory's organisation, else the service itself. */
  providerId: string;
  proposedAt: number;
  /** The policy's `connections` block (durations in milliseconds). */
  responseDeadline: number;
  nudges: number[];
}

export interface ConnectionContext extends ConnectionInput {
  sentAt?: number;
  responseDueAt?: number;
  /** Absolute times still to nudge the provider at, earliest first. */
  nudgesDue: number[];
  nudgesSent: number;
  respondedAt?: number;
  /** True when the deadline declined the connection for a provider that never answered. */
  autoDeclined: boolean;
  declineReason?: string;
  attendances: number;
  firstAttendedAt?: number;
  /** The latest attendances' times (at most MAX_ATTENDANCE_TIMES). */
  attendedAt: number[];
  stopReason?: string;
  endedAt?: number;
  /** When the workflow heard that a directory re-import no longer lists the service (once). */
  serviceRemovedAt?: number;
  /** Effects queued by the last event, for the workflow to run and clear. */
  effects: ConnectionEffect[];
}

const at = ({ event }: { event: ConnectionEvent }) => event.at;

export const connectionMachine = setup({
  types: {} as { context: ConnectionContext; events: ConnectionEvent; input: ConnectionInput },
  guards: {
    /** A nudge is due and the deadline is not (the deadline wins when both are). */
    nudgeDue: ({ context, event }) => context.nudgesDue.length > 0 && context.nudgesDue[0]! <= event.at && !(context.responseDueAt! <= event.at),
    responseOverdue: ({ context, event }) => context.responseDueAt !== undefined && context.responseDueAt <= event.at,
    accepts: ({ event }) => event.type === 'RESPOND' && event.accept,
    declines: ({ event }) => event.type === 'RESPOND' && !event.accept,
    notToldOfRemoval: ({ context }) => context.serviceRemovedAt === undefined,
  },
  actions: {
    clearEffects: assign({ effects: [] }),
    markSent: assign(({ context, event }) => ({
      sentAt: event.at,
      responseDueAt: event.at + context.responseDeadline,
      nudgesDue: context.nudges.map((n) => event.at + n).sort((a, b) => a - b),
      effects: [{ kind: 'sendToProvider', what: 'referral', n: 0 }],
    })),
    nudgeProvider: assign(({ context }) => ({
      nudgesDue: context.nudgesDue.slice(1),
      nudgesSent: context.nudgesSent + 1,
      effects: [{ kind: 'sendToProvider', what: 'nudge', n: context.nudgesSent + 1 }],
    })),
    declineForProvider: assign(({ event }) => ({
      autoDeclined: true,
      nudgesDue: [],
      endedAt: event.at,
      // The suggestion first, so the link worker's notice names it.
      effects: [{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'noResponse' }],
    })),
    recordAcceptance: assign({ respondedAt: at, nudgesDue: [] }),
    recordDecline: assign(({ event }) => ({
      respondedAt: event.at,
      endedAt: event.at,
      nudgesDue: [],
      ...(event.type === 'RESPOND' && event.reason !== undefined && { declineReason: event.reason }),
      effects: [{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'declined' }],
    })),
    recordAttendance: assign(({ context, event }) => ({
      attendances: context.attendances + 1,
      firstAttendedAt: context.firstAttendedAt ?? event.at,
      attendedAt: [...context.attendedAt, event.at].slice(-MAX_ATTENDANCE_TIMES),
    })),
    recordStop: assign(({ event }) => ({
      endedAt: event.at,
      ...(event.type === 'STOP' && { stopReason: event.reason }),
      effects: [{ kind: 'tellLinkWorker', why: 'stopped' }],
    })),
    recordCompletion: assign({ endedAt: at }),
    // Nobody is left to answer a referral to a service the directory dropped: the connection stops
    // now rather than at the deadline, and the link worker is told with the next match.
    stopForRemovedService: assign(({ event }) => ({
      serviceRemovedAt: event.at,
      endedAt: event.at,
      nudgesDue: [],
      stopReason: SERVICE_REMOVED_REASON,
      effects: [{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'serviceRemoved' }],
    })),
    // A person already going stays connected: an unlisted record is not proof the group stopped
    // meeting. The link worker is told (with the next match) and decides whether to STOP.
    noteRemovedService: assign(({ event }) => ({
      serviceRemovedAt: event.at,
      effects: [{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'serviceRemoved' }],
    })),
  },
}).createMachine({
  id: 'connection',
  initial: 'proposed',
  context: ({ input }) => ({ ...input, nudgesDue: [], nudgesSent: 0, autoDeclined: false, attendances: 0, attendedAt: [], effects: [] }),
  states: {
    proposed: {
      on: {
        SEND: { target: 'sent', actions: ['clearEffects', 'markSent'] },
        'SERVICE.REMOVED': { target: 'stopped', actions: ['clearEffects', 'stopForRemovedService'] },
      },
    },
    sent: {
      on: {
        'NUDGE.DUE': { guard: 'nudgeDue', actions: ['clearEffects', 'nudgeProvider'] },
        'DEADLINE.RESPONSE': { guard: 'responseOverdue', target: 'noResponse', actions: ['clearEffects', 'declineForProvider'] },
        RESPOND: [
          { guard: 'accepts', target: 'accepted', actions: ['clearEffects', 'recordAcceptance'] },
          { guard: 'declines', target: 'declined', actions: ['clearEffects', 'recordDecline'] },
        ],
        'SERVICE.REMOVED': { target: 'stopped', actions: ['clearEffects', 'stopForRemovedService'] },
      },
    },
    accepted: {
      on: {
        ATTEND: { target: 'attending', actions: ['clearEffects', 'recordAttendance'] },
        STOP: { target: 'stopped', actions: ['clearEffects', 'recordStop'] },
        'SERVICE.REMOVED': { guard: 'notToldOfRemoval', actions: ['clearEffects', 'noteRemovedService'] },
      },
    },
    attending: {
      on: {
        ATTEND: { actions: ['clearEffects', 'recordAttendance'] },
        STOP: { target: 'stopped', actions: ['clearEffects', 'recordStop'] },
        COMPLETE: { target: 'completed', actions: ['clearEffects', 'recordCompletion'] },
        'SERVICE.REMOVED': { guard: 'notToldOfRemoval', actions: ['clearEffects', 'noteRemovedService'] },
      },
    },
    declined: { type: 'final' },
    noResponse: { type: 'final' },
    stopped: { type: 'final' },
    completed: { type: 'final' },
  },
});

/** The next time the workflow must wake a connection on its own: a nudge or the deadline. */
export function nextConnectionDue(status: ConnectionStatus, context: ConnectionContext): number | undefined {
  if (status !== 'sent') return undefined;
  const nudge = context.nudgesDue[0];
  return nudge !== undefined && nudge < context.responseDueAt! ? nudge : context.responseDueAt;
}

/** The event for a wake-up at `at`: a nudge before the deadline, else the deadline. */
export function dueEvent(context: ConnectionContext, at: number): ConnectionEvent {
  return context.responseDueAt !== undefined && context.responseDueAt <= at ? { type: 'DEADLINE.RESPONSE', at } : { type: 'NUDGE.DUE', at };
}

/** Which commands a connection accepts in each status (for a clear refusal). */
export const CONNECTION_ACCEPTS: Record<ConnectionStatus, readonly ConnectionCommandType[]> = {
  proposed: [],
  sent: ['RESPOND'],
  accepted: ['ATTEND', 'STOP'],
  attending: ['ATTEND', 'STOP', 'COMPLETE'],
  declined: [],
  noResponse: [],
  stopped: [],
  completed: [],
};

/**
 * What a case knows of each of its connections, and what the outcome record and the report count:
 * ids, the category, times and counts, never the person.
 */
export interface ConnectionSummary {
  connectionId: string;
  serviceId: string;
  providerId: string;
  category: z.output<typeof activityCategorySchema>;
  status: ConnectionStatus;
  proposedAt: number;
  sentAt?: number;
  responseDueAt?: number;
  respondedAt?: number;
  autoDeclined: boolean;
  nudgesSent: number;
  attendances: number;
  firstAttendedAt?: number;
  lastAttendedAt?: number;
  stopReason?: string;
  endedAt?: number;
}

export const connectionSummarySchema = z.object({
  connectionId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$/),
  serviceId: safeIdSchema,
  providerId: safeIdSchema,
  category: activityCategorySchema,
  status: z.enum(CONNECTION_STATUSES),
  proposedAt: z.number(),
  sentAt: z.number().optional(),
  responseDueAt: z.number().optional(),
  respondedAt: z.number().optional(),
  autoDeclined: z.boolean(),
  nudgesSent: z.int().min(0),
  attendances: z.int().min(0),
  firstAttendedAt: z.number().optional(),
  lastAttendedAt: z.number().optional(),
  stopReason: text.optional(),
  endedAt: z.number().optional(),
}) satisfies z.ZodType<ConnectionSummary>;

export function connectionSummary(status: ConnectionStatus, c: ConnectionContext): ConnectionSummary {
  return {
    connectionId: c.connectionId,
    serviceId: c.serviceId,
    providerId: c.providerId,
    category: c.category,
    status,
    proposedAt: c.proposedAt,
    ...(c.sentAt !== undefined && { sentAt: c.sentAt }),
    ...(c.responseDueAt !== undefined && { responseDueAt: c.responseDueAt }),
    ...(c.respondedAt !== undefined && { respondedAt: c.respondedAt }),
    autoDeclined: c.autoDeclined,
    nudgesSent: c.nudgesSent,
    attendances: c.attendances,
    ...(c.firstAttendedAt !== undefined && { firstAttendedAt: c.firstAttendedAt, lastAttendedAt: c.attendedAt[c.attendedAt.length - 1]! }),
    ...(c.stopReason !== undefined && { stopReason: c.stopReason }),
    ...(c.endedAt !== undefined && { endedAt: c.endedAt }),
  };
}

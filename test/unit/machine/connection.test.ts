// The connection machine on its own: its graph reaches every end state, nudges come before the
// deadline, the deadline declines for a silent provider, and the policy block's defaults and checks.
import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { CONNECTION_END_STATUSES, CONNECTION_STATUSES, connectionMachine, connectionSummary, dueEvent, nextConnectionDue, SERVICE_REMOVED_REASON } from '../../../machines/connection';
import { connectionGraphInput, connectionPaths, GRAPH_START, PROVIDER } from '../../../machines/connection-graph';
import { DAY, PolicyError, connectionPolicy, parsePolicy, scalePolicy } from '../../../machines/policy';

describe('connection machine', () => {
  it('has a simple path to every end state and through every status', () => {
    const paths = connectionPaths();
    const ends = new Set(paths.map((p) => p.state.value));
    expect([...ends].sort()).toEqual([...CONNECTION_END_STATUSES].sort());
    const visited = new Set(paths.flatMap((p) => p.steps.map((s) => s.state.value as string)));
    for (const status of CONNECTION_STATUSES) expect(visited.has(status) || ends.has(status), status).toBe(true);
    // Only a provider who never answered, after both nudges, is declined by the deadline.
    const silent = paths.filter((p) => p.state.value === 'noResponse');
    expect(silent).toHaveLength(1);
    expect(silent[0]!.steps.map((s) => s.event.type)).toEqual(['xstate.init', 'SEND', 'NUDGE.DUE', 'NUDGE.DUE', 'DEADLINE.RESPONSE']);
  });

  it('nudges at days 7 and 12, declines at day 14 with the link worker told and a next match asked for', () => {
    let [s] = initialTransition(connectionMachine, connectionGraphInput());
    [s] = transition(connectionMachine, s, { type: 'SEND', at: GRAPH_START });
    expect(s.context.effects).toEqual([{ kind: 'sendToProvider', what: 'referral', n: 0 }]);
    const dues: number[] = [];
    for (let due = nextConnectionDue('sent', s.context); due !== undefined; due = nextConnectionDue(s.value as never, s.context)) {
      dues.push((due - GRAPH_START) / DAY);
      [s] = transition(connectionMachine, s, dueEvent(s.context, due));
    }
    expect(dues).toEqual([7, 12, 14]);
    expect(s.value).toBe('noResponse');
    expect(s.context.effects).toEqual([{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'noResponse' }]);
    expect(connectionSummary('noResponse', s.context)).toMatchObject({ autoDeclined: true, nudgesSent: 2, status: 'noResponse' });
  });

  it('refuses what a status does not take, counting attendances past the first', () => {
    let [s] = initialTransition(connectionMachine, connectionGraphInput());
    [s] = transition(connectionMachine, s, { type: 'SEND', at: GRAPH_START });
    const [early] = transition(connectionMachine, s, { type: 'ATTEND', actor: PROVIDER, at: GRAPH_START + DAY });
    expect(early.value).toBe('sent');
    [s] = transition(connectionMachine, s, { type: 'RESPOND', accept: true, actor: PROVIDER, at: GRAPH_START + 2 * DAY });
    for (const day of [3, 10, 17]) [s] = transition(connectionMachine, s, { type: 'ATTEND', actor: PROVIDER, at: GRAPH_START + day * DAY });
    const summary = connectionSummary(s.value as never, s.context);
    expect(summary).toMatchObject({ status: 'attending', attendances: 3, firstAttendedAt: GRAPH_START + 3 * DAY, lastAttendedAt: GRAPH_START + 17 * DAY });
    // A late deadline event changes nothing once the provider has answered.
    const [late] = transition(connectionMachine, s, { type: 'DEADLINE.RESPONSE', at: GRAPH_START + 14 * DAY });
    expect(late.value).toBe('attending');
  });

  it('stops a connection still waiting when its service leaves the directory, and keeps an accepted one open', () => {
    let [sent] = initialTransition(connectionMachine, connectionGraphInput());
    [sent] = transition(connectionMachine, sent, { type: 'SEND', at: GRAPH_START });
    const [stopped] = transition(connectionMachine, sent, { type: 'SERVICE.REMOVED', at: GRAPH_START + DAY });
    expect(stopped.value).toBe('stopped');
    expect(stopped.context).toMatchObject({ stopReason: SERVICE_REMOVED_REASON, endedAt: GRAPH_START + DAY, serviceRemovedAt: GRAPH_START + DAY, nudgesDue: [] });
    expect(stopped.context.effects).toEqual([{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'serviceRemoved' }]);
    expect(nextConnectionDue('stopped', stopped.context)).toBeUndefined();

    let [going] = transition(connectionMachine, sent, { type: 'RESPOND', accept: true, actor: PROVIDER, at: GRAPH_START + DAY });
    [going] = transition(connectionMachine, going, { type: 'ATTEND', actor: PROVIDER, at: GRAPH_START + 2 * DAY });
    const [told] = transition(connectionMachine, going, { type: 'SERVICE.REMOVED', at: GRAPH_START + 3 * DAY });
    expect(told.value).toBe('attending');
    expect(told.context.effects).toEqual([{ kind: 'suggestNextMatch' }, { kind: 'tellLinkWorker', why: 'serviceRemoved' }]);
    // Told once: a second removal (another import) changes nothing, and the person can still stop.
    const [again] = transition(connectionMachine, told, { type: 'SERVICE.REMOVED', at: GRAPH_START + 4 * DAY });
    expect(again.context).toBe(told.context);
    const [ended] = transition(connectionMachine, told, { type: 'STOP', reason: 'Group stopped meeting', actor: PROVIDER, at: GRAPH_START + 5 * DAY });
    expect(ended.value).toBe('stopped');
    // An ended connection ignores it.
    const [after] = transition(connectionMachine, ended, { type: 'SERVICE.REMOVED', at: GRAPH_START + 6 * DAY });
    expect(after.context).toBe(ended.context);
  });

  it('takes its deadline and nudges from policy, with defaults, scaled with the rest', () => {
    expect(parsePolicy({}).connections).toEqual({ responseDeadline: 14 * DAY, nudges: [7 * DAY, 12 * DAY], connectedNeedsAttendance: false });
    expect(parsePolicy({ connections: { responseDeadline: '10d', nudges: ['5d'] } }).connections.nudges).toEqual([5 * DAY]);
    expect(() => parsePolicy({ connections: { responseDeadline: '10d', nudges: ['12d'] } })).toThrow(PolicyError);
    expect(() => parsePolicy({ connections: { responseDeadline: '10d', nudges: ['12d'] } })).toThrow(/connections\.nudges\[0\]: must be before/);
    expect(scalePolicy(parsePolicy({}), 1000).connections.responseDeadline).toBe(Math.round((14 * DAY) / 1000));
    // A case carried from before connections existed reads the defaults.
    expect(connectionPolicy({})).toEqual(parsePolicy({}).connections);
  });
});

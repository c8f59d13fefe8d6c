// An ordinary case's events, as the machine bench times them and the memory bench holds them.
import { LINK_WORKER, PERSON, sampleMeasures } from '../machines/graph';
import { DAY, defaultPolicy, type PathwayEvent, type UnstampedEvent } from '../machines';

const measures = sampleMeasures(defaultPolicy);
const lw = LINK_WORKER;

/** The events of an ordinary case from referral to discharge, with the times they arrive. */
export function journey(start: number): PathwayEvent[] {
  const steps: Array<[number, UnstampedEvent]> = [
    [0.1, { type: 'TRIAGE.ACCEPT', actor: lw }],
    [0.2, { type: 'CAPACITY.GRANTED', linkWorkerId: lw.id }],
    [1, { type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: lw }],
    [5, { type: 'VISIT.RECORD', location: 'home', durationMinutes: 120, measures, barriers: ['transport'], actor: lw }],
    [6, { type: 'PLAN.DRAFT', goals: [{ id: 'g1', text: 'Lunch club twice a week' }], activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }], barrierActions: [{ barrier: 'transport', action: 'transportArranged' }], tier: 'intensive', volunteer: false, actor: lw }],
    [7, { type: 'PLAN.AGREE', party: 'person', actor: PERSON }],
    [7, { type: 'PLAN.AGREE', party: 'linkWorker', actor: lw }],
  ];
  for (let week = 1; week < 12; week++) {
    steps.push([7 + week * 7, week % 3 === 0 ? { type: 'CHECKIN.RECORD', measures, actor: lw } : { type: 'SESSION.LOG', kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: false, actor: lw }]);
  }
  steps.push([7 + 12 * 7, { type: 'DEADLINE.REVIEW' }]);
  steps.push([7 + 12 * 7 + 1, { type: 'REVIEW.RECORD', measures, goalsMet: 'all', outcome: 'discharge', actor: lw }]);
  return steps.map(([day, e]) => ({ ...e, at: start + day * DAY }) as PathwayEvent);
}

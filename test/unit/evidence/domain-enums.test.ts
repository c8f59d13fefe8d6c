// The outcome record names discharge reasons, routes and activity categories with the pathway
// machine's own lists, not copies: a value added to the machine must reach every record and report.
import { describe, expect, it } from 'vitest';
import * as machines from '../../../machines';
import * as evidence from '../../../evidence/outcomeRecord';

describe('evidence uses the pathway machine\'s enums', () => {
  it('imports discharge reasons, referral routes and activity categories instead of redeclaring them', () => {
    expect(evidence.DISCHARGE_REASONS).toBe(machines.DISCHARGE_REASONS);
    expect(evidence.REFERRAL_ROUTES).toBe(machines.REFERRAL_ROUTES);
    expect(evidence.referralRouteSchema).toBe(machines.referralRouteSchema);
    expect(evidence.activityCategorySchema).toBe(machines.activityCategorySchema);
    expect(evidence.ACTIVITY_CATEGORIES).toBe(machines.activityCategorySchema.options);
    expect(evidence.dischargeReasonSchema.options).toEqual([...machines.DISCHARGE_REASONS]);
  });
});

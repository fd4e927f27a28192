import { describe, expect, it } from 'vitest';
import { configErrorOf } from '../../support/config-errors.js';

// Issue 17 (the runbook as a new user found it): a DR target without rtoHours said only "expected number".
describe('config: a tier\'s disasterRecovery target', () => {
  it('names a missing or non-number rpoHours/rtoHours with what it must be, at its key path', () => {
    const dr = (target: Record<string, unknown>) => configErrorOf({ allowedRegions: ['us-east-1', 'us-west-2'], tiers: { starter: { disasterRecovery: { region: 'us-west-2', ...target } } } });
    expect(dr({ rpoHours: 2 })).toMatch(/tiers\.starter\.disasterRecovery\.rtoHours[^\n]*required: whole hours, 1-168/);
    expect(dr({ rtoHours: 4 })).toMatch(/tiers\.starter\.disasterRecovery\.rpoHours[^\n]*required: whole hours, 1-24/);
    expect(dr({ rpoHours: 2, rtoHours: '4' })).toMatch(/tiers\.starter\.disasterRecovery\.rtoHours[^\n]*must be whole hours, 1-168/);
    // the range rules are unchanged
    expect(dr({ rpoHours: 2, rtoHours: 169 })).toMatch(/tiers\.starter\.disasterRecovery\.rtoHours[^\n]*must be at most 168/);
    expect(dr({ rpoHours: 2, rtoHours: 1.5 })).toMatch(/tiers\.starter\.disasterRecovery\.rtoHours[^\n]*must be whole hours/);
  });
});

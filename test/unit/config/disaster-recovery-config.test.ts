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

  // `rpoHours: "1"` (YAML's quoted number) said "must be whole hours, 1-24" without naming the quotes; an unknown key
  // or a missing region said zod's "Unrecognized key"/"Invalid input: expected string"; platformDisasterRecovery said "Invalid input".
  it('names a quoted number as the string it is, with the fix, and an unknown or missing key at its path', () => {
    const dr = (target: Record<string, unknown>) => configErrorOf({ allowedRegions: ['us-east-1', 'us-west-2'], tiers: { starter: { disasterRecovery: { region: 'us-west-2', rpoHours: 2, rtoHours: 4, ...target } } } });
    expect(dr({ rpoHours: '1' })).toContain('tiers.starter.disasterRecovery.rpoHours = "1": must be whole hours, 1-24, a number, not the string "1": write 1 without quotes');
    expect(dr({ rtoHours: '12' })).toContain('tiers.starter.disasterRecovery.rtoHours = "12": must be whole hours, 1-168, a number, not the string "12": write 12 without quotes');
    // "Infinity" is a string in YAML unquoted too (infinity is .inf): no "without quotes" advice for it
    expect(dr({ rpoHours: 'Infinity' })).toContain('tiers.starter.disasterRecovery.rpoHours = "Infinity"');
    expect(dr({ rpoHours: 'Infinity' })).not.toContain('without quotes');
    expect(dr({ rpoHour: 3 })).toContain('tiers.starter.disasterRecovery.rpoHour = 3: is not a key of { region, rpoHours, rtoHours }; did you mean `rpoHours`?');
    expect(configErrorOf({ tiers: { starter: { disasterRecovery: { rpoHours: 2, rtoHours: 4 } } } })).toContain('tiers.starter.disasterRecovery.region = (missing): is required');
  });

  it('platformDisasterRecovery: "none" or { region }, each problem at its path', () => {
    const platform = (value: unknown) => configErrorOf({ allowedRegions: ['us-east-1', 'us-west-2'], platformDisasterRecovery: value });
    expect(platform('None')).toContain('platformDisasterRecovery = "None": must be "none" or { region }');
    expect(platform({ regoin: 'us-west-2' })).toContain('platformDisasterRecovery.regoin = "us-west-2": is not a key of { region }; did you mean `region`?');
    expect(platform({ regoin: 'us-west-2' })).not.toContain('"undefined"');
    expect(platform({ region: 'us-east-1' })).toContain('platformDisasterRecovery.region = "us-east-1": "us-east-1" is the home region');
  });
});

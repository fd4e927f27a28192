import { describe, expect, it } from 'vitest';
import { failoverPlan, failoverPlanLines } from '../../../lib/cli/tenants-failover-command.js';
import { configWith } from '../../support/synth.js';

// The failover runbook's zone value: looked up once, in the tenant's account, and kept by the repoint step (a hostile review's finding)
const config = configWith({ allowedRegions: ['us-east-1', 'us-west-1', 'us-west-2'], tiers: { enterprise: { disasterRecovery: { region: 'us-west-1', rpoHours: 2, rtoHours: 4 } } }, platformDisasterRecovery: { region: 'us-west-2' } });
const now = new Date('2026-12-01T12:00:00Z');

describe('failover runbook: the AvailabilityZones value', () => {
  it('the repoint step keeps the rebuild\'s value; the lookup runs in the tenant\'s account', () => {
    const plan = failoverPlan({ tenantId: 'acme', tier: 'enterprise', accountId: '210987654321', config, now, recoveryPoints: { points: [] } } as never);
    const lines = failoverPlanLines(plan as never);
    // the repoint step (update) must pass the SAME value as the rebuild (or keep the previous one): a fresh lookup during a regional event may differ and move every subnet
    // (adapted: the value is left out of the repoint command, so that aws cloudformation deploy passes it with UsePreviousValue)
    const repoint = lines.split('\n').filter((l) => l.includes('RestoredDbiResourceId=')).join('\n');
    expect(repoint).not.toContain('AvailabilityZones=');
    const repointStep = (plan as { steps: Array<{ title: string; detail: string }> }).steps.find((s) => s.title === 'Point the rebuilt stack at the restored database')!;
    expect(repointStep.detail).toMatch(/AvailabilityZones is left out .*UsePreviousValue.*the same value as step 5/);
    // the lookup must run as the tenant account's role (zone names are per account)
    const lookup = lines.split('\n').find((l) => l.includes('describe-availability-zones'))!;
    expect(lookup).toMatch(/--profile|210987654321/);
  });
});

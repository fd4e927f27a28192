import { describe, expect, it } from 'vitest';
import { drUpdateStanding, stoppedDrStanding } from '../../../lambdas/lifecycle/dr-update-standing.js';

const EXECUTION = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:first';
const dr = {
  region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'ACTIVE' as const, updatedAt: '2026-12-06T10:00:00.000Z',
  deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: EXECUTION },
};
const tags = (tier: string, version: string) => [{ Key: 'tessera:tier', Value: tier }, { Key: 'tessera:blueprint-version', Value: version }];

describe('drUpdateStanding (Record failure, an onboarding re-run whose DR ExecuteChangeSet answer was lost)', () => {
  it('records a completed update on the tier and version its tags say, without an execution, and says so', () => {
    for (const status of ['UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) {
      const cleanup: string[] = [];
      const notes: string[] = [];
      const out = drUpdateStanding(dr, { StackName: dr.stackName, StackStatus: status, Tags: tags('professional', '2.0.0') } as never, cleanup, notes);
      expect(out).toEqual({ disasterRecovery: { ...dr, updatedAt: expect.any(String), deployedWith: { tier: 'professional', blueprintVersion: '2.0.0' } } });
      expect(notes).toEqual([`DR stack tessera-acme-dr (us-west-2) completed an update to tier professional, version 2.0.0 (${status}) before the execution ended: recorded on it (was tier professional, version 1.0.0)`]);
      expect(cleanup).toEqual([`DR stack tessera-acme-dr (us-west-2) is ${status} on tier professional, version 2.0.0: recorded`]);
    }
  });

  it('keeps the record when the tags are the recorded ones, absent, or the stack in another status; says so while it updates', () => {
    expect(drUpdateStanding(dr, { StackStatus: 'UPDATE_COMPLETE', Tags: tags('professional', '1.0.0') } as never, [], [])).toEqual({});
    expect(drUpdateStanding(dr, { StackStatus: 'UPDATE_COMPLETE' } as never, [], [])).toEqual({});
    for (const status of ['CREATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_ROLLBACK_FAILED']) {
      const notes: string[] = [];
      expect(drUpdateStanding(dr, { StackStatus: status, Tags: tags('professional', '2.0.0') } as never, [], notes)).toEqual({});
      expect(notes).toEqual([]);
    }
    const notes: string[] = [];
    expect(drUpdateStanding(dr, { StackStatus: 'UPDATE_IN_PROGRESS', Tags: tags('professional', '2.0.0') } as never, [], notes)).toEqual({});
    expect(notes).toEqual(['DR stack tessera-acme-dr (us-west-2) is being updated (UPDATE_IN_PROGRESS): kept recorded ACTIVE on tier professional, version 1.0.0; a re-run of the onboarding waits for it']);
  });
});

// s43: End stopped execution's read of an onboarding's DR stack (no Catch ran, so Record failure's reads above never did).
describe('stoppedDrStanding (End stopped execution, an onboarding stopped while its DR change set executed)', () => {
  const deploying = { ...dr, status: 'DEPLOYING' as const, deployedWith: { tier: 'professional', blueprintVersion: '2.0.0', executionArn: EXECUTION } };

  it('records a DEPLOYING DR stack whose update completed ACTIVE on its tags (the execution kept when it recorded those), RETAINED where the tier has no DR, and says so', () => {
    for (const status of ['UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) {
      const notes: string[] = [];
      expect(stoppedDrStanding(deploying, { StackStatus: status, Tags: tags('professional', '2.0.0') } as never, true, notes)).toEqual({
        disasterRecovery: { ...deploying, status: 'ACTIVE', updatedAt: expect.any(String) },
      });
      expect(notes).toEqual([`DR stack tessera-acme-dr (us-west-2) completed its update (${status}) before the execution ended: recorded ACTIVE on tier professional, version 2.0.0 (was DEPLOYING)`]);
    }
    // tags of another version than the recorded one: which execution updated it is not known
    expect(stoppedDrStanding(deploying, { StackStatus: 'UPDATE_COMPLETE', Tags: tags('professional', '3.0.0') } as never, true, [])).toEqual({
      disasterRecovery: { ...deploying, status: 'ACTIVE', updatedAt: expect.any(String), deployedWith: { tier: 'professional', blueprintVersion: '3.0.0' } },
    });
    expect(stoppedDrStanding(deploying, { StackStatus: 'UPDATE_COMPLETE', Tags: tags('professional', '2.0.0') } as never, false, [])).toMatchObject({ disasterRecovery: { status: 'RETAINED' } });
  });

  it('keeps DEPLOYING while the update runs (saying so) or after it rolled back; an ACTIVE record is read as Record failure reads it; a create as drCreateStanding', () => {
    const notes: string[] = [];
    expect(stoppedDrStanding(deploying, { StackStatus: 'UPDATE_IN_PROGRESS', Tags: tags('professional', '2.0.0') } as never, true, notes)).toEqual({});
    expect(notes).toEqual(['DR stack tessera-acme-dr (us-west-2) is being updated (UPDATE_IN_PROGRESS): kept recorded DEPLOYING; a re-run of the onboarding waits for it']);
    expect(stoppedDrStanding(deploying, { StackStatus: 'UPDATE_ROLLBACK_COMPLETE', Tags: tags('professional', '1.0.0') } as never, true, [])).toEqual({});
    // ACTIVE (the Lambda's DEPLOYING write refused, the lease ended first): the update's tags recorded
    expect(stoppedDrStanding(dr, { StackStatus: 'UPDATE_COMPLETE', Tags: tags('professional', '2.0.0') } as never, true, [])).toEqual({
      disasterRecovery: { ...dr, updatedAt: expect.any(String), deployedWith: { tier: 'professional', blueprintVersion: '2.0.0' } },
    });
    expect(stoppedDrStanding(deploying, { StackStatus: 'CREATE_COMPLETE', Tags: tags('professional', '2.0.0') } as never, true, [])).toMatchObject({ disasterRecovery: { status: 'ACTIVE', deployedWith: { blueprintVersion: '2.0.0', executionArn: EXECUTION } } });
  });
});

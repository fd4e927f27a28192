import { describe, expect, it } from 'vitest';
import { drCreateStanding } from '../../../lambdas/lifecycle/dr-create-standing.js';

const EXECUTION = 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:first';
const dr = {
  region: 'us-west-2', stackName: 'tessera-acme-dr', status: 'DEPLOYING' as const, updatedAt: '2026-12-06T10:00:00.000Z',
  deployedWith: { tier: 'professional', blueprintVersion: '1.0.0', executionArn: EXECUTION },
};
const tags = (tier: string, version: string) => [{ Key: 'tessera:tier', Value: tier }, { Key: 'tessera:blueprint-version', Value: version }];

describe('drCreateStanding (Record failure, a DR create whose answer was lost)', () => {
  it('records a CREATE_COMPLETE stack ACTIVE on its tags, keeping the execution that recorded it DEPLOYING on them', () => {
    const cleanup: string[] = [];
    const notes: string[] = [];
    const out = drCreateStanding(dr, { StackName: dr.stackName, StackStatus: 'CREATE_COMPLETE', Tags: tags('professional', '1.0.0') } as never, true, cleanup, notes);
    expect(out).toEqual({ disasterRecovery: { ...dr, status: 'ACTIVE', updatedAt: expect.any(String), deployedWith: dr.deployedWith } });
    expect(notes).toEqual(['DR stack tessera-acme-dr (us-west-2) was created (CREATE_COMPLETE) before the execution ended: recorded ACTIVE on tier professional, version 1.0.0']);
    expect(cleanup).toEqual(['DR stack tessera-acme-dr (us-west-2) is CREATE_COMPLETE: recorded ACTIVE']);
  });

  it('records the tier and version the stack says, without an execution, when they are not the recorded ones', () => {
    const out = drCreateStanding(dr, { StackStatus: 'CREATE_COMPLETE', Tags: tags('professional', '0.9.0') } as never, true, [], []);
    expect(out).toMatchObject({ disasterRecovery: { status: 'ACTIVE', deployedWith: { tier: 'professional', blueprintVersion: '0.9.0' } } });
    expect((out as { disasterRecovery: typeof dr }).disasterRecovery.deployedWith).not.toHaveProperty('executionArn');
  });

  it('records it RETAINED when the tenant\'s tier has no DR there (a failed move to a DR tier leaves the tenant on its tier)', () => {
    const notes: string[] = [];
    const out = drCreateStanding(dr, { StackStatus: 'CREATE_COMPLETE', Tags: tags('professional', '1.0.0') } as never, false, [], notes);
    expect(out).toMatchObject({ disasterRecovery: { status: 'RETAINED', deployedWith: dr.deployedWith } });
    expect(notes[0]).toMatch(/recorded RETAINED on tier professional, version 1\.0\.0 \(the tenant's tier has no DR there/);
  });

  it('keeps a stack still being created DEPLOYING and says so; leaves any other status to the caller', () => {
    const notes: string[] = [];
    expect(drCreateStanding(dr, { StackStatus: 'CREATE_IN_PROGRESS', Tags: tags('professional', '1.0.0') } as never, true, [], notes)).toEqual({});
    expect(notes[0]).toMatch(/still being created \(CREATE_IN_PROGRESS\): kept recorded DEPLOYING/);
    for (const status of ['ROLLBACK_COMPLETE', 'UPDATE_COMPLETE', 'CREATE_FAILED']) expect(drCreateStanding(dr, { StackStatus: status } as never, true, [], [])).toBeUndefined();
  });
});

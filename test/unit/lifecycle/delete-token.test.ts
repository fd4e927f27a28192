import { describe, expect, it } from 'vitest';
import { deleteStackToken } from '../../../lambdas/lifecycle/delete-token.js';

const EXECUTION = 'arn:aws:states:us-east-1:222222222222:execution:tessera-offboard:acme-1';
const STACK = { StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'CREATE_COMPLETE' as const };

describe('deleteStackToken', () => {
  it('is a token CloudFormation takes (1-128 of [a-zA-Z][-a-zA-Z0-9]*: DeleteStack API reference), the same for a retry of one ask', () => {
    const token = deleteStackToken(EXECUTION, STACK, 'Delete tenant stacks');
    expect(token).toMatch(/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/);
    expect(token).toMatch(/^tessera-delete-[0-9a-f]{24}-[0-9a-f]{16}$/);
    expect(deleteStackToken(EXECUTION, { ...STACK }, 'Delete tenant stacks')).toBe(token);
  });

  it('is another for another execution, another stack under the name, another status, another deletion attempt, another step', () => {
    const token = deleteStackToken(EXECUTION, STACK, 'Delete tenant stacks');
    const others = [
      deleteStackToken(`${EXECUTION}-2`, STACK, 'Delete tenant stacks'),
      deleteStackToken(EXECUTION, { ...STACK, StackId: STACK.StackId.replace(/1$/, '2') }, 'Delete tenant stacks'),
      deleteStackToken(EXECUTION, { ...STACK, StackStatus: 'DELETE_FAILED' as const }, 'Delete tenant stacks'),
      deleteStackToken(EXECUTION, { ...STACK, StackStatus: 'DELETE_FAILED' as const, DeletionTime: new Date('2026-12-05T00:00:00.000Z') }, 'Delete tenant stacks'),
      deleteStackToken(EXECUTION, { ...STACK, LastUpdatedTime: new Date('2026-12-05T00:00:00.000Z') }, 'Delete tenant stacks'),
      deleteStackToken(EXECUTION, STACK, 'Record failure'),
    ];
    expect(new Set([token, ...others]).size).toBe(7);
  });
});

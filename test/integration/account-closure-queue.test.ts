import { describe, expect, it } from 'vitest';
import { closures } from '../../lambdas/shared/control-table.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { inject } from './support/faults.js';
import { useLifecyclePlatform } from './support/lifecycle-platform-hooks.js';

/**
 * The account-closure queue after a CloseAccount whose answer was lost (it took effect; the Lambda
 * saw a timeout) — or an account an operator closed by hand from the Suspended OU: Organizations
 * then shows the account State PENDING_CLOSURE and answers AccountAlreadyClosedException to another
 * CloseAccount (the tests' moto too: support/moto-python/tessera_moto_patches.py close_account_as_aws).
 * Found by the hostile lc (s12): the entry was requeued and its error rethrown by every later
 * Retire account, oldest first.
 */
const lifecycle = useLifecyclePlatform();
const { cleanups, api, settled, onboarded } = lifecycle;
describe('account closure queue', () => {
  it('a CloseAccount that took effect but whose answer was lost: the offboarding finishes, and it does not block the next tenant\'s offboarding', async () => {
    const alpha = await onboarded('alphaco', 'enterprise');
    const beta = await onboarded('betaco', 'enterprise');
    // GIVEN Organizations closes alpha's account on the first CloseAccount, whose answer is lost (timeout); after that
    // moto answers as AWS does: DescribeAccount State PENDING_CLOSURE, CloseAccount AccountAlreadyClosedException
    let lost = 0;
    cleanups.push(inject('lc-close-lost', (next, context) => async (args) => {
      if (context.commandName === 'CloseAccountCommand' && args.input.AccountId === alpha.accountId && lost === 0) {
        lost += 1;
        await next(args);
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
      }
      return next(args);
    }));
    // WHEN alpha is offboarded, then beta
    const offA = await api('DELETE', '/admin/tenants/alphaco');
    const endA = await settled(offA.body.executionArn);
    const a = (await getTenant('alphaco'))!;
    console.log('alpha offboarding', endA.status, a.status, JSON.stringify(a.failure), JSON.stringify(await closures()));
    const offB = await api('DELETE', '/admin/tenants/betaco');
    const endB = await settled(offB.body.executionArn);
    const b = (await getTenant('betaco'))!;
    console.log('beta offboarding', endB.status, b.status, JSON.stringify(b.failure), JSON.stringify(await closures()));
    // AND alpha's offboarding is resumed as documented (DELETE again)
    const offA2 = await api('DELETE', '/admin/tenants/alphaco');
    const endA2 = offA2.status === 202 ? (await settled(offA2.body.executionArn)).status : offA2.status;
    console.log('alpha DELETE again', endA2, (await getTenant('alphaco'))!.status, JSON.stringify((await getTenant('alphaco'))!.failure));
    // THEN both are OFFBOARDED, and alpha's account is recorded closed
    expect(b.status).toBe('OFFBOARDED');
    expect(a.status).toBe('OFFBOARDED');
    expect(endA2).toBe(200);
    expect((await closures()).find((c) => c.accountId === alpha.accountId)?.status).toBe('CLOSED');
    expect((await closures()).find((c) => c.accountId === beta.accountId)?.status).toBe('CLOSED');
  }, 240_000);

  it('an account whose CloseAccount keeps failing (AccessDenied) fails only its own entry: recorded on its tenant and kept queued; the next tenant\'s offboarding closes its account', async () => {
    const gamma = await onboarded('gammaco', 'enterprise');
    const delta = await onboarded('deltaco', 'enterprise');
    cleanups.push(inject('lc-close-denied', (next, context) => async (args) => {
      if (context.commandName === 'CloseAccountCommand' && args.input.AccountId === gamma.accountId) {
        throw Object.assign(new Error('injected: not authorized to close this account'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    }));
    const offG = await api('DELETE', '/admin/tenants/gammaco');
    expect((await settled(offG.body.executionArn)).status).toBe('SUCCEEDED');
    expect((await getTenant('gammaco'))!).toMatchObject({
      status: 'OFFBOARDED', accountClosure: { accountId: gamma.accountId, state: 'QUEUED', attempts: 1, error: expect.stringMatching(/^AccessDeniedException: injected/) },
    });
    const offD = await api('DELETE', '/admin/tenants/deltaco');
    expect((await settled(offD.body.executionArn)).status).toBe('SUCCEEDED');
    expect((await getTenant('deltaco'))!.status).toBe('OFFBOARDED');
    const queue = await closures();
    expect(queue.find((c) => c.accountId === delta.accountId)?.status).toBe('CLOSED');
    expect(queue.find((c) => c.accountId === gamma.accountId)).toMatchObject({ status: 'QUEUED', attempts: 2, lastError: expect.stringMatching(/AccessDeniedException/) });
    expect((await getTenant('gammaco'))!.accountClosure).toMatchObject({ state: 'QUEUED', attempts: 2 });
  }, 240_000);
});

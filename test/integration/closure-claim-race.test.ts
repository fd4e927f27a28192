import { CloseAccountCommand, CreateAccountCommand, DescribeAccountCommand, DescribeCreateAccountStatusCommand } from '@aws-sdk/client-organizations';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimClosure, closures, enqueueClosure, requeueClosure, setClosureAside } from '../../lambdas/shared/control-table.js';
import { organizationsClient } from '../../lambdas/shared/sessions.js';
import { configWithBusinessTier } from './support/business-tier.js';
import { inject } from './support/faults.js';
import { LocalPlatform } from './support/local-platform.js';

/**
 * lc3 (s13): two runs of the closure queue at once (the daily job and a Retire account, or two
 * offboardings' Retire account) both find the same expired CLOSING claim. Settling it was not
 * conditional (requeueClosure set QUEUED whatever the entry's status was by then, and a run whose
 * claim was settled still counted the account closed): now each write is conditional on the claim
 * the run read (CLOSING with its claimedAt), and only the run whose claim it still is counts it.
 * CloseAccount on an account closing or closed answers AccountAlreadyClosedException, and
 * DescribeAccount shows it State PENDING_CLOSURE, in AWS and in the tests' moto
 * (support/moto-python/tessera_moto_patches.py close_account_as_aws).
 */
let platform: LocalPlatform;
const cleanups: Array<() => void> = [];
beforeAll(async () => { platform = await LocalPlatform.start(configWithBusinessTier()); });
afterEach(() => cleanups.splice(0).forEach((undo) => undo()));
afterAll(async () => { await platform?.settle(); await platform?.stop(); });

async function memberAccount(name: string): Promise<string> {
  const orgs = await organizationsClient();
  const req = await orgs.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
  for (;;) {
    const s = (await orgs.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: req.CreateAccountStatus!.Id! }))).CreateAccountStatus!;
    if (s.AccountId) return s.AccountId;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('closure queue: an expired CLOSING claim settled by two runs at once', () => {
  it('the entry never goes back to QUEUED after CLOSED, CloseAccount is called once, and the interruption is counted once', async () => {
    const { processClosureQueue } = await import('../../lambdas/lifecycle/account-closure.js');
    const accountId = await memberAccount('lc3-race');
    await enqueueClosure(accountId, 'raceco');
    // GIVEN a run claimed the entry 20 minutes ago and died before CloseAccount (account still ACTIVE)
    expect(await claimClosure(accountId, new Date(Date.now() - 20 * 60 * 1000))).toBe(true);
    // AND two runs start together; the second run's DescribeAccount answer (ACTIVE, true when asked) arrives after the first run finished
    let describes = 0;
    let releaseSecond!: () => void;
    const secondHeld = new Promise<void>((r) => { releaseSecond = r; });
    let secondArrived!: () => void;
    const secondAsked = new Promise<void>((r) => { secondArrived = r; });
    let closeCalls = 0;
    const statuses: string[] = [];
    cleanups.push(inject('lc3-race', (next, context) => async (args) => {
      if (context.commandName === 'DescribeAccountCommand' && args.input.AccountId === accountId) {
        const call = (describes += 1);
        // The first run's answer waits until the second run asked too: both runs read the expired claim before either
        // settles it (on a loaded machine one run's Scan could otherwise come after the other's requeue and claim).
        if (call === 1) await secondAsked;
        // asked before the first run closed the account, answered after it: ACTIVE, as it was when asked
        if (call === 2) {
          secondArrived();
          await secondHeld;
          return { output: { Account: { Id: accountId, State: 'ACTIVE', Status: 'ACTIVE' }, $metadata: {} } } as never;
        }
        return next(args);
      }
      if (context.commandName === 'CloseAccountCommand' && args.input.AccountId === accountId) {
        closeCalls += 1; // a second call reaches moto, which answers AccountAlreadyClosedException as AWS does (tessera_moto_patches.py close_account_as_aws)
      }
      return next(args);
    }));
    const orgs = await organizationsClient();
    const runB = processClosureQueue(orgs); // whichever run asks DescribeAccount second has its answer held
    const runA = processClosureQueue(orgs);
    const first = await Promise.race([runA.then(() => 'A'), runB.then(() => 'B')]);
    const afterFirst = (await closures()).find((c) => c.accountId === accountId)!;
    statuses.push(`after first run (${first}): ${afterFirst.status} attempts=${afterFirst.attempts}`);
    releaseSecond();
    const [a, b] = await Promise.all([runA, runB]);
    const end = (await closures()).find((c) => c.accountId === accountId)!;
    statuses.push(`after both: ${end.status} attempts=${end.attempts}`);
    const acct = (await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account;
    console.log(statuses.join('\n'), '\nA', JSON.stringify(a), '\nB', JSON.stringify(b), '\ncloseCalls', closeCalls, 'account', acct?.State, acct?.Status);
    expect(afterFirst.status).toBe('CLOSED');
    expect(closeCalls).toBe(1);
    expect(end.status).toBe('CLOSED');
    expect(end.attempts).toBe(1);
    // and the account is not reported as closed by both runs (each counts it against the quota / reports it)
    expect([...a.closed, ...b.closed].filter((x) => x === accountId)).toHaveLength(1);
  }, 120_000);
  it('a claim expired with 3 failed attempts, settled by two runs at once: the account closed by one run is not set aside for an operator by the other', async () => {
    const { processClosureQueue } = await import('../../lambdas/lifecycle/account-closure.js');
    const accountId = await memberAccount('lc3-race-aside');
    await enqueueClosure(accountId, 'asideco');
    // GIVEN three earlier CloseAccount failures (AccessDenied, since fixed), then a run that claimed it 20 minutes ago and died
    for (let i = 0; i < 3; i++) {
      const at = new Date(Date.now() - (60 - i) * 60 * 1000);
      expect(await claimClosure(accountId, at)).toBe(true);
      expect(await requeueClosure(accountId, at.toISOString(), 'AccessDeniedException: not authorized')).toBe(i + 1);
    }
    expect(await claimClosure(accountId, new Date(Date.now() - 20 * 60 * 1000))).toBe(true);
    // AND two runs: run 1 settles the claim, claims again and calls CloseAccount (which takes effect);
    // run 2's DescribeAccount (ACTIVE when asked) answers while run 1 waits for CloseAccount's answer
    let describes = 0;
    let closeEntered!: () => void;
    const closeStarted = new Promise<void>((r) => { closeEntered = r; });
    let releaseClose!: () => void;
    const closeHeld = new Promise<void>((r) => { releaseClose = r; });
    let closeCalls = 0;
    let secondArrived!: () => void;
    const secondAsked = new Promise<void>((r) => { secondArrived = r; });
    cleanups.push(inject('lc3-race-aside', (next, context) => async (args) => {
      if (context.commandName === 'DescribeAccountCommand' && args.input.AccountId === accountId) {
        const call = (describes += 1);
        if (call === 1) await secondAsked; // both runs read the expired claim before either settles it
        // The second run's DescribeAccount is asked before the first run's CloseAccount and answered after it (ACTIVE, as it was when asked)
        if (call === 2) {
          secondArrived();
          await closeStarted;
          return { output: { Account: { Id: accountId, State: 'ACTIVE', Status: 'ACTIVE' }, $metadata: {} } } as never;
        }
        return next(args);
      }
      if (context.commandName === 'CloseAccountCommand' && args.input.AccountId === accountId) {
        closeCalls += 1;
        closeEntered();
        await closeHeld;
      }
      return next(args);
    }));
    const orgs = await organizationsClient();
    const run1 = processClosureQueue(orgs);
    const run2 = processClosureQueue(orgs);
    const second = await Promise.race([run1.then(() => 1), run2.then(() => 2)]);
    const mid = (await closures()).find((c) => c.accountId === accountId)!;
    releaseClose();
    const [r1, r2] = await Promise.all([run1, run2]);
    const end = (await closures()).find((c) => c.accountId === accountId)!;
    console.log(`run ${second} ended first; entry then: ${mid.status} attempts=${mid.attempts}; at the end: ${end.status} attempts=${end.attempts} lastError=${end.lastError}`, '\nrun1', JSON.stringify(r1), '\nrun2', JSON.stringify(r2), '\ncloseCalls', closeCalls);
    expect(closeCalls).toBe(1);
    expect(end.status).toBe('CLOSED');
    expect(end.attempts).toBe(4); // the three failures, and the interruption counted once
    expect([...r1.needsOperator, ...r2.needsOperator]).not.toContain(accountId);
  }, 120_000);
});

describe('closure queue: accounts closed outside the run, as Organizations shows them (State PENDING_CLOSURE)', () => {
  /** Counts the queue's CloseAccount calls for `accountId` (the test's own CloseAccount is made before). */
  const countCloses = (name: string, accountId: string) => {
    const calls = { n: 0 };
    cleanups.push(inject(name, (next, context) => async (args) => {
      if (context.commandName === 'CloseAccountCommand' && args.input.AccountId === accountId) calls.n += 1;
      return next(args);
    }));
    return calls;
  };

  it('an expired claim whose CloseAccount took effect (the run died before recording it) is recorded CLOSED from DescribeAccount: no second CloseAccount, no attempt counted', async () => {
    const { processClosureQueue } = await import('../../lambdas/lifecycle/account-closure.js');
    const orgs = await organizationsClient();
    const accountId = await memberAccount('lc-expired-closed');
    await enqueueClosure(accountId, 'expiredco');
    // GIVEN a run claimed the entry 20 minutes ago, called CloseAccount (which took effect) and died before recording it
    expect(await claimClosure(accountId, new Date(Date.now() - 20 * 60 * 1000))).toBe(true);
    await orgs.send(new CloseAccountCommand({ AccountId: accountId }));
    const closes = countCloses('lc-expired-closed', accountId);
    // WHEN the next run settles the expired claim
    const run = await processClosureQueue(orgs);
    // THEN it is closed from Organizations' word (State PENDING_CLOSURE), not closed again nor counted as an interrupted attempt
    expect(run.closed).toEqual([accountId]);
    expect(run.failed).toEqual([]);
    expect(closes.n).toBe(0);
    const entry = (await closures()).find((c) => c.accountId === accountId)!;
    expect(entry).toMatchObject({ status: 'CLOSED', closedAt: expect.any(String) });
    expect(entry.attempts ?? 0).toBe(0);
    expect(entry.lastError).toBeUndefined();
  }, 120_000);

  it('an entry set aside for an operator (NEEDS_OPERATOR) whose account the operator closed by hand is recorded CLOSED by the next run', async () => {
    const { processClosureQueue } = await import('../../lambdas/lifecycle/account-closure.js');
    const orgs = await organizationsClient();
    const accountId = await memberAccount('lc-aside-closed');
    await enqueueClosure(accountId, 'asidehandco');
    // GIVEN the entry was set aside after a failed CloseAccount
    const claimedAt = new Date();
    expect(await claimClosure(accountId, claimedAt)).toBe(true);
    expect(await setClosureAside(accountId, claimedAt.toISOString(), 'AccessDeniedException: not authorized')).toBe(1);
    // AND the operator closed the account by hand (aws organizations close-account)
    await orgs.send(new CloseAccountCommand({ AccountId: accountId }));
    const closes = countCloses('lc-aside-closed', accountId);
    // WHEN the daily run looks at it
    const run = await processClosureQueue(orgs);
    // THEN it is recorded CLOSED (DescribeAccount only), no longer waiting for an operator
    expect(run.closed).toContain(accountId);
    expect(run.needsOperator).not.toContain(accountId);
    expect(closes.n).toBe(0);
    expect((await closures()).find((c) => c.accountId === accountId)).toMatchObject({ status: 'CLOSED', closedAt: expect.any(String) });
  }, 120_000);
});

import { StopExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { platformClient } from '../../lambdas/shared/aws-clients.js';
import { claimUpgradeTier, releaseUpgradeTier } from '../../lambdas/shared/control-table.js';
import { configWith } from '../support/config-with.js';
import { adminCall, onboardingRequest } from './support/admin-calls.js';
import { inject } from './support/faults.js';
import { BLUEPRINT_VERSION } from './support/platform-fixture.js';
import { LocalPlatform } from './support/local-platform.js';

/**
 * POST /admin/upgrades against moto (the registry, the control table's claims, the blueprint catalog the fixture
 * publishes) and the local Step Functions (StartExecution, ListExecutions, DescribeExecution with AWS's semantics). The unit
 * tests (test/unit/lifecycle/admin-upgrades.test.ts) stand in for the control table; here its conditional writes are DynamoDB's.
 */
let platform: LocalPlatform;
const cleanups: Array<() => void> = [];
beforeAll(async () => { platform = await LocalPlatform.start(configWith()); });
afterEach(() => cleanups.splice(0).forEach((undo) => undo()));
afterAll(async () => { await platform?.settle(); await platform?.stop(); });

const execution = (name: string) => `arn:aws:states:us-east-1:${platform.fixture.env.TESSERA_UPGRADE_STATE_MACHINE_ARN!.split(':')[4]}:execution:tessera-upgrade:${name}`;

describe('the tier\'s upgrade claim (control table, conditional UpdateItem on moto)', () => {
  it('is taken when free or own, held against another execution, taken over from the one named ended, and given back only by its holder', async () => {
    const a = { executionArn: execution('claim-a'), requestId: 'claim-a', blueprintVersion: '1.0.0' };
    const b = { executionArn: execution('claim-b'), requestId: 'claim-b', blueprintVersion: '2.0.0' };
    expect(await claimUpgradeTier('claimtier', a)).toBeUndefined();
    expect(await claimUpgradeTier('claimtier', a)).toBeUndefined(); // the same request again (or the SDK's retry)
    expect(await claimUpgradeTier('claimtier', b)).toMatchObject({ executionArn: a.executionArn, requestId: 'claim-a', blueprintVersion: '1.0.0', claimedAt: expect.stringMatching(/^\d{4}-/) });
    expect(await claimUpgradeTier('claimtier', b, execution('not-the-holder'))).toMatchObject({ executionArn: a.executionArn });
    expect(await claimUpgradeTier('claimtier', b, a.executionArn)).toBeUndefined(); // a found ended: taken over
    await releaseUpgradeTier('claimtier', a.executionArn); // not a's any more: kept
    expect(await claimUpgradeTier('claimtier', a)).toMatchObject({ executionArn: b.executionArn });
    await releaseUpgradeTier('claimtier', b.executionArn);
    expect(await claimUpgradeTier('claimtier', a)).toBeUndefined();
  });
});

describe('POST /admin/upgrades on the local platform', () => {
  it('refuses a version the catalog does not publish and an unknown tier (400), starting nothing', async () => {
    const version = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'starter', blueprintVersion: '9.9.9' });
    expect(version.status).toBe(400);
    expect(version.body.error).toMatchObject({ code: 'unknown_blueprint_version', param: 'blueprintVersion', message: expect.stringContaining('blueprints/9.9.9/account-baseline.template.json (NotFound)') });
    const tier = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'enterprize', blueprintVersion: BLUEPRINT_VERSION });
    expect(tier.body.error).toMatchObject({ code: 'unknown_tier', message: expect.stringContaining('(did you mean enterprise?)') });
    expect([...platform.executions.keys()].filter((k) => k.includes(':tessera-upgrade:'))).toEqual([]);
  });

  it('starts the upgrade of a published version, refuses a second one of the tier while it runs (409), and starts the next once it ended', async () => {
    // GIVEN the first upgrade's List tier tenants held at its write of the items (the execution RUNNING meanwhile)
    let release!: () => void;
    let reached!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const listing = new Promise<void>((r) => { reached = r; });
    cleanups.push(inject('hold-upgrade-items', (next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand' && String(args.input.Key).startsWith('upgrades/pro-first/')) {
        reached();
        await held;
      }
      return next(args);
    }));
    cleanups.push(() => release());
    // WHEN the first is asked, then a second of the same tier, and one of another tier
    const first = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'professional', blueprintVersion: BLUEPRINT_VERSION, requestId: 'pro-first' });
    const second = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'professional', blueprintVersion: BLUEPRINT_VERSION, requestId: 'pro-second' });
    const again = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'professional', blueprintVersion: BLUEPRINT_VERSION }, { 'Idempotency-Key': 'pro-first' });
    // THEN the first started (202), named after its requestId; the second is refused naming it; the first again answers it
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ upgradeId: 'pro-first', executionArn: execution('pro-first'), tier: 'professional', blueprintVersion: BLUEPRINT_VERSION, executionStatus: 'RUNNING' });
    // (its caller recorded as the input's actor, s31s: adminCall sends no SigV4 identity here, so admin:unknown)
    expect(JSON.parse(platform.executions.get(execution('pro-first'))!.input)).toEqual({ tier: 'professional', blueprintVersion: BLUEPRINT_VERSION, requestId: 'pro-first', actor: 'admin:unknown' });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'upgrade_in_progress', param: 'tier', message: expect.stringContaining('follow it with tessera tenants upgrade --follow pro-first') });
    expect(second.body.upgrade).toMatchObject({ upgradeId: 'pro-first', executionArn: execution('pro-first'), requestId: 'pro-first' });
    expect(again).toMatchObject({ status: 200, body: { upgradeId: 'pro-first', note: 'upgrade already running' } });
    // AND its progress names it, running, at its first step (List tier tenants writes its items now)
    await listing;
    const progress = await adminCall(platform, 'GET', '/admin/upgrades/pro-first');
    expect(progress.body).toMatchObject({ upgradeId: 'pro-first', tier: 'professional', executionStatus: 'RUNNING', steps: [expect.objectContaining({ name: 'List tier tenants', status: 'RUNNING' })] });
    // WHEN the first is stopped (ABORTED), its claim still in the control table
    await platformClient(SFNClient).send(new StopExecutionCommand({ executionArn: execution('pro-first'), error: 'Operator', cause: 'stopped by hand' }));
    release();
    // THEN the next upgrade of the tier starts: the claim of an execution that ended is taken over
    const next = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'professional', blueprintVersion: BLUEPRINT_VERSION, requestId: 'pro-second' });
    expect(next.status).toBe(202);
    expect(await claimUpgradeTier('professional', { executionArn: execution('someone-else'), requestId: 'x', blueprintVersion: '1.0.0' })).toMatchObject({ executionArn: execution('pro-second') });
    const stopped = await adminCall(platform, 'GET', '/admin/upgrades/pro-first');
    expect(stopped.body).toMatchObject({ executionStatus: 'ABORTED', error: 'Operator', cause: 'stopped by hand' });
  });

  it('runs the Distributed Map on the local platform: each listed tenant upgraded as a child execution, the summary read from the result files, and the progress says how many were listed', async () => {
    // GIVEN a starter tenant on the platform's version
    const onboard = await adminCall(platform, 'POST', '/admin/tenants', onboardingRequest('upgco', 'starter'));
    expect(onboard.status).toBe(202);
    expect((await platform.awaitExecution(onboard.body.executionArn)).status).toBe('SUCCEEDED');
    const target = '2.0.0'; // the catalog's other version (BLUEPRINT_VERSION is 1.0.0)
    // WHEN the tier is upgraded to the catalog's other version
    const started = await adminCall(platform, 'POST', '/admin/upgrades', { tier: 'starter', blueprintVersion: target, requestId: 'starter-upgco' });
    expect(started.status).toBe(202);
    const ended = await platform.awaitExecution(execution('starter-upgco'));
    // THEN it succeeded (aws-local-stepfunctions failed the Map at once: States.Runtime "Input of Map state must be an array…")
    expect(ended).toMatchObject({ status: 'SUCCEEDED' });
    // AND its progress (GET /admin/upgrades/{id}, what tenants upgrade --watch prints) counts the listed tenant (the local
    // history had no state output) and the summary of the map's result files (summarize-upgrade.ts read them from S3)
    const progress = await adminCall(platform, 'GET', '/admin/upgrades/starter-upgco');
    expect(progress.body).toMatchObject({ upgradeId: 'starter-upgco', listed: 1, executionStatus: 'SUCCEEDED', summary: { upgraded: 1, refused: 0, skipped: 0, failed: 0, manifest: expect.stringMatching(/^s3:\/\/.+\/upgrades\/starter-upgco\/results\/[0-9a-f-]{36}\/manifest\.json$/) } });
    expect(progress.body.steps.map((st: { name: string; status: string }) => `${st.name} ${st.status}`)).toEqual(['List tier tenants DONE', 'Upgrade each tenant DONE', 'Summarize upgrade DONE', 'Upgrade finished DONE']);
    // AND the tenant is on the new version, its history naming the upgrade's child execution
    const tenant = await adminCall(platform, 'GET', '/admin/tenants/upgco');
    expect(tenant.body).toMatchObject({ status: 'ACTIVE', blueprintVersion: target });
    expect(tenant.body.executions.at(-1)).toMatchObject({ kind: 'upgrade', status: 'SUCCEEDED', executionArn: expect.stringContaining(':execution:tessera-upgrade/starter-upgco:0') });
  });
});

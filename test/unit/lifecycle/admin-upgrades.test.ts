import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand, DescribeMapRunCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand,
  type HistoryEvent, SFNServiceException } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { UPGRADE_REQUEST_ID } from '../../../lib/tenant-record.js';
import type { UpgradeTierClaim } from '../../../lambdas/shared/control-table.js';
import { registryMock } from './registry-mock.js';
import { setLifecycleEnv } from './support.js';

/** The tiers' upgrade claims (control-table.ts claimUpgradeTier's conditional write, over a Map). */
const claims = new Map<string, UpgradeTierClaim>();
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => ({
  releaseSlot: vi.fn(async () => undefined),
  claimUpgradeTier: vi.fn(async (tier: string, claim: Omit<UpgradeTierClaim, 'claimedAt'>, ended?: string) => {
    const held = claims.get(tier);
    if (held && held.executionArn !== claim.executionArn && held.executionArn !== ended) return held;
    claims.set(tier, { ...claim, claimedAt: new Date().toISOString() });
    return undefined;
  }),
  releaseUpgradeTier: vi.fn(async (tier: string, executionArn: string) => {
    if (claims.get(tier)?.executionArn === executionArn) claims.delete(tier);
  }),
}));

const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const { handler } = await import('../../../lambdas/admin/admin-api.js');
const { upgradeExecutionName, defaultRequestId, CLAIM_START_WINDOW_MS } = await import('../../../lambdas/admin/upgrade-routes.js');

const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-upgrade';
const arnOf = (name: string) => `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;
const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, requestContext: { requestId: 'api-req-1' }, ...extra } as unknown as APIGatewayProxyEvent);
const post = (body: unknown, headers: Record<string, string> = {}) => call('POST', '/admin/upgrades', { body: JSON.stringify(body), headers });
const get = (upgradeId: string) => call('GET', '/admin/upgrades/{upgradeId}', { pathParameters: { upgradeId } });
const body = (r: { body: string }) => JSON.parse(r.body);

/** Step Functions' executions of tessera-upgrade, as StartExecution makes them (AWS's name rules: the same name and input while RUNNING is that execution). */
interface Execution { name: string; input: string; status: string; startDate: Date; stopDate?: Date; output?: string; error?: string; cause?: string; history?: HistoryEvent[] }
const executions = new Map<string, Execution>();
const starts = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

beforeEach(() => {
  setLifecycleEnv();
  process.env[ENV.upgradeStateMachineArn] = MACHINE;
  claims.clear();
  executions.clear();
  vi.clearAllMocks();
  sfn.reset();
  s3.reset();
  // The catalog publishes 1.0.0 and 2.0.0 of every tier.
  s3.on(HeadObjectCommand).callsFake((input) => {
    if (/^blueprints\/(1\.0\.0|2\.0\.0)\//.test(input.Key)) return {};
    throw notFound;
  });
  sfn.on(StartExecutionCommand).callsFake((input) => {
    const arn = arnOf(input.name);
    const existing = executions.get(arn);
    if (existing && !(existing.status === 'RUNNING' && existing.input === input.input)) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${arn}'`, $metadata: {} });
    if (!existing) executions.set(arn, { name: input.name, input: input.input, status: 'RUNNING', startDate: new Date('2026-12-05T10:00:00.000Z') });
    return { executionArn: arn, startDate: executions.get(arn)!.startDate };
  });
  sfn.on(DescribeExecutionCommand).callsFake(({ executionArn }) => {
    const e = executions.get(executionArn);
    if (!e) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return { executionArn, stateMachineArn: MACHINE, ...e };
  });
  sfn.on(ListExecutionsCommand).callsFake(({ statusFilter }) => ({
    executions: [...executions.entries()].filter(([, e]) => !statusFilter || e.status === statusFilter).map(([executionArn, e]) => ({ executionArn, stateMachineArn: MACHINE, name: e.name, status: e.status, startDate: e.startDate })),
  }));
  sfn.on(GetExecutionHistoryCommand).callsFake(({ executionArn }) => ({ events: executions.get(executionArn)?.history ?? [] }));
});

/** An upgrade execution started outside this test's requests (another request, or the AWS CLI). */
function existing(name: string, input: Record<string, unknown>, extra: Partial<Execution> = {}): string {
  executions.set(arnOf(name), { name, input: JSON.stringify(input), status: 'RUNNING', startDate: new Date('2026-12-05T09:00:00.000Z'), ...extra });
  return arnOf(name);
}

describe('POST /admin/upgrades: starts a tier\'s rolling upgrade (tessera-upgrade)', () => {
  it('starts the upgrade state machine with its input (UpgradeRequest), named after the requestId, and answers 202 with the execution', async () => {
    // WHEN
    const res = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-2.0.0', allowReplacement: { reason: 'cache log groups move under vendedlogs' } });
    // THEN 202, with the execution's name as the upgradeId (a '.' is not a loggable execution name: `_`, and a hash of the requestId)
    expect(res.statusCode).toBe(202);
    const [start] = starts();
    expect(start.stateMachineArn).toBe(MACHINE);
    expect(start.name).toMatch(/^starter-2_0_0-[0-9a-f]{8}$/);
    expect(JSON.parse(start.input!)).toEqual({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-2.0.0', allowReplacement: { reason: 'cache log groups move under vendedlogs' }, actor: 'admin:unknown' });
    expect(body(res)).toEqual({
      upgradeId: start.name, requestId: 'starter-2.0.0', executionArn: arnOf(start.name!), tier: 'starter', blueprintVersion: '2.0.0',
      allowReplacement: { reason: 'cache log groups move under vendedlogs' }, actor: 'admin:unknown', executionStatus: 'RUNNING', startDate: '2026-12-05T10:00:00.000Z',
    });
    // AND the tier is claimed for it (the claim two requests at once meet)
    expect(claims.get('starter')).toMatchObject({ executionArn: arnOf(start.name!), requestId: 'starter-2.0.0', blueprintVersion: '2.0.0' });
    // AND the catalog was asked for the templates the upgrade deploys (starter: shared compute, its namespace too), at that version
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['blueprints/2.0.0/account-baseline.template.json', 'blueprints/2.0.0/starter.template.json', 'blueprints/2.0.0/starter-namespace.template.json']);
  });

  // s31s: the upgrade recorded no caller, and its per-tenant runs no actor.
  it('records who started it (adminCaller: the SigV4 caller API Gateway names) in its execution input, never an actor from the body', async () => {
    const jane = 'arn:aws:sts::111111111111:assumed-role/Ops/jane@example.com';
    const res = await call('POST', '/admin/upgrades', { body: JSON.stringify({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-by-jane' }), requestContext: { requestId: 'r', identity: { userArn: jane } } as never });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toMatchObject({ requestId: 'starter-by-jane', actor: `admin:${jane}` });
    expect(body(res)).toMatchObject({ actor: `admin:${jane}` });
    // A body naming an actor is refused (the body is strict), nothing started
    const forged = await call('POST', '/admin/upgrades', { body: JSON.stringify({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-forged', actor: 'admin:someone-else' }), requestContext: { requestId: 'r', identity: { userArn: jane } } as never });
    expect(forged.statusCode).toBe(400);
    expect(body(forged).error).toMatchObject({ code: 'unknown_parameter', param: 'actor' });
    expect(starts()).toHaveLength(1);
  });

  it('takes the requestId from the body, else the Idempotency-Key header, else makes one; a header beside another requestId, or one the requestId rule refuses, is a 400 naming it', async () => {
    expect(upgradeExecutionName('starter_2-0')).toBe('starter_2-0');
    // docs/upgrading-and-teardown.md's example: a '.' is not a loggable execution name
    expect(upgradeExecutionName('starter-0.3.0')).toBe('starter-0_3_0-5af6aab4');
    expect(upgradeExecutionName('starter-0.2.0')).toBe('starter-0_2_0-e2af56e1');
    expect(upgradeExecutionName('starter-0_2_0')).not.toBe(upgradeExecutionName('starter-0.2.0'));
    expect(body(await post({ tier: 'starter', blueprintVersion: '2.0.0' }, { 'Idempotency-Key': 'roll-starter-7' }))).toMatchObject({ requestId: 'roll-starter-7', upgradeId: 'roll-starter-7' });
    executions.clear();
    claims.clear();
    const made = body(await post({ tier: 'professional', blueprintVersion: '2.0.0' }));
    expect(made.requestId).toMatch(/^professional-2\.0\.0-[0-9a-z]+$/);
    expect(JSON.parse(starts().at(-1)!.input!).requestId).toBe(made.requestId);
    const mismatch = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'a-1' }, { 'idempotency-key': 'b-2' });
    expect([mismatch.statusCode, body(mismatch).error.code, body(mismatch).error.param]).toEqual([400, 'unsupported_header', 'Idempotency-Key']);
    const bad = await post({ tier: 'starter', blueprintVersion: '2.0.0' }, { 'Idempotency-Key': '#nope' });
    expect(body(bad).error).toMatchObject({ code: 'invalid_idempotency_key', param: 'Idempotency-Key', message: expect.stringContaining('Idempotency-Key = "#nope"') });
    const badBody = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'x y' });
    expect([badBody.statusCode, body(badBody).error.param]).toEqual([400, 'requestId']);
    expect(starts()).toHaveLength(2);
  });

  it('makes a new requestId for each request that sends none, its time kept whole beside the longest tier and version (was cut: the next upgrade of the tier was the first one\'s replay)', async () => {
    // GIVEN a version of 64 characters (BlueprintVersion's longest) the catalog publishes
    const version = `2.0.0-rc.${'a'.repeat(55)}`;
    expect(version).toHaveLength(64);
    s3.on(HeadObjectCommand).resolves({});
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // WHEN the tier is upgraded to it without a requestId, that upgrade ends, and the tier is upgraded again an hour later
      vi.setSystemTime(new Date('2026-12-05T10:00:00.000Z'));
      const first = await post({ tier: 'professional', blueprintVersion: version });
      executions.get(body(first).executionArn)!.status = 'FAILED';
      vi.setSystemTime(new Date('2026-12-05T11:00:00.000Z'));
      const second = await post({ tier: 'professional', blueprintVersion: version });
      // THEN each started its own execution, each requestId ending with its request's time
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(body(first).requestId).toMatch(new RegExp(`-${Date.parse('2026-12-05T10:00:00.000Z').toString(36)}$`));
      expect(body(second).requestId).toMatch(new RegExp(`-${Date.parse('2026-12-05T11:00:00.000Z').toString(36)}$`));
      expect(starts()).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
    // AND the longest tier name (31) with the longest version: 80 characters, the requestId's rule, the time whole
    const made = defaultRequestId('t'.repeat(31), version, 1_796_000_000_000);
    expect(made).toHaveLength(80);
    expect(made).toMatch(UPGRADE_REQUEST_ID);
    expect(made.endsWith(`-${(1_796_000_000_000).toString(36)}`)).toBe(true);
    expect(defaultRequestId('-x', '1.0', 0)).toBe('u-x-1.0-0');
  });

  it('refuses a tier the config does not have (400 unknown_tier, the nearest tier named), before any AWS call', async () => {
    const res = await post({ tier: 'startr', blueprintVersion: '2.0.0' });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({ type: 'invalid_request_error', code: 'unknown_tier', param: 'tier', message: 'tier = "startr": does not exist (did you mean starter?) (tiers: starter, professional, enterprise)' });
    expect(sfn.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });

  it('refuses a version the catalog does not publish (400 unknown_blueprint_version), a tier it does not publish at that version (tier_not_published), a malformed one; nothing starts', async () => {
    const unknown = await post({ tier: 'starter', blueprintVersion: '9.9.9' });
    expect(unknown.statusCode).toBe(400);
    expect(body(unknown).error).toMatchObject({
      code: 'unknown_blueprint_version', param: 'blueprintVersion',
      message: 'blueprintVersion = "9.9.9": not a blueprint version the catalog publishes (it lacks blueprints/9.9.9/account-baseline.template.json (NotFound), which every version publishes for all tiers); each deployment of TesseraPlatform publishes its own version, and the platform\'s is 1.0.0',
    });
    // 2.0.0 without professional's template (professional added to the config after 2.0.0)
    s3.on(HeadObjectCommand, { Key: 'blueprints/2.0.0/professional.template.json' }).rejects(notFound);
    const tier = await post({ tier: 'professional', blueprintVersion: '2.0.0' });
    expect(body(tier).error).toMatchObject({ code: 'tier_not_published', param: 'blueprintVersion', message: expect.stringMatching(/^blueprintVersion = "2\.0\.0": tier professional is not published at it \(the blueprint catalog lacks blueprints\/2\.0\.0\/professional\.template\.json \(NotFound\)\)/) });
    const malformed = await post({ tier: 'starter', blueprintVersion: '2.0 beta' });
    expect([malformed.statusCode, body(malformed).error.param]).toEqual([400, 'blueprintVersion']);
    expect(starts()).toEqual([]);
    expect(claims.size).toBe(0);
  });

  it('answers the same request again with its execution: 200 while it runs, 200 with how it ended after, nothing started; the same requestId with other values is a 409', async () => {
    const request = { tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-roll-1' };
    const first = body(await post(request));
    const again = await post(request);
    expect(again.statusCode).toBe(200);
    expect(body(again)).toEqual({ ...first, note: 'upgrade already running' });
    Object.assign(executions.get(first.executionArn)!, { status: 'SUCCEEDED', stopDate: new Date() });
    const after = await post(request);
    expect(after.statusCode).toBe(200);
    expect(body(after)).toMatchObject({ executionArn: first.executionArn, executionStatus: 'SUCCEEDED', note: 'this request already ran (SUCCEEDED); nothing started: send a new requestId for a new upgrade' });
    const other = await post({ ...request, blueprintVersion: '1.0.0' });
    expect(other.statusCode).toBe(409);
    expect(body(other).error).toMatchObject({ code: 'idempotency_key_reused', param: 'requestId', message: expect.stringMatching(/^requestId "starter-roll-1" was used for upgrade starter-roll-1 of tier starter to 2\.0\.0 \(request starter-roll-1, SUCCEEDED since .*\); this request asks tier starter to 1\.0\.0; send a new requestId/) });
    expect(starts()).toHaveLength(1);
  });

  it('refuses a second upgrade of a tier while one runs (409 upgrade_in_progress naming it), whoever started it; another tier\'s starts', async () => {
    // GIVEN an upgrade of starter started through the API, and one of professional started with the AWS CLI (no claim)
    const first = body(await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-a' }));
    const cli = existing('professional-0.2.0', { tier: 'professional', blueprintVersion: '2.0.0', requestId: 'professional-0.2.0' });
    // WHEN a second upgrade of each is asked (other requests)
    const second = await post({ tier: 'starter', blueprintVersion: '1.0.0', requestId: 'starter-b' });
    const third = await post({ tier: 'professional', blueprintVersion: '2.0.0', requestId: 'professional-b' });
    // THEN both are refused, naming the running upgrade and how to follow it
    expect(second.statusCode).toBe(409);
    expect(body(second).error).toMatchObject({ code: 'upgrade_in_progress', param: 'tier', type: 'conflict_error' });
    expect(body(second).error.message).toBe(`tier "starter" is being upgraded: upgrade starter-a of tier starter to 2.0.0 (request starter-a, RUNNING since 2026-12-05T10:00:00.000Z) is running; another upgrade of the tier is refused until it ends (follow it with tessera tenants upgrade --follow starter-a, or GET /admin/upgrades/starter-a)`);
    expect(body(second).upgrade).toEqual({ upgradeId: 'starter-a', executionArn: first.executionArn, requestId: 'starter-a', blueprintVersion: '2.0.0', startDate: '2026-12-05T10:00:00.000Z' });
    expect(body(third).error.code).toBe('upgrade_in_progress');
    expect(body(third).upgrade).toMatchObject({ upgradeId: 'professional-0.2.0', executionArn: cli });
    // AND enterprise starts; and starter again once its upgrade ended (its claim taken over)
    expect((await post({ tier: 'enterprise', blueprintVersion: '2.0.0', requestId: 'enterprise-a' })).statusCode).toBe(202);
    executions.get(first.executionArn)!.status = 'FAILED';
    const later = await post({ tier: 'starter', blueprintVersion: '1.0.0', requestId: 'starter-c' });
    expect(later.statusCode).toBe(202);
    expect(claims.get('starter')?.executionArn).toBe(arnOf('starter-c'));
    expect(starts().map((s) => s.name)).toEqual(['starter-a', 'enterprise-a', 'starter-c']);
  });

  it('two requests of one tier at once: the one that finds the other\'s claim, its execution not yet started, is refused; a claim whose execution never started is taken over after the start window', async () => {
    // GIVEN another request's claim of starter, just taken (its StartExecution not yet made)
    const claimedAt = new Date();
    claims.set('starter', { executionArn: arnOf('starter-other'), requestId: 'starter-other', blueprintVersion: '2.0.0', claimedAt: claimedAt.toISOString() });
    // WHEN
    const res = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-mine' });
    // THEN refused, saying when the claim is taken over should that request have died before its start (not "until it ends" alone)
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'upgrade_in_progress', message: expect.stringContaining('request starter-other (to 2.0.0) claimed it at') });
    expect(body(res).error.message).toMatch(new RegExp(`; if that request failed before starting it, the claim is taken over from ${new Date(claimedAt.getTime() + CLAIM_START_WINDOW_MS).toISOString().replace(/\./g, '\\.')}$`));
    expect(starts()).toEqual([]);
    // AND a claim older than the window whose execution never started (its Lambda died) is taken over
    claims.get('starter')!.claimedAt = new Date(Date.now() - CLAIM_START_WINDOW_MS - 1000).toISOString();
    expect((await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-mine' })).statusCode).toBe(202);
    expect(claims.get('starter')?.executionArn).toBe(arnOf('starter-mine'));
    // AND one whose time cannot be read is taken over too, not a tier refused for good
    claims.set('professional', { executionArn: arnOf('pro-lost'), requestId: 'pro-lost', blueprintVersion: '2.0.0', claimedAt: '(unknown)' });
    expect((await post({ tier: 'professional', blueprintVersion: '2.0.0', requestId: 'pro-mine' })).statusCode).toBe(202);
  });

  it('a tier\'s claim whose execution is another tier\'s upgrade (its request died after claiming, then was sent again for that tier) is taken over, not a 409 until that upgrade ends', async () => {
    // GIVEN requestId roll-8 claimed starter and died before StartExecution; sent again for professional, it runs under that name
    claims.set('starter', { executionArn: arnOf('roll-8'), requestId: 'roll-8', blueprintVersion: '2.0.0', claimedAt: new Date().toISOString() });
    const pro = await post({ tier: 'professional', blueprintVersion: '2.0.0', requestId: 'roll-8' });
    expect([pro.statusCode, claims.get('professional')?.executionArn]).toEqual([202, arnOf('roll-8')]);
    // WHEN starter is upgraded
    const starter = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-9' });
    // THEN it starts, and holds its tier's claim; professional's upgrade still holds its own
    expect(starter.statusCode).toBe(202);
    expect(claims.get('starter')?.executionArn).toBe(arnOf('starter-9'));
    expect((await post({ tier: 'professional', blueprintVersion: '1.0.0', requestId: 'pro-2' })).statusCode).toBe(409);
  });

  it('the same requestId sent at once for another tier: the request whose start meets the other\'s execution answers 409 idempotency_key_reused and gives its tier\'s claim back', async () => {
    // GIVEN the other request (professional) starts its execution between this one's checks and its StartExecution
    const name = 'roll-7';
    sfn.on(StartExecutionCommand).callsFakeOnce((input) => {
      existing(name, { tier: 'professional', blueprintVersion: '2.0.0', requestId: name });
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${arnOf(input.name)}'`, $metadata: {} });
    });
    // WHEN
    const res = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: name });
    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'idempotency_key_reused', message: expect.stringContaining('was used for upgrade roll-7 of tier professional to 2.0.0') });
    expect(claims.has('starter')).toBe(false);
  });

  it('an answer lost after Step Functions started the execution (a 500 on the SDK\'s last attempt): 202 with it, the claim kept', async () => {
    sfn.on(StartExecutionCommand).callsFakeOnce((input) => {
      existing(input.name, JSON.parse(input.input));
      throw Object.assign(new Error('internal'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    });
    const res = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-lost' });
    expect(res.statusCode).toBe(202);
    expect(body(res)).toMatchObject({ upgradeId: 'starter-lost', executionArn: arnOf('starter-lost'), executionStatus: 'RUNNING' });
    expect(claims.get('starter')?.executionArn).toBe(arnOf('starter-lost'));
  });

  it('gives the claim back when Step Functions refuses the start (500), so that the tier can be upgraded', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const res = await post({ tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-z' });
    expect(res.statusCode).toBe(500);
    expect(claims.has('starter')).toBe(false);
  });
});

const at = (s: number) => new Date(Date.parse('2026-12-05T10:00:00.000Z') + s * 1000);
/** The parent execution's history as Step Functions records it for the upgrade definition (a Distributed Map run). */
function history(upTo: 'map' | 'done'): HistoryEvent[] {
  const events: HistoryEvent[] = [
    { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
    { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'List tier tenants' } },
    { id: 3, previousEventId: 2, type: 'LambdaFunctionScheduled', timestamp: at(0) },
    { id: 4, previousEventId: 3, type: 'LambdaFunctionSucceeded', timestamp: at(1) },
    { id: 5, previousEventId: 4, type: 'TaskStateExited', timestamp: at(1.5), stateExitedEventDetails: { name: 'List tier tenants', output: JSON.stringify({ tier: 'starter', tenants: { bucket: 'w', key: 'upgrades/r/items.json', resultsPrefix: 'upgrades/r/results', count: 12 } }) } },
    { id: 6, previousEventId: 5, type: 'MapStateEntered', timestamp: at(1.5), stateEnteredEventDetails: { name: 'Upgrade each tenant' } },
    { id: 7, previousEventId: 6, type: 'MapRunStarted', timestamp: at(2), mapRunStartedEventDetails: { mapRunArn: 'arn:aws:states:us-east-1:222222222222:mapRun:tessera-upgrade/Upgradeeachtenant:run-1' } },
  ];
  if (upTo === 'done') {
    events.push(
      { id: 8, previousEventId: 7, type: 'MapRunSucceeded', timestamp: at(600) },
      { id: 9, previousEventId: 8, type: 'MapStateExited', timestamp: at(600), stateExitedEventDetails: { name: 'Upgrade each tenant' } },
      { id: 10, previousEventId: 9, type: 'TaskStateEntered', timestamp: at(600), stateEnteredEventDetails: { name: 'Summarize upgrade' } },
      { id: 11, previousEventId: 10, type: 'TaskStateExited', timestamp: at(601), stateExitedEventDetails: { name: 'Summarize upgrade' } },
      { id: 12, previousEventId: 11, type: 'SucceedStateEntered', timestamp: at(601), stateEnteredEventDetails: { name: 'Upgrade finished' } },
      { id: 13, previousEventId: 12, type: 'SucceedStateExited', timestamp: at(601), stateExitedEventDetails: { name: 'Upgrade finished' } },
      { id: 14, previousEventId: 13, type: 'ExecutionSucceeded', timestamp: at(601) },
    );
  }
  return events;
}

describe('GET /admin/upgrades/{upgradeId}: an upgrade\'s progress, from what its execution records', () => {
  const input = { tier: 'starter', blueprintVersion: '2.0.0', requestId: 'starter-2.0.0' };
  const name = () => upgradeExecutionName('starter-2.0.0');

  it('while the map runs: its steps, the tenants listed, and the map run\'s counts (DescribeMapRun)', async () => {
    existing(name(), input, { history: history('map'), startDate: at(0) });
    sfn.on(DescribeMapRunCommand).resolves({ itemCounts: { total: 12, pending: 4, running: 5, succeeded: 2, failed: 1, timedOut: 0, aborted: 0, resultsWritten: 0 } });
    // WHEN asked by its upgradeId, and by the requestId it was started with
    const res = await get(name());
    const byRequest = await get('starter-2.0.0');
    // THEN
    expect(res.statusCode).toBe(200);
    expect(body(byRequest)).toEqual(body(res));
    expect(body(res)).toEqual({
      upgradeId: name(), requestId: 'starter-2.0.0', executionArn: arnOf(name()), tier: 'starter', blueprintVersion: '2.0.0', executionStatus: 'RUNNING', startDate: at(0).toISOString(),
      listed: 12, mapRunArn: 'arn:aws:states:us-east-1:222222222222:mapRun:tessera-upgrade/Upgradeeachtenant:run-1',
      tenants: { total: 12, pending: 4, running: 5, succeeded: 2, failed: 1, timedOut: 0, aborted: 0 },
      steps: [
        { name: 'List tier tenants', startedAt: at(0).toISOString(), endedAt: at(1.5).toISOString(), seconds: 1.5, status: 'DONE' },
        { name: 'Upgrade each tenant', startedAt: at(1.5).toISOString(), status: 'RUNNING' },
      ],
    });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0].args[0].input).toMatchObject({ executionArn: arnOf(name()), includeExecutionData: true });
  });

  it('once it succeeded: the summary its output records (upgraded, refused, skipped, failed, with the tenants named)', async () => {
    const summary = { upgraded: 9, refused: 1, skipped: 1, failed: 1, refusals: [{ tenantId: 'acme', reason: 'change set would replace Database' }], skips: [{ tenantId: 'hooli', reason: 'moved' }], failures: [{ tenantId: 'initech', error: 'States.TaskFailed', cause: 'boom' }], manifest: 's3://w/upgrades/r/results/manifest.json' };
    existing(name(), input, { status: 'SUCCEEDED', stopDate: at(601), output: JSON.stringify({ ...input, summary }), history: history('done'), startDate: at(0) });
    sfn.on(DescribeMapRunCommand).resolves({ itemCounts: { total: 12, pending: 0, running: 0, succeeded: 11, failed: 1, timedOut: 0, aborted: 0, resultsWritten: 12 } });
    const progress = body(await get(name()));
    expect(progress).toMatchObject({ executionStatus: 'SUCCEEDED', stopDate: at(601).toISOString(), summary, tenants: { succeeded: 11, failed: 1 } });
    expect(progress.steps.map((s: { name: string; status: string }) => `${s.name}: ${s.status}`)).toEqual(['List tier tenants: DONE', 'Upgrade each tenant: DONE', 'Summarize upgrade: DONE', 'Upgrade finished: DONE']);
  });

  it('one that failed at its start: the execution\'s error and cause, no tenants; one whose map run cannot be read says why', async () => {
    existing(name(), input, { status: 'FAILED', stopDate: at(1), error: 'InvalidRequest', cause: 'upgrade input: blueprintVersion = "2.0.0": tier starter is not published at it', history: [] });
    expect(body(await get(name()))).toMatchObject({ executionStatus: 'FAILED', error: 'InvalidRequest', cause: expect.stringContaining('not published'), steps: [] });
    existing('other', input, { history: history('map') });
    sfn.on(DescribeMapRunCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    expect(body(await get('other'))).toMatchObject({ listed: 12, tenantsError: 'AccessDeniedException: not authorized' });
  });

  it('the actor: as recorded, odd characters and all (an assumed role\'s session name with @ and =); none for an upgrade started before it existed; a non-string one (a StartExecution from elsewhere) is left out (s31u: it was answered as is)', async () => {
    const session = 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123/jane+ops=eu@example.com';
    existing(name(), { ...input, actor: `admin:${session}` }, { history: [] });
    expect(body(await get(name())).actor).toBe(`admin:${session}`);
    existing(name(), input, { history: [] });
    expect(body(await get(name()))).not.toHaveProperty('actor');
    for (const actor of [42, '', { arn: session }, null, ['admin:x']]) {
      existing(name(), { ...input, actor, tier: 7 }, { history: [] });
      const res = body(await get(name()));
      expect([res.actor, res.tier, res.requestId]).toEqual([undefined, '', 'starter-2.0.0']);
    }
  });

  it('answers 404 upgrade_not_found naming an upgradeId no execution has, or one that cannot be a name', async () => {
    for (const id of ['nothing-here', 'a/b', 'x'.repeat(81)]) {
      const res = await get(id);
      expect([id, res.statusCode, body(res).error.code, body(res).error.param]).toEqual([id, 404, 'upgrade_not_found', 'upgradeId']);
    }
  });
});

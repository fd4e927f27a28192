import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, GetExecutionHistoryCommand, SFNClient, StartExecutionCommand, type HistoryEvent, SFNServiceException } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../support/strict-mock.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { migrationTiers, type TierList } from '../../../lib/platform-tiers.js';
import { migrationRefusal } from '../../../lambdas/lifecycle/tier-migration.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { records, registryMock } from './registry-mock.js';
import { controlMock } from './control-table-mock.js';
import { configWith } from '../../support/config-with.js';
import { keyRecord } from '../identity/keys-store-behaviour.js';
import { LEASED_AT, lease, leased, OTHER_EXECUTION_ARN, sameNetworkConfig, setLifecycleEnv, tenant, useConfig } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', async () => {
  const { claimOnboardingRequest, controlMock } = await import('./control-table-mock.js');
  return { releaseSlot: vi.fn(async () => undefined), claimOnboardingRequest, releaseOnboardingRequest: controlMock.releaseOnboardingRequest };
});
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
/** The blueprint catalog (PATCH's blueprintVersion, refuseUnpublished): it publishes 1.0.0 and 2.0.0 of every tier. */
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
/** The API keys table (POST /admin/tenants/{id}/keys): no key yet, every fenced write accepted. */
const dynamo = mockClient(DynamoDBDocumentClient);
const { handler, executionName, routes } = await import('../../../lambdas/admin/admin-api.js');

const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, requestContext: { requestId: 'api-req-1' }, ...extra } as unknown as APIGatewayProxyEvent);
const on = (id = 'acme') => ({ pathParameters: { id } });
const body = (r: { body: string }) => JSON.parse(r.body);
const starts = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-';
const EXECUTION = 'arn:aws:states:us-east-1:222222222222:execution:tessera-';
/** `<kind>-<tenant>-<base36 time>-<8 hex>`: unique per attempt. */
const NAME = (kind: string, tenantId = 'acme') => new RegExp(`^${kind}-${tenantId}-[0-9a-z]+-[0-9a-f]{8}$`);

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, {
    [ENV.onboardStateMachineArn]: `${MACHINE}onboard`,
    [ENV.statusStateMachineArn]: `${MACHINE}status`,
    [ENV.offboardStateMachineArn]: `${MACHINE}offboard`,
    [ENV.changeStateMachineArn]: `${MACHINE}change`,
  });
  records.clear();
  vi.clearAllMocks();
  sfn.reset();
  s3.reset();
  s3.on(HeadObjectCommand).callsFake((input) => {
    if (/^blueprints\/(1\.0\.0|2\.0\.0)\//.test(input.Key)) return {};
    throw notFound;
  });
  dynamo.reset();
  dynamo.on(QueryCommand).resolves({ Items: [] });
  dynamo.on(TransactWriteCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
});

const onboard = { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001' };
/** acme as an onboarding of `onboard` left it. */
const registered = (extra: Partial<TenantRecord> = {}) => tenant({ adminEmail: onboard.adminEmail, ...extra });
/** acme while another operation's execution runs. */
const heldByOther = (kind: 'onboard' | 'change' | 'offboard', extra: Partial<TenantRecord> = {}) => {
  sfn.on(DescribeExecutionCommand, { executionArn: OTHER_EXECUTION_ARN }).resolves({ status: 'RUNNING' });
  return leased(kind, { adminEmail: onboard.adminEmail, ...extra }, OTHER_EXECUTION_ARN);
};

describe('admin API: onboarding', () => {
  it('takes the tenant\'s lease before StartExecution, for an execution named uniquely per attempt', async () => {
    // GIVEN the registry as StartExecution finds it
    let atStart: TenantRecord | undefined;
    sfn.on(StartExecutionCommand).callsFake((input) => {
      atStart = structuredClone(records.get('acme'));
      return { executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` };
    });
    // WHEN
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    // THEN
    expect(res.statusCode).toBe(202);
    const [start] = starts();
    expect(start.stateMachineArn).toBe(`${MACHINE}onboard`);
    expect(start.name).toMatch(NAME('onboard'));
    expect(JSON.parse(start.input!)).toEqual(onboard);
    const executionArn = `${EXECUTION}onboard:${start.name}`;
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'req-acme-0001', executionArn, status: 'REQUESTED' });
    expect(atStart).toMatchObject({
      status: 'REQUESTED', isolation: 'vpc', adminEmail: onboard.adminEmail,
      lease: { kind: 'onboard', executionArn, requestId: 'req-acme-0001', previousStatus: 'REQUESTED' },
      executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn, status: 'RUNNING' }],
    });
  });

  it('answers a repeat of a running onboarding with the running execution (200), starting nothing', async () => {
    const first = body(await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) }));
    const again = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(again.statusCode).toBe(200);
    expect(body(again)).toEqual({ tenantId: 'acme', requestId: 'req-acme-0001', executionArn: first.executionArn, status: 'REQUESTED', note: 'onboarding already running' });
    expect(starts()).toHaveLength(1);
  });

  it('answers a repeat once the tenant is past onboarding with 200, starting nothing', async () => {
    for (const status of ['ACTIVE', 'SUSPENDED', 'OFFBOARDED'] as const) {
      records.set('acme', registered({ status }));
      const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
      expect(res.statusCode).toBe(200);
      expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'req-acme-0001', status, note: 'already onboarded by this request; nothing started' });
    }
    expect(starts()).toHaveLength(0);
  });

  it('runs a FAILED onboarding again on a repeat, as a new execution with a new name', async () => {
    records.set('acme', registered({ status: 'FAILED', executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: `${EXECUTION}onboard:onboard-acme-old-00000000`, startedAt: 't', endedAt: 't', status: 'FAILED' }] }));
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(202);
    expect(starts()[0].name).toMatch(NAME('onboard'));
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'req-acme-0001', executionArn: `${EXECUTION}onboard:${starts()[0].name}`, status: 'PROVISIONING', corrected: [] });
    expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', lease: { kind: 'onboard', executionArn: body(res).executionArn, previousStatus: 'FAILED' } });
  });

  it('refuses the same request with other values (409 request_mismatch), pointing to the retry endpoint', async () => {
    records.set('acme', registered({ status: 'FAILED' }));
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail: 'root@acme.example.com' }) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({
      code: 'request_mismatch', param: 'adminEmail', type: 'conflict_error',
      message: expect.stringMatching(/^request req-acme-0001 was recorded with other values: adminEmail "ops@acme\.example\.com" → "root@acme\.example\.com"; .*POST \/admin\/tenants\/acme\/retry/),
    });
    expect(starts()).toHaveLength(0);
  });

  it('answers 400 in OpenAI error shape naming the field and value', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail: 'nope' }) });
    expect(res.statusCode).toBe(400);
    expect(body(res)).toEqual({ error: { message: expect.stringMatching(/adminEmail = "nope"/), type: 'invalid_request_error', param: 'adminEmail', code: 'invalid_request' } });
    expect(starts()).toHaveLength(0);
  });

  // The admin email is no account's root email (that is organization.accountEmail's): before, an account tier's admin email
  // over CreateAccount's 64 characters was refused with 400, for a rule of an address it no longer is.
  const emailOf = (length: number) => `${'a'.repeat(length - '@acme.example.com'.length)}@acme.example.com`;
  it('takes an account tier\'s admin email over 64 characters: CreateAccount is sent the platform\'s address, not this one', async () => {
    expect((await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tier: 'enterprise', adminEmail: emailOf(65) }) })).statusCode).toBe(202);
    expect(starts()).toHaveLength(1);
  });

  it('refuses a field it does not know (400 unknown_parameter naming it) instead of dropping it', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, isolation: 'account' }) });
    expect(res.statusCode).toBe(400);
    // session 45: the field, its value and the fields there are, not zod's `(root) = {"tenantId":…: Unrecognized key: "isolation"`.
    expect(body(res).error).toEqual({ message: 'isolation = "account": is not a field of this request (its fields: tenantId, name, tier, adminEmail, inviteAdmin, tags, requestId)', type: 'invalid_request_error', param: 'isolation', code: 'unknown_parameter' });
    expect(starts()).toHaveLength(0);
    expect(records.size).toBe(0);
  });

  it.each([['a line feed', 'Acme\nINFO tenant globex deleted'], ['an escape', 'Acme\u001b[2J'], ['a C1 control (NEL)', 'Acme\u0085'], ['DEL', 'Acme\u007f']])('refuses a name with %s (400)', async (_what, name) => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, name }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ param: 'name', code: 'invalid_request', message: expect.stringContaining('must not contain control characters') });
    expect(records.size).toBe(0);
  });

  it('refuses the id of an OFFBOARDED tenant saying ids are never reused, why, and that another id is needed (409 tenant_exists)', async () => {
    const gone = tenant({ requestId: 'someone-else', status: 'OFFBOARDED' });
    records.set('acme', gone);
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'tenant_exists', param: 'tenantId' });
    expect(body(res).error.message).toBe('tenant id "acme" is already registered (status OFFBOARDED): tenant ids are never reused: the platform keeps what the offboarded tenant left under its id (its registry record and history, '
      + 'with no expiry; its usage, audit and fine-tuning records, pooled by tenant id), and a new tenant under it would be read with them; onboard it under another tenantId');
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(gone);
  });

  // Found by a new user's trial (s40h): a create stopped by Ctrl-C before its answer had started the onboarding under a
  // request id it never printed; the same create again said `already registered (status PROVISIONING)` and nothing more.
  it('names the running onboarding of a taken id, its request id and how to follow it (409 tenant_exists)', async () => {
    const running = heldByOther('onboard', { requestId: 'cli-lost-answer', status: 'PROVISIONING' });
    records.set('acme', running);
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'tenant_exists', param: 'tenantId' });
    expect(body(res).error.message).toBe('tenant id "acme" is already registered (status PROVISIONING): its onboarding, request cli-lost-answer, is running '
      + '(a tessera tenants create stopped before its answer may have started it): follow it with tessera tenants watch acme; the same request id (--request-id cli-lost-answer) answers with that onboarding');
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(running);
  });

  it('refuses bad JSON, unknown tiers and taken ids', async () => {
    expect(body(await call('POST', '/admin/tenants', { body: '{' })).error.code).toBe('invalid_json');
    expect(body(await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tier: 'gold' }) })).error).toMatchObject({ code: 'unknown_tier', param: 'tier' });
    records.set('acme', tenant({ requestId: 'someone-else', status: 'ACTIVE' }));
    const taken = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(taken.statusCode).toBe(409);
    expect(body(taken).error.code).toBe('tenant_exists');
    expect(starts()).toHaveLength(0);
  });

  it('refuses an onboarding request id already used for another tenant (409 idempotency_key_reused naming both tenants), registering and starting nothing', async () => {
    // GIVEN acme onboarded by req-acme-0001
    expect((await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) })).statusCode).toBe(202);
    // WHEN the same request id comes for another tenant (was 202: a second onboarding under one idempotency key)
    const reused = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tenantId: 'globex', name: 'Globex', adminEmail: 'ops@globex.example.com' }) });
    // THEN
    expect(reused.statusCode).toBe(409);
    expect(body(reused).error).toMatchObject({
      type: 'conflict_error', code: 'idempotency_key_reused', param: 'requestId',
      message: 'requestId "req-acme-0001" was used for the onboarding of tenant "acme"; a request id names one request: send a new requestId to onboard "globex"',
    });
    expect(records.has('globex')).toBe(false);
    expect(starts()).toHaveLength(1);
  });

  it('maps a name clash to 409 and removes the record it had put for that execution', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error.code).toBe('execution_exists');
    expect(records.has('acme')).toBe(false);
  });

  it('answers a missing environment variable with a 500 configuration_error naming it and the route, logged as a configuration error, not a bare internal_error', async () => {
    // A local platform gave its admin API no TESSERA_AUDIT_BUCKET: every `tessera requests show` was "internal error; see the admin API logs".
    delete process.env[ENV.auditBucket];
    records.set('acme', tenant({ status: 'ACTIVE' }));
    const logged = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await call('GET', '/admin/tenants/{id}/requests/{requestId}', { pathParameters: { id: 'acme', requestId: 'req_0123456789abcdef01234567' } });
      expect(res.statusCode).toBe(500);
      expect(body(res).error).toMatchObject({
        type: 'api_error', code: 'configuration_error',
        message: expect.stringMatching(/^the admin API is misconfigured: environment variable TESSERA_AUDIT_BUCKET is not set, and GET \/admin\/tenants\/\{id\}\/requests\/\{requestId\} needs it; /),
      });
    } finally {
      logged.mockRestore();
      errors.mockRestore();
    }
  });

  it('removes the record it put when Step Functions refuses the start (500), so the same request can be sent again', async () => {
    // Refused twice: the start, then the same StartExecution sent again to learn whether the first started it (s40f)
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sfn.on(StartExecutionCommand).rejectsOnce(throttled()).rejectsOnce(throttled())
      .callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(500);
    expect(body(res).error).toMatchObject({ code: 'internal_error', type: 'api_error' });
    expect(registryMock.deleteHeldTenant).toHaveBeenCalledWith('acme', expect.stringMatching(/:execution:tessera-onboard:onboard-acme-/), 'REQUESTED');
    expect(records.has('acme')).toBe(false);
    // nothing started: the request id is given back (lcleft), free for this tenant or another
    expect(controlMock.releaseOnboardingRequest).toHaveBeenCalledWith('req-acme-0001', 'acme');
    expect((await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) })).statusCode).toBe(202);
  });

  it('keeps the request id claimed when the start\'s error came after the execution started (its Register tenant already took the record): only a record it removed gives the id back', async () => {
    // GIVEN StartExecution starts the execution, whose Register tenant moves acme to PROVISIONING, and then
    // answers with an error (a timeout after Step Functions accepted the call: the SDK cannot tell)
    sfn.on(StartExecutionCommand).callsFake(() => {
      const r = records.get('acme')!;
      records.set('acme', { ...r, status: 'PROVISIONING', currentStep: 'Register tenant' });
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    });
    // WHEN
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    // THEN the record stays (the onboarding runs), and so does its claim of the request id (hlc4: it was given back,
    // so the same id could onboard another tenant beside the running onboarding)
    expect(res.statusCode).toBe(500);
    expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', requestId: 'req-acme-0001' });
    expect(controlMock.releaseOnboardingRequest).not.toHaveBeenCalled();
  });

  it('gives the request id back when the tenant id was registered by another request a moment after it claimed the id (409 tenant_exists): the request did nothing', async () => {
    // GIVEN acme registered by another request between this request's read and its registration
    records.set('acme', registered({ requestId: 'req-other-0001' }));
    registryMock.getTenant.mockImplementationOnce(async () => undefined);
    // WHEN
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    // THEN refused, and (hlc4) its claim released: it was kept, so the id sent for another tenant was a 409 saying it
    // "was used for the onboarding of tenant acme", which no request of that id ever onboarded
    expect(res.statusCode).toBe(409);
    expect(body(res).error.code).toBe('tenant_exists');
    expect(controlMock.releaseOnboardingRequest).toHaveBeenCalledWith('req-acme-0001', 'acme');
    expect(starts()).toHaveLength(0);
  });

  it('names executions within Step Functions\' 80 characters, differently on every attempt', () => {
    const at = Date.parse('2026-11-30T00:00:00.000Z');
    const long = 'a'.repeat(24);
    expect(executionName('offboard', long, at)).toMatch(new RegExp(`^offboard-${long}-${at.toString(36)}-[0-9a-f]{8}$`));
    expect(executionName('offboard', long, at).length).toBeLessThanOrEqual(80);
    expect(executionName('change', 'acme', at)).not.toBe(executionName('change', 'acme', at));
  });
});

// The tenant's first admin invited at onboarding (lambdas/lifecycle/invite-tenant-admin.ts), asked by inviteAdmin.
describe('admin API: onboarding with inviteAdmin', () => {
  const POOL = 'us-east-1_Pool123';
  beforeEach(() => { process.env[ENV.userPoolId] = POOL; });
  afterEach(() => { delete process.env[ENV.userPoolId]; });

  it('records inviteAdmin as sent and starts the onboarding with it', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, inviteAdmin: false }) });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toEqual({ ...onboard, inviteAdmin: false });
    expect(records.get('acme')!.inviteAdmin).toBe(false);
  });

  it('refuses inviteAdmin: true on a platform without a user pool (external IdP), naming the field, before anything is written', async () => {
    delete process.env[ENV.userPoolId];
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, inviteAdmin: true }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({
      type: 'invalid_request_error', code: 'invalid_request', param: 'inviteAdmin',
      message: 'inviteAdmin = true: the platform has no user pool (TESSERA_USER_POOL_ID is not set) and no external identity provider (gateway.jwt is not configured either): it makes no tenant users, as a local platform or a demo, which have no pool; leave inviteAdmin out or set it to false',
    });
    expect(records.has('acme')).toBe(false);
    expect(starts()).toHaveLength(0);
  });

  it('refuses a field that is not a boolean, naming it', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, inviteAdmin: 'yes' }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ param: 'inviteAdmin', message: expect.stringMatching(/^inviteAdmin = "yes"/) });
  });

  it('a retry runs the onboarding with the recorded inviteAdmin; the same requestId with another value is a 409 request_mismatch naming it', async () => {
    records.set('acme', registered({ status: 'FAILED', inviteAdmin: false }));
    const mismatch = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, inviteAdmin: true }) });
    expect(mismatch.statusCode).toBe(409);
    expect(body(mismatch).error).toMatchObject({ code: 'request_mismatch', param: 'inviteAdmin', message: expect.stringContaining('inviteAdmin "false" → "true"') });
    const retry = await call('POST', '/admin/tenants/{id}/retry', on());
    expect(retry.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toEqual({ ...onboard, inviteAdmin: false });
  });

  // The first admin is a Cognito user with Username = adminEmail, and AdminCreateUser takes 1-128 characters: before,
  // a 129-character address of a VPC tier (no CreateAccount limit) was taken (202), and *Invite tenant admin* failed on it.
  // The length in the domain: a local part over 64 characters is refused first (RFC 5321 §4.5.3.1.1: AdminEmail).
  const addressOf = (length: number) => `ops@${'a'.repeat(length - 'ops@.acme.example.com'.length)}.acme.example.com`;
  it('refuses an adminEmail Cognito cannot take as a Username (129 characters) when the onboarding invites it, naming adminEmail, before anything is written', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail: addressOf(129) }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({
      type: 'invalid_request_error', code: 'invalid_request', param: 'adminEmail',
      message: `adminEmail = "${addressOf(129).slice(0, 97)}..." (129 characters): a user's email is its Cognito username, and Cognito AdminCreateUser takes a Username of 1-128 characters; the onboarding invites adminEmail as the tenant's first admin: give an address Cognito takes, or set inviteAdmin to false`,
    });
    expect(records.has('acme')).toBe(false);
    expect(starts()).toHaveLength(0);
  });
  it('takes an adminEmail of 128 characters, and a longer one when no invitation is made (inviteAdmin false, or no pool)', async () => {
    expect((await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail: addressOf(128) }) })).statusCode).toBe(202);
    expect((await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tenantId: 'globex', requestId: 'req-globex-001', adminEmail: addressOf(129), inviteAdmin: false }) })).statusCode).toBe(202);
    delete process.env[ENV.userPoolId];
    expect((await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tenantId: 'initech', requestId: 'req-initech-01', adminEmail: addressOf(129) }) })).statusCode).toBe(202);
    expect(starts()).toHaveLength(3);
  });
  it('refuses a retry\'s corrected adminEmail Cognito cannot take when the onboarding invites, naming adminEmail, starting nothing', async () => {
    records.set('acme', registered({ status: 'FAILED', failure: { step: 'Allocate network', reason: 'QuotaExceeded: x', at: 't' } }));
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: addressOf(129) }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ param: 'adminEmail', message: expect.stringContaining('(129 characters): a user\'s email is its Cognito username') });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')!.adminEmail).not.toBe(addressOf(129));
  });

  // s27: a replay that left inviteAdmin out was taken for the original `inviteAdmin: false`, though with the platform's pool
  // it asks for the invitation (the default); without a pool the default is false and the replay is the same request.
  it('the same requestId leaving out inviteAdmin the original set is compared with its default: 409 naming the recorded value and the default', async () => {
    records.set('acme', registered({ status: 'FAILED', inviteAdmin: false }));
    const replay = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(replay.statusCode).toBe(409);
    expect(body(replay).error).toMatchObject({ code: 'request_mismatch', param: 'inviteAdmin', message: expect.stringContaining('was recorded with other values: inviteAdmin "false" → (not given: default "true"); ') });
    expect(starts()).toHaveLength(0);
    delete process.env[ENV.userPoolId];
    const samePlatformDefault = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(samePlatformDefault.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toEqual({ ...onboard, inviteAdmin: false });
  });
});

describe('admin API: one operation per tenant', () => {
  it('while an offboarding runs, a change, suspend or resume is refused for good, not "until it ends" (the tenant ends OFFBOARDED, or OFFBOARDING resumed by DELETE)', async () => {
    records.set('acme', { ...heldByOther('offboard'), status: 'OFFBOARDING' });
    for (const [method, resource, extra, kind] of [
      ['POST', '/admin/tenants/{id}/suspend', {}, 'suspend'], ['POST', '/admin/tenants/{id}/resume', {}, 'resume'],
      ['PATCH', '/admin/tenants/{id}', { body: JSON.stringify({ blueprintVersion: '2.0.0' }) }, 'change'],
    ] as const) {
      const res = await call(method, resource, { ...on(), ...extra });
      expect(res.statusCode).toBe(409);
      expect(body(res)).toMatchObject({ error: { code: 'operation_in_progress' }, operation: { kind: 'offboard' } });
      expect(body(res).error.message).toContain(`is running; ${kind} is refused, now and after it: an offboarding ends OFFBOARDED, or fails OFFBOARDING and is resumed only by DELETE (or retry) (follow it with tessera tenants watch acme)`);
    }
    expect(starts()).toHaveLength(0);
  });

  it('answers 409 operation_in_progress with the running operation while another operation holds the tenant, starting nothing', async () => {
    // GIVEN a running onboarding holds acme
    const before = heldByOther('onboard');
    records.set('acme', before);
    const operation = { kind: 'onboard', executionArn: OTHER_EXECUTION_ARN, requestId: 'req-acme-0001', since: LEASED_AT };
    // WHEN / THEN
    const suspend = await call('POST', '/admin/tenants/{id}/suspend', on());
    expect(suspend.statusCode).toBe(409);
    expect(body(suspend)).toEqual({
      error: {
        message: `tenant "acme" is busy: onboard (execution ${OTHER_EXECUTION_ARN}, request req-acme-0001, since ${LEASED_AT}) is running; suspend is refused until it ends (follow it with tessera tenants watch acme)`,
        type: 'conflict_error', param: 'id', code: 'operation_in_progress',
      },
      operation,
    });
    for (const [method, resource, extra] of [
      ['DELETE', '/admin/tenants/{id}', {}], ['PATCH', '/admin/tenants/{id}', { body: JSON.stringify({ blueprintVersion: '2.0.0' }) }],
      ['POST', '/admin/tenants/{id}/resume', {}], ['POST', '/admin/tenants/{id}/retry', {}],
    ] as const) {
      const res = await call(method, resource, { ...on(), ...extra });
      expect(res.statusCode).toBe(409);
      expect(body(res)).toMatchObject({ error: { code: 'operation_in_progress' }, operation });
    }
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  // s39a: the retry route's 409 said "onboard is refused until it ends" whatever held the tenant (a change, an onboarding).
  it('a retry refused while an operation holds the tenant names that operation and the retry, not an onboarding', async () => {
    for (const [kind, status] of [['change', 'UPDATING'], ['onboard', 'PROVISIONING']] as const) {
      records.set('acme', heldByOther(kind, { status }));
      const res = await call('POST', '/admin/tenants/{id}/retry', on());
      expect(res.statusCode).toBe(409);
      expect(body(res)).toEqual({
        error: {
          message: `tenant "acme" is busy: ${kind} (execution ${OTHER_EXECUTION_ARN}, request req-acme-0001, since ${LEASED_AT}) is running; retry is refused until it ends (follow it with tessera tenants watch acme)`,
          type: 'conflict_error', param: 'id', code: 'operation_in_progress',
        },
        operation: { kind, executionArn: OTHER_EXECUTION_ARN, requestId: 'req-acme-0001', since: LEASED_AT },
      });
    }
    expect(starts()).toHaveLength(0);
  });

  it('ends a lease whose execution has ended without recording it, then starts the new operation', async () => {
    // GIVEN a change whose execution was stopped; the status-change handler has not run
    records.set('acme', leased('change', { currentStep: 'Deploy blueprint' }, OTHER_EXECUTION_ARN));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
    // WHEN
    const res = await call('POST', '/admin/tenants/{id}/suspend', on());
    // THEN
    expect(res.statusCode).toBe(202);
    const record = records.get('acme')!;
    expect(record.lease).toMatchObject({ kind: 'suspend', executionArn: body(res).executionArn, previousStatus: 'ACTIVE' });
    expect(record.executions.map((e) => [e.kind, e.status])).toEqual([['change', 'FAILED'], ['suspend', 'RUNNING']]);
    expect(record.failure).toMatchObject({ kind: 'change', executionArn: OTHER_EXECUTION_ARN, step: 'Deploy blueprint' });
  });

  it('suspends only ACTIVE tenants and offboards only settled ones (409 invalid_status)', async () => {
    records.set('acme', registered({ status: 'PROVISIONING' }));
    const suspend = await call('POST', '/admin/tenants/{id}/suspend', on());
    expect(suspend.statusCode).toBe(409);
    expect(body(suspend).error).toMatchObject({ code: 'invalid_status', param: 'status', message: 'tenant "acme" is PROVISIONING, so a suspension cannot start: it starts only while the tenant is ACTIVE' });
    const remove = await call('DELETE', '/admin/tenants/{id}', on());
    expect(remove.statusCode).toBe(409);
    expect(body(remove).error).toMatchObject({ code: 'invalid_status', message: 'tenant "acme" is PROVISIONING, so an offboarding cannot start: it starts only while the tenant is ACTIVE, SUSPENDED, FAILED or OFFBOARDING' });
    expect(starts()).toHaveLength(0);
    records.set('acme', registered({ status: 'ACTIVE' }));
    const ok = await call('POST', '/admin/tenants/{id}/suspend', on());
    expect(ok.statusCode).toBe(202);
    expect(starts()[0]).toMatchObject({ stateMachineArn: `${MACHINE}status`, name: expect.stringMatching(NAME('suspend')) });
    expect(JSON.parse(starts()[0].input!)).toEqual({ request: { tenantId: 'acme', requestId: 'api-req-1' }, action: 'suspend' });
    // the status while it runs (ACTIVE: served until the execution's write), as every 202 says its `during` status; and the one it ends with
    expect(body(ok)).toEqual({ tenantId: 'acme', requestId: 'api-req-1', executionArn: `${EXECUTION}status:${starts()[0].name}`, status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' });
    expect(records.get('acme')?.lease).toMatchObject({ kind: 'suspend', executionArn: body(ok).executionArn, requestId: 'api-req-1' });
  });

  // s41h: the step of the tenant's last operation stayed on the record (here a change's failed Deploy blueprint), so an
  // offboarding stopped before its first Lambda ran was recorded at that step, and OFFBOARDING (lease.ts statusAfterFailure).
  it('records the step an offboarding or a suspension it starts is at with its lease, not the step the last operation left (a failed change\'s Deploy blueprint)', async () => {
    records.set('acme', registered({ status: 'ACTIVE', currentStep: 'Deploy blueprint' }));
    const remove = await call('DELETE', '/admin/tenants/{id}', on());
    expect(remove.statusCode).toBe(202);
    expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', currentStep: 'Check rebuilt stack', lease: { kind: 'offboard', executionArn: body(remove).executionArn, previousStatus: 'ACTIVE' } });
    records.set('acme', registered({ status: 'ACTIVE', currentStep: 'Deploy blueprint' }));
    const suspend = await call('POST', '/admin/tenants/{id}/suspend', on());
    expect(suspend.statusCode).toBe(202);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', currentStep: 'Set status', lease: { kind: 'suspend', executionArn: body(suspend).executionArn } });
  });

  it('gives the step back with the lease when Step Functions refuses the start', async () => {
    records.set('acme', registered({ status: 'ACTIVE', currentStep: 'Deploy blueprint' }));
    sfn.on(StartExecutionCommand).rejects(new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: 'denied' }));
    const suspend = await call('POST', '/admin/tenants/{id}/suspend', on());
    expect(suspend.statusCode).toBe(500);
    expect(records.get('acme')).toMatchObject({ status: 'ACTIVE', currentStep: 'Deploy blueprint' });
    expect(records.get('acme')!.lease).toBeUndefined();
  });

  it('refuses a body on suspend other than { reason } (400 unknown_parameter), and a bad reason (400 naming reason)', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const res = await call('POST', '/admin/tenants/{id}/suspend', { ...on(), body: JSON.stringify({ why: 'late payment' }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ code: 'unknown_parameter', param: 'why', message: 'why = "late payment": suspend takes no body but an optional reason (send none, {} or {"reason": "…"})' });
    const array = await call('POST', '/admin/tenants/{id}/suspend', { ...on(), body: '["late payment"]' });
    expect(body(array).error).toMatchObject({ code: 'invalid_request', message: '(root) = ["late payment"]: suspend takes no body but an optional reason (send none, {} or {"reason": "…"})' });
    for (const reason of ['', 'late\npayment', 5, 'x'.repeat(501), '   ', 'late \u202Etnemyap', 'a\u2028b', 'ticket \ud800', null, { text: 'x' }]) {
      const bad = await call('POST', '/admin/tenants/{id}/suspend', { ...on(), body: JSON.stringify({ reason }) });
      expect([bad.statusCode, body(bad).error.param]).toEqual([400, 'reason']);
    }
    expect(starts()).toEqual([]);
  });

  it('records who asked (the SigV4 caller API Gateway names, never the body) and why on the history entry of a suspend, resume and offboarding', async () => {
    const identity = { userArn: 'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_TesseraPlatformAdmin_0123/jane@example.com', caller: 'AROAEXAMPLE:jane@example.com' };
    const as = (extra: Partial<APIGatewayProxyEvent>) => ({ ...on(), ...extra, requestContext: { requestId: 'api-req-1', identity } } as unknown as Partial<APIGatewayProxyEvent>);
    records.set('acme', registered({ status: 'ACTIVE' }));
    const suspend = await call('POST', '/admin/tenants/{id}/suspend', as({ headers: { 'idempotency-key': 'ops-s-1' }, body: JSON.stringify({ reason: 'invoice 4411 unpaid (FIN-12)' }) }));
    expect(suspend.statusCode).toBe(202);
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'suspend', requestId: 'ops-s-1', actor: `admin:${identity.userArn}`, requestReason: 'invoice 4411 unpaid (FIN-12)' });
    // no reason: the actor all the same; an identity without userArn: its caller
    records.set('acme', registered({ status: 'SUSPENDED' }));
    await call('POST', '/admin/tenants/{id}/resume', { ...on(), requestContext: { requestId: 'api-req-2', identity: { caller: 'AIDAEXAMPLE' } } } as unknown as Partial<APIGatewayProxyEvent>);
    expect(records.get('acme')!.executions.at(-1)).toEqual(expect.objectContaining({ kind: 'resume', actor: 'admin:AIDAEXAMPLE' }));
    expect(records.get('acme')!.executions.at(-1)).not.toHaveProperty('requestReason');
    // a DELETE: its Idempotency-Key is the offboarding's requestId, its reason recorded
    records.set('acme', registered({ status: 'ACTIVE' }));
    const del = await call('DELETE', '/admin/tenants/{id}', as({ headers: { 'Idempotency-Key': 'ops-off-1' }, body: JSON.stringify({ reason: 'contract ended 2026-11-30 (CRM-9)' }) }));
    expect(del.statusCode).toBe(202);
    expect(body(del)).toMatchObject({ requestId: 'ops-off-1', status: 'OFFBOARDING' });
    expect(JSON.parse(starts().at(-1)!.input!).request).toEqual({ tenantId: 'acme', requestId: 'ops-off-1' });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'offboard', requestId: 'ops-off-1', actor: `admin:${identity.userArn}`, requestReason: 'contract ended 2026-11-30 (CRM-9)' });
    // the same DELETE again: the running offboarding, nothing started
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const again = await call('DELETE', '/admin/tenants/{id}', as({ headers: { 'Idempotency-Key': 'ops-off-1' }, body: JSON.stringify({ reason: 'contract ended 2026-11-30 (CRM-9)' }) }));
    expect([again.statusCode, body(again).note]).toEqual([200, 'offboarding already running']);
    expect(starts()).toHaveLength(3);
  });

  it('the same Idempotency-Key with another reason (or none, or one where there was none) is a 409 idempotency_key_reused on suspend, resume and DELETE, as another change is on PATCH', async () => {
    // s31u: before, a suspend's key sent again with another reason answered with the first request (the new reason dropped)
    const send = (path: string, method: string, key: string, reason?: string) => call(method, path, { ...on(), headers: { 'Idempotency-Key': key }, ...(reason !== undefined ? { body: JSON.stringify({ reason }) } : {}) });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    for (const [action, from] of [['suspend', 'ACTIVE'], ['resume', 'SUSPENDED']] as const) {
      records.set('acme', registered({ status: from }));
      const path = `/admin/tenants/{id}/${action}`;
      expect((await send(path, 'POST', `k-${action}`, 'invoice 4411 unpaid')).statusCode).toBe(202);
      // the same request again: its execution, running
      expect([(await send(path, 'POST', `k-${action}`, 'invoice 4411 unpaid')).statusCode]).toEqual([200]);
      for (const other of ['invoice 4412 unpaid', undefined]) {
        const res = await send(path, 'POST', `k-${action}`, other);
        expect([res.statusCode, body(res).error.code, body(res).error.param]).toEqual([409, 'idempotency_key_reused', 'Idempotency-Key']);
        expect(body(res).error.message).toContain(`was used for a ${action} of tenant "acme" with reason "invoice 4411 unpaid"`);
        expect(body(res).error.message).toContain(`this request gives ${other === undefined ? 'no reason' : `reason "${other}"`}`);
      }
      // ended: the same, against the history entry
      const arn = records.get('acme')!.lease!.executionArn;
      records.set('acme', registered({ status: action === 'suspend' ? 'SUSPENDED' : 'ACTIVE', executions: [{ kind: action, requestId: `k-${action}`, executionArn: arn, startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] }));
      const late = await send(path, 'POST', `k-${action}`, 'added later');
      expect([late.statusCode, body(late).error.message]).toEqual([409, expect.stringContaining('with no reason (execution')]);
      expect((await send(path, 'POST', `k-${action}`)).statusCode).toBe(200);
    }
    // DELETE: its key is the offboarding's request id, its reason part of it; another key is not that request (200, as before)
    records.set('acme', registered({ status: 'ACTIVE' }));
    expect((await send('/admin/tenants/{id}', 'DELETE', 'k-off', 'contract ended')).statusCode).toBe(202);
    const other = await send('/admin/tenants/{id}', 'DELETE', 'k-off', 'contract ended early');
    expect([other.statusCode, body(other).error.code]).toEqual([409, 'idempotency_key_reused']);
    expect((await send('/admin/tenants/{id}', 'DELETE', 'k-off')).statusCode).toBe(409);
    expect((await send('/admin/tenants/{id}', 'DELETE', 'k-off', 'contract ended')).statusCode).toBe(200);
    expect((await send('/admin/tenants/{id}', 'DELETE', 'k-off-2', 'another why')).statusCode).toBe(200);
    const arn = records.get('acme')!.lease!.executionArn;
    records.set('acme', registered({ status: 'OFFBOARDED', executions: [{ kind: 'offboard', requestId: 'k-off', executionArn: arn, startedAt: 't', endedAt: 't', status: 'SUCCEEDED', requestReason: 'contract ended' }] }));
    expect((await send('/admin/tenants/{id}', 'DELETE', 'k-off', 'x')).statusCode).toBe(409);
    expect((await send('/admin/tenants/{id}', 'DELETE', 'k-off', 'contract ended')).statusCode).toBe(200);
    expect(starts()).toHaveLength(3);
  });

  it('two suspends at once with one key and different reasons: one starts, the other is a 409 idempotency_key_reused', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const send = (reason: string) => call('POST', '/admin/tenants/{id}/suspend', { ...on(), headers: { 'Idempotency-Key': 'k-race' }, body: JSON.stringify({ reason }) });
    const answers = (await Promise.all([send('first'), send('second')])).map((r) => [r.statusCode, JSON.parse(r.body).error?.code]);
    expect(answers).toEqual([[202, undefined], [409, 'idempotency_key_reused']]);
    expect(starts()).toHaveLength(1);
  });

  it('a DELETE under another key than the offboarding\'s (or none) names the offboarding\'s request id, running or finished; two at once start one', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    // two DELETEs at once with different keys: the second finds the lease taken (its read was before the first's write)
    const first = call('DELETE', '/admin/tenants/{id}', { ...on(), headers: { 'Idempotency-Key': 'ops-off-1' }, body: JSON.stringify({ reason: 'contract ended' }) });
    const second = call('DELETE', '/admin/tenants/{id}', { ...on(), headers: { 'Idempotency-Key': 'ops-off-2' } });
    const answers = (await Promise.all([first, second])).map((r) => [r.statusCode, body(r).requestId, body(r).note]);
    expect(answers).toEqual([[202, 'ops-off-1', undefined], [200, 'ops-off-1', 'offboarding already running']]);
    expect(starts()).toHaveLength(1);
    // later, another key while it runs: the running one's request id (s31q: before, none, and the CLI printed its own key)
    const later = await call('DELETE', '/admin/tenants/{id}', { ...on(), headers: { 'Idempotency-Key': 'ops-off-3' } });
    expect([later.statusCode, body(later).requestId]).toEqual([200, 'ops-off-1']);
    // OFFBOARDED: the offboarding that succeeded, whatever key (or none) the DELETE carries
    const arn = records.get('acme')!.lease!.executionArn;
    records.set('acme', registered({ status: 'OFFBOARDED', executions: [{ kind: 'offboard', requestId: 'ops-off-1', executionArn: arn, startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] }));
    for (const headers of [{ 'Idempotency-Key': 'ops-off-1' }, { 'Idempotency-Key': 'ops-off-9' }, {}]) {
      const res = await call('DELETE', '/admin/tenants/{id}', { ...on(), headers });
      expect([res.statusCode, body(res)]).toEqual([200, { tenantId: 'acme', requestId: 'ops-off-1', status: 'OFFBOARDED', note: 'already offboarded; nothing started' }]);
    }
    expect(starts()).toHaveLength(1);
  });

  it('records the actor of an onboarding, a change and a retry; a DELETE with a suspend\'s key is a 409 idempotency_key_reused', async () => {
    const as = (extra: Partial<APIGatewayProxyEvent>) => ({ ...extra, requestContext: { requestId: 'api-req-1', identity: { userArn: 'arn:aws:iam::111111111111:user/ops' } } } as unknown as Partial<APIGatewayProxyEvent>);
    // a body's actor is refused (strict), never recorded
    expect(body(await call('POST', '/admin/tenants', as({ body: JSON.stringify({ ...onboard, actor: 'admin:someone-else' }) }))).error).toMatchObject({ code: 'unknown_parameter', param: 'actor' });
    expect((await call('POST', '/admin/tenants', as({ body: JSON.stringify(onboard) }))).statusCode).toBe(202);
    expect(records.get('acme')!.executions[0]).toMatchObject({ kind: 'onboard', actor: 'admin:arn:aws:iam::111111111111:user/ops' });
    useConfig(sameNetworkConfig);
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await call('PATCH', '/admin/tenants/{id}', as({ ...on(), headers: { 'idempotency-key': 'change-a' }, body: JSON.stringify({ tier: 'professional' }) }));
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'change', requestId: 'change-a', actor: 'admin:arn:aws:iam::111111111111:user/ops', change: { tier: 'professional' } });
    records.set('acme', registered({ status: 'FAILED' }));
    expect((await call('POST', '/admin/tenants/{id}/retry', as(on()))).statusCode).toBe(202);
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'onboard', actor: 'admin:arn:aws:iam::111111111111:user/ops' });
    records.set('acme', registered({ status: 'SUSPENDED', executions: [{ kind: 'suspend', requestId: 'ops-s-9', executionArn: 'arn:s', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] }));
    const reused = await call('DELETE', '/admin/tenants/{id}', { ...on(), headers: { 'Idempotency-Key': 'ops-s-9' } });
    expect([reused.statusCode, body(reused).error.code, body(reused).error.param]).toEqual([409, 'idempotency_key_reused', 'Idempotency-Key']);
  });

  it('refuses a literal null body on suspend and resume as it refuses [], 0 and false (400 naming the value); no body and {} still start', async () => {
    // Found by the hostile pass (s23): `null` was accepted (202) while `[]`, `0`, `false` were refused. No body is `{}` (bodyOf), so a `null` is one sent.
    for (const action of ['suspend', 'resume'] as const) {
      records.set('acme', registered({ status: action === 'suspend' ? 'ACTIVE' : 'SUSPENDED' }));
      for (const sent of ['null', '[]', '0', 'false']) {
        const res = await call('POST', `/admin/tenants/{id}/${action}`, { ...on(), body: sent });
        expect(res.statusCode).toBe(400);
        expect(body(res).error).toEqual({ message: `(root) = ${sent}: ${action} takes no body but an optional reason (send none, {} or {"reason": "…"})`, type: 'invalid_request_error', param: null, code: 'invalid_request' });
      }
      expect(starts()).toEqual([]);
    }
    records.set('acme', registered({ status: 'ACTIVE' }));
    expect((await call('POST', '/admin/tenants/{id}/suspend', on())).statusCode).toBe(202);
    records.set('acme', registered({ status: 'ACTIVE' }));
    expect((await call('POST', '/admin/tenants/{id}/suspend', { ...on(), body: '{}' })).statusCode).toBe(202);
  });

  it('gives the lease back when Step Functions refuses to start the execution: the record as before', async () => {
    // GIVEN an ACTIVE tenant
    const before = registered({ status: 'ACTIVE', executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: 'arn:onboarded', startedAt: 't', endedAt: 't', status: 'SUCCEEDED' }] });
    records.set('acme', before);
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
    // WHEN
    const res = await call('POST', '/admin/tenants/{id}/suspend', on());
    // THEN
    expect(res.statusCode).toBe(500);
    expect(records.get('acme')).toEqual({ ...before, updatedAt: expect.any(String) });
  });
});

// s48: the values given back came from the route's read, made before the lease's own read: an operation that ended in between
// had its running step put back over its end (an ACTIVE tenant left reading `step: Deploy blueprint`).
describe('admin API: a start Step Functions refuses', () => {
  it('gives back the values the lease\'s write replaced as the record it expected had them, not as the route read them before', async () => {
  // GIVEN the route reads acme while a change runs at Deploy blueprint; the change ends before the suspend's lease
  const now = registered({ status: 'ACTIVE', executions: [{ kind: 'change', requestId: 'change-9', executionArn: 'arn:changed', startedAt: 't', endedAt: 't2', status: 'SUCCEEDED' }] });
  records.set('acme', now);
  registryMock.getTenant.mockImplementationOnce(async () => structuredClone({ ...now, status: 'ACTIVE' as const, currentStep: 'Deploy blueprint', updatedAt: '2026-11-29T00:00:00.000Z' }));
  sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
  // WHEN Step Functions refuses the suspend's start
  expect((await call('POST', '/admin/tenants/{id}/suspend', on())).statusCode).toBe(500);
  // THEN the record as the change left it (was: currentStep "Deploy blueprint" put back on the ACTIVE tenant)
  expect(records.get('acme')).toEqual({ ...now, updatedAt: expect.any(String) });
  });
});

describe('admin API: change', () => {
  it('starts a tier change under the lease (UPDATING, still served)', async () => {
    useConfig(sameNetworkConfig); // a target tier whose tenant network is acme's (another one is a migration: tier-migration.test.ts)
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-1' }, body: JSON.stringify({ tier: 'professional' }) });
    expect(res.statusCode).toBe(202);
    expect(starts()[0]).toMatchObject({ stateMachineArn: `${MACHINE}change`, name: expect.stringMatching(NAME('change')) });
    expect(JSON.parse(starts()[0].input!)).toEqual({ request: { tenantId: 'acme', requestId: 'change-1' }, change: { tier: 'professional' } });
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'change-1', executionArn: `${EXECUTION}change:${starts()[0].name}`, status: 'UPDATING', change: { tier: 'professional' } });
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', lease: { kind: 'change', requestId: 'change-1', previousStatus: 'ACTIVE' } });
    // the history entry says what was asked: what the Idempotency-Key stands for
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'change', requestId: 'change-1', status: 'RUNNING', change: { tier: 'professional' } });
  });

  it('carries an asked blueprintVersion equal to the tenant\'s: the change stays on it (was dropped, and *Begin change* took the platform\'s)', async () => {
    useConfig(sameNetworkConfig);
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-kv' }, body: JSON.stringify({ tier: 'professional', blueprintVersion: '1.0.0' }) });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!).change).toEqual({ tier: 'professional', blueprintVersion: '1.0.0' });
  });

  it('a tier the route read as the tenant\'s, left out of the change, is asked again at the lease: a tier change that ended in between makes it a 409 tenant_changed, nothing started (was: 202, the tags deployed on professional)', async () => {
    useConfig(sameNetworkConfig);
    // GIVEN the route reads acme on starter; a change to professional ends before this PATCH's lease
    const now = registered({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', updatedAt: '2026-11-29T00:05:00.000Z' });
    records.set('acme', now);
    registryMock.getTenant.mockImplementationOnce(async () => structuredClone({ ...now, tier: 'starter', updatedAt: '2026-11-29T00:00:00.000Z' }));
    // WHEN the PATCH asks for starter with tags
    const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-st' }, body: JSON.stringify({ tier: 'starter', tags: { Owner: 'team-x' } }) });
    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'tenant_changed', message: expect.stringContaining('(tier "starter" → "professional": another operation ended)') });
    expect(starts()).toEqual([]);
    expect(records.get('acme')).toEqual(now);
    // sent again, it reads professional: starter is the change
    const again = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-st' }, body: JSON.stringify({ tier: 'starter', tags: { Owner: 'team-x' } }) });
    expect(again.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!).change).toEqual({ tier: 'starter', tags: { Owner: 'team-x' } });
  });

  it('a tier restated with tags stays a tags-only change (no tier, no version: Begin change keeps both)', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-tg' }, body: JSON.stringify({ tier: 'starter', tags: { Owner: 'team-x' } }) });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!).change).toEqual({ tags: { Owner: 'team-x' } });
  });

  it('takes a tenant left UPDATING with no lease (hand edit): the stranded change recorded FAILED, the tenant ACTIVE, then the repair starts (was a 409 invalid_status for every request, for good)', async () => {
    records.set('acme', registered({ status: 'UPDATING', blueprintVersion: '1.0.0', currentStep: 'Check blueprint',
      executions: [{ kind: 'change', requestId: 'change-lost', executionArn: OTHER_EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING' }] }));
    sfn.on(DescribeExecutionCommand, { executionArn: OTHER_EXECUTION_ARN }).resolves({ status: 'FAILED', error: 'TenantBusy' });
    const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'repair-1' }, body: JSON.stringify({ repair: true }) });
    expect(res.statusCode).toBe(202);
    expect(records.get('acme')).toMatchObject({
      status: 'UPDATING', lease: { kind: 'change', requestId: 'repair-1', previousStatus: 'ACTIVE' },
      failure: { kind: 'change', executionArn: OTHER_EXECUTION_ARN, step: 'Check blueprint', reason: expect.stringMatching(/^tenant "acme" was UPDATING with no operation holding it .* ended FAILED: TenantBusy without recording its outcome/) },
    });
    expect(records.get('acme')!.executions.map((e) => [e.requestId, e.status])).toEqual([['change-lost', 'FAILED'], ['repair-1', 'RUNNING']]);
  });

  it('a tenant left UPDATING with no lease while its change still runs: a PATCH is a 409 naming that execution (`operation`); the same Idempotency-Key again answers it running, and once it ended, its outcome (was: "already ran (RUNNING)" either way)', async () => {
    const running = { kind: 'change' as const, requestId: 'change-lost', executionArn: OTHER_EXECUTION_ARN, startedAt: LEASED_AT, status: 'RUNNING' as const, change: { tier: 'professional' } };
    records.set('acme', registered({ status: 'UPDATING', blueprintVersion: '1.0.0', executions: [running] }));
    sfn.on(DescribeExecutionCommand, { executionArn: OTHER_EXECUTION_ARN }).resolves({ status: 'RUNNING' });
    const other = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ repair: true }) });
    expect(other.statusCode).toBe(409);
    expect(body(other)).toMatchObject({ error: { code: 'operation_in_progress' }, operation: { kind: 'change', executionArn: OTHER_EXECUTION_ARN, requestId: 'change-lost', since: LEASED_AT } });
    const same = () => call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-lost' }, body: JSON.stringify({ tier: 'professional' }) });
    const again = await same();
    expect([again.statusCode, body(again).executionArn, body(again).note]).toEqual([200, OTHER_EXECUTION_ARN, 'change already running']);
    sfn.on(DescribeExecutionCommand, { executionArn: OTHER_EXECUTION_ARN }).resolves({ status: 'ABORTED' });
    const ended = await same();
    expect(body(ended)).toMatchObject({ outcome: 'ABORTED', note: expect.stringMatching(/^this request already ran \(ABORTED in Step Functions, not yet recorded on the tenant\)/) });
    expect(starts()).toEqual([]);
  });

  it('refuses a blueprintVersion the catalog does not publish (400 unknown_blueprint_version, as POST /admin/upgrades does), before the lease: nothing starts', async () => {
    // (s31: `tenants update --blueprint-version 0.2.0` was a 202, and the change failed at *Begin change*)
    const before = registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
    records.set('acme', before);
    const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-v' }, body: JSON.stringify({ blueprintVersion: '0.2.0' }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ code: 'unknown_blueprint_version', param: 'blueprintVersion', message: expect.stringMatching(/^blueprintVersion = "0\.2\.0": not a blueprint version the catalog publishes .*the platform's is 1\.0\.0$/) });
    expect(starts()).toEqual([]);
    expect(records.get('acme')).toEqual(before);
    // a published one goes on
    expect((await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'idempotency-key': 'change-w' }, body: JSON.stringify({ blueprintVersion: '2.0.0' }) })).statusCode).toBe(202);
  });

  it('refuses a PATCH that changes nothing (400 nothing_to_change), starting nothing', async () => {
    const before = registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
    records.set('acme', before);
    const cases = [
      [{ tier: 'starter' }, 'tier', 'nothing to change: tier is already "starter"'],
      [{ blueprintVersion: '1.0.0' }, 'blueprintVersion', 'nothing to change: blueprintVersion is already "1.0.0"'],
      [{ tier: 'starter', blueprintVersion: '1.0.0' }, 'tier', 'nothing to change: tier is already "starter", blueprintVersion is already "1.0.0"'],
      [{ name: 'Acme Corp' }, 'name', 'renaming alone is not a lifecycle change; send tier, blueprintVersion or tags'],
    ] as const;
    for (const [change, param, message] of cases) {
      const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify(change) });
      expect(res.statusCode).toBe(400);
      expect(body(res).error).toEqual({ type: 'invalid_request_error', code: 'nothing_to_change', param, message });
    }
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('refuses a PATCH to the recorded tier with 409 stack_update_pending while the last change\'s stack update was still running when it ended, until the drift check resolved it', async () => {
    useConfig(sameNetworkConfig);
    const stopped = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:chg-1';
    const pending = registered({
      status: 'ACTIVE', tier: 'starter', blueprintVersion: '1.0.0',
      failure: { step: 'Check blueprint', reason: 'execution ABORTED …', at: '2026-11-30T00:05:00.000Z', kind: 'change', executionArn: stopped,
        stackUpdating: { stack: 'tessera-acme', status: 'UPDATE_IN_PROGRESS', tier: 'professional', blueprintVersion: '1.0.0' } },
    });
    records.set('acme', pending);
    for (const [change, param] of [[{ tier: 'starter' }, 'tier'], [{ blueprintVersion: '1.0.0' }, 'blueprintVersion']] as const) {
      const res = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify(change) });
      expect(res.statusCode).toBe(409);
      expect(body(res).error).toMatchObject({ type: 'conflict_error', code: 'stack_update_pending', param });
      expect(body(res).error.message).toContain(`its stack tessera-acme was still UPDATE_IN_PROGRESS to tier "professional", blueprintVersion "1.0.0" when change ${stopped} ended`);
      expect(body(res).error.message).toContain('tessera tenants drift --detect acme');
    }
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(pending);
    // a change to another tier is not refused: it runs on the stack as it is
    const other = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ tier: 'professional' }) });
    expect(other.statusCode).toBe(202);
    // resolved by the drift check (the stack rolled back to starter): nothing_to_change again
    records.set('acme', { ...pending, failure: { ...pending.failure!, stackUpdating: { ...pending.failure!.stackUpdating!, resolved: { at: '2026-12-01T03:00:00.000Z', stackStatus: 'UPDATE_ROLLBACK_COMPLETE', recorded: false } } } });
    const same = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ tier: 'starter' }) });
    expect([same.statusCode, body(same).error.code]).toEqual([400, 'nothing_to_change']);
  });

  it('refuses unknown fields and unknown tiers in a PATCH', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const unknown = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ tier: 'professional', force: true }) });
    expect(unknown.statusCode).toBe(400);
    expect(body(unknown).error).toMatchObject({ code: 'unknown_parameter', param: 'force' });
    const gold = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ tier: 'gold' }) });
    expect(body(gold).error).toMatchObject({ code: 'unknown_tier', param: 'tier' });
    expect(starts()).toHaveLength(0);
  });

  // A misspelt tier was answered "does not exist (tiers: …)" by create, update and list, while tessera tenants apply
  // named the nearest one; GET /admin/tenants?tier= did not even list the tiers. Now every route says both.
  it('names the nearest tier and every tier for a misspelt tier on POST, PATCH and GET /admin/tenants?tier=', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const message = 'tier = "profesional": does not exist (did you mean professional?) (tiers: starter, professional, enterprise)';
    const create = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tenantId: 'newco', tier: 'profesional' }) });
    const change = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ tier: 'profesional' }) });
    const list = await call('GET', '/admin/tenants', { queryStringParameters: { tier: 'profesional' } });
    for (const res of [create, change, list]) {
      expect(res.statusCode).toBe(400);
      expect(body(res).error).toMatchObject({ code: 'unknown_tier', param: 'tier', message });
    }
    // Another case is a misspelling too; nothing near: the tiers alone, as before.
    expect(body(await call('GET', '/admin/tenants', { queryStringParameters: { tier: 'Starter' } })).error.message).toBe('tier = "Starter": does not exist (did you mean starter?) (tiers: starter, professional, enterprise)');
    expect(body(await call('GET', '/admin/tenants', { queryStringParameters: { tier: 'gold' } })).error.message).toBe('tier = "gold": does not exist (tiers: starter, professional, enterprise)');
    expect(starts()).toHaveLength(0);
  });
});

/**
 * Found by the hostile lc (s12): two PATCHes with the same Idempotency-Key at once answered 202 and
 * 409 operation_in_progress, and after the first had finished the same key with another body ran
 * as a second change (two history entries with one request id).
 */
/**
 * Found by the hostile pass (s23): suspend and resume ignored Idempotency-Key. The same POST /suspend sent again
 * with its key after the suspend ended met a SUSPENDED tenant: 409 invalid_status, not the first answer; while it
 * ran, 409 operation_in_progress naming its own execution.
 */
describe('admin API: suspend and resume with an Idempotency-Key', () => {
  const post = (action: 'suspend' | 'resume', key = 'ops-suspend-1') => call('POST', `/admin/tenants/{id}/${action}`, { ...on(), headers: { 'Idempotency-Key': key } });
  beforeEach(() => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  });

  it('the same key while the suspend runs, also two at once: that execution (200), one started; after it ended: its result (200), nothing started', async () => {
    const [a, b] = await Promise.all([post('suspend'), post('suspend')]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 202]);
    const [started, again] = a.statusCode === 202 ? [a, b] : [b, a];
    const executionArn = body(started).executionArn;
    expect(body(started)).toEqual({ tenantId: 'acme', requestId: 'ops-suspend-1', executionArn, status: 'ACTIVE', statusOnSuccess: 'SUSPENDED' });
    expect(body(again)).toEqual({ tenantId: 'acme', requestId: 'ops-suspend-1', executionArn, status: 'ACTIVE', note: 'suspend already running' });
    expect(records.get('acme')!.lease).toMatchObject({ kind: 'suspend', requestId: 'ops-suspend-1', executionArn });
    // the status workflow ends (Set status: SUSPENDED, lease released)
    const { completeOperation } = await import('../../../lambdas/lifecycle/lease.js');
    await completeOperation('acme', records.get('acme')!.lease!);
    expect(records.get('acme')!.status).toBe('SUSPENDED');
    const before = structuredClone(records.get('acme'));
    const later = await post('suspend');
    expect(later.statusCode).toBe(200);
    expect(body(later)).toMatchObject({
      tenantId: 'acme', requestId: 'ops-suspend-1', executionArn, status: 'SUSPENDED', outcome: 'SUCCEEDED',
      note: 'this request already ran (SUCCEEDED); nothing started: send a new Idempotency-Key for a new suspend',
    });
    expect(starts()).toHaveLength(1);
    expect(records.get('acme')).toEqual(before);
  });

  it('a suspend\'s key sent to resume: 409 idempotency_key_reused naming both, nothing started; a new key resumes', async () => {
    expect((await post('suspend')).statusCode).toBe(202);
    const { completeOperation } = await import('../../../lambdas/lifecycle/lease.js');
    await completeOperation('acme', records.get('acme')!.lease!);
    const res = await post('resume');
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({
      type: 'conflict_error', code: 'idempotency_key_reused', param: 'Idempotency-Key',
      message: expect.stringMatching(/^Idempotency-Key "ops-suspend-1" was used for a suspend of tenant "acme" \(execution .*, SUCCEEDED\); this request asks resume/),
    });
    expect(starts()).toHaveLength(1);
    const resumed = await post('resume', 'ops-resume-1');
    expect(resumed.statusCode).toBe(202);
    expect(body(resumed)).toMatchObject({ requestId: 'ops-resume-1', status: 'SUSPENDED', statusOnSuccess: 'ACTIVE' });
  });

  it('refuses an unusable key (400 naming the header)', async () => {
    const bad = await post('suspend', 'has space');
    expect(bad.statusCode).toBe(400);
    expect(body(bad).error).toMatchObject({ code: 'invalid_idempotency_key', param: 'Idempotency-Key' });
    expect(starts()).toHaveLength(0);
  });
});

describe('admin API: PATCH with an Idempotency-Key', () => {
  const patch = (change: unknown, key = 'change-1', header = 'idempotency-key') => call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { [header]: key }, body: JSON.stringify(change) });
  beforeEach(() => {
    useConfig(sameNetworkConfig);
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  });

  it('the same key and body while the change runs: the running execution (200), one change started, also for two requests at once', async () => {
    const [a, b] = await Promise.all([patch({ tier: 'professional' }), patch({ tier: 'professional' })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 202]);
    const [started, again] = a.statusCode === 202 ? [a, b] : [b, a];
    expect(starts()).toHaveLength(1);
    expect(body(again)).toEqual({ tenantId: 'acme', requestId: 'change-1', executionArn: body(started).executionArn, status: 'UPDATING', change: { tier: 'professional' }, note: 'change already running' });
    // and later, with the header as a client spells it (API Gateway passes names as sent)
    const third = await patch({ tier: 'professional' }, 'change-1', 'Idempotency-Key');
    expect(third.statusCode).toBe(200);
    expect(body(third).executionArn).toBe(body(started).executionArn);
    expect(starts()).toHaveLength(1);
  });

  // lcleft (s16), checked and kept: a key equal to the tenant's onboarding request id names a change, not the onboarding.
  // Keys are looked up among the tenant's changes only, and every later match (Record failure, the lease, the history) is by
  // execution ARN, or by request id and kind: the onboarding's entry and the change's stay apart.
  it('a key equal to the onboarding\'s request id starts a change, and the same key again answers with that change, never with the onboarding', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0',
      executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: `${EXECUTION}onboard:onboard-acme-1`, startedAt: LEASED_AT, endedAt: LEASED_AT, status: 'SUCCEEDED' }] }));
    const first = await patch({ tier: 'professional' }, 'req-acme-0001');
    expect(first.statusCode).toBe(202);
    const again = await patch({ tier: 'professional' }, 'req-acme-0001');
    expect(body(again)).toMatchObject({ executionArn: body(first).executionArn, note: 'change already running' });
    expect(starts()).toHaveLength(1);
    expect(records.get('acme')!.executions.map((e) => [e.kind, e.requestId, e.status])).toEqual([['onboard', 'req-acme-0001', 'SUCCEEDED'], ['change', 'req-acme-0001', 'RUNNING']]);
    expect(records.get('acme')!.requestId).toBe('req-acme-0001');
  });

  // lc2 (s12) left: a change stopped in Step Functions before its last write answered "already ran (RUNNING)".
  it('the same key after the change was stopped (its lease and RUNNING entry not yet ended on the record): Step Functions\' outcome, nothing started', async () => {
    const executionArn = `${EXECUTION}change:change-acme-1`;
    records.set('acme', registered({ status: 'UPDATING', blueprintVersion: '1.0.0',
      lease: { kind: 'change', requestId: 'change-1', executionArn, acquiredAt: LEASED_AT, previousStatus: 'ACTIVE' },
      executions: [{ kind: 'change', requestId: 'change-1', executionArn, startedAt: LEASED_AT, status: 'RUNNING', change: { tier: 'professional' } }] }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
    const res = await patch({ tier: 'professional' });
    expect(res.statusCode).toBe(200);
    expect(body(res)).toMatchObject({ executionArn, outcome: 'ABORTED', note: 'this request already ran (ABORTED in Step Functions, not yet recorded on the tenant); nothing started: send a new Idempotency-Key for a new change' });
    expect(starts()).toHaveLength(0);
  });

  it('the same key after the change ended: its result (200), nothing started, whatever the tenant is now', async () => {
    const executionArn = `${EXECUTION}change:change-acme-1`;
    records.set('acme', registered({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', executions: [
      { kind: 'change', requestId: 'change-1', executionArn, startedAt: LEASED_AT, endedAt: '2026-11-23T00:10:00.000Z', status: 'SUCCEEDED', change: { tier: 'professional' } },
    ] }));
    const before = structuredClone(records.get('acme'));
    const res = await patch({ tier: 'professional' });
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({
      tenantId: 'acme', requestId: 'change-1', executionArn, status: 'ACTIVE', change: { tier: 'professional' }, outcome: 'SUCCEEDED', endedAt: '2026-11-23T00:10:00.000Z',
      note: 'this request already ran (SUCCEEDED); nothing started: send a new Idempotency-Key for a new change',
    });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('the same key as a change whose entry recorded no change (written before the field existed): its result says the change is not recorded, never echoing this request as the one that ran', async () => {
    const executionArn = `${EXECUTION}change:change-acme-1`;
    records.set('acme', registered({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0', executions: [
      { kind: 'change', requestId: 'change-1', executionArn, startedAt: LEASED_AT, endedAt: '2026-11-23T00:10:00.000Z', status: 'SUCCEEDED' },
    ] }));
    const before = structuredClone(records.get('acme'));
    const res = await patch({ blueprintVersion: '2.0.0' });
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({
      tenantId: 'acme', requestId: 'change-1', executionArn, status: 'ACTIVE', changeRecorded: false, outcome: 'SUCCEEDED', endedAt: '2026-11-23T00:10:00.000Z',
      note: 'this request already ran (SUCCEEDED); its change is not recorded on the tenant (its history entry predates the field or was not written by the admin API), so whether it is this request\'s cannot be told; nothing started: send a new Idempotency-Key for a new change',
    });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('the same key as a change running under a lease whose history entry is not on the record: running, its change not recorded (was: this request echoed as it)', async () => {
    const executionArn = `${EXECUTION}change:change-acme-1`;
    records.set('acme', registered({ status: 'UPDATING', blueprintVersion: '1.0.0',
      lease: { kind: 'change', requestId: 'change-1', executionArn, acquiredAt: LEASED_AT, previousStatus: 'ACTIVE' }, executions: [] }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const res = await patch({ tier: 'professional' });
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'change-1', status: 'UPDATING', changeRecorded: false, executionArn,
      note: 'change already running; its change is not recorded on the tenant (no history entry names it), so whether it is this request\'s cannot be told' });
    expect(body(res).change).toBeUndefined();
    expect(starts()).toHaveLength(0);
  });

  it('the same key with another body: 409 idempotency_key_reused naming the key and both changes, while the change runs and after it, nothing started', async () => {
    expect((await patch({ tier: 'professional' })).statusCode).toBe(202);
    const running = await patch({ blueprintVersion: '2.0.0' });
    expect(running.statusCode).toBe(409);
    expect(body(running).error).toMatchObject({ type: 'conflict_error', code: 'idempotency_key_reused', param: 'Idempotency-Key', message: expect.stringMatching(/^Idempotency-Key "change-1" was used for another change of tenant "acme": \{"tier":"professional"\} \(execution .*, RUNNING\); this request asks \{"blueprintVersion":"2.0.0"\}/) });
    // the change ends (its completing write keeps what was asked in the history entry)
    const { completeOperation } = await import('../../../lambdas/lifecycle/lease.js');
    const held = records.get('acme')!.lease!;
    await completeOperation('acme', held, { tier: 'professional' });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ status: 'SUCCEEDED', change: { tier: 'professional' } });
    const after = await patch({ tier: 'starter' });
    expect(after.statusCode).toBe(409);
    expect(body(after).error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key', message: expect.stringContaining('(execution ' + held.executionArn + ', SUCCEEDED)') });
    expect(starts()).toHaveLength(1);
    expect(records.get('acme')!.executions.filter((e) => e.requestId === 'change-1')).toHaveLength(1);
  });

  it('refuses an unusable key (400 naming the header), and a new key is a new change', async () => {
    const bad = await patch({ tier: 'professional' }, 'has space');
    expect(bad.statusCode).toBe(400);
    expect(body(bad).error).toMatchObject({ code: 'invalid_idempotency_key', param: 'Idempotency-Key', message: expect.stringContaining('"has space"') });
    expect(starts()).toHaveLength(0);
    expect((await patch({ tier: 'professional' }, 'change-2')).statusCode).toBe(202);
  });

  /**
   * Found by the hostile pass: a change's key was looked up among the changes only. A PATCH sent with the key of a
   * suspend (running or ended) started a change under that request id, and a suspend sent with a change's key started a
   * suspend: two operations, one request id, each replay answered by whichever its route looked at.
   */
  it('a suspend\'s key sent with a PATCH, running or ended, and a change\'s sent to suspend: 409 idempotency_key_reused naming it, nothing started', async () => {
    const { completeOperation } = await import('../../../lambdas/lifecycle/lease.js');
    const suspend = (key: string) => call('POST', '/admin/tenants/{id}/suspend', { ...on(), headers: { 'Idempotency-Key': key } });
    // a suspend under ops-1, running, then ended
    expect((await suspend('ops-1')).statusCode).toBe(202);
    const suspendArn = records.get('acme')!.lease!.executionArn;
    const whileRunning = await patch({ tier: 'professional' }, 'ops-1');
    expect(whileRunning.statusCode).toBe(409);
    expect(body(whileRunning).error).toMatchObject({ type: 'conflict_error', code: 'idempotency_key_reused', param: 'Idempotency-Key',
      message: expect.stringMatching(/^Idempotency-Key "ops-1" was used for a suspend of tenant "acme" \(execution .*, RUNNING\); this request asks change/) });
    await completeOperation('acme', records.get('acme')!.lease!);
    const afterIt = await patch({ tier: 'professional' }, 'ops-1');
    expect(afterIt.statusCode).toBe(409);
    expect(body(afterIt).error.message).toContain(`was used for a suspend of tenant "acme" (execution ${suspendArn}, SUCCEEDED)`);
    // resumed (by another request); a change under change-9, whose key sent to suspend is another request too
    records.get('acme')!.status = 'ACTIVE';
    const changed = await patch({ tier: 'professional' }, 'change-9');
    expect(changed.statusCode, changed.body).toBe(202);
    const refused = await suspend('change-9');
    expect(refused.statusCode).toBe(409);
    expect(body(refused).error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key', message: expect.stringMatching(/^Idempotency-Key "change-9" was used for a change of tenant "acme" .*this request asks suspend/) });
    expect(starts()).toHaveLength(2);
    for (const key of ['ops-1', 'change-9']) expect(records.get('acme')!.executions.filter((e) => e.requestId === key)).toHaveLength(1);
  });
});

describe('admin API: offboarding (DELETE) is idempotent', () => {
  it('starts an offboarding under the lease', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const res = await call('DELETE', '/admin/tenants/{id}', on());
    expect(res.statusCode).toBe(202);
    const [start] = starts();
    expect(start).toMatchObject({ stateMachineArn: `${MACHINE}offboard`, name: expect.stringMatching(NAME('offboard')) });
    const { request } = JSON.parse(start.input!);
    expect(request).toEqual({ tenantId: 'acme', requestId: expect.stringMatching(/^offboard-acme-[0-9a-z]+$/) });
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: request.requestId, executionArn: `${EXECUTION}offboard:${start.name}`, status: 'OFFBOARDING' });
    expect(records.get('acme')).toMatchObject({ status: 'OFFBOARDING', lease: { kind: 'offboard', requestId: request.requestId, previousStatus: 'ACTIVE' } });
  });

  it('answers 200 for an OFFBOARDED tenant, starting nothing and writing nothing', async () => {
    const before = registered({ status: 'OFFBOARDED' });
    records.set('acme', before);
    const res = await call('DELETE', '/admin/tenants/{id}', on());
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({ tenantId: 'acme', status: 'OFFBOARDED', note: 'already offboarded; nothing started' });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('answers 200 with the running execution while the offboarding runs', async () => {
    const before = heldByOther('offboard', { currentStep: 'Export tenant data' });
    records.set('acme', before);
    const res = await call('DELETE', '/admin/tenants/{id}', on());
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: before.lease!.requestId, executionArn: OTHER_EXECUTION_ARN, status: 'OFFBOARDING', note: 'offboarding already running' });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('resumes an offboarding that stopped (OFFBOARDING, no lease), naming where it stopped', async () => {
    records.set('acme', registered({ status: 'OFFBOARDING', failure: { step: 'Delete tenant stacks', reason: 'StackFailed: x', at: 't', kind: 'offboard' } }));
    const res = await call('DELETE', '/admin/tenants/{id}', on());
    expect(res.statusCode).toBe(202);
    expect(body(res)).toMatchObject({ status: 'OFFBOARDING', resumed: 'Delete tenant stacks' });
    expect(records.get('acme')?.lease).toMatchObject({ kind: 'offboard', previousStatus: 'OFFBOARDING' });
  });
});

describe('admin API: tenant API keys at the live-key cap', () => {
  it('POST /admin/tenants/{id}/keys at 100 live keys: 409 too_many_keys naming the admin route and tessera keys revoke, not the /v1 route', async () => {
    process.env[ENV.apiKeysTable] = 'tessera-api-keys';
    records.set('acme', registered({ status: 'ACTIVE' }));
    const live = Array.from({ length: 100 }, () => keyRecord('acme'));
    // The tenant's live-key index at the cap, and its records (counted again at the cap) all live.
    dynamo.on(GetCommand).resolves({ Item: { tenantId: 'acme', keyHash: 'live#keys', version: 100, live: Object.fromEntries(live.map((r) => [r.keyId, ''])) } });
    dynamo.on(QueryCommand).resolves({ Items: live });
    const res = await call('POST', '/admin/tenants/{id}/keys', { ...on(), body: JSON.stringify({ name: 'one too many' }) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'too_many_keys', message: expect.stringContaining('revoke keys it no longer uses (DELETE /admin/tenants/acme/keys/{keyId}, or tessera keys revoke <keyId> --tenant acme;') });
    expect(body(res).error.message).not.toContain('/v1/');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

/**
 * Found by the hostile pass (s23): the POST routes other than suspend and resume dropped an Idempotency-Key silently:
 * POST /admin/tenants/acme/keys sent twice with one key minted two keys, a retry or a drift start sent again ran again.
 * The CLI sends none there (lib/cli: keys create, users invite, tenants retry, tenants drift --check): such a route now
 * refuses it (400 unsupported_header naming it and the route); the routes idempotent without it accept it.
 */
describe('admin API: Idempotency-Key on routes that do not honour it', () => {
  const KEY = { 'Idempotency-Key': 'mint-once-1' };

  it('POST keys twice with one key: 400 unsupported_header naming the header and the route both times, no key minted (it minted two)', async () => {
    process.env[ENV.apiKeysTable] = 'tessera-api-keys';
    records.set('acme', registered({ status: 'ACTIVE' }));
    dynamo.on(GetCommand).resolves({}); // the tenant's live-key index: none yet (its keys are counted from the Query)
    const send = () => call('POST', '/admin/tenants/{id}/keys', { ...on(), headers: KEY, body: JSON.stringify({ name: 'batch', role: 'member' }) });
    for (const res of [await send(), await send()]) {
      expect(res.statusCode).toBe(400);
      expect(body(res).error).toMatchObject({
        type: 'invalid_request_error', code: 'unsupported_header', param: 'Idempotency-Key',
        message: expect.stringMatching(/^Idempotency-Key = "mint-once-1": POST \/admin\/tenants\/\{id\}\/keys does not honour it \(each request mints a new key, whose secret is shown once; .*revoke one whose secret you never received\); send the request without it/),
      });
    }
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(0);
    // without the header the route mints as before
    const minted = await call('POST', '/admin/tenants/{id}/keys', { ...on(), body: JSON.stringify({ name: 'batch', role: 'member' }) });
    expect(minted.statusCode).toBe(201);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it.each([
    ['POST', '/admin/tenants/{id}/retry', { status: 'FAILED' }, {}, /the same retry again is a 409 operation_in_progress/],
    ['POST', '/admin/drift', { status: 'ACTIVE' }, { tenantId: 'acme' }, /a start within the same 5-minute window answers the running check/],
    ['POST', '/admin/tenants/{id}/users', { status: 'ACTIVE' }, { email: 'dev@acme.example.com' }, /the same invitation again is a 409 user_exists/],
    ['POST', '/admin/tenants/{id}/keys/{keyId}/rotate', { status: 'ACTIVE' }, {}, /the same rotation again is a 409 key_rotated/],
  ] as const)('%s %s with an Idempotency-Key: 400 unsupported_header saying what a replay does there, nothing started', async (method, resource, status, payload, replay) => {
    process.env[ENV.driftStateMachineArn] = `${MACHINE}drift`;
    records.set('acme', registered(status));
    const before = structuredClone(records.get('acme'));
    const res = await call(method, resource, { pathParameters: { id: 'acme', keyId: 'key_0123456789abcdef' }, headers: { 'idempotency-key': 'again-1' }, body: JSON.stringify(payload) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ code: 'unsupported_header', param: 'Idempotency-Key', message: expect.stringContaining(`Idempotency-Key = "again-1": ${method} ${resource} does not honour it (`) });
    expect(body(res).error.message).toMatch(replay);
    expect(starts()).toEqual([]);
    expect(records.get('acme')).toEqual(before);
  });

  it('DELETE (offboarding) accepts it and stays idempotent by itself: the same DELETE again answers the running offboarding', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const first = await call('DELETE', '/admin/tenants/{id}', { ...on(), headers: KEY });
    expect(first.statusCode).toBe(202);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const again = await call('DELETE', '/admin/tenants/{id}', { ...on(), headers: KEY });
    expect(again.statusCode).toBe(200);
    expect(body(again)).toMatchObject({ executionArn: body(first).executionArn, note: 'offboarding already running' });
    expect(starts()).toHaveLength(1);
  });

  it('onboarding takes it as its requestId only: another value is a 400 naming both, nothing registered (it was dropped)', async () => {
    const other = await call('POST', '/admin/tenants', { headers: { 'Idempotency-Key': 'onboard-acme-x' }, body: JSON.stringify(onboard) });
    expect(other.statusCode).toBe(400);
    expect(body(other).error).toMatchObject({
      code: 'unsupported_header', param: 'Idempotency-Key',
      message: expect.stringContaining('Idempotency-Key = "onboard-acme-x": an onboarding is idempotent by its requestId ("req-acme-0001"), not by the header'),
    });
    expect(records.has('acme')).toBe(false);
    expect(starts()).toEqual([]);
    const same = await call('POST', '/admin/tenants', { headers: { 'Idempotency-Key': onboard.requestId }, body: JSON.stringify(onboard) });
    expect(same.statusCode).toBe(202);
  });
});

describe('admin API: POST /admin/tenants/{id}/retry', () => {
  it('runs a FAILED onboarding again as a new execution, with the corrected adminEmail written under the lease', async () => {
    // GIVEN a VPC tenant whose onboarding failed; no account was ever requested with its email
    records.set('acme', registered({ status: 'FAILED', failure: { step: 'Allocate network', reason: 'QuotaExceeded: x', at: 't' } }));
    // WHEN
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: 'root@acme.example.com' }) });
    // THEN
    expect(res.statusCode).toBe(202);
    const [start] = starts();
    expect(start).toMatchObject({ stateMachineArn: `${MACHINE}onboard`, name: expect.stringMatching(NAME('onboard')) });
    expect(JSON.parse(start.input!)).toEqual({ ...onboard, adminEmail: 'root@acme.example.com' });
    const executionArn = `${EXECUTION}onboard:${start.name}`;
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'req-acme-0001', executionArn, status: 'PROVISIONING', corrected: ['adminEmail'] });
    expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', adminEmail: 'root@acme.example.com', lease: { kind: 'onboard', executionArn, requestId: 'req-acme-0001', previousStatus: 'FAILED' } });
  });

  it.each([
    ['an account was created', { accountId: '444444444444' }, 'account 444444444444 was created or requested with ops@acme.example.com'],
    ['an account was requested', { accountId: undefined, createAccountRequestId: 'car-1' }, 'account request car-1 was created or requested with ops@acme.example.com'],
    ['an account request was claimed', { accountId: undefined, createAccountClaim: { at: 't' } }, 'account request (claimed) was created or requested with ops@acme.example.com'],
  ])('refuses to change adminEmail once %s (409 email_in_use), starting nothing', async (_what, extra, message) => {
    const before = registered({ status: 'FAILED', isolation: 'account', tier: 'enterprise', ...extra });
    records.set('acme', before);
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: 'root@acme.example.com' }) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toEqual({ type: 'conflict_error', code: 'email_in_use', param: 'adminEmail', message: `adminEmail cannot change: ${message}` });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(before);
  });

  it('decides a corrected adminEmail again on the record the lease\'s write expected: an attempt that requested the account meanwhile makes it a 409 email_in_use, nothing started or written (was: 202, the new email written over the account\'s)', async () => {
    // GIVEN the route reads acme before any account request; another attempt requests the account and fails before the lease
    const now = registered({ status: 'FAILED', isolation: 'account', tier: 'enterprise', accountId: undefined, createAccountRequestId: 'car-1', updatedAt: '2026-11-29T00:05:00.000Z' });
    records.set('acme', now);
    registryMock.getTenant.mockImplementationOnce(async () => structuredClone({ ...now, createAccountRequestId: undefined, updatedAt: '2026-11-29T00:00:00.000Z' }));
    // WHEN the retry corrects the email
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: 'root@acme.example.com' }) });
    // THEN
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'email_in_use', param: 'adminEmail', message: 'adminEmail cannot change: account request car-1 was created or requested with ops@acme.example.com' });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(now);
  });

  it('refuses a retry when another retry recorded other values after the route\'s read (409 tenant_changed naming them), starting nothing (was: started with the old values, refused later by Register tenant)', async () => {
    const now = registered({ status: 'FAILED', name: 'Acme Corp (corrected)', failure: { step: 'Allocate network', reason: 'x', at: 't' }, updatedAt: '2026-11-29T00:05:00.000Z' });
    records.set('acme', now);
    registryMock.getTenant.mockImplementationOnce(async () => structuredClone({ ...now, name: onboard.name, updatedAt: '2026-11-29T00:00:00.000Z' }));
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({}) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'tenant_changed', message: expect.stringContaining('(name: another retry ran)') });
    expect(starts()).toHaveLength(0);
    expect(records.get('acme')).toEqual(now);
  });

  it('retries a stopped offboarding as it is, and refuses corrections for it', async () => {
    records.set('acme', registered({ status: 'OFFBOARDING' }));
    const corrected = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ name: 'Acme' }) });
    expect(corrected.statusCode).toBe(400);
    expect(body(corrected).error).toMatchObject({ code: 'invalid_request', param: 'name' });
    const res = await call('POST', '/admin/tenants/{id}/retry', on());
    expect(res.statusCode).toBe(202);
    expect(starts()[0].stateMachineArn).toBe(`${MACHINE}offboard`);
  });

  it('has nothing to retry for a tenant that did not fail (409 invalid_status), and refuses unknown fields (400)', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const res = await call('POST', '/admin/tenants/{id}/retry', on());
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'invalid_status', message: expect.stringMatching(/^tenant "acme" is ACTIVE: nothing to retry/) });
    const unknown = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ tier: 'professional' }) });
    expect(unknown.statusCode).toBe(400);
    expect(body(unknown).error).toMatchObject({ code: 'unknown_parameter', param: 'tier' });
    expect(starts()).toHaveLength(0);
  });

  // s38m: it answered "nothing to retry" alone for a tenant a change left UPDATING with no lease, naming no way out.
  it('points a retry of a tenant left UPDATING with no lease to the repair that ends it (409 invalid_status)', async () => {
    const change = 'arn:aws:states:us-east-1:222222222222:execution:tessera-change:chg-9';
    records.set('acme', registered({ status: 'UPDATING', executions: [{ kind: 'change', requestId: 'chg-9', executionArn: change, startedAt: '2026-12-06T00:00:00.000Z', status: 'RUNNING' }] }));
    const res = await call('POST', '/admin/tenants/{id}/retry', on());
    expect(res.statusCode).toBe(409);
    expect(body(res).error).toMatchObject({ code: 'invalid_status', message: `tenant "acme" is UPDATING: nothing to retry (retry resumes a FAILED onboarding or a stopped offboarding); it was left UPDATING by a change (execution ${change}) that no operation holds any more: tessera tenants update acme --repair (PATCH with "repair": true) ends it as that change's failure once its execution has ended, and deploys the tenant's own tier and version again` });
    expect(starts()).toHaveLength(0);
  });

  it('gives the lease back when Step Functions refuses the retry: FAILED again, no execution recorded', async () => {
    const before = registered({ status: 'FAILED', failure: { step: 'Allocate network', reason: 'x', at: 't' } });
    records.set('acme', before);
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const res = await call('POST', '/admin/tenants/{id}/retry', on());
    expect(res.statusCode).toBe(500);
    expect(records.get('acme')).toEqual({ ...before, updatedAt: expect.any(String) });
  });

  it('takes a corrected adminEmail over 64 characters for an account tenant: it is not the account\'s root email', async () => {
    records.set('acme', registered({ status: 'FAILED', isolation: 'account', tier: 'enterprise', accountId: undefined }));
    const long = `${'r'.repeat(50)}@acme.example.com`;
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: long }) });
    expect(res.statusCode).toBe(202);
    expect(records.get('acme')?.adminEmail).toBe(long);
  });

  it('gives the lease back when Step Functions refuses a corrected retry: the adminEmail as before too', async () => {
    const before = registered({ status: 'FAILED', failure: { step: 'Check account', reason: 'AccountCreationFailed: EMAIL_ALREADY_EXISTS', at: 't' } });
    records.set('acme', before);
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: 'root@acme.example.com', name: 'Acme Corp' }) });
    expect(res.statusCode).toBe(500);
    expect(records.get('acme')).toEqual({ ...before, updatedAt: expect.any(String) });
  });
});

// StartExecution's answer lost after Step Functions started the execution (the SDK's last attempt timed out; an earlier one started
// it): before, the API gave the lease, the history entry and the corrections back under the running execution, and answered 500.
describe('admin API: StartExecution failed after the execution started', () => {
  /** StartExecution starts the execution, then its answer is lost with `error`; DescribeExecution knows only what was started. */
  const lostAnswer = (error: Error) => {
    const started = new Set<string>();
    sfn.on(StartExecutionCommand).callsFake((input) => {
      started.add(`${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`);
      throw error;
    });
    sfn.on(DescribeExecutionCommand).callsFake((input) => {
      if (!started.has(input.executionArn)) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
      return { executionArn: input.executionArn, status: 'RUNNING' };
    });
    return started;
  };
  const timeout = () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });

  it('answers 202 for a corrected retry whose execution started: the lease, the history entry and the corrected adminEmail stay', async () => {
    records.set('acme', registered({ status: 'FAILED', failure: { step: 'Check account', reason: 'AccountCreationFailed: EMAIL_ALREADY_EXISTS', at: 't' } }));
    const started = lostAnswer(timeout());
    const res = await call('POST', '/admin/tenants/{id}/retry', { ...on(), body: JSON.stringify({ adminEmail: 'root@acme.example.com' }) });
    const [executionArn] = [...started];
    expect(res.statusCode).toBe(202);
    expect(body(res)).toMatchObject({ executionArn, status: 'PROVISIONING', corrected: ['adminEmail'] });
    expect(records.get('acme')).toMatchObject({ status: 'PROVISIONING', adminEmail: 'root@acme.example.com', lease: { kind: 'onboard', executionArn } });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ executionArn, status: 'RUNNING' });
  });

  it('keeps a change\'s request on its history entry, so its Idempotency-Key with another body is still refused (409)', async () => {
    useConfig(sameNetworkConfig);
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const started = lostAnswer(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } }));
    const first = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'Idempotency-Key': 'change-1' }, body: JSON.stringify({ tier: 'professional' }) });
    expect(first.statusCode).toBe(202);
    expect(records.get('acme')).toMatchObject({ status: 'UPDATING', lease: { kind: 'change', executionArn: [...started][0], requestId: 'change-1' } });
    const other = await call('PATCH', '/admin/tenants/{id}', { ...on(), headers: { 'Idempotency-Key': 'change-1' }, body: JSON.stringify({ tier: 'enterprise' }) });
    expect(other.statusCode).toBe(409);
    expect(body(other).error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });
  });

  it('answers 202 for a new onboarding whose execution started, keeping the record it runs under', async () => {
    const started = lostAnswer(timeout());
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(202);
    expect(body(res)).toEqual({ tenantId: 'acme', requestId: 'req-acme-0001', executionArn: [...started][0], status: 'REQUESTED' });
    expect(records.get('acme')).toMatchObject({ status: 'REQUESTED', lease: { kind: 'onboard', executionArn: [...started][0] } });
  });

  // s40f: DescribeExecution is eventually consistent ("may not reflect very recent updates": its API reference), so right
  // after the start it may not know the execution; StartExecution sent again with the same name and input is idempotent.
  it.each([
    ['a change', 'PATCH', '/admin/tenants/{id}', { tier: 'professional' }, 'UPDATING'],
    ['a suspend', 'POST', '/admin/tenants/{id}/suspend', undefined, 'ACTIVE'],
  ] as const)('%s whose execution started while DescribeExecution does not know it yet: StartExecution sent again answers it, 202, the lease kept', async (_what, method, path, request, status) => {
    useConfig(sameNetworkConfig);
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const started = new Map<string, string>();
    sfn.on(StartExecutionCommand).callsFake((input) => {
      const arn = `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`;
      if (started.has(arn)) {
        if (started.get(arn) !== input.input) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${arn}'`, $metadata: {} });
        return { executionArn: arn, startDate: new Date() }; // the same name and input of an open execution: its answer again
      }
      started.set(arn, input.input!);
      throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }); // started, the answer lost
    });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    const res = await call(method, path, { ...on(), ...(request ? { body: JSON.stringify(request) } : {}) });
    const [executionArn] = [...started.keys()];
    expect(res.statusCode).toBe(202);
    expect(body(res)).toMatchObject({ executionArn });
    expect(started.size).toBe(1);
    expect(records.get('acme')).toMatchObject({ status, lease: { executionArn } });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ executionArn, status: 'RUNNING' });
  });

  it('gives the lease back as before when the execution does not exist (the failure came before Step Functions started it)', async () => {
    const before = registered({ status: 'ACTIVE' });
    records.set('acme', before);
    lostAnswer(timeout());
    sfn.on(StartExecutionCommand).rejects(timeout()); // this time nothing started: DescribeExecution does not know it
    const res = await call('POST', '/admin/tenants/{id}/suspend', on());
    expect(res.statusCode).toBe(500);
    expect(records.get('acme')).toEqual({ ...before, updatedAt: expect.any(String) });
  });
});

describe('admin API: reads', () => {
  it('shows, lists and 404s', async () => {
    records.set('acme', registered({ status: 'ACTIVE', lease: lease('suspend', OTHER_EXECUTION_ARN) }));
    const shown = body(await call('GET', '/admin/tenants/{id}', on()));
    expect(shown).toMatchObject({ tenantId: 'acme', lease: { kind: 'suspend', executionArn: OTHER_EXECUTION_ARN } });
    expect(body(await call('GET', '/admin/tenants', { queryStringParameters: { tier: 'starter' } })).tenants).toHaveLength(1);
    const missing = await call('GET', '/admin/tenants/{id}', on('nobody'));
    expect(missing.statusCode).toBe(404);
    expect(body(await call('GET', '/admin/tenants', { queryStringParameters: { status: 'HAPPY' } })).error).toMatchObject({ param: 'status', message: expect.stringMatching(/^status = "HAPPY": /) });
  });

  it('answers an unknown route with 404', async () => {
    expect((await call('PUT', '/nowhere')).statusCode).toBe(404);
  });

  it('answers a known resource asked with another method 405 with Allow naming its methods (was 404 no_route), starting nothing', async () => {
    const res = await call('PUT', '/admin/drift', { body: JSON.stringify({ tenantId: 'acme' }) });
    expect(res.statusCode).toBe(405);
    expect(res.headers).toMatchObject({ allow: 'GET, POST' });
    expect(body(res).error).toMatchObject({ code: 'method_not_allowed', message: 'PUT is not a method of /admin/drift: it takes GET, POST' });
    expect((await call('GET', '/admin/tenants/{id}/suspend', on())).headers).toMatchObject({ allow: 'POST' });
    expect(starts()).toEqual([]);
  });
});

describe('admin API: query strings on routes that read none', () => {
  it('refuses one on a POST, PATCH or DELETE (400 naming the parameter and its value), changing nothing: it was dropped and the operation started', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const before = structuredClone(records.get('acme'));
    for (const [method, resource, query] of [
      ['POST', '/admin/tenants/{id}/suspend', { dryRun: 'true' }],
      ['PATCH', '/admin/tenants/{id}', { tier: 'pro' }],
      ['DELETE', '/admin/tenants/{id}', { force: '' }],
    ] as const) {
      const res = await call(method, resource, { ...on(), queryStringParameters: query, body: method === 'PATCH' ? JSON.stringify({ tier: 'pro' }) : undefined });
      expect(res.statusCode).toBe(400);
      const [name, value] = Object.entries(query)[0]!;
      expect(body(res).error).toMatchObject({ code: 'unknown_parameter', param: name, message: expect.stringContaining(`query parameter ${name} = ${JSON.stringify(value)}: ${method} ${resource} takes no query parameters`) });
    }
    expect(starts()).toEqual([]);
    expect(records.get('acme')).toEqual(before);
  });

  it('refuses an unknown one on GET execution (400): ?executionarn=… answered the latest execution as if it were the one asked for', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const res = await call('GET', '/admin/tenants/{id}/execution', { ...on(), queryStringParameters: { executionarn: `${EXECUTION}status:suspend-acme-1-abcdef01` } });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ code: 'unknown_parameter', param: 'executionarn' });
    expect(body(await call('GET', '/admin/tenants/{id}', { ...on(), queryStringParameters: { fields: 'status' } })).error).toMatchObject({ code: 'unknown_parameter', param: 'fields' });
  });
});

describe('admin API: a query parameter given more than once', () => {
  it('is a 400 naming it and its values on every route that reads a query (API Gateway passed only the last: ?status=ACTIVE&status=FAILED listed FAILED)', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const res = await call('GET', '/admin/tenants', { queryStringParameters: { status: 'FAILED' }, multiValueQueryStringParameters: { status: ['ACTIVE', 'FAILED'] } });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toEqual({ type: 'invalid_request_error', code: 'invalid_request', param: 'status',
      message: 'query parameter status is given 2 times ("ACTIVE", "FAILED"): GET /admin/tenants takes one value of it, and API Gateway passes only the last; give it once' });
    for (const [key] of Object.entries(routes).filter(([, r]) => r.query)) {
      const [method, resource] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
      const repeated = await call(method, resource, { ...on(), queryStringParameters: { limit: '2' }, multiValueQueryStringParameters: { limit: ['1', '2'] } });
      expect([key, repeated.statusCode, body(repeated).error]).toEqual([key, 400, expect.objectContaining({ param: 'limit', message: expect.stringContaining(`is given 2 times ("1", "2"): ${key} takes one value`) })]);
    }
    expect(starts()).toEqual([]);
  });

  it('shows at most five of its values; one value each (as API Gateway sends a plain query) is read as before', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const many = await call('GET', '/admin/tenants', { queryStringParameters: { tier: 'g' }, multiValueQueryStringParameters: { tier: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] } });
    expect(body(many).error.message).toContain('is given 7 times ("a", "b", "c", "d", "e", ... (2 more))');
    const once = await call('GET', '/admin/tenants', { queryStringParameters: { status: 'ACTIVE', tier: 'starter' }, multiValueQueryStringParameters: { status: ['ACTIVE'], tier: ['starter'] } });
    expect(once.statusCode).toBe(200);
  });
});

/**
 * Each route declares its facts on its own entry (AdminRoute: the query it reads, what it does with an Idempotency-Key):
 * they were sets of route strings beside the table, which a new route could miss. The handler acts on each route's own.
 */
describe('admin API: every route\'s declared facts', () => {
  const table = Object.entries(routes);
  const event = (key: string, extra: Partial<APIGatewayProxyEvent>) => {
    const [method, resource] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
    return [method, resource, { pathParameters: { id: 'nobody', keyId: 'key_0123456789abcdef', userId: 'dev@nobody.example.com' }, ...extra }] as const;
  };

  it('a route that reads no query refuses one (400 naming it); one that reads a query parses it strictly (400 naming an unknown one)', async () => {
    expect(table.length).toBeGreaterThan(20);
    for (const [key, route] of table) {
      const res = await call(...event(key, { queryStringParameters: { probe: '1' } }));
      expect([key, res.statusCode, body(res).error]).toEqual([key, 400, expect.objectContaining({ code: 'unknown_parameter', param: 'probe' })]);
      if (!route.query) expect(body(res).error.message).toContain(`${key} takes no query parameters`);
      else expect(body(res).error.message).not.toContain('takes no query parameters');
    }
    expect(starts()).toEqual([]);
  });

  it('a route that refuses an Idempotency-Key says what the same request again does there; the others do not refuse it', async () => {
    for (const [key, route] of table) {
      const res = await call(...event(key, { headers: { 'Idempotency-Key': 'probe-1' }, body: key === 'POST /admin/tenants' ? JSON.stringify({ ...onboard, requestId: 'probe-1' }) : undefined }));
      if (typeof route.idempotencyKey === 'object') {
        expect([key, res.statusCode, body(res).error.code]).toEqual([key, 400, 'unsupported_header']);
        expect(body(res).error.message).toContain(`${key} does not honour it (${route.idempotencyKey.refuses}); send the request without it. It is honoured by PATCH /admin/tenants/{id}, DELETE /admin/tenants/{id}, POST /admin/tenants/{id}/suspend, POST /admin/tenants/{id}/resume`);
      } else {
        expect([key, body(res).error?.code]).not.toEqual([key, 'unsupported_header']);
      }
    }
  });
});

describe('admin API: GET /admin/tenants/{id}/execution', () => {
  it('answers the execution\'s startDate and stopDate (DescribeExecution), from which tessera tenants watch says how long it ran', async () => {
    // GIVEN acme's onboarding, which ran 1.6 s, and one still running
    const ran = `${EXECUTION}onboard:onboard-acme-mx6x9ekx-44d2f756`;
    const running = `${EXECUTION}change:change-acme-mx6x9ekx-44d2f757`;
    records.set('acme', registered({ status: 'ACTIVE', executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: ran, startedAt: '2026-11-23T10:00:00.000Z', status: 'SUCCEEDED' }] }));
    sfn.on(DescribeExecutionCommand, { executionArn: ran }).resolves({ executionArn: ran, status: 'SUCCEEDED', startDate: new Date('2026-11-23T10:00:00.000Z'), stopDate: new Date('2026-11-23T10:00:01.600Z') });
    sfn.on(DescribeExecutionCommand, { executionArn: running }).resolves({ executionArn: running, status: 'RUNNING', startDate: new Date('2026-11-23T11:00:00.000Z') });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    // WHEN the CLI asks for the latest execution, and for the running one by ARN
    const latest = body(await call('GET', '/admin/tenants/{id}/execution', on()));
    const live = body(await call('GET', '/admin/tenants/{id}/execution', { ...on(), queryStringParameters: { executionArn: running } }));
    // THEN each answer carries the execution's own times; a running one has no stopDate
    expect(latest).toMatchObject({ executionArn: ran, executionStatus: 'SUCCEEDED', startDate: '2026-11-23T10:00:00.000Z', stopDate: '2026-11-23T10:00:01.600Z' });
    expect(live).toMatchObject({ executionArn: running, executionStatus: 'RUNNING', startDate: '2026-11-23T11:00:00.000Z' });
    expect(live).not.toHaveProperty('stopDate');
  });
});

describe('admin API: GET /admin/tenants/{id}/execution, the invitation its onboarding recorded', () => {
  // s40h: *Invite tenant admin* ends DONE when the invitation is SKIPPED (no user pool) or FAILED, and watch printed
  // `✓ Invite tenant admin` with nothing else; only tenants show said SKIPPED and why.
  it('answers the record\'s adminInvite with the onboarding execution that wrote it, and not with another execution', async () => {
    const ran = `${EXECUTION}onboard:onboard-acme-mx6x9ekx-44d2f756`;
    const later = `${EXECUTION}status:suspend-acme-mx6x9ekz-44d2f758`;
    const adminInvite = { state: 'SKIPPED' as const, email: onboard.adminEmail, by: 'onboarding', at: '2026-11-23T10:00:01.000Z', executionArn: ran, reason: 'the platform has no user pool' };
    records.set('acme', registered({ status: 'ACTIVE', adminInvite, executions: [
      { kind: 'onboard', requestId: 'req-acme-0001', executionArn: ran, startedAt: '2026-11-23T10:00:00.000Z', status: 'SUCCEEDED' },
      { kind: 'suspend', requestId: 'req-s', executionArn: later, startedAt: '2026-11-23T11:00:00.000Z', status: 'SUCCEEDED' },
    ] }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', startDate: new Date('2026-11-23T10:00:00.000Z'), stopDate: new Date('2026-11-23T10:00:01.600Z') });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const of = async (executionArn: string) => body(await call('GET', '/admin/tenants/{id}/execution', { ...on(), queryStringParameters: { executionArn } }));
    expect((await of(ran)).adminInvite).toEqual(adminInvite);
    expect(await of(later)).not.toHaveProperty('adminInvite');
  });
});

describe('admin API: GET /admin/tenants/{id}/execution, the operation it names', () => {
  // s39a: `kind` was the state machine's name: `status` for a suspend or resume (tessera tenants resume --watch printed
  // "status succeeded … — tenant acme is ACTIVE") and `change` for an upgrade. It is the operation now.
  it('answers the kind of the execution\'s history entry or lease, else the kind its name starts with', async () => {
    const resumed = `${EXECUTION}status:resume-acme-mx6x9ekx-44d2f756`;
    const suspending = `${EXECUTION}status:suspend-acme-mx6x9ekz-44d2f758`;
    const upgraded = `${EXECUTION}change:acme-upgrade-by-hand`;
    const unnamed = `${EXECUTION}status:acme-by-hand`;
    const lease = { kind: 'suspend' as const, executionArn: suspending, requestId: 'req-s', acquiredAt: '2026-11-23T11:00:00.000Z', previousStatus: 'ACTIVE' as const };
    records.set('acme', registered({ status: 'UPDATING', lease, executions: [
      { kind: 'upgrade', requestId: 'req-u', executionArn: upgraded, startedAt: '2026-11-23T09:00:00.000Z', status: 'SUCCEEDED' },
    ] }));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', startDate: new Date('2026-11-23T10:00:00.000Z'), stopDate: new Date('2026-11-23T10:00:00.400Z') });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const kindOf = async (executionArn: string) => body(await call('GET', '/admin/tenants/{id}/execution', { ...on(), queryStringParameters: { executionArn } })).kind;
    // A resume no longer in the history (its name: executionName), the running suspend (the lease), an upgrade (its entry).
    expect([await kindOf(resumed), await kindOf(suspending), await kindOf(upgraded)]).toEqual(['resume', 'suspend', 'upgrade']);
    // One not named by the admin API (started by hand, then recorded): its entry's kind, or its lease's.
    records.set('acme', registered({ status: 'ACTIVE', executions: [{ kind: 'resume', requestId: 'req-r', executionArn: unnamed, startedAt: 't', status: 'SUCCEEDED' }] }));
    expect(await kindOf(unnamed)).toBe('resume');
    records.set('acme', registered({ status: 'ACTIVE', lease: { ...lease, executionArn: unnamed } }));
    expect(await kindOf(unnamed)).toBe('suspend');
  });
});

describe('admin API: GET /admin/tenants/{id}/execution, a step its Retry policy retried', () => {
  // A Task state's history (HistoryEvent, AWS Step Functions API reference): TaskStateEntered, then per attempt
  // TaskScheduled, TaskStarted and TaskSucceeded or TaskFailed; a Retry schedules again within the same state entry.
  const at = (s: number) => new Date(Date.parse('2026-11-23T10:00:00.000Z') + s * 1000);
  const ran = `${EXECUTION}onboard:onboard-acme-mx6x9ekx-44d2f756`;
  const answer = async (events: HistoryEvent[], status: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED') => {
    records.set('acme', registered({ status: 'ACTIVE', executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: ran, startedAt: '2026-11-23T10:00:00.000Z', status }] }));
    sfn.on(DescribeExecutionCommand, { executionArn: ran }).resolves({ executionArn: ran, status, startDate: at(0), stopDate: at(60) });
    sfn.on(GetExecutionHistoryCommand).resolves({ events });
    return body(await call('GET', '/admin/tenants/{id}/execution', on())).steps;
  };
  const failed = (id: number, previousEventId: number, s: number): HistoryEvent => ({ id, previousEventId, timestamp: at(s), type: 'TaskFailed', taskFailedEventDetails: { resource: 'invoke', resourceType: 'lambda', error: 'StackBusy', cause: 'an update is in progress' } });
  const scheduled = (id: number, previousEventId: number, s: number): HistoryEvent => ({ id, previousEventId, timestamp: at(s), type: 'TaskScheduled', taskScheduledEventDetails: { resource: 'invoke', resourceType: 'lambda', region: 'us-east-1', parameters: '{}' } });

  it('reports a step that failed and then succeeded on retry DONE, after 2 attempts, not FAILED', async () => {
    // GIVEN Deploy baseline failed once (StackBusy), was retried by its Retry policy, and succeeded
    const steps = await answer([
      { id: 1, timestamp: at(0), type: 'ExecutionStarted' },
      { id: 2, previousEventId: 1, timestamp: at(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Deploy baseline' } },
      scheduled(3, 2, 0),
      { id: 4, previousEventId: 3, timestamp: at(1), type: 'TaskStarted', taskStartedEventDetails: { resource: 'invoke', resourceType: 'lambda' } },
      failed(5, 4, 2),
      scheduled(6, 5, 32),
      { id: 7, previousEventId: 6, timestamp: at(32), type: 'TaskStarted', taskStartedEventDetails: { resource: 'invoke', resourceType: 'lambda' } },
      { id: 8, previousEventId: 7, timestamp: at(40), type: 'TaskSucceeded', taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda', output: '{}' } },
      { id: 9, previousEventId: 8, timestamp: at(40), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Deploy baseline', output: '{}' } },
      { id: 10, previousEventId: 9, timestamp: at(40), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Issue key' } },
      scheduled(11, 10, 40),
      { id: 12, previousEventId: 11, timestamp: at(41), type: 'TaskSucceeded', taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda', output: '{}' } },
      { id: 13, previousEventId: 12, timestamp: at(41), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Issue key', output: '{}' } },
      { id: 14, previousEventId: 13, timestamp: at(41), type: 'ExecutionSucceeded' },
    ]);
    // THEN the step's status is its last attempt's, with its whole duration and how many attempts it took
    expect(steps).toEqual([
      { name: 'Deploy baseline', startedAt: at(0).toISOString(), endedAt: at(40).toISOString(), seconds: 40, status: 'DONE', attempts: 2 },
      { name: 'Issue key', startedAt: at(40).toISOString(), endedAt: at(41).toISOString(), seconds: 1, status: 'DONE' },
    ]);
  });

  it('reads every page of the history (GetExecutionHistory answers 1,000 events a page at most): the steps of the second page are not lost', async () => {
    records.set('acme', registered({ status: 'ACTIVE', executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: ran, startedAt: '2026-11-23T10:00:00.000Z', status: 'SUCCEEDED' }] }));
    sfn.on(DescribeExecutionCommand, { executionArn: ran }).resolves({ executionArn: ran, status: 'SUCCEEDED', startDate: at(0), stopDate: at(60) });
    sfn.on(GetExecutionHistoryCommand, { executionArn: ran, nextToken: undefined }).resolves({ nextToken: 'page-2', events: [
      { id: 1, timestamp: at(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Deploy baseline' } },
      scheduled(2, 1, 0),
      { id: 3, previousEventId: 2, timestamp: at(5), type: 'TaskSucceeded', taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda', output: '{}' } },
    ] });
    sfn.on(GetExecutionHistoryCommand, { executionArn: ran, nextToken: 'page-2' }).resolves({ events: [
      { id: 4, previousEventId: 3, timestamp: at(5), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Deploy baseline', output: '{}' } },
      { id: 5, previousEventId: 4, timestamp: at(5), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Issue key' } },
      scheduled(6, 5, 5),
      { id: 7, previousEventId: 6, timestamp: at(6), type: 'TaskSucceeded', taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda', output: '{}' } },
      { id: 8, previousEventId: 7, timestamp: at(6), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Issue key', output: '{}' } },
    ] });
    const steps = body(await call('GET', '/admin/tenants/{id}/execution', on())).steps;
    expect(steps).toEqual([
      { name: 'Deploy baseline', startedAt: at(0).toISOString(), endedAt: at(5).toISOString(), seconds: 5, status: 'DONE' },
      { name: 'Issue key', startedAt: at(5).toISOString(), endedAt: at(6).toISOString(), seconds: 1, status: 'DONE' },
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'page-2']);
  });

  it('keeps a step RUNNING between a failed attempt and its retry (watch would print its ✗ once and never again)', async () => {
    const steps = await answer([
      { id: 1, timestamp: at(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Deploy baseline' } },
      scheduled(2, 1, 0),
      failed(3, 2, 2),
    ]);
    expect(steps).toEqual([{ name: 'Deploy baseline', startedAt: at(0).toISOString(), status: 'RUNNING' }]);
  });

  it('reports FAILED when the last attempt failed and a Catch moved on (the state still exits)', async () => {
    const steps = await answer([
      { id: 1, timestamp: at(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Check account' } },
      scheduled(2, 1, 0),
      failed(3, 2, 1),
      scheduled(4, 3, 3),
      failed(5, 4, 4),
      { id: 6, previousEventId: 5, timestamp: at(4), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Check account', output: '{}' } },
      { id: 7, previousEventId: 6, timestamp: at(4), type: 'PassStateEntered', stateEnteredEventDetails: { name: 'Failed at Check account' } },
      { id: 8, previousEventId: 7, timestamp: at(4), type: 'PassStateExited', stateExitedEventDetails: { name: 'Failed at Check account', output: '{}' } },
    ], 'FAILED');
    expect(steps.map((s: { name: string; status: string; attempts?: number }) => [s.name, s.status, s.attempts])).toEqual([['Check account', 'FAILED', 2], ['Failed at Check account', 'DONE', undefined]]);
  });
});

describe('admin API: GET /admin/tenants/{id}/execution, an execution that ended while a step ran', () => {
  // HistoryEvent (AWS Step Functions API reference): StopExecution ends the running state (TaskStateAborted) and the
  // execution (ExecutionAborted, executionAbortedEventDetails { error, cause }); the state machine's TimeoutSeconds ends it
  // with ExecutionTimedOut (executionTimedOutEventDetails); a failure with no Catch with ExecutionFailed.
  const at = (s: number) => new Date(Date.parse('2026-11-23T10:00:00.000Z') + s * 1000);
  const ran = `${EXECUTION}onboard:onboard-acme-mx6x9ekx-44d2f756`;
  const answer = async (events: HistoryEvent[], status: 'ABORTED' | 'TIMED_OUT' | 'FAILED', failure?: TenantRecord['failure']) => {
    records.set('acme', registered({ status: 'PROVISIONING', failure, executions: [{ kind: 'onboard', requestId: 'req-acme-0001', executionArn: ran, startedAt: '2026-11-23T10:00:00.000Z', status: 'RUNNING' }] }));
    sfn.on(DescribeExecutionCommand, { executionArn: ran }).resolves({ executionArn: ran, status, startDate: at(0), stopDate: at(60) });
    sfn.on(GetExecutionHistoryCommand).resolves({ events });
    return body(await call('GET', '/admin/tenants/{id}/execution', on()));
  };
  const started: HistoryEvent[] = [
    { id: 1, timestamp: at(0), type: 'ExecutionStarted' },
    { id: 2, previousEventId: 1, timestamp: at(0), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Register tenant' } },
    { id: 3, previousEventId: 2, timestamp: at(0), type: 'TaskScheduled', taskScheduledEventDetails: { resource: 'invoke', resourceType: 'lambda', region: 'us-east-1', parameters: '{}' } },
    { id: 4, previousEventId: 3, timestamp: at(1), type: 'TaskSucceeded', taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda', output: '{}' } },
    { id: 5, previousEventId: 4, timestamp: at(1), type: 'TaskStateExited', stateExitedEventDetails: { name: 'Register tenant', output: '{}' } },
    { id: 6, previousEventId: 5, timestamp: at(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Deploy baseline' } },
    { id: 7, previousEventId: 6, timestamp: at(1), type: 'TaskScheduled', taskScheduledEventDetails: { resource: 'invoke', resourceType: 'lambda', region: 'us-east-1', parameters: '{}' } },
    { id: 8, previousEventId: 7, timestamp: at(2), type: 'TaskStarted', taskStartedEventDetails: { resource: 'invoke', resourceType: 'lambda' } },
  ];
  const registerDone = { name: 'Register tenant', startedAt: at(0).toISOString(), endedAt: at(1).toISOString(), seconds: 1, status: 'DONE' };

  it('reports the step an operator stopped ABORTED when the execution ended, with StopExecution\'s error and cause (it stayed RUNNING)', async () => {
    const p = await answer([...started,
      { id: 9, previousEventId: 8, timestamp: at(31), type: 'TaskStateAborted' },
      { id: 10, previousEventId: 9, timestamp: at(31), type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Operator', cause: 'stopped to fix the blueprint' } },
    ], 'ABORTED');
    expect(p.steps).toEqual([registerDone,
      { name: 'Deploy baseline', startedAt: at(1).toISOString(), endedAt: at(31).toISOString(), seconds: 30, status: 'ABORTED', error: 'Operator', cause: 'stopped to fix the blueprint' }]);
  });

  it('reports the step running at the state machine\'s timeout TIMED_OUT, also with no details, and a Wait state too', async () => {
    const p = await answer([...started.slice(0, 5),
      { id: 6, previousEventId: 5, timestamp: at(1), type: 'WaitStateEntered', stateEnteredEventDetails: { name: 'Wait for the account' } },
      { id: 7, previousEventId: 6, timestamp: at(901), type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} },
    ], 'TIMED_OUT');
    expect(p.steps).toEqual([registerDone, { name: 'Wait for the account', startedAt: at(1).toISOString(), endedAt: at(901).toISOString(), seconds: 900, status: 'TIMED_OUT' }]);
  });

  it('reports the step an ExecutionFailed ended FAILED with the execution\'s error and cause, also with no failed attempt in it (States.Runtime)', async () => {
    const p = await answer([...started,
      { id: 9, previousEventId: 8, timestamp: at(5), type: 'TaskSucceeded', taskSucceededEventDetails: { resource: 'invoke', resourceType: 'lambda', output: '{}' } },
      { id: 10, previousEventId: 9, timestamp: at(5), type: 'ExecutionFailed', executionFailedEventDetails: { error: 'States.Runtime', cause: 'The JSONPath \'$.stack\' could not be found in the input' } },
    ], 'FAILED');
    expect(p.steps.at(-1)).toEqual({ name: 'Deploy baseline', startedAt: at(1).toISOString(), endedAt: at(5).toISOString(), seconds: 4, status: 'FAILED', error: 'States.Runtime', cause: 'The JSONPath \'$.stack\' could not be found in the input' });
  });

  it('answers the failure end-stopped-execution recorded for this stopped execution, and none recorded for another', async () => {
    const events = [...started, { id: 9, previousEventId: 8, timestamp: at(31), type: 'ExecutionAborted', executionAbortedEventDetails: {} } as HistoryEvent];
    const failure = { step: 'Deploy baseline', reason: 'execution ABORTED at "Deploy baseline" without recording its outcome', at: at(32).toISOString(), kind: 'onboard' as const };
    expect((await answer(events, 'ABORTED', { ...failure, executionArn: ran })).failure).toEqual({ ...failure, executionArn: ran });
    expect(await answer(events, 'ABORTED', { ...failure, executionArn: OTHER_EXECUTION_ARN })).not.toHaveProperty('failure');
  });
});

describe('admin API: path ids', () => {
  it('answers an id longer than any tenant id 404 without a registry lookup (DynamoDB refuses keys over 2,048 bytes: a 500)', async () => {
    const { getTenant } = await import('../../../lambdas/shared/registry.js');
    for (const [method, resource] of [['GET', '/admin/tenants/{id}'], ['DELETE', '/admin/tenants/{id}'], ['GET', '/admin/tenants/{id}/execution']] as const) {
      const res = await call(method, resource, on('a'.repeat(3000)));
      expect(res.statusCode).toBe(404);
      expect(body(res).error).toMatchObject({ code: 'tenant_not_found', param: 'id', message: expect.stringMatching(/^tenant "a{64}"… \(3000 bytes\) does not exist/) });
    }
    expect(getTenant).not.toHaveBeenCalled();
  });

  /**
   * Found by the hostile pass (s23): a path id that cannot be a tenant id (TENANT_ID_PATTERN) was read from the registry
   * before its 404. Now the same 404 body (tenantOr404's) without a read, on every route of a tenant: a 404 as for an id
   * too long (above), not the 400 the POST body's tenantId gets (a value to create): a path names a resource, and no
   * tenant has such an id. A well-formed unknown id is still read (it may exist), and answers the same body.
   */
  it('answers an id outside TENANT_ID_PATTERN 404 tenant_not_found, the body a lookup gives, without a registry or DynamoDB read', async () => {
    const { getTenant } = await import('../../../lambdas/shared/registry.js');
    const dynamodb = mockStrict(DynamoDBClient, 'dynamodb', DynamoDBServiceException);
    try {
      const routes = ['GET /admin/tenants/{id}', 'DELETE /admin/tenants/{id}', 'GET /admin/tenants/{id}/execution', 'GET /admin/tenants/{id}/drift', 'GET /admin/tenants/{id}/usage',
        'POST /admin/tenants/{id}/suspend', 'POST /admin/tenants/{id}/resume', 'POST /admin/tenants/{id}/retry', 'PUT /admin/tenants/{id}/gateway', 'PATCH /admin/tenants/{id}/gateway',
        'GET /admin/tenants/{id}/keys', 'POST /admin/tenants/{id}/keys', 'DELETE /admin/tenants/{id}/keys/{keyId}', 'GET /admin/tenants/{id}/users', 'POST /admin/tenants/{id}/users/{userId}/disable'];
      const ask = (route: string, id: string) => call(route.split(' ')[0]!, route.split(' ')[1]!, { pathParameters: { id, keyId: 'k1', userId: 'u1' } });
      for (const route of routes) {
        const known = await ask(route, 'nobody'); // well-formed, not registered: read, then 404
        expect(known.statusCode, route).toBe(404);
        vi.mocked(getTenant).mockClear();
        dynamodb.resetHistory();
        for (const id of ['acme_corp', 'a--b', 'ab', `a${'b'.repeat(24)}`, '9lives', 'acme-', 'Acme_Corp']) {
          const res = await ask(route, id);
          expect(res.statusCode, `${route} ${id}`).toBe(404);
          expect(body(res)).toEqual(JSON.parse(known.body.replace('"nobody\\"', `"${id}\\"`)));
        }
        // An id a well-formed one only by case or compatibility form: the 404 says so and names it (before: the same body)
        for (const [id, folded] of [['ACME', 'acme'], ['Acme-Corp', 'acme-corp'], ['\uff41\uff43\uff4d\uff45', 'acme']]) {
          const res = await ask(route, id);
          expect(res.statusCode, `${route} ${id}`).toBe(404);
          expect(body(res).error).toMatchObject({ code: 'tenant_not_found', param: 'id', message: `tenant "${id}" does not exist: tenant ids are lowercase ASCII letters, digits and "-"; as one it would be "${folded}"` });
        }
        expect(getTenant, route).not.toHaveBeenCalled();
        expect(dynamodb.calls(), route).toHaveLength(0);
      }
    } finally {
      dynamodb.restore();
    }
  });
});

describe('admin API: GET /admin/tiers (s24)', () => {
  it('answers every tier of the platform config with its isolation and DR region, in the config\'s order, nothing else of it', async () => {
    const c = configWith({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 4, rtoHours: 24 } } } });
    useConfig(c);
    const r = await call('GET', '/admin/tiers');
    expect(r.statusCode).toBe(200);
    expect(body(r)).toEqual({
      tiers: Object.entries(c.tiers).map(([name, t]) => ({
        name, isolation: t.isolation, drRegion: name === 'professional' ? 'us-west-2' : null,
        network: { tenantVpcPrefixLength: t.network.tenantVpcPrefixLength, maxAzs: t.network.maxAzs, internetEgress: t.network.internetEgress },
        computeMode: t.compute.mode,
      })),
      ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
      invitesAdmin: Boolean(process.env[ENV.userPoolId]),
      ...(process.env[ENV.blueprintVersion] ? { blueprintVersion: process.env[ENV.blueprintVersion] } : {}),
    });
    expect(body(r).tiers.map((t: { name: string }) => t.name)).toEqual(Object.keys(c.tiers));
    expect(records.size).toBe(0);
  });

  it('carries what the tier-change rule reads: migrationRefusal on its answer refuses what PATCH refuses, with the same words (the default config\'s starter -> professional)', async () => {
    const tiers = body(await call('GET', '/admin/tiers')) as TierList;
    for (const [record, target] of [[registered({ status: 'ACTIVE' }), 'professional'], [registered({ status: 'ACTIVE', availabilityZones: ['us-east-1a', 'us-east-1b'] }), 'enterprise'], [registered({ status: 'ACTIVE' }), 'starter']] as const) {
      records.set('acme', record);
      const patch = await call('PATCH', '/admin/tenants/{id}', { ...on(), body: JSON.stringify({ tier: target }) });
      const planned = migrationRefusal(record, target, migrationTiers(tiers.tiers), tiers.region ?? '');
      if (target === 'starter') expect([patch.statusCode, planned]).toEqual([400, undefined]); // nothing_to_change: no migration
      else expect([patch.statusCode, body(patch).error.code, body(patch).error.message]).toEqual([400, planned!.code, planned!.message]);
    }
  });

  // `tessera tenants apply` checks a new tenant's admin email as Cognito takes a Username when its onboarding invites: it
  // must know whether an entry leaving inviteAdmin out invites (the platform's pool decides: invitesByDefault).
  it('says whether an onboarding leaving inviteAdmin out invites its first admin: with the platform\'s pool yes, without no', async () => {
    process.env[ENV.userPoolId] = 'us-east-1_Pool123';
    expect(body(await call('GET', '/admin/tiers')).invitesAdmin).toBe(true);
    delete process.env[ENV.userPoolId];
    expect(body(await call('GET', '/admin/tiers')).invitesAdmin).toBe(false);
  });

  // `tessera platform health` names the tenants on an older blueprint version than the catalog's newest: the platform's.
  it('says the platform\'s blueprint version (ENV.blueprintVersion), the catalog\'s newest; without it, leaves it out', async () => {
    const saved = process.env[ENV.blueprintVersion];
    try {
      process.env[ENV.blueprintVersion] = '1.7.2';
      expect(body(await call('GET', '/admin/tiers')).blueprintVersion).toBe('1.7.2');
      delete process.env[ENV.blueprintVersion];
      expect(body(await call('GET', '/admin/tiers'))).not.toHaveProperty('blueprintVersion');
    } finally {
      if (saved === undefined) delete process.env[ENV.blueprintVersion]; else process.env[ENV.blueprintVersion] = saved;
    }
  });

  it('takes no query and no other method', async () => {
    const q = await call('GET', '/admin/tiers', { queryStringParameters: { tier: 'starter' } });
    expect(q.statusCode).toBe(400);
    expect(body(q).error.param).toBe('tier');
    const post = await call('POST', '/admin/tiers');
    expect([post.statusCode, post.headers?.allow]).toEqual([405, 'GET']);
  });
});

// s45: the tenant's own tags (lib/tenant-tags.ts) in POST /admin/tenants.
describe('POST /admin/tenants: tags', () => {
  const tags = { CostCenter: '4711', Owner: 'team-x' };
  it('records the tags and starts the onboarding with them', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tags }) });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toEqual({ ...onboard, tags });
    expect(records.get('acme')!.tags).toEqual(tags);
  });

  it.each([
    [{ 'aws:cost': '1' }, 'tags.aws:cost', /^tags\.aws:cost = "1": Invalid key "aws:cost": is reserved: keys starting "aws:" \(in any case\) are AWS's own$/],
    [{ 'tessera:tier': 'gold' }, 'tags.tessera:tier', /^tags\.tessera:tier = "gold": Invalid key "tessera:tier": is reserved: keys starting "tessera:" \(in any case\) are Tessera's own tags$/],
    [{ CostCenter: '' }, 'tags.CostCenter', /^tags\.CostCenter = "": must not be empty: a CloudFormation stack tag value has 1-256 characters/],
    [{ CostCenter: '1', costcenter: '2' }, 'tags.costcenter', /differs from key "CostCenter" only in case/],
    // JSON.parse keeps `__proto__` as an own key; zod's record dropped it unchecked: the tenant was onboarded without it.
    [JSON.parse('{"CostCenter": "1", "__proto__": "x"}') as Record<string, string>, 'tags.__proto__', /^tags\.__proto__ = "x": cannot be kept under the key __proto__ \(/],
  ])('refuses %j with a 400 naming the key, registering and starting nothing', async (given, param, message) => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tags: given }) });
    expect(res.statusCode).toBe(400);
    expect(body(res).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request', param, message: expect.stringMatching(message) });
    expect(records.has('acme')).toBe(false);
    expect(starts()).toHaveLength(0);
  });

  it('a repeat with other tags is a 409 request_mismatch naming tags; a retry runs with the recorded tags', async () => {
    records.set('acme', registered({ status: 'FAILED', tags }));
    const mismatch = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tags: { CostCenter: '4712' } }) });
    expect(mismatch.statusCode).toBe(409);
    expect(body(mismatch).error).toMatchObject({ code: 'request_mismatch', param: 'tags', message: expect.stringContaining('tags {"CostCenter":"4711","Owner":"team-x"} → {"CostCenter":"4712"}') });
    const retry = await call('POST', '/admin/tenants/{id}/retry', on());
    expect(retry.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toEqual({ ...onboard, tags });
  });

  // Before, every request_mismatch ended "to correct the admin email of a failed onboarding use POST …/retry", a tags
  // mismatch of an ACTIVE tenant's too, where neither a retry nor an admin email could help.
  it('a tags mismatch says tags are given at onboarding only, not to correct an admin email by a retry', async () => {
    records.set('acme', registered({ status: 'ACTIVE', tags }));
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tags: { CostCenter: '9999' } }) });
    expect(res.statusCode).toBe(409);
    const { message } = body(res).error;
    expect(message).toMatch(/; a request id names one onboarding and its tags: change an ACTIVE tenant's tags with PATCH \/admin\/tenants\/acme and "tags" \(tessera tenants update acme --tag K=V --untag K\)$/);
    expect(message).not.toMatch(/admin email|retry/);
  });

  it('a mismatch of a tenant past its onboarding points to the recorded values, not to a retry; a failed one names the fields the retry corrects', async () => {
    records.set('acme', registered({ status: 'ACTIVE' }));
    const active = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail: 'other@acme.example.com' }) });
    expect(body(active).error).toMatchObject({ code: 'request_mismatch', param: 'adminEmail', message: expect.stringMatching(/; a request id names one onboarding: send it with the values it was recorded with \(tessera tenants show acme\)$/) });
    records.set('acme', registered({ status: 'FAILED' }));
    const failed = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, name: 'Acme Two', adminEmail: 'other@acme.example.com' }) });
    expect(body(failed).error.message).toMatch(/; to correct the admin email and name of the failed onboarding use POST \/admin\/tenants\/acme\/retry \(tessera tenants retry acme --admin-email … --name …\)$/);
  });
});

// session 45: changing a tenant's own tags after onboarding (PATCH /admin/tenants/{id} `tags`: all of them, replacing the recorded ones).
describe('PATCH /admin/tenants/{id}: tags', () => {
  const patch = (change: unknown, key?: string) =>
    call('PATCH', '/admin/tenants/{id}', { ...on(), ...(key ? { headers: { 'idempotency-key': key } } : {}), body: JSON.stringify(change) });

  it('a tags-only change starts the change workflow with the new tags (keys sorted) and records them as asked; tier and version not named', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0', tags: { CostCenter: '4711', Owner: 'team-x' } }));
    const res = await patch({ tags: { Owner: 'team-y', CostCenter: '4711' } }, 'tags-1');
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!)).toEqual({ request: { tenantId: 'acme', requestId: 'tags-1' }, change: { tags: { CostCenter: '4711', Owner: 'team-y' } } });
    expect(Object.keys(JSON.parse(starts()[0].input!).change.tags)).toEqual(['CostCenter', 'Owner']);
    expect(body(res)).toMatchObject({ status: 'UPDATING', change: { tags: { CostCenter: '4711', Owner: 'team-y' } } });
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ kind: 'change', requestId: 'tags-1', status: 'RUNNING', change: { tags: { CostCenter: '4711', Owner: 'team-y' } } });
  });

  it('{} removes every tag; the same tags in another order (or {} for a tenant without tags) is 400 nothing_to_change naming tags', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0', tags: { CostCenter: '4711', Owner: 'team-x' } }));
    const same = await patch({ tags: { Owner: 'team-x', CostCenter: '4711' } });
    expect([same.statusCode, body(same).error.code, body(same).error.param]).toEqual([400, 'nothing_to_change', 'tags']);
    expect(body(same).error.message).toBe('nothing to change: tags are already {"CostCenter":"4711","Owner":"team-x"}');
    const none = await patch({ tags: {} });
    expect(none.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!).change).toEqual({ tags: {} });
    records.set('bare', registered({ tenantId: 'bare', status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const bare = await call('PATCH', '/admin/tenants/{id}', { ...on('bare'), body: JSON.stringify({ tags: {} }) });
    expect([bare.statusCode, body(bare).error.code]).toEqual([400, 'nothing_to_change']);
  });

  it('the same Idempotency-Key with other tags is a 409 idempotency_key_reused; with the same tags in another order, the running change', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    expect((await patch({ tags: { A: '1', B: '2' } }, 'tags-2')).statusCode).toBe(202);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const other = await patch({ tags: { A: '1', B: '3' } }, 'tags-2');
    expect([other.statusCode, body(other).error.code, body(other).error.param]).toEqual([409, 'idempotency_key_reused', 'Idempotency-Key']);
    expect(body(other).error.message).toContain('{"tags":{"A":"1","B":"2"}}');
    const again = await patch({ tags: { B: '2', A: '1' } }, 'tags-2');
    expect([again.statusCode, body(again).note]).toEqual([200, 'change already running']);
    expect(starts()).toHaveLength(1);
  });

  it('the same Idempotency-Key with the change\'s tags and a name is the 400 a name with tags is, not the earlier change\'s answer (the name was dropped)', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    expect((await patch({ tags: { A: '1' } }, 'tags-name')).statusCode).toBe(202);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    // the body differs from the recorded change by a `name`, which the history does not record
    const withName = await patch({ tags: { A: '1' }, name: 'Acme Renamed' }, 'tags-name');
    expect([withName.statusCode, body(withName).error?.code, body(withName).error?.param]).toEqual([400, 'invalid_request', 'name']);
    expect(starts()).toHaveLength(1);
  });

  /** 40 tags at their limits in CJK (a 128-character key, a 256-character value: about 46 KB of UTF-8), the `n`th variant. */
  const longestTags = (n: number) => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${String(i).padStart(2, '0')}${'鍵'.repeat(126)}`, `${'値'.repeat(255)}${n}`]));

  it('a change whose tags are too large to keep in full keeps their digest: the same body again answers with it, another body (every value ending otherwise) is a 409 idempotency_key_reused, running and ended', async () => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    expect((await patch({ tags: longestTags(1) }, 'tags-big')).statusCode).toBe(202);
    // the entry keeps the request's digest, not its 46 KB of tags (lib/change-digest.ts MAX_FULL_CHANGES_BYTES)
    const entry = records.get('acme')!.executions.at(-1)!;
    expect(entry).toMatchObject({ kind: 'change', requestId: 'tags-big', status: 'RUNNING', changeDigest: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), tagCount: 40 } });
    expect(entry.change).toBeUndefined();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    for (const when of ['running', 'ended']) {
      // the same tags, in another order: the same request
      const same = await patch({ tags: Object.fromEntries(Object.entries(longestTags(1)).reverse()) }, 'tags-big');
      expect([same.statusCode, body(same).changeRecorded], when).toEqual([200, undefined]);
      expect(body(same).change, when).toEqual({ tags: JSON.parse(JSON.stringify(longestTags(1))) });
      // the values' last character another: another request
      const other = await patch({ tags: longestTags(2) }, 'tags-big');
      expect([other.statusCode, body(other).error?.code, body(other).error?.param], when).toEqual([409, 'idempotency_key_reused', 'Idempotency-Key']);
      expect(body(other).error.message, when).toMatch(new RegExp(`^Idempotency-Key "tags-big" was used for another change of tenant "acme": 40 tags \\(sha256 ${entry.changeDigest!.sha256.slice(0, 12)}…\\)`));
      const { completeOperation } = await import('../../../lambdas/lifecycle/lease.js');
      if (when === 'running') await completeOperation('acme', records.get('acme')!.lease!, { tags: longestTags(1) });
    }
    expect(records.get('acme')!.executions.at(-1)).toMatchObject({ status: 'SUCCEEDED', changeDigest: entry.changeDigest });
    expect(starts()).toHaveLength(1);
  });

  it.each([
    [{ tags: { 'aws:cost': '1' } }, 'tags.aws:cost', /is reserved: keys starting "aws:"/],
    [{ tags: { CostCenter: '' } }, 'tags.CostCenter', /must not be empty/],
    [{ tags: { A: '1' }, repair: true }, 'repair', /not with tier, blueprintVersion, name or tags/],
    [{ tags: { A: '1' }, name: 'Acme 2' }, 'name', /name cannot change with a tier, version or tags change/],
  ])('refuses %j with a 400 naming %s, nothing started', async (change, param, message) => {
    records.set('acme', registered({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    const res = await patch(change);
    expect([res.statusCode, body(res).error.param]).toEqual([400, param]);
    expect(body(res).error.message).toMatch(message);
    expect(starts()).toEqual([]);
  });

  it('an account tenant\'s tags change starts as a VPC tenant\'s does (Tag account retags its account in the workflow)', async () => {
    records.set('acme', registered({ status: 'ACTIVE', tier: 'enterprise', blueprintVersion: '1.0.0', isolation: 'account', accountId: '444444444444', vpcCidr: '10.96.0.0/18' }));
    const res = await patch({ tags: { A: '1' } });
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(starts()[0].input!).change).toEqual({ tags: { A: '1' } });
  });
});

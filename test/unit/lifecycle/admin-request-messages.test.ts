import { HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { mockStrict } from '../../support/strict-mock.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { records, registryMock } from './registry-mock.js';
import { setLifecycleEnv, tenant } from './support.js';

// session 45: the admin API's answers to sloppy and hostile input, as a platform engineer meets them: each names the field and
// the value and says what the field takes (not zod's "Invalid input: expected string, received number"), echoes no
// terminal escape, and changes nothing.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', async () => {
  const { claimOnboardingRequest, controlMock } = await import('./control-table-mock.js');
  return { releaseSlot: vi.fn(async () => undefined), claimOnboardingRequest, releaseOnboardingRequest: controlMock.releaseOnboardingRequest };
});
const sfn = mockStrict(SFNClient, 'stepfunctions', SFNServiceException);
const s3 = mockStrict(S3Client, 's3', S3ServiceException);
const { handler } = await import('../../../lambdas/admin/admin-api.js');

const MACHINE = 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-';
beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, { [ENV.onboardStateMachineArn]: `${MACHINE}onboard`, [ENV.statusStateMachineArn]: `${MACHINE}status`, [ENV.offboardStateMachineArn]: `${MACHINE}offboard`, [ENV.changeStateMachineArn]: `${MACHINE}change` });
  records.clear();
  records.set('acme', tenant({ status: 'ACTIVE' }));
  sfn.reset();
  s3.reset();
  s3.on(HeadObjectCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}` }));
});

const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, requestContext: { requestId: 'api-req-1' }, ...extra } as unknown as APIGatewayProxyEvent);
const onboard = { tenantId: 'newco', name: 'New Co', tier: 'starter', adminEmail: 'ops@newco.example.com', requestId: 'req-newco-0001' };
const error = async (res: Promise<{ statusCode: number; body: string }>) => {
  const r = await res;
  return { status: r.statusCode, ...JSON.parse(r.body).error };
};
/** Nothing written, nothing started: the registry holds acme alone, as it was. */
const unchanged = () => {
  expect([...records.keys()]).toEqual(['acme']);
  expect(records.get('acme')).toEqual(tenant({ status: 'ACTIVE' }));
  expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
};

describe('admin API: a body that gives a field twice', () => {
  it('is a 400 duplicate_key naming the field and the value JSON.parse kept; nothing is onboarded (was: onboarded the last tenantId, 202)', async () => {
    const body = '{"tenantId":"acme","tenantId":"newco","name":"New Co","tier":"starter","adminEmail":"ops@newco.example.com","requestId":"req-newco-0001"}';
    expect(await error(call('POST', '/admin/tenants', { body }))).toEqual({
      status: 400, type: 'invalid_request_error', code: 'duplicate_key', param: 'tenantId',
      message: 'tenantId = "newco": given more than once in one object of the request body (JSON.parse keeps the last value, another parser may keep the first); give each field once',
    });
    unchanged();
  });

  it('names a nested field by its path (PATCH allowReplacement.reason)', async () => {
    const body = '{"tier":"professional","allowReplacement":{"reason":"cache rebuild, ticket OPS-1","reason":"x"}}';
    expect(await error(call('PATCH', '/admin/tenants/{id}', { pathParameters: { id: 'acme' }, body }))).toMatchObject({ status: 400, code: 'duplicate_key', param: 'allowReplacement.reason' });
    unchanged();
  });
});

describe('admin API: zod\'s generic messages said as what the field takes', () => {
  it.each([
    ['a number for a string', { ...onboard, tier: 3 }, 'tier', 'tier = 3: must be a string, not a number'],
    ['null for a string', { ...onboard, tenantId: null }, 'tenantId', 'tenantId = null: must be a string, not null'],
    ['a missing field', { tenantId: 'newco', name: 'New Co', tier: 'starter', adminEmail: 'ops@newco.example.com' }, 'requestId', 'requestId = (missing): is required: give a string'],
    ['an empty string', { ...onboard, tier: '' }, 'tier', 'tier = "": must not be empty'],
    ['a short string', { ...onboard, requestId: 'r-1' }, 'requestId', 'requestId = "r-1": must be at least 8 characters (it has 3)'],
    ['a boolean as a string', { ...onboard, inviteAdmin: 'true' }, 'inviteAdmin', 'inviteAdmin = "true": must be true or false, not a string: send true without quotes'],
    ['an email without @', { ...onboard, adminEmail: 'ops.newco.example.com' }, 'adminEmail', 'adminEmail = "ops.newco.example.com": must be an email address (name@example.com)'],
    ['a list for the body', [], undefined, '(root) = []: must be an object, not a list'],
  ])('POST /admin/tenants with %s', async (_what, body, param, message) => {
    expect(await error(call('POST', '/admin/tenants', { body: JSON.stringify(body) }))).toEqual({ status: 400, type: 'invalid_request_error', code: 'invalid_request', param: param ?? null, message });
    unchanged();
  });

  it('an unknown field: named with its value, the nearest field and the fields there are (was `(root) = {"tenantId":…: Unrecognized key`)', async () => {
    expect(await error(call('POST', '/admin/drift', { body: JSON.stringify({ tenantIds: ['acme'] }) }))).toEqual({
      status: 400, type: 'invalid_request_error', code: 'unknown_parameter', param: 'tenantIds',
      message: 'tenantIds = ["acme"]: is not a field of this request; did you mean tenantId? (its fields: tenantId)',
    });
  });

  it('a status outside the enum: its values and the nearest (was `Invalid option: expected one of "REQUESTED"|…`)', async () => {
    expect(await error(call('GET', '/admin/tenants', { queryStringParameters: { status: 'active' } }))).toMatchObject({
      status: 400, param: 'status',
      message: 'status = "active": must be one of "REQUESTED", "PROVISIONING", "ACTIVE", "UPDATING", "SUSPENDED", "OFFBOARDING", "OFFBOARDED", "FAILED"; did you mean "ACTIVE"?',
    });
  });

  it('repair: false: must be true or left out (was `Invalid input: expected true`)', async () => {
    expect(await error(call('PATCH', '/admin/tenants/{id}', { pathParameters: { id: 'acme' }, body: JSON.stringify({ repair: false }) })))
      .toMatchObject({ status: 400, param: 'repair', message: 'repair = false: must be true, or left out' });
    unchanged();
  });

  it('a PUT of the gateway policy that is not an object (was `Invalid input: expected object, received null`)', async () => {
    expect(await error(call('PUT', '/admin/tenants/{id}/gateway', { pathParameters: { id: 'acme' }, body: 'null' })))
      .toMatchObject({ status: 400, message: '(root) = null: must be an object, not null' });
    unchanged();
  });
});

describe('admin API: values that would be written other than asked', () => {
  it('a name with a lone surrogate is refused (was onboarded: 202, and DynamoDB takes UTF-8)', async () => {
    const body = JSON.stringify(onboard).replace('"New Co"', '"New\\ud800Co"');
    expect(await error(call('POST', '/admin/tenants', { body }))).toMatchObject({ status: 400, param: 'name', message: 'name = "New\\ud800Co": must be well-formed Unicode (no lone surrogate)' });
    unchanged();
  });

  it('an adminEmail whose local part is over 64 characters is refused (RFC 5321 §4.5.3.1.1; was onboarded without an invitation)', async () => {
    const adminEmail = `${'a'.repeat(65)}@newco.example.com`;
    expect(await error(call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail, inviteAdmin: false }) })))
      .toMatchObject({ status: 400, param: 'adminEmail', message: `adminEmail = "${adminEmail}": its local part (before the @) must be at most 64 characters (RFC 5321 §4.5.3.1.1)` });
    unchanged();
  });

  it('an adminEmail over 254 characters is refused (RFC 5321 §4.5.3.1.3)', async () => {
    const adminEmail = `ops@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example.com`;
    expect(await error(call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail, inviteAdmin: false }) })))
      .toMatchObject({ status: 400, param: 'adminEmail', message: expect.stringMatching(/ \(259 characters\): must be at most 254 characters \(RFC 5321 §4\.5\.3\.1\.3\)$/) });
    unchanged();
  });
});

describe('admin API: bodies that were a 500 or a riddle', () => {
  it('a body nested 50,000 deep is a 400 naming the body (was 500 internal_error: JSON.stringify of it ended the stack)', async () => {
    const body = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    expect(await error(call('POST', '/admin/tenants', { body }))).toEqual({
      status: 400, type: 'invalid_request_error', code: 'invalid_request', param: null,
      message: '(root) = […] (nested too deep to show): must be an object, not a list',
    });
    const deepObject = `{"reason":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`;
    expect(await error(call('POST', '/admin/tenants/{id}/suspend', { pathParameters: { id: 'acme' }, body: deepObject })))
      .toMatchObject({ status: 400, param: 'reason', message: 'reason = {…} (nested too deep to show): must be a string, not an object' });
    unchanged();
  });

  it('a body led by a UTF-8 byte order mark is read without it, as RFC 8259 §8.1 allows (was invalid_json quoting the invisible U+FEFF)', async () => {
    const res = await call('POST', '/admin/tenants', { body: `\uFEFF${JSON.stringify(onboard)}` });
    expect(res.statusCode).toBe(202);
    expect(records.get('newco')).toMatchObject({ tenantId: 'newco', name: 'New Co', adminEmail: 'ops@newco.example.com' });
  });

  it.each([['spaces', '   '], ['a no-break space', '\u00a0']])('a name of only %s is refused (was onboarded with a blank name)', async (_what, name) => {
    expect(await error(call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, name }) })))
      .toMatchObject({ status: 400, param: 'name', message: `name = ${JSON.stringify(name)}: must not be only white space (give the tenant's name)` });
    unchanged();
  });
});

describe('admin API: a caller\'s terminal escapes are not echoed', () => {
  it('a path id with ESC is quoted escaped in the 404 (was the raw escape, which a terminal runs when the CLI prints it)', async () => {
    const e = await error(call('GET', '/admin/tenants/{id}', { pathParameters: { id: 'ACME\u001b[2J' } }));
    expect(e).toMatchObject({ status: 404, code: 'tenant_not_found', message: 'tenant "ACME\\u001b[2J" does not exist' });
    expect(e.message).not.toMatch(/\u001b/);
  });

  it('an unknown field named with ESC is shown escaped in the message', async () => {
    const e = await error(call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, '\u001b]0;owned\u0007': 1 }) }));
    expect(e).toMatchObject({ status: 400, code: 'unknown_parameter', message: expect.stringMatching(/^\\u001b\]0;owned\\u0007 = 1: is not a field of this request/) });
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
    unchanged();
  });

  it('a body that is not JSON: the parser\'s quote of it shown escaped', async () => {
    const e = await error(call('POST', '/admin/tenants', { body: '\u001b[31mred' }));
    expect(e).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(e.message).toContain('\\u001b[31mred');
    expect(e.message).not.toMatch(/\u001b/);
    unchanged();
  });
});

// s47 (an operator's hostile pass): every body was parsed as JSON whatever its Content-Type.
describe('admin API: a body of another Content-Type than JSON', () => {
  it('text/plain is a 415 unsupported_media_type naming it; nothing is onboarded (was: 202, onboarded)', async () => {
    expect(await error(call('POST', '/admin/tenants', { headers: { 'content-type': 'text/plain' }, body: JSON.stringify(onboard) }))).toEqual({
      status: 415, type: 'invalid_request_error', code: 'unsupported_media_type', param: 'Content-Type',
      message: 'Content-Type = "text/plain": POST /admin/tenants takes a JSON body, sent as application/json',
    });
    unchanged();
  });

  it('curl -d\'s form encoding is a 415 saying what to send (was: 400 invalid_json quoting the body)', async () => {
    expect(await error(call('POST', '/admin/tenants/{id}/suspend', { pathParameters: { id: 'acme' }, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'reason=maintenance' })))
      .toMatchObject({ status: 415, code: 'unsupported_media_type', param: 'Content-Type', message: 'Content-Type = "application/x-www-form-urlencoded": POST /admin/tenants/{id}/suspend takes a JSON body, sent as application/json' });
    unchanged();
  });

  it('application/json in any case and with parameters, or no Content-Type at all, is read as JSON', async () => {
    expect((await call('POST', '/admin/tenants', { headers: { 'Content-Type': 'Application/JSON; charset=utf-8' }, body: JSON.stringify(onboard) })).statusCode).toBe(202);
    records.delete('newco');
    expect((await call('POST', '/admin/tenants', { headers: {}, body: JSON.stringify({ ...onboard, requestId: 'req-newco-0002' }) })).statusCode).toBe(202);
  });
});

// s47: a change of a tenant in a status no change starts from was refused for what it asked, not for the status.
/** An OFFBOARDED tenant's refusal: one sentence with what is left to do (was: `tenant "acme" is OFFBOARDED; change needs ACTIVE`). */
const OFFBOARDED_CHANGE = 'tenant "acme" is OFFBOARDED, so a change cannot start: an offboarded tenant is only kept to be read (tessera tenants show acme); to start again, onboard a new tenant under another id (ids are never reused)';
describe('admin API: PATCH /admin/tenants/{id} of a tenant no change applies to', () => {
  it.each(['OFFBOARDED', 'SUSPENDED', 'FAILED'] as const)('%s: 409 invalid_status whatever the body asks (was: a 400 network_change "offboard and onboard" for another tier, nothing_to_change for its own)', async (status) => {
    records.set('acme', tenant({ status }));
    for (const body of [{ tier: 'professional' }, { tier: 'starter' }, { blueprintVersion: '9.9.9' }]) {
      expect(await error(call('PATCH', '/admin/tenants/{id}', { pathParameters: { id: 'acme' }, body: JSON.stringify(body) })), JSON.stringify(body)).toEqual({
        status: 409, type: 'conflict_error', code: 'invalid_status', param: 'status', message: status === 'OFFBOARDED' ? OFFBOARDED_CHANGE : `tenant "acme" is ${status}, so a change cannot start: it starts only while the tenant is ACTIVE`,
      });
    }
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../../lambdas/shared/environment.js';
import { records, registryMock } from './registry-mock.js';
import { setLifecycleEnv, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
const sfn = mockClient(SFNClient);
const { handler } = await import('../../../lambdas/admin/admin-api.js');

const call = (httpMethod: string, resource: string, extra: Partial<APIGatewayProxyEvent> = {}) =>
  handler({ httpMethod, resource, headers: {}, requestContext: { requestId: 'api-req-1' }, ...extra } as unknown as APIGatewayProxyEvent);
const body = (r: { body: string }) => JSON.parse(r.body);

beforeEach(() => {
  setLifecycleEnv();
  Object.assign(process.env, {
    [ENV.onboardStateMachineArn]: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-onboard',
    [ENV.statusStateMachineArn]: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-status',
    [ENV.offboardStateMachineArn]: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-offboard',
    [ENV.changeStateMachineArn]: 'arn:aws:states:us-east-1:222222222222:stateMachine:tessera-change',
  });
  records.clear();
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn.replace('stateMachine', 'execution')}:${input.name}` }));
});

const onboard = { tenantId: 'acme', name: 'Acme', tier: 'starter', adminEmail: 'ops@acme.example.com', requestId: 'req-acme-0001' };

describe('admin API', () => {
  it('starts an onboarding named after the request, so a repeat is idempotent', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(202);
    const name = sfn.commandCalls(StartExecutionCommand)[0].args[0].input.name!;
    expect(name).toMatch(/^onboard-acme-[0-9a-f]{16}$/);
    await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(sfn.commandCalls(StartExecutionCommand)[1].args[0].input.name).toBe(name);
  });

  it('answers 400 in OpenAI error shape naming the field and value', async () => {
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, adminEmail: 'nope' }) });
    expect(res.statusCode).toBe(400);
    expect(body(res)).toEqual({ error: { message: expect.stringMatching(/adminEmail = "nope"/), type: 'invalid_request_error', param: 'adminEmail', code: 'invalid_request' } });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses bad JSON, unknown tiers and taken ids', async () => {
    expect(body(await call('POST', '/admin/tenants', { body: '{' })).error.code).toBe('invalid_json');
    expect(body(await call('POST', '/admin/tenants', { body: JSON.stringify({ ...onboard, tier: 'gold' }) })).error).toMatchObject({ code: 'unknown_tier', param: 'tier' });
    records.set('acme', tenant({ requestId: 'someone-else', status: 'ACTIVE' }));
    const taken = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(taken.statusCode).toBe(409);
    expect(body(taken).error.code).toBe('tenant_exists');
  });

  it('maps a name clash with a different input to 409', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const res = await call('POST', '/admin/tenants', { body: JSON.stringify(onboard) });
    expect(res.statusCode).toBe(409);
    expect(body(res).error.code).toBe('execution_exists');
  });

  it('shows, lists and 404s', async () => {
    records.set('acme', tenant({ status: 'ACTIVE' }));
    expect(body(await call('GET', '/admin/tenants/{id}', { pathParameters: { id: 'acme' } })).tenantId).toBe('acme');
    expect(body(await call('GET', '/admin/tenants', { queryStringParameters: { tier: 'starter' } })).tenants).toHaveLength(1);
    const missing = await call('GET', '/admin/tenants/{id}', { pathParameters: { id: 'nobody' } });
    expect(missing.statusCode).toBe(404);
    expect(body(await call('GET', '/admin/tenants', { queryStringParameters: { status: 'HAPPY' } })).error).toMatchObject({ param: 'status', message: expect.stringMatching(/^status = "HAPPY": /) });
  });

  it('suspends only ACTIVE tenants and offboards only settled ones', async () => {
    records.set('acme', tenant({ status: 'PROVISIONING' }));
    const suspend = await call('POST', '/admin/tenants/{id}/suspend', { pathParameters: { id: 'acme' } });
    expect(suspend.statusCode).toBe(409);
    expect(body(suspend).error.message).toBe('tenant "acme" is PROVISIONING; suspension needs ACTIVE');
    expect((await call('DELETE', '/admin/tenants/{id}', { pathParameters: { id: 'acme' } })).statusCode).toBe(409);
    records.set('acme', tenant({ status: 'ACTIVE' }));
    expect((await call('POST', '/admin/tenants/{id}/suspend', { pathParameters: { id: 'acme' } })).statusCode).toBe(202);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!)).toEqual({ request: { tenantId: 'acme', requestId: 'api-req-1' }, action: 'suspend' });
  });

  it('answers an unknown route with 404', async () => {
    expect((await call('PUT', '/nowhere')).statusCode).toBe(404);
  });
});

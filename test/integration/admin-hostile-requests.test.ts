import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimOnboardingRequest, releaseOnboardingRequest } from '../../lambdas/shared/control-table.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { LocalPlatform } from './support/local-platform.js';
import { adminCall, onboardingRequest } from './support/admin-calls.js';

/**
 * The admin API against replayed, conflicting and malformed requests, end to end (the admin API,
 * the registry on moto, the lifecycle workflows). Found by the hostile hadm (s15).
 */
let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
});
afterAll(async () => {
  await platform?.settle();
  await platform?.stop();
});

const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => adminCall(platform, method, path, body, headers);
const progressOf = (id: string, executionArn: string) => api('GET', `/admin/tenants/${id}/execution?executionArn=${encodeURIComponent(executionArn)}`);

describe('the admin API against hostile requests', () => {
  let alpha: string;
  let bravo: string;
  beforeAll(async () => {
    alpha = (await api('POST', '/admin/tenants', onboardingRequest('alpha', 'starter'))).body.executionArn;
    expect((await platform.awaitExecution(alpha)).status).toBe('SUCCEEDED');
    bravo = (await api('POST', '/admin/tenants', onboardingRequest('bravo', 'starter'))).body.executionArn;
    expect((await platform.awaitExecution(bravo)).status).toBe('SUCCEEDED');
  }, 120_000);

  it('GET …/execution answers only the tenant\'s own executions: another tenant\'s is a 404, a malformed or unknown ARN a 4xx naming executionArn (not a 500)', async () => {
    // its own: as before
    expect((await progressOf('alpha', alpha))).toMatchObject({ status: 200, body: { tenantId: 'alpha', executionArn: alpha, executionStatus: 'SUCCEEDED' } });
    // another tenant's execution: was 200 with bravo's steps under alpha's id and status
    const foreign = await progressOf('alpha', bravo);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: 'execution_not_found', param: 'executionArn', message: expect.stringContaining(`executionArn = "${bravo}": not a lifecycle execution of tenant "alpha"`) });
    // a tenant that does not exist, with an execution of another: was 200
    expect((await progressOf('nosuch', bravo)).status).toBe(404);
    // not an ARN: was a 500 internal_error
    const garbage = await progressOf('alpha', 'garbage');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatchObject({ param: 'executionArn', message: expect.stringContaining('executionArn = "garbage": not a Step Functions execution ARN') });
    // named as the tenant's, on a lifecycle machine, but never started: was a 500
    const unknown = await progressOf('alpha', alpha.replace(/-[0-9a-f]{8}$/, '-00000000'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'execution_not_found', param: 'executionArn' });
  });

  it('a query string on a route that reads none is a 400 naming it, and nothing starts: POST /admin/drift?tenantId=alpha started a check of every ACTIVE tenant (s23adm)', async () => {
    const before = await getTenant('alpha');
    const started = platform.executions.size;
    const drift = await api('POST', '/admin/drift?tenantId=alpha');
    expect(drift).toMatchObject({ status: 400, body: { error: { code: 'unknown_parameter', param: 'tenantId', message: 'query parameter tenantId = "alpha": POST /admin/drift takes no query parameters (its fields go in the JSON body)' } } });
    const suspend = await api('POST', '/admin/tenants/alpha/suspend?dryRun=true', undefined, { 'Idempotency-Key': 'hostile-dry-run-1' });
    expect(suspend).toMatchObject({ status: 400, body: { error: { code: 'unknown_parameter', param: 'dryRun' } } });
    // AND a method the resource does not take: 405 naming those it takes, not a 404 "no route"
    const put = await fetch(`${platform.apiUrl}/admin/drift`, { method: 'PUT', body: '{}' });
    expect([put.status, put.headers.get('allow'), ((await put.json()) as { error: { code: string } }).error.code]).toEqual([405, 'GET, POST', 'method_not_allowed']);
    expect(platform.executions.size).toBe(started);
    expect(await getTenant('alpha')).toEqual(before);
  });

  it('the local platform routes as API Gateway does: a path id URL-decoded, a resource matched whole (s23idem)', async () => {
    // was 404 tenant "al%70ha" does not exist: the id went to the handler encoded
    expect(await api('GET', '/admin/tenants/al%70ha')).toMatchObject({ status: 200, body: { tenantId: 'alpha', status: 'ACTIVE' } });
    // was tenant "tenants" looked up (404 tenant_not_found) and tenant "alpha" answered under /admin/drift/alpha: no resource matches either
    for (const path of ['/admin//tenants', '/admin/drift/alpha']) {
      expect(await api('GET', path)).toMatchObject({ status: 404, body: { error: { code: 'no_route', message: `no route GET ${path}` } } });
    }
  });

  it('an unknown tier is a 400 that shows the value cut short, not echoed whole', async () => {
    const huge = 'x'.repeat(100_000);
    for (const r of [await api('POST', '/admin/tenants', onboardingRequest('delta', huge)), await api('PATCH', '/admin/tenants/alpha', { tier: huge })]) {
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'unknown_tier', param: 'tier' });
      expect(r.body.error.message.length).toBeLessThan(400);
    }
    expect(await getTenant('delta')).toBeUndefined();
  });

  it('the onboarding request replayed while another operation holds the tenant is the no-op the README promises (200), not a 409; retry while the offboarding runs answers with it as DELETE does', async () => {
    // WHEN bravo is being offboarded
    const offboard = await api('DELETE', '/admin/tenants/bravo');
    expect(offboard.status).toBe(202);
    // THEN the onboarding request again is a no-op (was 409 operation_in_progress "onboard is refused")
    const replay = await api('POST', '/admin/tenants', onboardingRequest('bravo', 'starter'));
    expect(replay).toMatchObject({ status: 200, body: { tenantId: 'bravo', requestId: 'req-bravo-0001', note: 'already onboarded by this request; nothing started' } });
    // AND retry answers with the running offboarding (was 409 operation_in_progress naming "onboard")
    const retry = await api('POST', '/admin/tenants/bravo/retry', {});
    expect(retry).toMatchObject({ status: 200, body: { executionArn: offboard.body.executionArn, note: 'offboarding already running' } });
    // AND a retry with corrections is still refused naming the field
    expect((await api('POST', '/admin/tenants/bravo/retry', { name: 'Bravo' })).body.error).toMatchObject({ param: 'name' });
    expect((await platform.awaitExecution(offboard.body.executionArn)).status).toBe('SUCCEEDED');
    const record = (await getTenant('bravo'))!;
    expect(record.status).toBe('OFFBOARDED');
    expect(record.executions.map((e) => e.kind)).toEqual(['onboard', 'offboard']);
    expect([...platform.executions.keys()].filter((k) => k.includes('-bravo-'))).toHaveLength(2);
  }, 120_000);

  it('an onboarding request id is one request: reused for another tenant it is refused (the admin API 409, a StartExecution refused), by one conditional write; the same request again is still its own', async () => {
    // WHEN charlie is onboarded with alpha's request id (was 202: a second onboarding under one idempotency key)
    const reused = await api('POST', '/admin/tenants', onboardingRequest('charlie', 'starter', { requestId: 'req-alpha-0001' }));
    // THEN
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({ code: 'idempotency_key_reused', param: 'requestId', message: expect.stringContaining('requestId "req-alpha-0001" was used for the onboarding of tenant "alpha"') });
    expect(await getTenant('charlie')).toBeUndefined();
    // AND started outside the admin API (a bus event, StartExecution): refused at Register tenant, nothing registered
    const direct = await platform.startExecution('onboard', onboardingRequest('charlie', 'starter', { requestId: 'req-alpha-0001' }));
    expect((await platform.awaitExecution(direct.executionArn)).status).toBe('FAILED');
    expect(await getTenant('charlie')).toBeUndefined();
    // AND alpha's own request again is still the no-op, and charlie with a request id of its own onboards
    expect(await api('POST', '/admin/tenants', onboardingRequest('alpha', 'starter'))).toMatchObject({ status: 200, body: { tenantId: 'alpha', note: 'already onboarded by this request; nothing started' } });
    const own = await api('POST', '/admin/tenants', onboardingRequest('charlie', 'starter'));
    expect(own.status).toBe(202);
    expect((await platform.awaitExecution(own.body.executionArn)).status).toBe('SUCCEEDED');
  }, 120_000);

  it('the request id claim is one conditional write each way: the first tenant holds it, another is told whose it is, and only the holder gives it back', async () => {
    expect(await claimOnboardingRequest('req-zulu-0001', 'zulu')).toBeUndefined();
    expect(await claimOnboardingRequest('req-zulu-0001', 'zulu')).toBeUndefined(); // the same request again
    expect(await claimOnboardingRequest('req-zulu-0001', 'yankee')).toBe('zulu');
    await releaseOnboardingRequest('req-zulu-0001', 'yankee'); // not its claim: nothing happens
    expect(await claimOnboardingRequest('req-zulu-0001', 'yankee')).toBe('zulu');
    await releaseOnboardingRequest('req-zulu-0001', 'zulu'); // its onboarding never started
    expect(await claimOnboardingRequest('req-zulu-0001', 'yankee')).toBeUndefined();
  });
});

/**
 * hlc4 (s16): the claim left behind by an admin API that stopped between the claim and the
 * registration (a crash, a timeout), and the control table's queues beside the claims.
 */
describe('an onboarding request id claimed by a request that never registered its tenant', () => {
  it('leaves the tenant free to onboard, with that id (its own claim) or a new one; the queues that scan the control table never see a claim', async () => {
    // GIVEN two requests that claimed their ids and stopped before registering their tenants
    expect(await claimOnboardingRequest('req-xray-0001', 'xray')).toBeUndefined();
    expect(await claimOnboardingRequest('req-yank-0001', 'yank')).toBeUndefined();
    // WHEN xray is onboarded with the same request again, yank with a new request id
    const xray = await api('POST', '/admin/tenants', onboardingRequest('xray', 'starter'));
    const yank = await api('POST', '/admin/tenants', onboardingRequest('yank', 'starter', { requestId: 'req-yank-0002' }));
    // THEN both onboard
    expect([xray.status, yank.status]).toEqual([202, 202]);
    expect((await platform.awaitExecution(xray.body.executionArn)).status).toBe('SUCCEEDED');
    expect((await platform.awaitExecution(yank.body.executionArn)).status).toBe('SUCCEEDED');
    expect(await getTenant('yank')).toMatchObject({ status: 'ACTIVE', requestId: 'req-yank-0002' });
    // AND the closure and key-deletion queues and the CIDR claims (prefix scans of the same table) hold none of the claims
    const { closures, keyDeletions, cidrClaimsOf } = await import('../../lambdas/shared/control-table.js');
    for (const item of [...await closures(), ...await keyDeletions()]) expect(item.id).not.toMatch(/^onboard-request#/);
    for (const id of ['xray', 'yank']) expect((await cidrClaimsOf(id)).every((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c))).toBe(true);
  }, 120_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { startApiGatewayEmulator } from '../support/api-gateway-emulator.js';
import { describeCors } from './cors-cases.js';
import { ACME_APP, corsHeadersOf, corsModelsConfig, corsModelsTenants, sdkPreflight } from './fixtures.js';
import { describeModelRetrieval } from './models-cases.js';

/**
 * Browser access and model retrieval on the deployed path: API Gateway (emulated) runs the
 * REQUEST authorizer, except on OPTIONS (those methods have none), then the router Lambda's
 * streaming handler. The origin index is a DynamoDB table in moto ({ origin, tenantId } items, as
 * the registry-stream Lambda writes them), queried by the router with its own credentials.
 * `event.path` keeps the client's percent-encoding (`%2F`), as API Gateway REST passes it.
 */
let upstream: FakeUpstream;
let apigw: Awaited<ReturnType<typeof startApiGatewayEmulator>>;
beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  apigw = await startApiGatewayEmulator(corsModelsConfig(), upstream.url, corsModelsTenants());
});
afterAll(async () => {
  await apigw?.stop();
  await upstream?.stop();
});

// The emulator is shared by both suites; each suite's stop leaves it running.
const target = async () => ({ url: apigw.url, token: apigw.token, stop: async () => undefined });
describeCors('API Gateway and the router Lambda', target);
describeModelRetrieval('API Gateway and the router Lambda', target);

describe('preflights on the deployed path', () => {
  it('never reach the authorizer Lambda; an actual request does', async () => {
    const before = apigw.authorizerCalls();
    for (const origin of [ACME_APP, 'https://evil.example']) {
      const res = await fetch(`${apigw.url}/chat/completions`, { method: 'OPTIONS', headers: sdkPreflight(origin) });
      expect(res.status).toBe(204);
    }
    expect(apigw.authorizerCalls()).toBe(before);
    // A request without Authorization is API Gateway's 401 (the identity source is missing): one with it reaches the authorizer.
    await fetch(`${apigw.url}/models`, { headers: { origin: ACME_APP } });
    expect(apigw.authorizerCalls()).toBe(before);
    await fetch(`${apigw.url}/models`, { headers: { origin: ACME_APP, authorization: 'Bearer tsk_x' } });
    expect(apigw.authorizerCalls()).toBe(before + 1);
  });

  it('read the origin index table in moto with the router\'s own credentials (the preflight carries no tenant)', async () => {
    const res = await fetch(`${apigw.url}/embeddings`, { method: 'OPTIONS', headers: sdkPreflight('http://localhost:5173') });
    expect(corsHeadersOf(res.headers)).toMatchObject({ 'access-control-allow-origin': 'http://localhost:5173', 'access-control-allow-methods': 'POST' });
  });
});

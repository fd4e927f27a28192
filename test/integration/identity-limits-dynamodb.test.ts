import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { DynamoDbStore } from '../../lambdas/inference/stores/dynamodb-store.js';
import { countPromptTokens, loadTokenizer } from '../../lambdas/inference/token-count.js';
import { unscopedDocumentClient } from '../../lambdas/shared/tenant-credentials.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { gatewayConfig } from '../support/gateway-config.js';
import { serveGateway } from '../support/local-gateway.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { burst } from './support/identity-limits-scenarios.js';
import { exactnessCases, settleCase, type RunBurst } from './support/identity-limits-suite.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// Issue 15, "Exactness" on DynamoDB (moto): the tenant's and the subject's items in one
// TransactWriteItems, conditions evaluated by moto. moto runs serially here (startMoto serial),
// as gateway-dynamodb.test.ts: it checks conditions and all-or-nothing, not DynamoDB's isolation
// between concurrent transactions (TransactionConflict), which DynamoDB guarantees and the store retries.
let moto: MotoServer;
let store: DynamoDbStore;

beforeAll(async () => {
  moto = await startMoto({ serial: true });
  pointSdkAtMoto(moto);
  const quiet = { redactPii: false, redactResponses: false, promptInjectionScreen: false };
  await createGatewayTables([localTenant('dynuser', 'enterprise', { gateway: { monthlyTokenBudget: 450, userLimits: { tokensPerDay: 180 }, fallbacks: [], guardrails: quiet, auditPromptText: false } })]);
  store = new DynamoDbStore('tessera-tenants', 'tessera-usage', unscopedDocumentClient());
});
afterAll(async () => {
  await moto?.stop();
});

/** The UTC day (YYYY-MM-DD) when this file began writing usage. */
const FILE_STARTED_DAY = new Date().toISOString().slice(0, 10);

describe('DynamoDbStore (moto): limits per key and per user are exact', () => {
  const run: RunBurst = (caller, step, n, userLimits) => burst(store, caller, step, n, userLimits);
  exactnessCases(run, () => store, (step, kind) => `ddb-${step}-${kind}`);
  settleCase(() => store, 'ddb-settle');

  it('writes only ids of the tenant-data role\'s LeadingKeys patterns (rate#<tenant>#…, usage#<tenant>#…)', async () => {
    const items = (await unscopedDocumentClient()('x').then((doc) => doc.send(new ScanCommand({ TableName: 'tessera-usage' })))).Items ?? [];
    expect(items.length).toBeGreaterThan(10);
    for (const { id } of items) expect(id).toMatch(/^(rate|usage)#ddb-[a-z]+(-[a-z]+)?#/);
    // The reservations were written by the cases above, on the UTC day the file started or (a run across midnight) today.
    const ids = items.map((i) => i.id as string);
    const keyDay = (day: string) => `usage#ddb-reserve-key#key#key_0000000000000001#${day}`;
    expect([FILE_STARTED_DAY, new Date().toISOString().slice(0, 10)].map(keyDay).filter((id) => ids.includes(id)), ids.filter((id) => id.startsWith('usage#ddb-reserve-key#key#')).join(', ')).not.toEqual([]);
  });

  // Past the 400 KB of the month item's `subjects` set (the reservation sent again without the
  // set, counted on usage#<tenant>#unlisted#<month>) is tested with aws-sdk-client-mock
  // (test/unit/inference/stores-dynamodb.test.ts). moto 5.2.5 alone could not refuse it (an ADD to an
  // existing set skipped its item size check); the moto patch refuse_dynamodb_item_growth_as_aws now
  // refuses it as DynamoDB does, but a moto test would need ~8,000 subjects: not written.
});

describe('through the gateway on DynamoDB (moto): the tenant\'s userLimits and usage by user', () => {
  let upstream: FakeUpstream;
  let gw: Awaited<ReturnType<typeof serveGateway>>;
  beforeAll(async () => {
    upstream = await new FakeUpstream().start();
    gw = await serveGateway(gatewayConfig(), upstream.url, [], { dynamodb: { registryTable: 'tessera-tenants', usageTable: 'tessera-usage' } });
  });
  afterAll(async () => {
    await gw?.stop();
    await upstream?.stop();
  });

  it('admits exactly 10 of 50 concurrent requests of one user, 10 of the next, 5 of the third (the tenant\'s 25), listed by user', async () => {
    await loadTokenizer();
    const hi = { model: 'openai-compatible/default', messages: [{ role: 'user' as const, content: 'hi' }] };
    const maxTokens = 18 - countPromptTokens(hi);
    const fire = async (sub: string) => {
      const client = new OpenAI({ baseURL: gw.url, apiKey: await gw.token('dynuser', { sub }), maxRetries: 0 });
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => client.chat.completions.create({ ...hi, max_tokens: maxTokens })));
      return { admitted: results.filter((r) => r.status === 'fulfilled').length, refused: results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason) };
    };
    const alice = await fire('alice');
    expect(alice.admitted).toBe(10);
    expect(alice.refused[0].message).toContain('daily token budget of 180 tokens is exhausted for user alice');
    expect(alice.refused[0].headers.get('x-tessera-limit-scope')).toBe('user');
    expect((await fire('bob')).admitted).toBe(10);
    const carol = await fire('carol');
    expect(carol.admitted).toBe(5);
    expect(carol.refused.map((e) => e.headers.get('x-tessera-limit-scope'))).toContain('tenant');
    const viewer = await gw.token('dynuser', { sub: 'auditor', role: 'viewer' });
    const byUser = await fetch(`${gw.url}/usage?group_by=user`, { headers: { authorization: `Bearer ${viewer}` } }).then((r) => r.json() as Promise<{ data: Array<{ id: string; month: { tokens: number } }> }>);
    expect(byUser.data.map((u) => [u.id, u.month.tokens])).toEqual([['alice', 180], ['bob', 180], ['carol', 90]]);
  });
});

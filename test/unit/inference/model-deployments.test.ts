import type { ChatCompletion } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import type { ModelDeployment, ModelEntry } from '../../../lib/config/schema.js';
import { loadConfig } from '../../../lib/config/load-config.js';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { ModelHealth } from '../../../lambdas/inference/model-health.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { ProviderError, type Provider, type ProviderRequest } from '../../../lambdas/inference/providers/provider.js';
import { UpstreamCalls, weightedOrder, type ChainRecord } from '../../../lambdas/inference/upstream-calls.js';
import { configErrorOf } from '../../support/config-errors.js';
import { configWith } from '../../support/config-with.js';

/**
 * gateway.models[].deployments: one catalog model over several upstreams (weighted random order, a cooldown per
 * deployment, the model's other deployments before the tenant's fallbacks), and the config's refusals.
 */

const deployment = (name: string, weight = 1, extra: Partial<ModelDeployment> = {}): ModelDeployment => ({ name, weight, baseUrl: `https://${name}.example.com/v1`, ...extra });
const model = (id: string, deployments?: ModelDeployment[]): ModelEntry => ({ id: `openai-compatible/${id}`, upstream: id, inputPricePer1k: 0, outputPricePer1k: 0, maxOutputTokens: 10, ...(deployments ? { deployments } : {}) });
const answer = (text: string) => ({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }] }) as ChatCompletion;
const base = (tenantId = 'acme') => ({ body: { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }, tenantId });
const never = new AbortController().signal;

/** mulberry32: a seeded uniform draw in [0, 1), so the 4,000 picks are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Behaviour = (r: ProviderRequest) => Promise<ChatCompletion>;
const ok: Behaviour = async (r) => answer(r.model.upstream);
const fail503: Behaviour = async () => {
  throw new ProviderError('upstream 503', 503, true);
};

/** Fake clients per deployment (by name; `-` for a model called without one), each attempt recorded as `<upstream>@<deployment>`. */
function setup(options: { random?: () => number; ownKeyTenants?: string[]; cooldown?: boolean } = {}) {
  const clock = { t: Date.parse('2026-12-05T12:00:00Z') };
  const attempts: string[] = [];
  const behaviour: Record<string, Behaviour> = {};
  const lookups: Array<string | undefined> = [];
  const lookup = async (_name: string, tenantId: string, wanted?: { deployment?: ModelDeployment }): Promise<Provider> => {
    const d = wanted?.deployment;
    lookups.push(d?.name);
    const owner = options.ownKeyTenants?.includes(tenantId) ? tenantId : undefined;
    const at = owner ? '-' : d?.name ?? '-';
    return {
      ...(owner ? { credentialOwner: owner } : {}),
      complete: (r) => (attempts.push(`${r.model.upstream}@${at}`), (behaviour[at] ?? ok)(r)),
      stream: () => { throw new Error('not used'); },
    };
  };
  const health = new ModelHealth({ failures: 3, windowMs: 60_000, coolMs: 30_000 }, () => clock.t, () => undefined);
  const calls = new UpstreamCalls(lookup, { firstByteMs: 1_000, idleMs: 1_000, retries: 0 }, options.cooldown === false ? undefined : health, options.random ?? (() => 0));
  const request = async (chain: ModelEntry[], tenantId = 'acme') => {
    const record: ChainRecord = {};
    const out = await calls.complete(chain, base(tenantId), never, undefined, record);
    return { model: out.model, record, text: out.result.choices[0].message.content };
  };
  return { clock, attempts, behaviour, lookups, request };
}

describe('weightedOrder: a weighted random order of a model\'s deployments', () => {
  it('puts a 3:1 pair\'s heavier one first in 3 of 4 of 4,000 orders, within 4.5 standard deviations of the binomial', () => {
    const random = seeded(20261205);
    const n = 4_000;
    const p = 3 / 4;
    let first = 0;
    for (let i = 0; i < n; i++) if (weightedOrder([{ name: 'big', weight: 3 }, { name: 'small', weight: 1 }], random)[0].name === 'big') first++;
    // Binomial(n, p): mean n·p = 3,000, standard deviation √(n·p·(1−p)) ≈ 27.4; 4.5 sd ≈ 123 (a false failure ~1 in 150,000).
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(first - n * p)).toBeLessThan(4.5 * sd);
  });

  it('orders every deployment once, the draw picking by cumulative weight', () => {
    const ds = [{ name: 'a', weight: 1 }, { name: 'b', weight: 2 }, { name: 'c', weight: 1 }];
    expect(weightedOrder(ds, () => 0).map((d) => d.name)).toEqual(['a', 'b', 'c']);
    // 0.5 of 4 is 2: past a (1), inside b (1..3); then 0.5 of 2 left (a, c) is 1: past a, c.
    expect(weightedOrder(ds, () => 0.5).map((d) => d.name)).toEqual(['b', 'c', 'a']);
    expect(weightedOrder(ds, () => 0.999).map((d) => d.name)).toEqual(['c', 'b', 'a']);
  });
});

describe('UpstreamCalls with a model spread over deployments', () => {
  it('sends a 3:1 model\'s requests to its deployments by weight (4,000 requests, seeded draw), each with the deployment\'s upstream, audited by the catalog id and the deployment', async () => {
    const s = setup({ random: seeded(7) });
    const m = model('gpt', [deployment('org-a', 3), deployment('org-b', 1, { upstream: 'gpt-b' })]);
    const served: Record<string, number> = {};
    for (let i = 0; i < 4_000; i++) {
      const r = await s.request([m]);
      expect(r.model).toBe(m); // the catalog entry: budget, ledger and the answer's model are the catalog id's
      served[r.record.detail!.deployment as string] = (served[r.record.detail!.deployment as string] ?? 0) + 1;
    }
    const sd = Math.sqrt(4_000 * 0.75 * 0.25);
    expect(Math.abs(served['org-a'] - 3_000)).toBeLessThan(4.5 * sd);
    expect(served['org-a'] + served['org-b']).toBe(4_000);
    expect(new Set(s.attempts)).toEqual(new Set(['gpt@org-a', 'gpt-b@org-b']));
  });

  it('tries the model\'s other deployment before the tenant\'s fallback model, and says which answered', async () => {
    const s = setup({ cooldown: false });
    const primary = model('gpt', [deployment('east'), deployment('west')]);
    const fallback = model('backup');
    s.behaviour.east = fail503;
    const r = await s.request([primary, fallback]);
    expect(s.attempts).toEqual(['gpt@east', 'gpt@west']);
    expect(r.model.id).toBe('openai-compatible/gpt');
    expect(r.record.detail).toEqual({ deployment: 'west' });
    // Both deployments failing: then the fallback, which has no deployment to name.
    s.behaviour.west = fail503;
    s.attempts.length = 0;
    const f = await s.request([primary, fallback]);
    expect(s.attempts).toEqual(['gpt@east', 'gpt@west', 'backup@-']);
    expect(f.model.id).toBe('openai-compatible/backup');
    expect(f.record.detail?.deployment).toBeUndefined();
  });

  it('cools a failing deployment on its own: the other serves every request, and the skip note names the deployment', async () => {
    const s = setup(); // the draw 0 orders east first: each request tries east before west
    const m = model('gpt', [deployment('east'), deployment('west')]);
    s.behaviour.east = fail503;
    for (let i = 0; i < 3; i++) {
      expect((await s.request([m])).record.detail?.deployment).toBe('west');
      s.clock.t += 1_000;
    }
    expect(s.attempts).toEqual(['gpt@east', 'gpt@west', 'gpt@east', 'gpt@west', 'gpt@east', 'gpt@west']);
    s.attempts.length = 0;
    const fourth = await s.request([m]);
    expect(s.attempts).toEqual(['gpt@west']);
    expect(fourth.record.detail).toEqual({ deployment: 'west', skippedCoolingModels: 'openai-compatible/gpt@east (cooling until 2026-12-05T12:00:32.000Z after 3 failing requests within 60 s; last: upstream 503)' });
    // West failing too: east, cooling, is skipped for west (a place after it); west, the last place, is tried and its 503 answered.
    s.behaviour.west = fail503;
    s.attempts.length = 0;
    await expect(s.request([m])).rejects.toMatchObject({ status: 502 });
    expect(s.attempts).toEqual(['gpt@west']);
  });

  it('a tenant calling with its own provider key calls the model as without deployments (its key is for the provider\'s endpoint)', async () => {
    const s = setup({ ownKeyTenants: ['own'] });
    const m = model('gpt', [deployment('east'), deployment('west')]);
    const r = await s.request([m], 'own');
    expect(s.attempts).toEqual(['gpt@-']);
    expect(r.record.detail).toBeUndefined();
    // The platform's credentials, for another tenant: the deployments.
    expect((await s.request([m], 'acme')).record.detail).toEqual({ deployment: 'east' });
    expect(s.attempts).toEqual(['gpt@-', 'gpt@east']);
  });
});

/** The origin an OpenAI relay's undici pool connects to (the pool's `Symbol(url)`). */
const originOf = (provider: unknown): string => {
  const pool = (provider as { pool: object }).pool;
  const url = Object.getOwnPropertySymbols(pool).find((k) => k.description === 'url');
  return ((pool as Record<symbol, URL>)[url!]).origin;
};

describe('ProviderRegistry with deployments', () => {
  it('builds an OpenAI relay per deployment on its baseUrl with its own secret, and the provider\'s endpoint for a tenant\'s own key', async () => {
    const config = configWith({});
    const asked: Array<string | undefined> = [];
    const registry = new ProviderRegistry(config, async (_p, tenantId, options) => (asked.push(options?.platformSecretId), tenantId === 'own' ? { key: 'tenant', tenantOwn: true } : `key-of-${options?.platformSecretId ?? 'provider'}`));
    const d = deployment('b', 1, { baseUrl: 'https://b.example.com/v1', apiKeySecretId: 'tessera/providers/openai-b' });
    const platform = await registry.get('openai', 'acme', { deployment: d }) as unknown as { baseUrl: string; credentialOwner?: string };
    const own = await registry.get('openai', 'own', { deployment: d }) as unknown as { baseUrl: string; credentialOwner?: string };
    const plain = await registry.get('openai', 'acme') as unknown as { baseUrl: string };
    expect(asked).toEqual(['tessera/providers/openai-b', 'tessera/providers/openai-b', undefined]);
    expect(originOf(platform)).toBe('https://b.example.com');
    expect(platform.credentialOwner).toBeUndefined();
    expect(originOf(own)).toBe(new URL(config.gateway.providers.openai.baseUrl).origin);
    expect(own.credentialOwner).toBe('own');
    expect(originOf(plain)).toBe(new URL(config.gateway.providers.openai.baseUrl).origin);
  });

  it('builds a Bedrock client per deployment region', async () => {
    const registry = new ProviderRegistry(configWith({}), async () => 'unused');
    const west = await registry.get('bedrock', 'acme', { deployment: { name: 'west', weight: 1, region: 'us-west-2' } });
    const home = await registry.get('bedrock', 'acme');
    expect(west).not.toBe(home);
    expect((west as unknown as { region?: string }).region).toBe('us-west-2');
    expect(await (west as unknown as { client: { config: { region: () => Promise<string> } } }).client.config.region()).toBe('us-west-2');
  });
});

describe('config: gateway.models[].deployments', () => {
  const models = (...extra: unknown[]) => ({ gateway: { models: [...DEFAULT_CONFIG.gateway.models, ...extra] } });
  const nova = (deployments: unknown[]) => ({ id: 'bedrock/nova-spread', upstream: 'us.amazon.nova-lite-v1:0', inputPricePer1k: 0.00006, outputPricePer1k: 0.00024, deployments });
  const gpt = (deployments: unknown[], id = 'openai/gpt-spread') => ({ id, upstream: 'gpt-4o-mini', inputPricePer1k: 0.00015, outputPricePer1k: 0.0006, deployments });
  /** The path as the config error prints it (`gateway.models[12].deployments`), as a pattern; `[j]` follows. */
  const at = (i: number) => `gateway\\.models\\[${DEFAULT_CONFIG.gateway.models.length + i}\\]\\.deployments`;

  it('takes OpenAI deployments (baseUrl, a tessera/providers/ secret, upstream) and Bedrock ones in allowed regions, weight 1 by default', () => {
    const config = loadConfig({ overrides: models(
      gpt([{ name: 'org-a', weight: 3 }, { name: 'org-b', apiKeySecretId: 'tessera/providers/openai-org-b' }, { name: 'azure', baseUrl: 'https://x.openai.azure.com/openai/v1', upstream: 'gpt-4o-mini-prod' }]),
      nova([{ name: 'east', region: 'us-east-1' }, { name: 'west', region: 'us-west-2', upstream: 'amazon.nova-lite-v1:0' }]),
    ) });
    const spread = config.gateway.models.filter((m) => m.deployments);
    expect(spread.map((m) => m.deployments!.map((d) => [d.name, d.weight]))).toEqual([[['org-a', 3], ['org-b', 1], ['azure', 1]], [['east', 1], ['west', 1]]]);
  });

  it('refuses each bad deployment naming its path and value', () => {
    expect(configErrorOf(models(nova([{ name: 'eu', region: 'eu-west-1' }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.region.*"eu-west-1".*outside allowedRegions`));
    expect(configErrorOf(models(nova([{ name: 'x' }])))).toMatch(new RegExp(`${at(0)}\\[0\\].*has no region`));
    expect(configErrorOf(models(nova([{ name: 'x', region: 'us-west-2', upstream: 'us.amazon.nova-pro-v1:0' }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.upstream.*amazon\\.nova-lite-v1:0`));
    expect(configErrorOf(models(nova([{ name: 'x', region: 'us-west-2', baseUrl: 'https://b.example.com' }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.baseUrl.*bedrock model`));
    expect(configErrorOf(models(gpt([{ name: 'b', apiKeySecretId: 'prod/openai' }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.apiKeySecretId.*tessera/providers/`));
    expect(configErrorOf(models(gpt([{ name: 'b', region: 'us-west-2' }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.region.*bedrock models`));
    expect(configErrorOf(models(gpt([{ name: 'a' }, { name: 'b', upstream: 'gpt-4o-mini' }])))).toMatch(new RegExp(`${at(0)}\\[1\\].*"b".*the same upstream as deployment "a"`));
    expect(configErrorOf(models(gpt([{ name: 'b', upstream: 'x' }, { name: 'b', upstream: 'y' }])))).toMatch(new RegExp(`${at(0)}\\[1\\]\\.name.*repeats deployment "b"`));
    expect(configErrorOf(models(gpt([{ name: 'b', upstream: 'x', weight: 0 }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.weight`));
    expect(configErrorOf(models(gpt([{ name: 'b', upstream: 'x', port: 1 }])))).toMatch(new RegExp(`${at(0)}\\[0\\]\\.port`));
    expect(configErrorOf(models({ id: 'sagemaker/ft:spread', upstream: 'ep', inputPricePer1k: 0, outputPricePer1k: 0, deployments: [{ name: 'b', upstream: 'ep2' }] }))).toMatch(new RegExp(`${at(0)}.*sagemaker model`));
  });

  it('an Azure OpenAI endpoint only by its v1 API: a deployment-scoped URL (api-key header, api-version) is refused at the key path, where the gateway would send a Bearer key', () => {
    const azure = /is an Azure OpenAI endpoint outside its v1 API: the gateway sends the provider key as "Authorization: Bearer".*https:\/\/<resource>\.openai\.azure\.com\/openai\/v1/;
    const deployment = configErrorOf(models(gpt([{ name: 'azure', baseUrl: 'https://acme.openai.azure.com/openai/deployments/gpt-4o-mini', upstream: 'gpt-4o-mini-prod' }])));
    expect(deployment).toMatch(new RegExp(`${at(0)}\\[0\\]\\.baseUrl`));
    expect(deployment).toContain('https://acme.openai.azure.com/openai/deployments/gpt-4o-mini');
    expect(deployment).toMatch(azure);
    for (const baseUrl of ['https://acme.openai.azure.com', 'https://acme.cognitiveservices.azure.com/openai', 'https://acme.services.ai.azure.com/models']) {
      const provider = configErrorOf({ gateway: { providers: { 'openai-compatible': { baseUrl } } } });
      expect(provider, baseUrl).toMatch(/gateway\.providers\.openai-compatible\.baseUrl/);
      expect(provider, baseUrl).toMatch(azure);
    }
    // The v1 API takes the OpenAI client as it is (key as Bearer, no api-version): accepted on either field.
    for (const baseUrl of ['https://acme.openai.azure.com/openai/v1', 'https://acme.openai.azure.com/openai/v1/']) {
      const config = loadConfig({ overrides: { gateway: { providers: { 'openai-compatible': { baseUrl } }, models: [...DEFAULT_CONFIG.gateway.models, gpt([{ name: 'azure', baseUrl, upstream: 'gpt-4o-mini-prod' }])] } } });
      expect(config.gateway.providers['openai-compatible']?.baseUrl).toBe(baseUrl);
    }
  });
});

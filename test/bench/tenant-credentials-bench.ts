/**
 * The cost of tenant-scoped credentials in the gateway's request path, on this machine: the router
 * Lambda's gateway (lambdas/inference: JWT authorizer, tenant policy, rate counting, budget
 * reserve/settle, provider key, S3 audit record awaited) built twice in one process over the same
 * fake AWS endpoints (test/bench/fake-aws-main.ts, its own process) and the same fake upstream:
 * once with the process's own credentials for every tenant (as before), once with sessions of the
 * tenant-data role per tenant (lambdas/shared/tenant-credentials.ts, STS served by the stand-in).
 * One request at a time, the two alternating in blocks, each request timed with hrtime.
 *
 * Warm: the tenant's session is cached (every request after the first). Cold: the first request
 * for a tenant, which assumes the role once; measured over fresh tenants against warm requests of
 * the same gateway. The stand-in answers STS at once: in AWS, add STS's own latency to the cold cost.
 * Usage: tsx test/bench/tenant-credentials-bench.ts <upstream base URL> [seconds]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [upstreamUrl, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 10);
const root = join(import.meta.dirname, '..', '..');

const { localTenant } = await import('../../lambdas/inference/local-gateway.js');
const record = localTenant('bench', 'enterprise');
const aws = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'test/bench/fake-aws-main.ts'), JSON.stringify(record)], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('exit', () => aws.kill());
const endpoint = await new Promise<string>((resolve, reject) => {
  aws.stdout!.once('data', (d) => resolve(String(d).trim()));
  aws.once('exit', (code) => reject(new Error(`fake AWS exited ${code}`)));
});
Object.assign(process.env, { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' });
delete process.env.AWS_SESSION_TOKEN;

const [{ DEFAULT_CONFIG }, { deepMerge, parseConfig }, { Authorizer }, { DEV_AUDIENCE, DEV_ISSUER, devKeys, mintDevToken }, { Gateway }, { ProviderRegistry }, { DynamoDbStore }, { secretsManagerKeys }, { S3AuditSink }, tc] = await Promise.all([
  import('../../lib/config/default-config.js'), import('../../lib/config/load-config.js'), import('../../lambdas/inference/auth.js'), import('../../lambdas/inference/dev-keys.js'),
  import('../../lambdas/inference/gateway.js'), import('../../lambdas/inference/providers/registry.js'), import('../../lambdas/inference/stores/dynamodb-store.js'),
  import('../../lambdas/inference/secrets.js'), import('../../lambdas/inference/s3-audit-sink.js'), import('../../lambdas/shared/tenant-credentials.js'),
]);
const huge = 100_000_000;
const config = parseConfig(deepMerge(structuredClone(DEFAULT_CONFIG), {
  tiers: { enterprise: { limits: { requestsPerMinute: huge, requestsPerHour: huge, requestsPerDay: huge, tokensPerDay: huge * 1000 } } },
  gateway: { providers: { openai: { baseUrl: upstreamUrl }, huggingface: { baseUrl: upstreamUrl }, 'openai-compatible': { baseUrl: upstreamUrl } } },
}), 'bench');
const keysDir = mkdtempSync(join(tmpdir(), 'tessera-bench-tc-'));
process.once('exit', () => rmSync(keysDir, { recursive: true, force: true }));
const keysFile = join(keysDir, 'dev-keys.json');
const keys = await devKeys(keysFile);

function gateway(scoped: boolean, credentials?: InstanceType<typeof tc.TenantCredentials>) {
  const docs = scoped ? tc.tenantDocumentClient(credentials!) : tc.unscopedDocumentClient();
  const store = new DynamoDbStore('tessera-tenants', 'tessera-usage', docs);
  return new Gateway({
    config, store, authorizer: new Authorizer({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: { keys: [keys.publicJwk] } }, store),
    providers: new ProviderRegistry(config, secretsManagerKeys(config, scoped ? tc.tenantSecretsClient(credentials!) : tc.unscopedSecretsClient())),
    audit: new S3AuditSink('tessera-audit'), awaitAudit: true,
  });
}

const body = JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'system', content: 'You are the finance assistant of Acme Corp.' }, { role: 'user', content: 'Summarise our Q3 numbers for the board in two sentences.' }], max_tokens: 64 });
async function once(g: InstanceType<typeof Gateway>, token: string): Promise<number> {
  let status = 0;
  const t = process.hrtime.bigint();
  await g.handle({ method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }, {
    json: (s) => void (status = s),
    stream: () => ({ write: () => undefined, end: () => undefined }),
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (status !== 200) throw new Error(`gateway answered ${status}`);
  return ms;
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)];

const credentials = new tc.TenantCredentials({ roleArn: 'arn:aws:iam::111111111111:role/tessera-tenant-data' });
const unscoped = gateway(false);
const scoped = gateway(true, credentials);
const token = await mintDevToken(keysFile, { tenantId: 'bench', expiresIn: '2h' });

// Warm-up: JIT, connections, the tenant's session and provider key.
for (let i = 0; i < 300; i++) { await once(unscoped, token); await once(scoped, token); }

const times = { unscoped: [] as number[], scoped: [] as number[] };
const until = performance.now() + seconds * 1000;
for (let round = 0; performance.now() < until; round++) {
  // Blocks of 50, the order swapped every round (neither always runs first).
  const order = round % 2 ? (['scoped', 'unscoped'] as const) : (['unscoped', 'scoped'] as const);
  for (const which of order) for (let i = 0; i < 50; i++) times[which].push(await once(which === 'scoped' ? scoped : unscoped, token));
}
const added = mean(times.scoped) - mean(times.unscoped);
const variance = (xs: number[]) => { const m = mean(xs); return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1); };
// The difference of two means carries the noise of both: its standard error, for a 95% interval.
const se = Math.sqrt(variance(times.scoped) / times.scoped.length + variance(times.unscoped) / times.unscoped.length);

// The scoped-credentials layer alone, warm: what each store call and key lookup adds (a session lookup).
const docFor = tc.tenantDocumentClient(credentials);
const n = 200_000;
let t = performance.now();
for (let i = 0; i < n; i++) await docFor('bench');
const lookupUs = ((performance.now() - t) / n) * 1000;

// Cold: the first request of fresh tenants (one AssumeRole each), against warm requests of the same gateway.
const cold: number[] = [];
const warmAfter: number[] = [];
for (let i = 0; i < 100; i++) {
  const tenant = `cold-${String(i).padStart(3, '0')}`;
  const tk = await mintDevToken(keysFile, { tenantId: tenant, expiresIn: '2h' });
  await once(unscoped, tk); // the tenant's token verified and its provider key read in the other gateway: the difference is the session
  cold.push(await once(scoped, tk));
  warmAfter.push(await once(scoped, tk));
}
t = performance.now();
const fresh = new tc.TenantCredentials({ roleArn: 'arn:aws:iam::111111111111:role/tessera-tenant-data' });
for (let i = 0; i < 100; i++) await fresh.credentials(`assume-${String(i).padStart(3, '0')}`);
const assumeMs = (performance.now() - t) / 100;

const fmt = (x: number) => x.toFixed(3);
console.log(`gateway request path in one process, AWS served by a local stand-in, 1 connection, ${times.scoped.length} + ${times.unscoped.length} requests:`);
console.log(`  own credentials for every tenant   mean ${fmt(mean(times.unscoped))} ms  p50 ${fmt(pct(times.unscoped, 0.5))} ms  p99 ${fmt(pct(times.unscoped, 0.99))} ms`);
console.log(`  tenant-scoped credentials (warm)   mean ${fmt(mean(times.scoped))} ms  p50 ${fmt(pct(times.scoped, 0.5))} ms  p99 ${fmt(pct(times.scoped, 0.99))} ms`);
console.log(`  added mean latency, warm scoped credentials: ${fmt(added)} ms ± ${fmt(1.96 * se)} ms (95%), median ${fmt(pct(times.scoped, 0.5) - pct(times.unscoped, 0.5))} ms; the layer itself: ${lookupUs.toFixed(2)} µs per store call (5 a request)`);
console.log(`  cold (first request of a tenant: one AssumeRole to the stand-in STS + new clients): mean ${fmt(mean(cold))} ms vs ${fmt(mean(warmAfter))} ms warm, +${fmt(mean(cold) - mean(warmAfter))} ms; AssumeRole alone through the SDK ${fmt(assumeMs)} ms (add STS's own latency in AWS)`);
aws.kill();
process.exit(0);

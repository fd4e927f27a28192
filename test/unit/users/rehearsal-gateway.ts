/**
 * README rehearsal helper (not a test): the gateway pipeline on 127.0.0.1 with the deployed
 * authorizer's settings for a Cognito pool — issuer https://cognito-idp.<region>.amazonaws.com/<pool>,
 * audience = the app client id — and the JWKS fetched from `--jwks` (moto's, locally), one ACTIVE
 * tenant, and a fake OpenAI-compatible upstream. `tessera serve` trusts only its own dev keys, so it
 * cannot verify a Cognito token; this stands in for the deployed API in the local rehearsal.
 *
 *   npx tsx test/unit/users/rehearsal-gateway.ts --pool <id> --client <id> --jwks <url> --tenant acme
 * Prints the base URL; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import { Authorizer } from '../../../lambdas/inference/auth.js';
import { Gateway } from '../../../lambdas/inference/gateway.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../../lambdas/inference/local-server.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';

const { values } = parseArgs({ options: { pool: { type: 'string' }, client: { type: 'string' }, jwks: { type: 'string' }, tenant: { type: 'string', default: 'acme' }, port: { type: 'string', default: '0' } } });
const region = values.pool!.split('_')[0];
const upstream = await new FakeUpstream().start();
const base = gatewayConfig();
const config = { ...base, gateway: { ...base.gateway, providers: { openai: { baseUrl: upstream.url }, huggingface: { baseUrl: upstream.url }, 'openai-compatible': { baseUrl: upstream.url } } } };
const store = new MemoryStore();
store.putTenant(localTenant(values.tenant!, 'enterprise'));
const authorizer = new Authorizer({ issuer: `https://cognito-idp.${region}.amazonaws.com/${values.pool}`, audience: values.client!, jwks: values.jwks! }, store);
const gateway = new Gateway({ config, store, authorizer, providers: new ProviderRegistry(config, async () => 'local'), audit: new MemoryAuditSink() });
const server = await startLocalServer(gateway, { port: Number(values.port), maxBytes: config.gateway.maxRequestBytes });
process.stdout.write(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1\n`);
const stop = async () => {
  server.closeAllConnections();
  server.close();
  await upstream.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

import { Command } from 'commander';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configSourcesFromContext, loadConfig } from '../config/load-config.js';
import { TenantRecord } from '../tenant-record.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { createLocalGateway, localTenant } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';

const stateDirOption = ['--state-dir <dir>', 'dev keys and the local audit log', '.tessera'] as const;

function config(file?: string) {
  return loadConfig(configSourcesFromContext((key) => (key === 'tessera:configFile' ? file : undefined)));
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the gateway (authorizer, policy, guardrails, metering, budgets) on 127.0.0.1')
    .option('--port <port>', 'port', '8787')
    .option('--upstream <url>', 'OpenAI-compatible base URL the providers call (e.g. a local vLLM: http://127.0.0.1:8000/v1)')
    .option('--upstream-key <key>', 'API key sent upstream', process.env.TESSERA_UPSTREAM_KEY)
    .option('--tenant <id:tier...>', 'tenants of the embedded registry, e.g. --tenant acme:enterprise')
    .option('--tenants-file <file>', 'JSON array of registry records for the embedded registry')
    .option('--dynamodb <registryTable:usageTable>', 'use these DynamoDB tables instead of the embedded store')
    .option('--config <file>', 'platform config file (default: the embedded default)')
    .option(...stateDirOption)
    .action(async (o) => {
      mkdirSync(o.stateDir, { recursive: true });
      const tenants = [
        ...((o.tenant as string[] | undefined) ?? []).map((t) => {
          const [id, tier] = t.split(':');
          if (!id || !tier) throw new Error(`--tenant ${t}: expected <id>:<tier>`);
          return localTenant(id, tier);
        }),
        ...(o.tenantsFile ? TenantRecord.array().parse(JSON.parse(readFileSync(o.tenantsFile, 'utf8'))) : []),
      ];
      const [registryTable, usageTable] = o.dynamodb ? String(o.dynamodb).split(':') : [];
      const platform = config(o.config);
      const { gateway } = await createLocalGateway({
        config: platform, stateDir: o.stateDir, upstreamUrl: o.upstream, upstreamKey: o.upstreamKey, tenants,
        dynamodb: registryTable ? { registryTable, usageTable } : undefined,
      });
      const server = await startLocalServer(gateway, { port: Number(o.port), maxBytes: platform.gateway.maxRequestBytes });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          server.closeAllConnections();
          server.close(() => process.exit(0));
        });
      }
      process.stdout.write(`tessera gateway on http://127.0.0.1:${o.port}/v1 (${registryTable ? `DynamoDB ${registryTable}` : `embedded registry: ${tenants.map((t) => `${t.tenantId}:${t.tier}`).join(', ') || 'no tenants'}`}; audit ${resolve(o.stateDir, 'audit.jsonl')})\n`);
    });
}

export function devTokenCommand(): Command {
  return new Command('dev-token')
    .description('mint a JWT for `tessera serve` (signed with the local dev key)')
    .requiredOption('--tenant <id>', 'tenant id claim')
    .option('--role <role>', 'role claim', 'member')
    .option('--sub <subject>', 'user id')
    .option('--expires <duration>', 'lifetime, e.g. 15m, 1h', '1h')
    .option(...stateDirOption)
    .action(async (o) => {
      process.stdout.write(`${await mintDevToken(resolve(o.stateDir, 'dev-keys.json'), { tenantId: o.tenant, role: o.role, sub: o.sub, expiresIn: o.expires })}\n`);
    });
}

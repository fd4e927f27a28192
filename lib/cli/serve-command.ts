import { Command } from 'commander';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configSourcesFromContext, loadConfig } from '../config/load-config.js';
import { TenantRecord } from '../tenant-record.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { createLocalGateway, localTenant } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { devKeys } from '../../lambdas/inference/dev-keys.js';
import { SharedMemoryStore } from '../../lambdas/inference/stores/shared-memory-store.js';
import { Worker } from 'node:worker_threads';
import type { ServeWorkerData } from './serve-worker.js';

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
    .option('--workers <n>', 'event loops (worker threads on one port, budgets exact across them through shared memory; Linux)', '1')
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
      const workers = Number(o.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error(`--workers ${o.workers}: expected a whole number from 1 to 64`);
      if (workers > 1) {
        if (registryTable) throw new Error('--workers with --dynamodb: not supported; run one process per core against the tables instead');
        await devKeys(resolve(o.stateDir, 'dev-keys.json')); // once, before the threads, so all sign with one key
        const buffer = SharedMemoryStore.allocate(tenants.length);
        const data: Omit<ServeWorkerData, 'port'> = { configFile: o.config, stateDir: o.stateDir, upstream: o.upstream, upstreamKey: o.upstreamKey, tenants, buffer };
        // tsx for the threads too: they load the same TypeScript as this one.
        const threads = Array.from({ length: workers }, () => new Worker(new URL('./serve-worker.ts', import.meta.url), { workerData: { ...data, port: Number(o.port) }, execArgv: ['--import', import.meta.resolve('tsx')] }));
        await Promise.all(threads.map((t) => new Promise((ok, fail) => { t.once('message', ok); t.once('error', fail); })));
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void Promise.all(threads.map((t) => t.terminate())).then(() => process.exit(0)));
        process.stdout.write(`tessera gateway on http://127.0.0.1:${o.port}/v1 (${workers} workers; embedded registry: ${tenants.map((t) => `${t.tenantId}:${t.tier}`).join(', ') || 'no tenants'}; audit ${resolve(o.stateDir, 'audit.jsonl')})\n`);
        return;
      }
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

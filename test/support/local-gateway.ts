import type { Server } from 'node:http';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { mintApiKey } from '../../lib/identity/api-key.js';
import type { ApiKeyRecord } from '../../lib/identity/api-key-record.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { MemoryAuditSink } from '../../lambdas/inference/audit.js';
import { mintDevToken } from '../../lambdas/inference/dev-keys.js';
import { createLocalGateway, type LocalGatewayOptions } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { closeGateway } from '../../lib/cli/serve-shutdown.js';
import type { GatewayStore } from '../../lambdas/inference/stores/gateway-store.js';
import type { ApiKeyStore } from '../../lambdas/identity/stores/api-key-store.js';
import { tempDir } from './temp-dirs.js';

/** `tessera serve` in this process, on a free loopback port, with a fresh state directory. */
export async function serveGateway(config: PlatformConfig, upstreamUrl: string, tenants: TenantRecord[], extra: Partial<LocalGatewayOptions> = {}) {
  const stateDir = tempDir('tessera-serve-');
  const { gateway, store, audit, keysFile, jobs, apiKeys, cacheFlights, batchesIdle, stopBatches } = await createLocalGateway({ config, stateDir, upstreamUrl, tenants, memoryAudit: true, ...extra });
  const server: Server = await startLocalServer(gateway, { port: 0, maxBytes: config.gateway.maxRequestBytes });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
  return {
    url,
    stateDir,
    store: store as GatewayStore,
    audit: audit as MemoryAuditSink,
    token: (tenantId: string, claims: Record<string, string> = {}) => mintDevToken(keysFile, { tenantId, ...claims }),
    /** The key store (`<stateDir>/api-keys/` unless `extra.apiKeys`). */
    apiKeys: apiKeys as ApiKeyStore,
    /**
     * A tenant API key written straight into the key store (no service rules): role `member`
     * unless given; `fields` override the record (models, limits, expiresAt, revokedAt...).
     */
    apiKey: async (tenantId: string, fields: Partial<ApiKeyRecord> = {}): Promise<{ key: string; record: ApiKeyRecord }> => {
      const minted = mintApiKey(tenantId);
      const record: ApiKeyRecord = {
        tenantId, keyHash: minted.keyHash, keyId: minted.keyId, hint: minted.hint, name: `test key of ${tenantId}`, role: 'member',
        createdBy: 'admin:test', createdAt: new Date().toISOString(), ...fields,
      };
      await apiKeys!.put(record);
      return { key: minted.key, record };
    },
    keysFile,
    jobs,
    /** The response cache's single flights (response-cache/single-flight.ts): `waiting` tells a test its followers wait. */
    cacheFlights,
    /** Resolves once the work serve runs off its requests (batches, background responses, vector store files) has ended. */
    idle: batchesIdle,
    /**
     * Resolves once no request is being handled and what the handled ones left is done: audit records
     * stored, budget alert checks and lastUsedAt writes ended (Gateway.settled). The test's barrier
     * after a request whose record is written after its answer (a caller that left mid-stream).
     */
    settled: () => gateway.settled(),
    /**
     * The first step of `tessera serve`'s stop alone (stopBatches), its server still open: what a request in flight at
     * the stop (its body read before the port closed) then starts. stop() does it too.
     */
    stopWork: stopBatches,
    /**
     * As `tessera serve` stops: its batch runs start no more line (stopBatches), the server closed, the work in flight
     * ended (batchesIdle: its answers written), then every audit record and key write of its requests stored (Gateway.settled).
     */
    stop: () => {
      stopBatches();
      return closeGateway(server, gateway, { work: batchesIdle });
    },
  };
}

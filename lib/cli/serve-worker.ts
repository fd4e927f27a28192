// One event loop of `tessera serve --workers N`: its own gateway and server on the shared port,
// the registry and budgets in the SharedMemoryStore every thread shares.
import { parentPort, workerData } from 'node:worker_threads';
import type { TenantRecord } from '../tenant-record.js';
import type { ProviderName } from '../../lambdas/inference/providers/registry.js';
import type { ServeJwtSettings } from './serve-setup.js';
import { configSourcesFromContext, loadConfig } from '../config/load-config.js';
import { createLocalGateway } from '../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../lambdas/inference/local-server.js';
import { closeGateway, STOP_WORKER } from './serve-shutdown.js';
import { SharedMemoryStore } from '../../lambdas/inference/stores/shared-memory-store.js';
import { FileAlertMarkers } from '../../lambdas/inference/budget-alerts/markers.js';
import { join } from 'node:path';

export interface ServeWorkerData {
  configFile?: string;
  stateDir: string;
  upstream?: string;
  upstreamKey?: string;
  /** The `--provider-keys` file's keys by secret name (createLocalGateway's providerKeys). */
  providerKeys?: Readonly<Record<string, string>>;
  tenants: TenantRecord[];
  /** The providers serve can reach (providerRoutes in serve-setup.ts). */
  providers: ProviderName[];
  buffer: SharedArrayBuffer;
  /** The identity provider's token settings (`--jwt-issuer` ...). @default - the dev key */
  jwt?: ServeJwtSettings;
  port: number;
  /** Whether this thread runs again the batches a stopped serve left unfinished (createLocalGateway's resumeBatches): the first thread only, so each is run once. */
  resumeBatches: boolean;
  /** The serve process's id, the same in every thread (createLocalGateway's serveId). */
  serveId: string;
  /** One access line per answered request (createLocalGateway's accessLog): false with `--no-access-log`. */
  accessLog: boolean;
}

/** What a worker posts once: `listening`, or why it could not start (an Error does not cross threads intact). */
export type ServeWorkerMessage = 'listening' | { error: { message: string; code?: string; stack?: string } };

const data = workerData as ServeWorkerData;
try {
  const config = loadConfig(configSourcesFromContext((key) => (key === 'tessera:configFile' ? data.configFile : undefined)));
  const { gateway, stopBatches, batchesIdle } = await createLocalGateway({
    config, stateDir: data.stateDir, upstreamUrl: data.upstream, upstreamKey: data.upstreamKey, providerKeys: data.providerKeys, tenants: data.tenants, providers: data.providers, jwt: data.jwt,
    store: new SharedMemoryStore(data.buffer, data.tenants),
    // Budget alert markers every thread of this serve sees (the threads share one pid; a new serve starts with none, as its counters do).
    alertMarkers: new FileAlertMarkers(join(data.stateDir, 'budget-alerts', String(process.pid))),
    resumeBatches: data.resumeBatches, serveId: data.serveId, accessLog: data.accessLog,
  });
  const server = await startLocalServer(gateway, { port: data.port, maxBytes: config.gateway.maxRequestBytes, reusePort: true });
  parentPort!.on('message', (m: unknown) => {
    if (m !== STOP_WORKER) return;
    // Requests in flight are cut (their audit records say cancelled), then every record and key
    // write is stored before the thread ends (serve-shutdown.ts closeGateway); its batch runs start no more line first,
    // and the work in flight (a batch line's call, a background response, a vector store file's embeddings) ends and is written.
    stopBatches();
    void closeGateway(server, gateway, { work: batchesIdle }).then(() => process.exit(0));
  });
  parentPort!.postMessage('listening' satisfies ServeWorkerMessage);
} catch (e) {
  const error = e as NodeJS.ErrnoException;
  parentPort!.postMessage({ error: { message: error.message, code: error.code, stack: error.stack } } satisfies ServeWorkerMessage);
}

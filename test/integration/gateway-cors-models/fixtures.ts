import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { GatewayPolicy, type TenantRecord } from '../../../lib/tenant-record.js';
import { mintDevToken } from '../../../lambdas/inference/dev-keys.js';
import type { GatewayDeps } from '../../../lambdas/inference/gateway.js';
import { createLocalGateway, localTenant } from '../../../lambdas/inference/local-gateway.js';
import { startLocalServer } from '../../../lambdas/inference/local-server.js';
import { tenantOrigins } from '../../../lambdas/inference/stores/cors-origins.js';
import { conformanceConfig } from '../../support/gateway-config.js';
import { tempDir } from '../../support/temp-dirs.js';
import { pythonScriptCommand } from '../../support/python-zygote.js';

/** Browser origins of the tenants below. */
export const ACME_APP = 'https://app.acme.example';
export const GLOBEX_APP = 'http://localhost:5173';
export const STRANGER = 'https://evil.example';

/** Model ids with `/` and `:` that the clients must send and the gateway must find. */
export const IDS = {
  bedrock: 'bedrock/anthropic.claude-3-5-haiku',
  twoSlashes: 'huggingface/meta-llama/Llama-3.1-8B-Instruct',
  configuredFineTuned: 'sagemaker/ft:nova:acme:support',
  othersFineTuned: 'sagemaker/ft:nova:globex:sales',
  recordFineTuned: 'ft:llama-3.1-8b-instruct:acme:support-v2',
  embedding: 'openai-compatible/embed-small',
} as const;

const model = (id: string, upstream: string, extra: Record<string, unknown> = {}) => ({ id, upstream, inputPricePer1k: 0.001, outputPricePer1k: 0.002, maxOutputTokens: 100, ...extra });

/**
 * Aliases of the config (`gateway.modelAliases`): a bare name for the HuggingFace id with two
 * slashes (outside the starter tier), and one for the chat model the CORS cases call.
 */
export const ALIASES = { 'llama-3.1-8b-instruct': IDS.twoSlashes, chat: 'openai-compatible/default' } as const;

/** The conformance config plus a Bedrock model, a HuggingFace id with two slashes and an embedding model, and {@link ALIASES}. */
export function corsModelsConfig(): PlatformConfig {
  const config = conformanceConfig();
  return {
    ...config,
    gateway: {
      ...config.gateway,
      modelAliases: { ...ALIASES },
      models: [
        ...config.gateway.models,
        model(IDS.bedrock, 'anthropic.claude-3-5-haiku-20241022-v1:0'),
        model(IDS.twoSlashes, 'meta-llama/Llama-3.1-8B-Instruct'),
        model(IDS.embedding, 'embed-small', { kind: 'embedding', outputPricePer1k: 0 }),
      ] as PlatformConfig['gateway']['models'],
    },
  };
}

const policy = (allowedOrigins?: string[]) => GatewayPolicy.parse({
  fallbacks: [], guardrails: { redactPii: false, redactResponses: false, promptInjectionScreen: false }, auditPromptText: false, ...(allowedOrigins ? { allowedOrigins } : {}),
});

/** When acme's fine-tuned model of its registry record was deployed: its `Model.created`. */
export const RECORD_FINE_TUNED_CREATED_AT = '2026-12-01T00:00:00.000Z';

/**
 * acme (enterprise) allows ACME_APP and owns a fine-tuned model in its record; globex
 * (enterprise) allows GLOBEX_APP; initech (starter: bedrock and openai only) allows none.
 */
export function corsModelsTenants(): TenantRecord[] {
  return [
    localTenant('acme', 'enterprise', {
      gateway: policy([ACME_APP]),
      fineTunedModels: [{ id: IDS.recordFineTuned, baseModel: 'llama-3.1-8b-instruct', jobId: 'ftjob-1', endpointName: 'acme-support-v2', createdAt: RECORD_FINE_TUNED_CREATED_AT }],
    }),
    localTenant('globex', 'enterprise', { gateway: policy([GLOBEX_APP]) }),
    localTenant('initech', 'starter', { gateway: policy() }),
  ];
}

/** Headers of a browser preflight for a POST the official Node SDK would send from a page. */
export const sdkPreflight = (origin: string, method = 'POST') => ({
  origin,
  'access-control-request-method': method,
  'access-control-request-headers': 'authorization,content-type,x-stainless-arch,x-stainless-lang,x-stainless-os,x-stainless-package-version,x-stainless-retry-count,x-stainless-runtime,x-stainless-runtime-version,x-stainless-timeout',
});

/** The response's CORS headers (`access-control-*`), by lower-case name. */
export const corsHeadersOf = (headers: Headers) => Object.fromEntries([...headers].filter(([k]) => k.startsWith('access-control-')));

export interface Retrieved { id: string; ok: boolean; model?: any; status?: number; type?: string; error?: any; path: string | null }

/** `client.models.retrieve(id)` with the official Node client, and the request path it sent. */
export async function nodeRetrieve(baseURL: string, apiKey: string, id: string): Promise<Retrieved> {
  let path: string | null = null;
  const client = new OpenAI({
    baseURL, apiKey, maxRetries: 0, timeout: 20_000,
    fetch: (url, init) => ((path = new URL(String(url)).pathname), fetch(url, init)),
  });
  try {
    return { id, ok: true, model: JSON.parse(JSON.stringify(await client.models.retrieve(id))), path };
  } catch (e) {
    if (!(e instanceof OpenAI.APIError)) throw e;
    return { id, ok: false, status: e.status, type: e.constructor.name, error: e.error, path };
  }
}

/**
 * `client.models.retrieve(id)` for each case of a batch, in order, with the official Python client
 * (retrieve_model.py): one Python process for the batches of a test file (started by the first, its
 * start mostly `import openai`, ~0.9 s of CPU), and per batch a client per API key, as before when
 * each batch had a process of its own. {@link stop} in the file's afterAll.
 */
export class PythonRetriever {
  private child?: ChildProcessWithoutNullStreams;
  private lines?: AsyncIterator<string>;
  private stderr = '';
  /** Batches one after the other: the process answers them in order. */
  private turn: Promise<unknown> = Promise.resolve();

  /** The answers to `cases`, one per case, in order; rejects when the process fails or takes over 60 s. */
  retrieve(baseURL: string, cases: Array<{ apiKey: string; id: string }>): Promise<Retrieved[]> {
    const answer = this.turn.then(() => this.batch(baseURL, cases));
    this.turn = answer.catch(() => undefined);
    return answer;
  }

  private async batch(baseURL: string, cases: Array<{ apiKey: string; id: string }>): Promise<Retrieved[]> {
    if (!this.child) {
      const root = join(import.meta.dirname, '..', '..', '..');
      this.child = spawn(...pythonScriptCommand(join(root, '.venv', 'bin', 'python'), join(import.meta.dirname, 'retrieve_model.py')), { stdio: ['pipe', 'pipe', 'pipe'] });
      this.child.stderr.on('data', (d) => { this.stderr += String(d); });
      // A failed start or a write to a process that died: said in the batch's error (its stdout ends), never an uncaught 'error'.
      this.child.on('error', (e) => { this.stderr += `${e.message}\n`; });
      this.child.stdin.on('error', (e) => { this.stderr += `stdin: ${e.message}\n`; });
      this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    }
    const child = this.child;
    const fail = (why: string) => new Error(`retrieve_model.py: ${why}\n${this.stderr}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { child.kill('SIGKILL'); reject(fail('no answer within 60 s')); }, 60_000);
    });
    try {
      child.stdin.write(`${JSON.stringify({ base_url: baseURL, cases: cases.map((c) => ({ api_key: c.apiKey, id: c.id })) })}\n`);
      const out: Retrieved[] = [];
      for (;;) {
        const next = await Promise.race([this.lines!.next(), timeout]);
        if (next.done) throw fail(`exited (${child.exitCode ?? child.signalCode}) before it answered`);
        const line = JSON.parse(next.value) as Retrieved & { done?: boolean };
        if (line.done) return out;
        out.push(line);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the process (end of its stdin; killed after 2 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killer);
  }
}

/**
 * `tessera serve`'s gateway (createLocalGateway + startLocalServer, as serve builds it) on a free
 * loopback port, with its origin index from the tenants' policies.
 */
export async function serveCorsModels(upstreamUrl: string, tenants = corsModelsTenants()) {
  const stateDir = tempDir('tessera-cors-');
  const config = corsModelsConfig();
  const { gateway, keysFile } = await createLocalGateway({ config, stateDir, upstreamUrl, tenants, memoryAudit: true });
  // Until local-gateway.ts passes `corsOrigins: tenantOrigins(options.tenants ?? [])` (engineer R's file; the
  // wiring is in the issue-14 report), the index is given here exactly as that line would give it.
  const deps = (gateway as unknown as { deps: GatewayDeps }).deps;
  deps.corsOrigins ??= tenantOrigins(tenants);
  const server: Server = await startLocalServer(gateway, { port: 0, maxBytes: config.gateway.maxRequestBytes });
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${origin}/v1`,
    token: (tenantId: string) => mintDevToken(keysFile, { tenantId }),
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

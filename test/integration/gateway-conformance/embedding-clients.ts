import type { ClientName, Outcome } from './clients.js';
import { PythonDriver, nodeClient, nodeError, plain } from './official-clients.js';

/**
 * The two official clients for the embeddings cells: `client.embeddings.create` (and, for the
 * kind-mismatch cells, `client.chat.completions.create`) of the `openai` npm package in this
 * process, and of the `openai` Python package through test/conformance/python/embeddings_driver.py.
 * Both answer with clients.ts's `Outcome`, so a cell is written once and run by each. Neither
 * client is told an `encoding_format` unless the cell says so: both then ask for base64 and
 * decode it themselves, as applications get it.
 */
export type EmbedOp = 'embed' | 'chat';

async function nodeCall(baseURL: string, apiKey: string, op: EmbedOp, params: Record<string, unknown>): Promise<Outcome> {
  const client = nodeClient(baseURL, apiKey);
  try {
    if (op === 'embed') return { ok: true, result: plain(await client.embeddings.create(params as never)) };
    return { ok: true, result: plain(await client.chat.completions.create({ ...(params as Record<string, unknown>), stream: false } as never)) };
  } catch (e) {
    return { ok: false, error: nodeError(e) };
  }
}

/** embeddings_driver.py: one process, JSON lines in and out, calls answered in order. */
export class PythonEmbeddingsClient {
  private constructor(private readonly driver: PythonDriver<Outcome>) {}

  static async start(): Promise<PythonEmbeddingsClient> {
    return new PythonEmbeddingsClient(await PythonDriver.start<Outcome>('embeddings_driver.py', 'the Python embeddings driver'));
  }

  call(baseURL: string, apiKey: string, op: EmbedOp, params: Record<string, unknown>): Promise<Outcome> {
    return this.driver.send({ op, base_url: baseURL, api_key: apiKey, params });
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}

/** Runs `op` with the named client. */
export function runEmbeddingClient(client: ClientName, python: PythonEmbeddingsClient | undefined, baseURL: string, apiKey: string, op: EmbedOp, params: Record<string, unknown>): Promise<Outcome> {
  if (client === 'node') return nodeCall(baseURL, apiKey, op, params);
  if (!python) throw new Error('the Python embeddings driver is not running');
  return python.call(baseURL, apiKey, op, params);
}

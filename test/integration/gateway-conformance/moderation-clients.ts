import type { ClientName, Outcome } from './clients.js';
import { PythonDriver, nodeClient, nodeError, plain } from './official-clients.js';

/**
 * The two official clients for the moderations cells: `client.moderations.create` (and, for the
 * kind-mismatch cells, `client.chat.completions.create` and `client.embeddings.create`) of the
 * `openai` npm package in this process, and of the `openai` Python package through
 * test/conformance/python/moderations_driver.py, which also validates each answer strictly against
 * the SDK's `ModerationCreateResponse` (`validated`). Both answer with clients.ts's `Outcome`.
 */
export type ModerationOp = 'moderate' | 'chat' | 'embed';

/** An Outcome, and whether the Python SDK's pydantic model validated the answer strictly (python only). */
export type ModerationOutcome = Outcome & { validated?: boolean };

async function nodeCall(baseURL: string, apiKey: string, op: ModerationOp, params: Record<string, unknown>): Promise<ModerationOutcome> {
  const client = nodeClient(baseURL, apiKey);
  try {
    if (op === 'moderate') return { ok: true, result: plain(await client.moderations.create(params as never)) };
    if (op === 'embed') return { ok: true, result: plain(await client.embeddings.create(params as never)) };
    return { ok: true, result: plain(await client.chat.completions.create({ ...params, stream: false } as never)) };
  } catch (e) {
    return { ok: false, error: nodeError(e) };
  }
}

/** moderations_driver.py: one process, JSON lines in and out. */
export class PythonModerationsClient {
  private constructor(private readonly driver: PythonDriver<ModerationOutcome>) {}

  static async start(): Promise<PythonModerationsClient> {
    return new PythonModerationsClient(await PythonDriver.start<ModerationOutcome>('moderations_driver.py', 'the Python moderations driver'));
  }

  call(baseURL: string, apiKey: string, op: ModerationOp | 'categories', params: Record<string, unknown>): Promise<ModerationOutcome> {
    return this.driver.send({ op, base_url: baseURL, api_key: apiKey, params });
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}

/** Runs `op` with the named client (the Python driver moderates only: chat and embeddings cells are the Node client's). */
export function runModerationClient(client: ClientName, python: PythonModerationsClient | undefined, baseURL: string, apiKey: string, op: ModerationOp, params: Record<string, unknown>): Promise<ModerationOutcome> {
  if (client === 'node' || op !== 'moderate') return nodeCall(baseURL, apiKey, op, params);
  if (!python) throw new Error('the Python moderations driver is not running');
  return python.call(baseURL, apiKey, op, params);
}

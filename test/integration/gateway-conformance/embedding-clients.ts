import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import type { ClientError, ClientName, Outcome } from './clients.js';

/**
 * The two official clients for the embeddings cells: `client.embeddings.create` (and, for the
 * kind-mismatch cells, `client.chat.completions.create`) of the `openai` npm package in this
 * process, and of the `openai` Python package through test/conformance/python/embeddings_driver.py.
 * Both answer with clients.ts's `Outcome`, so a cell is written once and run by each. Neither
 * client is told an `encoding_format` unless the cell says so: both then ask for base64 and
 * decode it themselves, as applications get it.
 */
export type EmbedOp = 'embed' | 'chat';

const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function nodeError(e: unknown): ClientError {
  if (e instanceof OpenAI.APIError) {
    const headers: Record<string, string> = {};
    const h = e.headers as unknown;
    if (h instanceof Headers) h.forEach((v, k) => (headers[k.toLowerCase()] = v));
    return { status: e.status ?? null, body: e.error ?? null, headers, type: e.constructor.name, message: e.message };
  }
  const err = e as Error;
  return { status: null, body: null, headers: {}, type: err?.constructor?.name ?? 'Error', message: err?.message ?? String(e) };
}

async function nodeCall(baseURL: string, apiKey: string, op: EmbedOp, params: Record<string, unknown>): Promise<Outcome> {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
  try {
    if (op === 'embed') return { ok: true, result: plain(await client.embeddings.create(params as never)) };
    return { ok: true, result: plain(await client.chat.completions.create({ ...(params as Record<string, unknown>), stream: false } as never)) };
  } catch (e) {
    return { ok: false, error: nodeError(e) };
  }
}

/** embeddings_driver.py: one process, JSON lines in and out, calls answered in order. */
export class PythonEmbeddingsClient {
  private child!: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (out: Outcome) => void>();
  private next = 1;
  private stderr = '';

  static async start(): Promise<PythonEmbeddingsClient> {
    const c = new PythonEmbeddingsClient();
    const root = join(import.meta.dirname, '..', '..', '..');
    c.child = spawn(join(root, '.venv', 'bin', 'python'), [join(root, 'test', 'conformance', 'python', 'embeddings_driver.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    c.child.stderr.on('data', (d) => (c.stderr += String(d)));
    const lines = createInterface({ input: c.child.stdout });
    await new Promise<void>((resolve, reject) => {
      c.child.once('exit', (code) => reject(new Error(`the Python embeddings driver exited (${code}) before it was ready: ${c.stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Outcome & { id?: number; ready?: boolean };
        if (msg.ready) return resolve();
        const done = c.waiting.get(msg.id!);
        c.waiting.delete(msg.id!);
        done?.(msg);
      });
    });
    return c;
  }

  call(baseURL: string, apiKey: string, op: EmbedOp, params: Record<string, unknown>): Promise<Outcome> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, op, base_url: baseURL, api_key: apiKey, params })}\n`, (e) => e && reject(e));
    });
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** Runs `op` with the named client. */
export function runEmbeddingClient(client: ClientName, python: PythonEmbeddingsClient | undefined, baseURL: string, apiKey: string, op: EmbedOp, params: Record<string, unknown>): Promise<Outcome> {
  if (client === 'node') return nodeCall(baseURL, apiKey, op, params);
  if (!python) throw new Error('the Python embeddings driver is not running');
  return python.call(baseURL, apiKey, op, params);
}

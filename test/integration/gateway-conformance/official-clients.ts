import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import { pythonScriptCommand } from '../../support/python-zygote.js';

/**
 * What the conformance suites' two official clients share, whatever the endpoint: the Node
 * client's construction and error shape (clients.ts, embedding-clients.ts,
 * ../responses-conformance/clients.ts keep only their calls), and the long-lived Python driver
 * process speaking JSON lines (test/conformance/python/driver_io.py is its other end).
 */

export interface ClientError {
  /** HTTP status (null for an error event in a stream). */
  status: number | null;
  /** The `error` object of the answer or event. */
  body: any;
  headers: Record<string, string>;
  type: string;
  message: string;
}

/** `v` as JSON would carry it (what the Python driver sends back too); `undefined` becomes null. */
export const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v ?? null));

/** The official Node client for one call (`maxRetries: 0` unless asked: every upstream call the gateway makes is its own; 20 s timeout). */
export function nodeClient(baseURL: string, apiKey: string, maxRetries = 0): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries, timeout: 20_000 });
}

/** What the application saw of a failure: an `OpenAI.APIError`'s status, `error` body and lower-cased headers; any other error's type and message. */
export function nodeError(e: unknown): ClientError {
  if (e instanceof OpenAI.APIError) {
    const headers: Record<string, string> = {};
    const h = e.headers as unknown;
    if (h instanceof Headers) h.forEach((v, k) => (headers[k.toLowerCase()] = v));
    else if (h && typeof h === 'object') for (const [k, v] of Object.entries(h)) headers[k.toLowerCase()] = String(v);
    return { status: e.status ?? null, body: e.error ?? null, headers, type: e.constructor.name, message: e.message };
  }
  const err = e as Error;
  return { status: null, body: null, headers: {}, type: err?.constructor?.name ?? 'Error', message: err?.message ?? String(e) };
}

/** The driver interpreters: `.venv` (openai 3.x and the frameworks on it), `.venv-legacy-clients` (openai 1.x, LlamaIndex, instructor). */
export type DriverVenv = '.venv' | '.venv-legacy-clients';

/**
 * One Python driver process (`<venv>/bin/python test/conformance/python/<script>`): requests are
 * JSON lines on its stdin, each answered by one line carrying the request's `id`. `start`
 * resolves once the driver wrote `{"ready": true}` (its imports done) and throws, with the
 * driver's stderr, if it exits before that.
 */
export class PythonDriver<Out> {
  private child!: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (out: Out) => void>();
  private next = 1;
  private stderr = '';

  private constructor() {}

  /**
   * @param script file name under test/conformance/python/ (e.g. `driver.py`)
   * @param label how errors name it (e.g. `the Python driver`)
   * @param venv the interpreter's virtualenv at the checkout's root @default '.venv'
   */
  static async start<Out>(script: string, label: string, venv: DriverVenv = '.venv'): Promise<PythonDriver<Out>> {
    const d = new PythonDriver<Out>();
    const root = join(import.meta.dirname, '..', '..', '..');
    d.child = spawn(...pythonScriptCommand(join(root, venv, 'bin', 'python'), join(root, 'test', 'conformance', 'python', script)), { stdio: ['pipe', 'pipe', 'pipe'] });
    d.child.stderr.on('data', (chunk) => (d.stderr += String(chunk)));
    const lines = createInterface({ input: d.child.stdout });
    await new Promise<void>((resolve, reject) => {
      d.child.once('exit', (code) => reject(new Error(`${label} exited (${code}) before it was ready: ${d.stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Out & { id?: number; ready?: boolean };
        if (msg.ready) return resolve();
        const done = d.waiting.get(msg.id!);
        d.waiting.delete(msg.id!);
        done?.(msg);
      });
    });
    return d;
  }

  /** Sends `request` with a fresh `id`; resolves with the driver's answer to it. */
  send(request: Record<string, unknown>): Promise<Out> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, ...request })}\n`, (e) => e && reject(e));
    });
  }

  /** Closes its stdin and waits up to 2 s for it to exit, then kills it. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    if (this.child.exitCode === null) this.child.kill();
  }
}

import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';

/**
 * The five commands that start a lifecycle operation wait for the admin API's answer under untilStartAnswered
 * (lib/cli/interrupted-start.ts, whose own test covers its message): a Ctrl-C while the request is in flight says the
 * request id and how to get the operation back (s40h found the CLI ended silently). Here the request reaches a loopback
 * admin API that holds it, SIGINT is emitted, and only then is it answered (API Gateway's 504), with process.exit
 * stubbed so the command runs to its end in this process.
 */
let server: Server;
let url = '';
const seen: Array<{ idempotencyKey?: string; requestId?: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) as { requestId?: string } : {};
      seen.push({ idempotencyKey: req.headers['idempotency-key'] as string | undefined, requestId: body.requestId });
      // The operator's Ctrl-C while the answer is awaited; the answer comes after it.
      process.emit('SIGINT');
      setImmediate(() => res.writeHead(504, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Endpoint request timed out' })));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
afterEach(() => vi.restoreAllMocks());

const interrupted = (what: string, id: string) =>
  `interrupted (Ctrl-C) before the admin API answered: if it received the request, the ${what} may have started: its request id is ${id}; `
  + `the same command with --request-id ${id} answers with that ${what} (or starts it), tessera tenants watch acme follows it\n`;

describe('a Ctrl-C while a lifecycle command waits for the admin API names the request id', () => {
  it.each([
    ['onboarding', ['tenants', 'create', '--id', 'acme', '--name', 'Acme', '--tier', 'starter', '--admin-email', 'ops@acme.example.com']],
    ['change', ['tenants', 'update', 'acme', '--tier', 'professional']],
    ['suspend', ['tenants', 'suspend', 'acme']],
    ['resume', ['tenants', 'resume', 'acme']],
    ['offboarding', ['tenants', 'delete', 'acme', '--yes']],
  ])('%s: exit 130 and the line with the request id it sent', async (what, args) => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as typeof process.exit);
    seen.length = 0;
    const before = process.listenerCount('SIGINT');
    const out = await runTesseraInProcess(url, ...args);
    const sent = seen[0]!.requestId ?? seen[0]!.idempotencyKey!;
    expect(sent).toMatch(/^cli-/);
    expect(exit).toHaveBeenCalledWith(130);
    expect(out.stderr.startsWith(interrupted(what, sent))).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it('with --json: the same words as one JSON error line, the first line of stderr (type interrupted, code start_unanswered); exit 130', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as typeof process.exit);
    seen.length = 0;
    const out = await runTesseraInProcess(url, '--json', 'tenants', 'suspend', 'acme');
    const sent = seen[0]!.idempotencyKey!;
    expect(exit).toHaveBeenCalledWith(130);
    expect(JSON.parse(out.stderr.split('\n')[0]!)).toEqual({ error: { message: interrupted('suspend', sent).trimEnd(), type: 'interrupted', code: 'start_unanswered' } });
  });

  it('with --json, a command without a Ctrl-C of its own (tenants list) says it as one JSON line too, code command_stopped; exit 130; no listener left', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as typeof process.exit);
    const before = process.listenerCount('SIGINT');
    const out = await runTesseraInProcess(url, '--json', 'tenants', 'list', '--status', 'ACTIVE');
    expect(exit).toHaveBeenCalledWith(130);
    expect(JSON.parse(out.stderr.split('\n')[0]!)).toEqual({ error: {
      message: 'interrupted (Ctrl-C) before tessera tenants list ended; anything it had started goes on', type: 'interrupted', code: 'command_stopped',
    } });
    expect(process.listenerCount('SIGINT')).toBe(before);
    // Without --json: no listener, Node's default action (the process ends, 130, nothing said)
    exit.mockClear();
    const text = await runTesseraInProcess(url, 'tenants', 'list');
    expect(exit).not.toHaveBeenCalledWith(130);
    expect(text.stderr).not.toMatch(/interrupted/);
  });
});

import { createServer } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { closeGateway } from '../../../lib/cli/serve-shutdown.js';

describe('closeGateway', () => {
  it('closes the server, then waits for the gateway to settle', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const order: string[] = [];
    server.on('close', () => order.push('server closed'));
    await closeGateway(server, { settled: async () => void order.push('settled') });
    expect(order).toEqual(['server closed', 'settled']);
    expect(server.listening).toBe(false);
  });

  // Before session 44, serve exited once its requests had settled, while its batch runs were still writing the answers of the lines in
  // flight at the stop: SIGTERM 4.5 s into a 12-line batch (upstream answering in 3 s, 4 lines at once) kept 3 of the 4
  // answers, and the next serve ran the fourth again (13 upstream calls for 12 lines).
  it('waits for the work told to stop (batch lines in flight write their answers) before the gateway settles, within the same grace', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const order: string[] = [];
    let endWork!: () => void;
    const work = new Promise<void>((done) => { endWork = done; });
    const closing = closeGateway(server, { settled: async () => void order.push('settled') }, { work: () => work.then(() => void order.push('work ended')) });
    await vi.waitFor(() => expect(server.listening).toBe(false));
    await new Promise((tick) => setImmediate(tick));
    expect(order).toEqual([]);
    endWork();
    await closing;
    expect(order).toEqual(['work ended', 'settled']);
  });

  it('does not hang on work that never ends: gives up after graceMs, as for the gateway', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const settled = vi.fn(async () => undefined);
    await closeGateway(server, { settled }, { graceMs: 50, work: () => new Promise<void>(() => undefined) });
    expect(settled).not.toHaveBeenCalled();
    expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^tessera serve: stopped without waiting longer than 0\.05 s/));
    stderr.mockRestore();
  });

  it('does not hang on a gateway that never settles: gives up after graceMs with a line on stderr', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await closeGateway(server, { settled: () => new Promise<void>(() => undefined) }, { graceMs: 50 });
    expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^tessera serve: stopped without waiting longer than 0\.05 s for requests and background work to end: their answers \(batch lines, background responses: the next serve runs or settles them\), audit records, budget alerts or API key lastUsedAt may be missing\n$/));
    stderr.mockRestore();
  });
});

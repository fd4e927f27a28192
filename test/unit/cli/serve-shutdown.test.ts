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

  it('does not hang on a gateway that never settles: gives up after graceMs with a line on stderr', async () => {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await closeGateway(server, { settled: () => new Promise<void>(() => undefined) }, 50);
    expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/^tessera serve: stopped without waiting longer than 0\.05 s for requests to end: their audit records, budget alerts or API key lastUsedAt may be missing\n$/));
    stderr.mockRestore();
  });
});

import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkPortFree, ServeError } from '../../../lib/cli/serve-setup.js';

// `tessera serve` probes its port before it builds any gateway (lib/cli/serve-command.ts): a busy
// port is refused with the listen error's own line, without the tokenizer and threads it would
// have thrown away. The probe must refuse what the real listen refuses, and nothing else.

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((ok) => s.close(ok))));
});

/** A listener on 127.0.0.1 (any free port), as another process on the port would be. */
async function holding(reusePort: boolean): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((ok) => server.listen({ port: 0, host: '127.0.0.1', reusePort }, ok));
  return (server.address() as AddressInfo).port;
}

describe('checkPortFree', () => {
  it('refuses a port another socket listens on: exit 1, the line a failed listen prints', async () => {
    const port = await holding(false);
    for (const reusePort of [false, true]) {
      const e = await checkPortFree(port, reusePort).then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(ServeError);
      expect((e as ServeError).exitCode).toBe(1);
      expect((e as ServeError).message).toBe(`--port ${port}: 127.0.0.1:${port} is already in use (another tessera serve?); stop that process or pick a free port with --port <n>`);
    }
  });

  it('as --workers threads listen (SO_REUSEPORT), a port they could share is not refused; one event loop\'s listen is', async () => {
    const port = await holding(true);
    await expect(checkPortFree(port, true)).resolves.toBeUndefined();
    await expect(checkPortFree(port, false)).rejects.toBeInstanceOf(ServeError);
  });

  it('leaves a free port free (the probe is closed), and probes nothing for port 0', async () => {
    const port = await holding(false);
    await new Promise((ok) => servers.pop()!.close(ok));
    await checkPortFree(port, false);
    const again = createServer();
    servers.push(again);
    await new Promise<void>((ok, fail) => { again.once('error', fail); again.listen({ port, host: '127.0.0.1' }, ok); });
    await expect(checkPortFree(0, false)).resolves.toBeUndefined();
  });
});

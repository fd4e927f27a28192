import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOnFreePort } from '../../support/free-port.js';
import { tempDir } from '../../support/temp-dirs.js';

/** A child standing in for `tessera serve --workers N`: refuses its first `busy` starts as serve refuses a taken port, then listens. */
const child = (dir: string, busy: number) => (port: number) => spawn(process.execPath, ['-e', `
  const fs = require('node:fs'); const [f, port, busy] = process.argv.slice(1);
  const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0) + 1; fs.writeFileSync(f, String(n));
  if (n <= Number(busy)) { process.stderr.write('tessera serve: --port ' + port + ': 127.0.0.1:' + port + ' is already in use\\n'); process.exit(1); }
  process.stdout.write('tessera gateway on http://127.0.0.1:' + port + '/v1\\n'); setTimeout(() => {}, 60000);
`, join(dir, 'starts'), String(port), String(busy)], { stdio: ['ignore', 'pipe', 'pipe'] });

describe('startOnFreePort (a child told its port: tessera serve --workers)', () => {
  it('starts again on another port when the child says its port is already in use, and returns the one that listens', async () => {
    const dir = tempDir('tessera-free-port-');
    const { child: started, port } = await startOnFreePort(child(dir, 2), (out) => out.includes('tessera gateway on'));
    try {
      expect(port).toBeGreaterThan(0);
    } finally {
      started.kill();
    }
  });

  it('gives up after its attempts, and says why (the child\'s output), as for any other exit before ready', async () => {
    const dir = tempDir('tessera-free-port-');
    await expect(startOnFreePort(child(dir, 5), (out) => out.includes('tessera gateway on'), 2)).rejects.toThrow(/exited 1: .*is already in use/);
  });
});

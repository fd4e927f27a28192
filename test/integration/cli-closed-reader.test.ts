import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `tessera … | head -c 0`: the reader of the CLI's output closes the pipe before the CLI writes. Through the entry
 * `npx tessera` starts (bin/tessera.mjs): the pipe's read end is closed as soon as the process is spawned, so the
 * CLI's first write fails with EPIPE. Before, Node's unhandled 'error' event crashed it (exit 1, `Error: write EPIPE`
 * and a stack trace on stderr); it exits 0 without a word (lib/cli/closed-reader.ts says why 0).
 */
const bin = join(import.meta.dirname, '..', '..', 'bin', 'tessera.mjs');

describe('the CLI whose reader closed the pipe', () => {
  it('exits 0 with nothing on stderr (tessera --help | head -c 0)', async () => {
    const child = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  }, 60_000);
});

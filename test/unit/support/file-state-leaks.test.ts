import { spawn } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { transform } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { childPids, endLeaks, leakError, openTempFiles, snapshot } from '../../support/file-state-leaks.js';
import { tempDir } from '../../support/temp-dirs.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return childPids().has(pid);
  } catch {
    return false;
  }
};

describe("the after-file check of project shared-reset's and shared-integration's files (test/support/file-state.ts)", () => {
  it('ends the children, servers and sockets a file left running (unref\'d too), puts back what it replaced, and names each', async () => {
    // GIVEN a file that starts a child, a server with a client connection, and changes process state
    const before = snapshot();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    // unref'd (as moto-zygote.ts's lifeline to a forked server is): they keep no event loop alive, and are found all the same
    socket.unref();
    server.unref();
    const onExit = () => {};
    process.on('exit', onExit);
    const fetchBefore = globalThis.fetch;
    globalThis.fetch = (() => Promise.reject(new Error('stubbed'))) as typeof fetch;
    process.exitCode = 3;
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));

    // WHEN the check runs after the file
    const leaks = await endLeaks(before, 100);

    // THEN each is named, and ended or put back
    process.stdout.write = write; // (put back by the check already; restored here too so a failure prints)
    expect(leaks.map((l) => l.kind).sort()).toEqual(['child process', 'exit code', 'global', 'process listener', 'server', 'socket', 'stdout/stderr'].sort());
    expect(leaks.find((l) => l.kind === 'child process')?.what).toContain(`pid ${child.pid}: ${process.execPath} -e setTimeout`);
    expect(leaks.find((l) => l.kind === 'server')?.what).toBe(`listening on 127.0.0.1:${port}`);
    expect(leaks.find((l) => l.kind === 'process listener')?.what).toBe("'exit': onExit");
    expect(leaks.find((l) => l.kind === 'global')?.what).toBe('globalThis.fetch replaced');
    expect(await exited).toBe('SIGKILL');
    expect(alive(child.pid!)).toBe(false);
    expect(server.listening).toBe(false);
    expect(socket.destroyed).toBe(true);
    expect(process.listeners('exit')).not.toContain(onExit);
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(process.exitCode).toBe(before.exitCode);
    expect(process.stdout.write).toBe(before.stdoutWrite);
  });

  it('finds nothing when the file stopped what it started, and waits for a child that is ending', async () => {
    const before = snapshot();
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await new Promise((r) => server.close(r));
    // killed but not yet reaped when the check starts: the check waits for it rather than report it
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    child.kill('SIGTERM');
    expect(await endLeaks(before, 5_000)).toEqual([]);
  });

  it("leaves alone what a library keeps per process from its first use, as it would in a process of the file's own", async () => {
    const before = snapshot();
    // esbuild's service child
    await transform('const a = 1', { loader: 'ts' });
    const service = [...childPids()].filter((pid) => !before.children.has(pid));
    expect(service).toHaveLength(1);
    // aws-cdk-lib's cloud assembly registers this exit listener when its module is first loaded
    const CloudAssembly = { cleanupTemporaryDirectories: () => {} };
    const cleanup = () => CloudAssembly.cleanupTemporaryDirectories();
    process.on('exit', cleanup);
    try {
      expect(await endLeaks(before, 100)).toEqual([]);
      expect(alive(service[0])).toBe(true);
      expect(process.listeners('exit')).toContain(cleanup);
    } finally {
      process.removeListener('exit', cleanup);
    }
  });

  // s47l: a test left a FileHandle open (DirBatchFileStore.appendable, never committed); garbage collection closed it some
  // files later in the worker, and Node's DEP0137 warning landed in a CLI test's captured stderr, failing that test.
  it('names a FileHandle left open on a file under its temp dirs (removed or not), without closing it, and waits for one being closed', async () => {
    const dir = tempDir('tessera-file-state-fd-');
    await writeFile(join(dir, 'kept.txt'), 'x');
    await writeFile(join(dir, 'gone.txt'), 'x');
    const before = snapshot();
    const kept = await open(join(dir, 'kept.txt'), 'r');
    const gone = await open(join(dir, 'gone.txt'), 'r');
    const closing = await open(join(dir, 'kept.txt'), 'r');
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'gone.txt'));
    try {
      setTimeout(() => void closing.close(), 20);
      const leaks = await endLeaks(before, 1_000);
      expect(leaks.filter((l) => l.kind === 'open file').map((l) => l.what).sort()).toEqual([
        `${join(dir, 'gone.txt')} (deleted) (fd ${gone.fd}): a FileHandle or stream never closed`,
        `${join(dir, 'kept.txt')} (fd ${kept.fd}): a FileHandle or stream never closed`,
      ]);
      expect(closing.fd).toBe(-1);
      // Not closed by the check: the FileHandle still owns its descriptor.
      expect(kept.fd).toBeGreaterThan(2);
      expect(openTempFiles()).toContain(`${kept.fd} ${join(dir, 'kept.txt')}`);
    } finally {
      await kept.close();
      await gone.close();
    }
    expect(await endLeaks(before, 0)).toEqual([]);
    // A descriptor on a file outside this process's temp dirs is not the check's (vitest's and Node's own files).
    const outside = await open(new URL(import.meta.url), 'r');
    try {
      expect([...openTempFiles()].filter((f) => f.startsWith(`${outside.fd} `))).toEqual([]);
    } finally {
      await outside.close();
    }
  });

  it('fails the file with every leak named and what was done about it', () => {
    const error = leakError('test/integration/x.test.ts', [{ kind: 'server', what: 'listening on 127.0.0.1:4000', done: 'closed' }]);
    expect(error.message).toMatch(/^test\/integration\/x\.test\.ts left process-wide state behind in its shared worker/);
    expect(error.message).toContain('\n  - server listening on 127.0.0.1:4000 (closed)');
  });
});

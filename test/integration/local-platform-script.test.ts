import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * s24u: a new user could not try `tessera tenants apply` locally: no local admin API stayed up for their own commands
 * (the README pointed to a vitest case). `npm run local-platform` (test/demo/local-platform-server.ts) starts moto and the
 * local platform, prints the `export` line for another shell, and stops everything on SIGINT or SIGTERM.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const dir = tempDir('local-platform-script-');
let child: ChildProcess | undefined;
afterEach(() => { if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });

/** Whether something accepts a TCP connection at `url`'s host and port. */
const listening = (url: string) => new Promise<boolean>((resolve) => {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => { socket.destroy(); resolve(true); });
  socket.on('error', () => resolve(false));
});

/** Whether process `pid` still exists (signal 0 checks without sending anything). */
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('npm run local-platform', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('prints the export line; tessera tenants apply --dry-run runs against it from another process; %s stops the admin API, moto and itself (exit 0)', async (signal) => {
    // The script's entry as npm runs it (tsx), in one process so the signal reaches it as Ctrl-C reaches a terminal's.
    child = spawn(process.execPath, ['--import', 'tsx', 'test/demo/local-platform-server.ts'], { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.on('exit', (code, signal) => resolve({ code, signal })));
    const exportLine = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString('utf8');
        const line = /^ {2}export (.*)$/m.exec(stdout)?.[1];
        if (line && stdout.includes('Tiers')) resolve(line);
      });
      void exited.then((e) => reject(new Error(`local-platform exited before it was up (${JSON.stringify(e)}): ${stderr}`)));
    });
    const env = Object.fromEntries(exportLine.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(env).toEqual({ TESSERA_API_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: '' });
    const moto = /AWS \(moto\) (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect(stdout).toContain('npx tessera tenants apply -f tenants.yaml --dry-run');

    // Another shell with the printed variables (and none of this process's admin API settings).
    const file = join(dir, 'tenants.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: localco, name: Local Co, tier: starter, adminEmail: ops@localco.example.com }\n');
    const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), 'tenants', 'apply', '-f', file, '--dry-run'], { env: { ...process.env, TESSERA_API_URL: '', ...env } },
        (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }));
    });
    expect([cli.code, cli.stderr]).toEqual([0, '']);
    expect(cli.stdout).toMatch(/ {2}create {7}localco {2}tier starter, request apply-localco-[0-9a-f]{12}\n/);
    expect(cli.stdout).toContain('dry run: nothing changed');

    // s25d: `tessera tenants usage` answered 500 "internal error; see the admin API logs" here (no usage table; the logs
    // silenced). An onboarded tenant's usage is now read from the local platform's usage table: nothing used yet.
    const tessera = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'bin', 'tessera.mjs'), ...args], { env: { ...process.env, TESSERA_API_URL: '', ...env } },
        (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }));
    });
    const created = await tessera('tenants', 'create', '--id', 'localco', '--name', 'Local Co', '--tier', 'starter', '--admin-email', 'ops@localco.example.com', '--watch', '--interval', '0.2');
    expect([created.code, created.stderr]).toEqual([0, '']);
    const usage = await tessera('tenants', 'usage', 'localco');
    expect([usage.code, usage.stderr]).toEqual([0, '']);
    expect(usage.stdout).toMatch(/^month \d{4}-\d{2}\s+0\s+0\.000000000\s+0$/m);

    // What it started as its children (tsx's esbuild service): gone with it.
    const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' }).stdout.split('\n').map((s) => Number(s.trim())).filter(Boolean);
    child.kill(signal);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toContain(`${signal}: letting running executions end, then stopping the admin API and moto\nstopped\n`);
    expect(await listening(env.TESSERA_API_URL!)).toBe(false);
    expect(await listening(moto)).toBe(false);
    for (const pid of children) {
      // A child ends once its parent's pipes close; waited for, not timed.
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid), `child ${pid}`).toBe(false);
    }
  }, 300_000);

  /** The script run to its end with `args` (a safety timeout: it stops on SIGTERM, as on Ctrl-C). */
  const runScript = (...args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'test/demo/local-platform-server.ts', ...args], { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, timeout: 120_000, killSignal: 'SIGTERM' },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });

  // s24x: the admin API took a free port each start, so the printed TESSERA_API_URL changed every run (a shell's
  // export, a saved profile went stale). --port <n> binds it on 127.0.0.1:<n>.
  it('serves the admin API on 127.0.0.1:<n> with --port <n>, the export line\'s TESSERA_API_URL naming it; SIGTERM stops it there', async () => {
    const port = await freePort();
    child = spawn(process.execPath, ['--import', 'tsx', 'test/demo/local-platform-server.ts', '--port', String(port)], { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString('utf8');
        if (stdout.includes('Tiers')) resolve();
      });
      void exited.then((e) => reject(new Error(`local-platform exited before it was up (${JSON.stringify(e)}): ${stderr}`)));
    });
    const url = `http://127.0.0.1:${port}/v1`;
    expect(stdout).toContain(`  admin API  ${url}\n`);
    expect(stdout).toContain(`  export TESSERA_API_URL=${url} `);
    const tiers = await fetch(`${url}/admin/tiers`);
    expect(tiers.status).toBe(200);
    expect(((await tiers.json()) as { tiers: Array<{ name: string }> }).tiers.map((t) => t.name)).toEqual(['starter', 'professional', 'enterprise']);
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(await listening(url)).toBe(false);
  }, 300_000);

  it('refuses a taken --port in one line naming it (exit 1), and a --port that is no port (exit 2); --help lists --port', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const held = (holder.address() as AddressInfo).port;
    try {
      const taken = await runScript('--port', String(held));
      expect([taken.code, taken.stdout]).toEqual([1, '']);
      expect(taken.stderr.split('\n').filter((l) => l.startsWith('local-platform:'))).toEqual([
        `local-platform: port ${held} on 127.0.0.1 is taken (EADDRINUSE): another process listens there; give another --port, or none for a free one`,
      ]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
    for (const [args, message] of [
      [['--port', 'abc'], '--port "abc" is not a port: an integer 1-65535'],
      [['--port=70000'], '--port "70000" is not a port: an integer 1-65535'],
      [['--port'], '--port needs a value: an integer 1-65535'],
      [['--prot', '8080'], 'unknown argument "--prot": the only option is --port <n> (see --help)'],
    ] as const) {
      expect(await runScript(...args), args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `local-platform: ${message}\n` });
    }
    const help = await runScript('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: npm run local-platform \[-- --port <n>\]/);
    expect(help.stdout).toMatch(/^ {2}--port <n> {2}the admin API's port on 127\.0\.0\.1/m);
  }, 300_000);
});

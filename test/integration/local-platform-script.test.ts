import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { bundledEntry, tesseraBundle } from '../support/cli-bundle.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dirs.js';

/**
 * A new user could not try `tessera tenants apply` locally: no local admin API stayed up for their own commands
 * (the README pointed to a vitest case). `npm run local-platform` (test/demo/local-platform-server.ts) starts moto and the
 * local platform, prints the `export` line for another shell, and stops everything on SIGINT or SIGTERM.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const dir = tempDir('local-platform-script-');
/**
 * A platform team's own config for --config: a home region other than the default's (us-west-2, with the base models'
 * images there, as SageMaker needs) and a tier of its own beside the default's (a copy of starter in a pool of its own).
 */
const OWN_CONFIG = join(dir, 'own.config.json');
writeFileSync(OWN_CONFIG, JSON.stringify({
  homeRegion: 'us-west-2',
  allowedRegions: ['us-west-2', 'us-east-1'],
  fineTuning: {
    baseModels: DEFAULT_CONFIG.fineTuning.baseModels.map((m) => ({ ...m, trainingImage: m.trainingImage.replace('.us-east-1.', '.us-west-2.'), servingImage: m.servingImage.replace('.us-east-1.', '.us-west-2.') })),
  },
  tiers: { 'lab-pool': { ...DEFAULT_CONFIG.tiers.starter, network: { ...DEFAULT_CONFIG.tiers.starter.network, tenantCidrPool: '10.128.0.0/12' } } },
}));
/** A config synth refuses (a tier name with a capital). */
const BAD_CONFIG = join(dir, 'bad.config.yaml');
writeFileSync(BAD_CONFIG, 'tiers:\n  Lab: {}\n');
/** Each started script is killed after its case (or cases) at the latest, should one fail before it stops it. */
const killIfRunning = (child: ChildProcess | undefined) => { if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };

/** Whether something accepts a TCP connection at `url`'s host and port. */
const listening = (url: string) => new Promise<boolean>((resolve) => {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => { socket.destroy(); resolve(true); });
  socket.on('error', () => resolve(false));
});

/** Whether process `pid` still exists (signal 0 checks without sending anything). */
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** The script's entry: what `npm run local-platform` runs (package.json, checked below). */
const SCRIPT = 'test/demo/local-platform-server.ts';

/** A started script: its process, what it printed so far, and its exit. */
interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node <nodeArgs>` in the project as the script's one process (so a signal reaches it as Ctrl-C reaches a terminal's); resolves once it printed its Tiers line. */
async function startScript(nodeArgs: readonly string[], onStart: (child: ChildProcess) => void): Promise<Started> {
  const started = spawn(process.execPath, nodeArgs, { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: ['ignore', 'pipe', 'pipe'] });
  onStart(started);
  let stdout = '';
  let stderr = '';
  started.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => started.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    started.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      if (stdout.includes('Tiers')) resolve();
    });
    void exited.then((e) => reject(new Error(`local-platform exited before it was up (${JSON.stringify(e)}): ${stderr}`)));
  });
  return { child: started, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * The case both signals share: the export line holds the variables another shell needs; `tessera tenants apply
 * --dry-run`, `tenants create --watch` and `tenants usage` (`cli`: the CLI's entry) run against it from another
 * process with them; `signal` then stops the admin API, moto, the script's children and the script itself (exit 0).
 * `region`: the export line's AWS_REGION, the config's homeRegion. Returns the admin API's URL.
 */
async function exportApplyAndStop(s: Started, cli: string, signal: 'SIGINT' | 'SIGTERM', region = 'us-east-1'): Promise<string> {
  const line = /^ {2}unset ([A-Z_ ]+); export (.*)$/m.exec(s.stdout());
  expect(line, s.stdout()).not.toBeNull();
  const [, unset, exportLine] = line!;
  const env = Object.fromEntries(exportLine!.split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  // AWS_PROFILE unset: a shell exporting it (the deploy guide's AWS_PROFILE=platform-admin) signed with that profile
  // instead of these keys (the SDK prefers it, with a warning); emptied, as the line had it, the AWS CLI refused it.
  expect(unset!.split(' ')).toEqual(['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN']);
  // AWS_ENDPOINT_URL: moto's, printed above it (the line lacked it: the AWS CLI and SDKs a user ran next went to real AWS).
  const moto = /AWS \(moto\) (http:\/\/127\.0\.0\.1:\d+)/.exec(s.stdout())![1]!;
  expect(env).toEqual({ TESSERA_API_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), AWS_ENDPOINT_URL: moto, AWS_REGION: region, AWS_DEFAULT_REGION: region, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  // The banner names the server's own pid, the one to kill from another shell (npm's own pid ends npm alone): here the script's process.
  expect(s.stdout()).toContain(`  server pid ${s.child.pid} (stop it from another shell: kill ${s.child.pid})\n`);
  // Which --blueprint-version the local catalog has was said nowhere a user would look (the upgrade guide's 0.2.0
  // is refused here: unknown_blueprint_version).
  expect(s.stdout()).toContain('\nBlueprint versions (the catalog): 1.0.0, 2.0.0; new tenants get the platform\'s, 1.0.0; to move one: npx tessera tenants update <id> --blueprint-version 2.0.0\n');
  // The apply line named -f tenants.yaml, a file nobody had (the example was only in docs/tenant-lifecycle.md): it names
  // the checkout's examples/tenants.yaml, and runs as printed from where npm runs the script (the project root).
  const applyLine = /^ {2}npx tessera (tenants apply -f \S+ --dry-run) {3}# an example of this checkout: copy it to write your own$/m.exec(s.stdout());
  expect(applyLine, s.stdout()).not.toBeNull();
  expect(applyLine![1]).toBe('tenants apply -f examples/tenants.yaml --dry-run');

  // Another shell with the printed variables (and none of this process's admin API settings), which exports a profile
  // of its own as the deploy guide's shells do (this machine has no such profile: signing with it is refused).
  const otherShell: NodeJS.ProcessEnv = { ...process.env, TESSERA_API_URL: '', AWS_PROFILE: 'platform-admin', AWS_SESSION_TOKEN: 'a-session-token', AWS_CONFIG_FILE: join(dir, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials') };
  for (const k of unset!.split(' ')) delete otherShell[k];
  const cliRun = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, ...applyLine![1]!.split(' ')], { cwd: ROOT, env: { ...otherShell, ...env } },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }));
  });
  expect([cliRun.code, cliRun.stderr]).toEqual([0, '']);
  for (const [id, tier] of [['acme', 'starter'], ['beta', 'professional'], ['newco', 'starter']]) {
    expect(cliRun.stdout).toMatch(new RegExp(`^ {2}create +${id} +tier ${tier}, request apply-${id}-[0-9a-f]{12}$`, 'm'));
  }
  expect(cliRun.stdout).toContain('dry run: nothing changed');

  // `tessera tenants usage` answered 500 "internal error; see the admin API logs" here (no usage table; the logs
  // silenced). An onboarded tenant's usage is now read from the local platform's usage table: nothing used yet.
  const tessera = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...otherShell, ...env } },
      (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out, stderr: err }));
  });
  const created = await tessera('tenants', 'create', '--id', 'localco', '--name', 'Local Co', '--tier', 'starter', '--admin-email', 'ops@localco.example.com', '--watch', '--interval', '0.2');
  expect([created.code, created.stderr]).toEqual([0, '']);
  const usage = await tessera('tenants', 'usage', 'localco');
  expect([usage.code, usage.stderr]).toEqual([0, '']);
  expect(usage.stdout).toMatch(/^month \d{4}-\d{2}\s+0\s+0\.000000000\s+0$/m);
  // A command that calls AWS itself (SQS) reaches the local platform's moto with the printed line alone: no ENOTFOUND sqs.<region>.amazonaws.com.
  const dlq = await tessera('dlq', 'list');
  expect([dlq.code, dlq.stderr, dlq.stdout]).toEqual([0, '', `no queues named tessera-dlq-* in account 123456789012, region ${region} (check --region and --profile)\n`]);

  // What it started as its children (through tsx: tsx's esbuild service): gone with it.
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(s.child.pid)], { encoding: 'utf8' }).stdout.split('\n').map((x) => Number(x.trim())).filter(Boolean);
  s.child.kill(signal);
  expect(await s.exited).toEqual({ code: 0, signal: null });
  expect(s.stderr()).toContain(`${signal}: letting running executions end, then stopping the admin API and moto\nstopped\n`);
  expect(await listening(env.TESSERA_API_URL!)).toBe(false);
  expect(await listening(moto)).toBe(false);
  for (const pid of children) {
    // A child ends once its parent's pipes close; waited for, not timed.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid), `child ${pid}`).toBe(false);
  }
  return env.TESSERA_API_URL!;
}

describe('npm run local-platform', () => {
  it('is `tsx test/demo/local-platform-server.ts`, the entry these cases run (through tsx as npm does, or bundled from it)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['local-platform']).toBe(`tsx ${SCRIPT}`);
  });

  it('prints the export line; tessera tenants apply --dry-run runs against it from another process; SIGINT stops the admin API, moto and itself (exit 0)', async () => {
    // The script's entry as npm runs it (tsx), and the CLI as `npx tessera` starts it.
    let child: ChildProcess | undefined;
    onTestFinished(() => killIfRunning(child));
    const started = await startScript(['--import', 'tsx', SCRIPT], (c) => { child = c; });
    await exportApplyAndStop(started, join(ROOT, 'bin', 'tessera.mjs'), 'SIGINT');
  }, 300_000);

  // The admin API took a free port each start, so the printed TESSERA_API_URL changed every run (a shell's
  // export, a saved profile went stale). --port <n> binds it on 127.0.0.1:<n>.
  // One start for the two cases below, of the same entry bundled (test/support/cli-bundle.ts: the same program
  // without tsx's start-up cost; the case above runs it through tsx), with the CLI bundled too.
  // The local platform ran the default config only, so a platform team could not try its own tiers (names, a
  // tier change between two of them, a DR tier's failover-plan) or its home region there. --config <file> runs it with
  // theirs; this start takes one of a home region of its own (us-west-2) and a tier of its own (lab-pool) beside the
  // default's three, so the cases below see both.
  describe('started with --port <n> --config <file> (one start, bundled, for both cases)', () => {
    let port: number;
    let started: Started;
    let cli: string;
    let child: ChildProcess | undefined;
    beforeAll(async () => {
      const [script, tessera] = await Promise.all([bundledEntry(SCRIPT, ['test/demo', 'test/support', 'test/integration/support', 'scripts/help-flag.ts']), tesseraBundle()]);
      cli = tessera;
      port = await freePort();
      started = await startScript([script, '--port', String(port), '--config', OWN_CONFIG], (c) => { child = c; });
    }, 300_000);
    afterAll(() => killIfRunning(child));

    it('serves the admin API on 127.0.0.1:<n> with --port <n>, the export line\'s TESSERA_API_URL naming it', async () => {
      const url = `http://127.0.0.1:${port}/v1`;
      expect(started.stdout()).toContain(`  admin API  ${url}\n`);
      expect(started.stdout()).toContain(`; export TESSERA_API_URL=${url} `);
      const tiers = await fetch(`${url}/admin/tiers`);
      expect(tiers.status).toBe(200);
      expect(((await tiers.json()) as { tiers: Array<{ name: string }> }).tiers.map((t) => t.name)).toEqual(['starter', 'professional', 'enterprise', 'lab-pool']);
      expect(started.stdout()).toContain(`\nTiers (${OWN_CONFIG}): starter, professional, enterprise, lab-pool\n`);
      expect(started.stdout()).toContain(`--api-url ${url} --region us-west-2 on each command`);
    });

    it('prints the export line; tessera tenants apply --dry-run runs against it from another process; SIGTERM stops the admin API on <n>, moto and itself (exit 0)', async () => {
      expect(await exportApplyAndStop(started, cli, 'SIGTERM', 'us-west-2')).toBe(`http://127.0.0.1:${port}/v1`);
    }, 300_000);
  });

  /** The script run to its end with `args` (a safety timeout: it stops on SIGTERM, as on Ctrl-C), `nodeArgs` before tsx's. */
  const runScriptWith = (nodeArgs: readonly string[], ...args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [...nodeArgs, '--import', 'tsx', 'test/demo/local-platform-server.ts', ...args], { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, timeout: 120_000, killSignal: 'SIGTERM' },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });
  const runScript = (...args: string[]) => runScriptWith([], ...args);
  /** A preload that prints at exit whether the process loaded the config schema (test/unit/cli/count-start-modules.mjs). */
  const COUNT_START_MODULES = join(ROOT, 'test', 'unit', 'cli', 'count-start-modules.mjs');

  it('refuses a taken --port in one line naming it (exit 1), and a --port that is no port or a --config that does not load (exit 2); --help lists both', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const held = (holder.address() as AddressInfo).port;
    try {
      const taken = await runScriptWith(['--import', COUNT_START_MODULES], '--port', String(held));
      expect([taken.code, taken.stdout]).toEqual([1, '']);
      expect(taken.stderr.split('\n').filter((l) => l.startsWith('local-platform:'))).toEqual([
        `local-platform: port ${held} on 127.0.0.1 is taken (EADDRINUSE): another process listens there; give another --port, or none for a free one`,
      ]);
      // Refused before the platform's modules (the harness, the config, the Lambda handlers) load.
      expect(taken.stderr).toContain('config schema loaded: 0\n');
    } finally {
      await new Promise((r) => holder.close(r));
    }
    for (const [args, message] of [
      [['--port', 'abc'], '--port "abc" is not a port: an integer 1-65535'],
      [['--port=70000'], '--port "70000" is not a port: an integer 1-65535'],
      [['--port'], '--port needs a value: an integer 1-65535'],
      [['--prot', '8080'], 'unknown argument "--prot": the options are --port <n> and --config <file> (see --help)'],
      [['--config'], '--config needs a value: the path of your tessera.config.yaml'],
      [['--config', join(dir, 'missing.yaml')], `--config ${join(dir, 'missing.yaml')}: Invalid Tessera config (${join(dir, 'missing.yaml')}):\n  - cannot read the config file: ENOENT: no such file or directory, open '${join(dir, 'missing.yaml')}'`],
      [['--config', BAD_CONFIG], `--config ${BAD_CONFIG}: Invalid Tessera config (embedded default + ${BAD_CONFIG}):\n  - ${BAD_CONFIG}: tiers.Lab = {}: a tier name must be a lower-case DNS label of 2-31 characters: a-z, 0-9 and "-", starting with a letter and not ending with "-" (it becomes part of stack, role, DNS names and Kubernetes labels); rename it to \`lab\``],
    ] as const) {
      expect(await runScript(...args), args.join(' ')).toEqual({ code: 2, stdout: '', stderr: `local-platform: ${message}\n` });
    }
    const help = await runScript('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: npm run local-platform \[-- --port <n>\]/);
    expect(help.stdout).toMatch(/^ {2}--port <n> +the admin API's port on 127\.0\.0\.1/m);
    expect(help.stdout).toMatch(/^ {2}--config <file> +your tessera\.config\.yaml/m);
  }, 300_000);
});

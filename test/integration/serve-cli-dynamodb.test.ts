import { execFile, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTenant } from '../../lambdas/inference/local-gateway.js';
import { tesseraBundle } from '../support/cli-bundle.js';
import { tempDir } from '../support/temp-dirs.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { startMoto, type MotoServer, pointSdkAtMoto } from './support/moto-server.js';

/**
 * `tessera serve --dynamodb` checks the registry table's tenants against the config's tiers before
 * it listens (a DynamoDB Scan, against moto): a serving tenant whose tier the config lacks is
 * refused with the tenant, its tier and the fix (exit 2); a table that does not exist likewise.
 *
 * serve runs as a real process: the CLI bundled once (test/support/cli-bundle.ts: bin/tessera.mjs's
 * program without tsx's start-up cost; serve-cli.test.ts runs bin/tessera.mjs itself).
 */
const cli = await tesseraBundle();
let moto: MotoServer;
let dir: string;
let env: NodeJS.ProcessEnv;

function serve(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0', ...args], { cwd: dir, env, timeout: 60_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = tempDir('tessera-test-serve-dynamodb-');
  moto = await startMoto();
  env = { ...process.env, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_SESSION_TOKEN: '' };
  pointSdkAtMoto(moto);
  await createGatewayTables([
    localTenant('acme', 'starter'),
    localTenant('globex', 'gold'),
    localTenant('initech', 'platinum', { status: 'UPDATING' }),
    localTenant('oldco', 'legacy', { status: 'OFFBOARDED' }), // not served: not checked
  ]);
  await createGatewayTables([localTenant('acme', 'starter'), localTenant('oldco', 'legacy', { status: 'OFFBOARDED' })], { registry: 'ok-tenants', usage: 'ok-usage' });
}, 120_000);
afterAll(async () => moto?.stop());

describe('tessera serve --dynamodb: the registry\'s tiers checked at start (moto)', () => {
  it('refuses serving tenants whose tier the config lacks, naming each, exit 2, no stack', async () => {
    const r = await serve('--dynamodb', 'tessera-tenants:tessera-usage');
    expect(r.stderr).toMatch(/^tessera serve: --dynamodb tessera-tenants: 2 tenants (globex \(ACTIVE, tier "gold"\), initech \(UPDATING, tier "platinum"\)|initech \(UPDATING, tier "platinum"\), globex \(ACTIVE, tier "gold"\)) have tiers that the embedded default config lacks \(its tiers: starter, professional, enterprise\); give the --config the platform was deployed with, or add the tiers to it$/m);
    expect(r.stderr).not.toMatch(/oldco/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(2);
  });

  it('starts when every serving tenant\'s tier exists (an offboarded one with a lost tier does not matter)', async () => {
    const child = spawn(process.execPath, [cli, 'serve', '--state-dir', dir, '--port', '0', '--dynamodb', 'ok-tenants:ok-usage'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => { err += String(d); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => { clearTimeout(killer); ok(code); }));
    await new Promise<void>((ok, fail) => {
      child.stdout!.on('data', (d) => { out += String(d); if (out.includes('sagemaker')) ok(); });
      void exited.then((code) => fail(new Error(`serve exited ${code}: ${out}${err}`)));
    });
    expect(out).toMatch(/^tessera gateway on http:\/\/127\.0\.0\.1:\d+\/v1 \(DynamoDB ok-tenants; /);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toBe('');
  });

  it('a table that does not exist: names it and the fix, exit 2', async () => {
    const r = await serve('--dynamodb', 'tessera-tenantz:tessera-usage');
    expect(r.stderr).toBe('tessera serve: --dynamodb tessera-tenantz: no such DynamoDB table in us-east-1; give the platform\'s registry table (tessera-tenants unless renamed) and its region (AWS_REGION)\n');
    expect(r.code).toBe(2);
  });
});

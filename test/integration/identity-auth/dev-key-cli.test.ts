import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devKeyCommand, devTokenCommand } from '../../../lib/cli/serve-command.js';
import { CliError } from '../../../lib/cli/cli-error.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { FakeUpstream } from '../../support/fake-upstream.js';
import { gatewayConfig } from '../../support/gateway-config.js';
import { serveGateway } from '../../support/local-gateway.js';
import { runTessera, runTesseraEntry } from '../support/tessera-cli.js';
import { tesseraBundle } from '../../support/cli-bundle.js';
import { tempDir } from '../../support/temp-dirs.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// `tessera dev-key` writes a key where a running `tessera serve --state-dir` reads it, and
// `tessera dev-token --role` takes only the roles of lib/identity/roles.ts.
// dev-token runs as a real process: its first run (the one that makes a dev key) through
// bin/tessera.mjs, the entry `npx tessera` starts; the others from the CLI bundled once
// (test/support/cli-bundle.ts: the same program without tsx's start-up cost, 0.5-1 s of CPU a run).
const cli = await tesseraBundle();
const devToken = (...args: string[]) => runTesseraEntry(cli, 'http://127.0.0.1:9', 'dev-token', ...args);

let upstream: FakeUpstream;
let gw: Awaited<ReturnType<typeof serveGateway>>;

beforeAll(async () => {
  upstream = await new FakeUpstream().start();
  gw = await serveGateway(gatewayConfig(), upstream.url, [localTenant('acme', 'enterprise')]);
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.stop();
});

/** Runs `tessera dev-key <args>` in this process: what it printed on stdout and stderr. */
async function devKey(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    await devKeyCommand().exitOverride().parseAsync(args, { from: 'user' });
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { stdout: out.join(''), stderr: err.join('') };
}

describe('tessera dev-key', () => {
  it('prints a key alone on stdout that the running serve accepts at once, with its role and models', async () => {
    const { stdout, stderr } = await devKey('--tenant', 'acme', '--role', 'developer', '--models', 'openai-compatible/default', '--state-dir', gw.stateDir);
    const key = stdout.trim();
    expect(key).toMatch(/^tsk_acme_[0-9A-Za-z]{43}$/);
    expect(stderr).toMatch(/^key_[0-9a-f]{16} \(developer\) of tenant acme in .*api-keys; shown once:\n$/);
    const res = await fetch(`${gw.url}/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['openai-compatible/default']);
    expect(gw.audit.records.at(-1)).toMatchObject({ tenantId: 'acme', role: 'developer', keyId: stderr.slice(0, 20) });
  });

  it('--json prints the record and the key; an expiring key carries expiresAt', async () => {
    const { stdout } = await devKey('--tenant', 'acme', '--expires-in-days', '7', '--json', '--state-dir', gw.stateDir);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ key: expect.stringMatching(/^tsk_acme_/), tenantId: 'acme', role: 'member', createdBy: 'admin:tessera dev-key', expiresAt: expect.any(String) });
    expect(out.keyHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [['--tenant', 'Acme!'], /^--tenant Acme!: not a tenant id/],
    [['--tenant', 'acme', '--role', 'owner'], /^--role owner: not a role; expected one of admin, developer, member, viewer/],
    [['--tenant', 'acme', '--expires-in-days', '0'], /^--expires-in-days 0: expected a whole number of days from 1 to 3650/],
    [['--tenant', 'acme', '--models', ' , '], /^--models  , : expected comma-separated model ids/],
  ])('refuses %j with a one-line CliError (exit 2)', async (args, message) => {
    const e = await devKey(...args, '--state-dir', gw.stateDir).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(2);
    expect((e as CliError).message).toMatch(message);
  });
});

describe('tessera dev-token --role', () => {
  it('refuses a role that does not exist, naming the roles (exit 2, no stack)', async () => {
    const run = await devToken('--tenant', 'acme', '--role', 'superuser', '--state-dir', gw.stateDir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--role superuser: not a role; expected one of admin, developer, member, viewer');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('says on stderr when it made a dev key (a token of another directory\'s key is refused by serve), and not when the key was there', async () => {
    const dir = tempDir('tessera-test-dev-token-');
    const first = await runTessera('http://127.0.0.1:9', 'dev-token', '--tenant', 'acme', '--state-dir', dir);
    expect(first.code).toBe(0);
    expect(first.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(first.stderr).toContain(`tessera dev-token: no dev key in ${join(dir, 'dev-keys.json')}: made one; tessera serve accepts tokens signed with the dev key of its own --state-dir`);
    const again = await devToken('--tenant', 'acme', '--state-dir', dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
  });

  it('mints a token of the role asked, which the gateway reads', async () => {
    const run = await devToken('--tenant', 'acme', '--role', 'viewer', '--state-dir', gw.stateDir);
    expect(run.code).toBe(0);
    const res = await fetch(`${gw.url}/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${run.stdout.trim()}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai-compatible/default', messages: [{ role: 'user', content: 'x' }] }) });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('role "viewer" lacks permission "inference"');
  });
});

describe('tessera dev-token refuses what serve would refuse, before it mints or makes a dev key', () => {
  it.each([
    [['--tenant', 'Acme'], /^--tenant Acme: not a tenant id/],
    [['--tenant', 'acme', '--expires', '99x'], /^--expires 99x: not a duration; expected a number and a unit, e\.g\. 15m, 1h, 8h or 2d/],
    [['--tenant', 'acme', '--expires', '1h ago'], /^--expires 1h ago: not a lifetime: the token would be expired when minted/],
    [['--tenant', 'acme', '--expires', '-5m'], /^--expires -5m: not a lifetime/],
    [['--tenant', 'acme', '--expires', '0s'], /^--expires 0s: not a lifetime/],
  ])('refuses %j with a one-line CliError (exit 2)', async (args, message) => {
    const dir = tempDir('tessera-test-dev-token-refused-');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const e = await devTokenCommand().exitOverride().parseAsync([...args, '--state-dir', dir], { from: 'user' }).then(() => undefined, (err: unknown) => err).finally(() => out.mockRestore());
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(2);
    expect((e as CliError).message).toMatch(message);
    expect(existsSync(join(dir, 'dev-keys.json'))).toBe(false);
  });

  it('takes the lifetimes jose takes: 15m, 8h, 2 days', async () => {
    const dir = tempDir('tessera-test-dev-token-lifetimes-');
    for (const expires of ['15m', '8h', '2 days']) {
      const run = await devToken('--tenant', 'acme', '--expires', expires, '--state-dir', dir);
      expect(run.code, run.stderr).toBe(0);
    }
  });
});

describe('a token or key minted for a tenant serve does not have (dev-token and dev-key cannot know serve\'s tenants: its command line\'s, maybe of a serve started later)', () => {
  const UNKNOWN = /^tenant "globex" is not registered: this gateway \(tessera serve\) serves only the tenants of its --tenant and --tenants-file options; start it with --tenant globex:<tier> \(or add globex to its tenants file\), or mint the token or key for one of its tenants$/;
  const models = async (credential: string) => {
    const res = await fetch(`${gw.url}/models`, { headers: { authorization: `Bearer ${credential}` } });
    return { status: res.status, error: ((await res.json()) as { error: { message: string; code: string } }).error };
  };

  it('a dev-key key: 403 unknown_tenant naming the tenant and where serve\'s tenants come from (not 401 "no such key"), audited with the key', async () => {
    const { stdout, stderr } = await devKey('--tenant', 'globex', '--state-dir', gw.stateDir);
    expect(await models(stdout.trim())).toEqual({ status: 403, error: expect.objectContaining({ code: 'unknown_tenant', message: expect.stringMatching(UNKNOWN) }) });
    expect(gw.audit.records.at(-1)).toMatchObject({ status: 403, outcome: 'unknown_tenant', tenantId: 'globex', keyId: stderr.slice(0, 20) });
    // A key the store does not hold stays the 401 that never says whether its tenant exists.
    expect(await models(`tsk_globex_${'0'.repeat(43)}`)).toMatchObject({ status: 401, error: { code: 'invalid_api_key' } });
  });

  it('a dev-token token: the same 403', async () => {
    const run = await devToken('--tenant', 'globex', '--state-dir', gw.stateDir);
    expect(run.code).toBe(0);
    expect(await models(run.stdout.trim())).toEqual({ status: 403, error: expect.objectContaining({ code: 'unknown_tenant', message: expect.stringMatching(UNKNOWN) }) });
  });
});

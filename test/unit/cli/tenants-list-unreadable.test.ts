import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTenants } from '../../../lib/cli/all-tenants.js';
import type { AdminClient } from '../../../lib/cli/admin-client.js';
import type { DriftPage, TenantPage } from '../../../lib/tenant-list-page.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';
import { tesseraBundle } from '../../support/cli-bundle.js';
import { tenant } from '../lifecycle/support.js';

/**
 * `GET /admin/tenants` names a record edited by hand into a shape the schema refuses in the page's `unreadable`
 * (TenantPage) instead of failing the page: `tessera tenants list` lists the others and warns of it on stderr, one
 * line each; a caller that acts on the whole registry (allTenants without a callback: teardown, apply) refuses to go on.
 */
const broken = { tenantId: 'broken', problems: ['blueprintVersion = 2: Invalid input: expected string, received number'] };
const page: TenantPage = { tenants: [tenant({ tenantId: 'alpha', status: 'ACTIVE' })], unreadable: [broken] };
const driftPage: DriftPage = { tenants: [{ tenantId: 'alpha', tier: 'starter', status: 'ACTIVE', drift: 'IN_SYNC', checkedAt: '2026-12-06T03:00:00.000Z', driftedResources: 0 }], unreadable: [broken] };
const bundle = await tesseraBundle();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(q.url?.startsWith('/prod/admin/drift') ? driftPage : page)));
  await new Promise<void>((ok) => server.listen({ port: 0, host: '127.0.0.1' }, ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile(process.execPath, [bundle, ...args], { timeout: 60_000, env: { ...process.env, TESSERA_API_URL: url, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true' } },
    (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
});

describe('tessera tenants list with an unreadable registry record', () => {
  it('lists the readable tenants and warns of the unreadable one on stderr, naming the field and value; exit 0', async () => {
    const out = await run(['tenants', 'list']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^alpha\s+starter\s+ACTIVE/m);
    expect(out.stderr).toBe('warning: left out of the list: tenant "broken": its registry record does not match the schema (blueprintVersion = 2: Invalid input: expected string, received number); correct the record (it was edited outside Tessera)\n');
    const json = await run(['tenants', 'list', '--json']);
    expect(JSON.parse(json.stdout).map((t: TenantRecord) => t.tenantId)).toEqual(['alpha']);
  }, 60_000);

  it('tessera tenants drift lists the readable rows and warns of the unreadable one on stderr (DriftPage `unreadable`); exit 0', async () => {
    const out = await run(['tenants', 'drift']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^alpha\s+starter\s+ACTIVE\s+IN_SYNC/m);
    expect(out.stderr).toBe('warning: left out of the drift list: tenant "broken": its registry record does not match the schema (blueprintVersion = 2: Invalid input: expected string, received number); correct the record (it was edited outside Tessera)\n');
  }, 60_000);

  it('allTenants without a callback (teardown, apply, platform health) refuses the list, naming the record', async () => {
    const api = { call: async () => page } as unknown as AdminClient;
    await expect(allTenants(api, {})).rejects.toThrow(/^tenant "broken": its registry record does not match the schema \(blueprintVersion = 2: /);
  });
});

import { describe, expect, it } from 'vitest';
import { runTesseraInProcess } from '../../integration/support/tessera-cli.js';
import { fakeAdminApi } from './fake-admin-api.js';

/**
 * A server that is not the admin API (the local platform's moto endpoint pasted for TESSERA_API_URL, a URL without the
 * stage behind a proxy) answers a 404 with an empty body or a JSON of its own: the CLI printed `error: HTTP 404` alone,
 * naming neither the URL nor what to check. Now it names both. Served on loopback.
 */
let answer: { status: number; body: unknown } = { status: 404, body: undefined };
const server = fakeAdminApi(() => answer);

describe('an answer that is not the admin API\'s', () => {
  it('an empty 404: names the URL, the empty body and what to check; exit 1', async () => {
    answer = { status: 404, body: undefined }; // JSON.stringify(undefined): nothing sent, as moto answers the admin API's paths
    const out = await runTesseraInProcess(server.url, 'tenants', 'list');
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`error: ${server.url} answered HTTP 404 with an empty body, not the admin API's {"error": …}: check --api-url / TESSERA_API_URL (the AdminApiUrl output of the TesseraPlatform stack); on the local platform, the admin API line it printed, not its AWS (moto) line\n`);
  });

  it('another service\'s JSON: quoted; the admin API\'s own error and API Gateway\'s message are said as before', async () => {
    answer = { status: 400, body: { __type: 'UnknownOperationException' } };
    const other = await runTesseraInProcess(server.url, 'tenants', 'list');
    expect(other.stderr).toContain(`answered HTTP 400 with a JSON body that is not the admin API's error ({"__type":"UnknownOperationException"})`);
    answer = { status: 500, body: null };
    const nullBody = await runTesseraInProcess(server.url, 'tenants', 'list');
    expect([nullBody.code, nullBody.stderr]).toEqual([1, expect.stringContaining('answered HTTP 500 with a JSON body that is not the admin API\'s error (null)')]);
    answer = { status: 404, body: { error: { code: 'tenant_not_found', message: 'tenant "nosuch" does not exist', param: 'id' } } };
    expect((await runTesseraInProcess(server.url, 'tenants', 'show', 'nosuch')).stderr).toBe('error: tenant "nosuch" does not exist (tenant_not_found, field id)\n');
    answer = { status: 502, body: { message: 'Internal server error' } };
    expect((await runTesseraInProcess(server.url, 'tenants', 'list')).stderr).toBe('error: Internal server error\n');
  });
});

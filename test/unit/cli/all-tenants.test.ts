import { describe, expect, it, vi } from 'vitest';
import { allTenants } from '../../../lib/cli/all-tenants.js';
import type { AdminClient } from '../../../lib/cli/admin-client.js';
import type { TenantPage } from '../../../lib/tenant-list-page.js';
import type { TenantRecord } from '../../../lib/tenant-record.js';

const record = (tenantId: string) => ({ tenantId }) as TenantRecord;
/** An admin client whose `GET /admin/tenants` answers `pages`, one per call, keyed by the nextToken sent. */
function apiWith(pages: Record<string, TenantPage>) {
  const call = vi.fn(async (_method: string, _path: string, _body?: unknown, query: Record<string, string | undefined> = {}) => {
    if (call.mock.calls.length > 20) throw new Error('allTenants called GET /admin/tenants more than 20 times');
    return pages[query.nextToken ?? ''];
  });
  return { api: { call } as unknown as AdminClient, call };
}

describe('tessera tenants list: every page', () => {
  it('follows nextToken to the last page, with the filters on every call, and sorts by tenant id', async () => {
    const { api, call } = apiWith({ '': { tenants: [record('zeta'), record('acme')], nextToken: 't1' }, t1: { tenants: [], nextToken: 't2' }, t2: { tenants: [record('mango')] } });
    expect((await allTenants(api, { status: 'ACTIVE', tier: undefined })).map((t) => t.tenantId)).toEqual(['acme', 'mango', 'zeta']);
    expect(call.mock.calls.map((c) => c[3])).toEqual([{ status: 'ACTIVE', tier: undefined, nextToken: undefined }, { status: 'ACTIVE', tier: undefined, nextToken: 't1' }, { status: 'ACTIVE', tier: undefined, nextToken: 't2' }]);
  });

  it('stops with an error when the API hands back the token it was sent', async () => {
    const { api } = apiWith({ '': { tenants: [record('acme')], nextToken: 'same' }, same: { tenants: [record('acme')], nextToken: 'same' } });
    await expect(allTenants(api, {})).rejects.toThrow(/answered the nextToken it was sent \(same\)/);
  });

  it('stops with an error when the API hands back the token of an earlier page (a loop of pages)', async () => {
    const { api, call } = apiWith({ '': { tenants: [record('acme')], nextToken: 'a' }, a: { tenants: [], nextToken: 'b' }, b: { tenants: [], nextToken: 'a' } });
    await expect(allTenants(api, {})).rejects.toThrow(/answered the nextToken of an earlier page \(a\); the list would never end/);
    expect(call).toHaveBeenCalledTimes(3);
  });
});

import { describe, expect, it } from 'vitest';
import { ADMIN_RESOURCES, ADMIN_ROUTES, adminApiMethods } from '../../../lib/admin-routes.js';

const { routes } = await import('../../../lambdas/admin/admin-api.js');

/**
 * The admin API's routes in one list (lib/admin-routes.ts), which constructs/admin-api.ts builds the REST API from: the
 * handler's table and the API Gateway methods were two lists, and a route in the table without its method in the
 * construct was unreachable in AWS (403 Missing Authentication Token) while every handler test passed.
 */
describe('admin API routes: the handler\'s table is the list the REST API is built from', () => {
  it('names the same routes as the handler\'s table, each once', () => {
    expect(new Set(ADMIN_ROUTES).size).toBe(ADMIN_ROUTES.length);
    expect([...ADMIN_ROUTES].sort()).toEqual(Object.keys(routes).sort());
  });

  it('gives each resource one method: its route\'s, or ANY where several routes share the resource (the handler answers another method 405)', () => {
    const methods = adminApiMethods();
    expect([...methods.keys()]).toEqual(ADMIN_RESOURCES);
    expect(Object.fromEntries([...methods].filter(([, m]) => m === 'ANY'))).toEqual({
      '/admin/tenants': 'ANY', '/admin/tenants/{id}': 'ANY', '/admin/tenants/{id}/gateway': 'ANY', '/admin/tenants/{id}/keys': 'ANY', '/admin/tenants/{id}/users': 'ANY', '/admin/drift': 'ANY',
    });
    expect(methods.get('/admin/tenants/{id}/execution')).toBe('GET');
    expect(methods.get('/admin/tiers')).toBe('GET');
  });
});

import type { Route } from './admin-http.js';

/** The admin API's tenant API keys: POST/GET /admin/tenants/{id}/keys, DELETE /admin/tenants/{id}/keys/{keyId}, POST /admin/tenants/{id}/keys/{keyId}/rotate. */
export const keysRoutes: Record<string, Route> = {};

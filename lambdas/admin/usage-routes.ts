import type { Route } from './admin-http.js';

/** The admin API's tenant usage by user or key: GET /admin/tenants/{id}/usage?by=user|key. */
export const usageRoutes: Record<string, Route> = {};

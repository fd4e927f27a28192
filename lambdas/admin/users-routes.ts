import type { Route } from './admin-http.js';

/** The admin API's tenant users: POST/GET /admin/tenants/{id}/users, POST /admin/tenants/{id}/users/{userId}/disable, PUT /admin/tenants/{id}/users/{userId}/role. */
export const usersRoutes: Record<string, Route> = {};

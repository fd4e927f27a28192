import type { TierList, TierSummary } from '../platform-tiers.js';
import { AdminApiError, type AdminClient } from './admin-client.js';

/**
 * The platform's tiers (`GET /admin/tiers`, lib/platform-tiers.ts TierList), or undefined when the admin API predates that
 * route: API Gateway answers a resource the API lacks with 403 Missing Authentication Token, the handler with 404
 * `no_route`. Only a caller that has already reached this API (another route answered) should read undefined so: a wrong
 * URL is answered the same way.
 * @throws AdminApiError as AdminClient.call, for any other failure
 */
export async function platformTiers(api: AdminClient): Promise<TierSummary[] | undefined> {
  return (await platformTierList(api))?.tiers;
}

/**
 * The whole answer of `GET /admin/tiers` (the tiers and the API's region), or undefined as {@link platformTiers}.
 * @throws AdminApiError as AdminClient.call, for any other failure
 */
export async function platformTierList(api: AdminClient): Promise<TierList | undefined> {
  try {
    return await api.call<TierList>('GET', '/admin/tiers');
  } catch (e) {
    if (e instanceof AdminApiError && (e.code === 'MissingAuthenticationToken' || (e.status === 404 && e.code === 'no_route'))) return undefined;
    throw e;
  }
}

import type { TenantRecord } from '../../lib/tenant-record.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { compareVersions } from './blueprints.js';
import type { LifecycleState } from './state.js';

/** The platform's version for a change that asks for none, or the tenant's own when that is newer (a change never downgrades by default). */
const notOlder = (platform: string, tenant: string | undefined) => (tenant !== undefined && compareVersions(tenant, platform) > 0 ? tenant : platform);

/**
 * The blueprint version a change deploys: the one asked for; a repair's and a tags-only change's (tagsOnly), the tenant's own; else the
 * platform's (env `TESSERA_BLUEPRINT_VERSION`), or the tenant's own when that is newer (`record`'s version: the record read, then
 * the one the lease returned). Read by *Begin change* and, for its refusal's words, *Check rebuilt stack*.
 */
export function versionOf(state: LifecycleState, record: TenantRecord): string {
  return state.change?.blueprintVersion ?? (state.change?.repair || tagsOnly(state) ? record.blueprintVersion : undefined) ?? notOlder(requireEnv(ENV.blueprintVersion), record.blueprintVersion);
}

/**
 * A change of the tenant's tags alone (`change.tags`, no tier, no blueprintVersion): it keeps the tenant's tier and version,
 * as a repair does. Before tags could change, a change naming neither tier nor version went to the platform's version.
 */
export const tagsOnly = (state: LifecycleState): boolean =>
  state.change?.tags !== undefined && state.change.tier === undefined && state.change.blueprintVersion === undefined;

import { tierList } from '../../lib/platform-tiers.js';
import { invitesByDefault } from '../../lib/tenant-record.js';
import { ENV, platformConfig } from '../shared/environment.js';
import { json, type AdminRoutes } from './admin-http.js';

/**
 * `GET /admin/tiers` (read-only, no query): the platform's tiers, each with its isolation and DR region (lib/platform-tiers.ts
 * TierList: isolation, DR region, the network fields a tier change reads and the compute mode, so a client can run the
 * API's own tier-change rule, tier-migration.ts migrationRefusal, on them), from the platform config the admin API checks requests against (`platformConfig()`, embedded at synth). A
 * client checks a tier before it sends a request naming it: `tessera tenants apply` checks every entry of its file this way
 * before it changes anything (the API refused an unknown tier per request, after earlier entries were applied). `invitesAdmin`:
 * whether an onboarding leaving `inviteAdmin` out invites its first admin (this Lambda's pool: invitesByDefault), so apply
 * checks the address as Cognito takes a Username (adminInviteProblem), as `POST /admin/tenants` does. `blueprintVersion`: the platform's
 * (ENV.blueprintVersion), the catalog's newest, which `tessera platform health` compares tenants' versions with.
 */
export const tiersRoutes: AdminRoutes = {
  'GET /admin/tiers': { query: null, idempotencyKey: 'no-op', handle: async () => {
    const version = process.env[ENV.blueprintVersion];
    return json(200, { ...tierList(platformConfig().tiers, process.env.AWS_REGION, invitesByDefault(process.env[ENV.userPoolId])), ...(version ? { blueprintVersion: version } : {}) });
  } },
};

import type { OnboardRequest } from '../../lib/tenant-record.js';
import type { DeployAnswer } from './executed-change-set.js';

/** The execution state the lifecycle state machines pass between steps (JSONPath `$`). */
export interface LifecycleState {
  /** Set by the first Pass state from `$$.Execution.Id`. */
  executionArn?: string;
  /**
   * `drRegion`: the tier's DR region (validate-request), present only for a tier with disaster recovery. `optInRegions`: the
   * opt-in regions an account tier's new account needs enabled (lib/config/region-opt-in.ts tierOptInRegions), present only
   * when there is one: the onboarding runs *Enable regions* only then.
   */
  request: OnboardRequest & { isolation?: 'account' | 'vpc'; computeMode?: 'none' | 'shared' | 'dedicated'; drRegion?: string; optInRegions?: string[] };
  /** Which blueprint a deploy/check step works on. */
  blueprint?: 'tenant' | 'namespace' | 'baseline' | 'dr';
  /** *Check blueprint*'s input: *Deploy blueprint*'s answer (`$.deploy`), the change set it executed (executed-change-set.ts). */
  deploy?: DeployAnswer;
  /** For `change` and `upgrade`: the target tier and version. */
  change?: {
    tier?: string; blueprintVersion?: string; previousTier?: string;
    /** The target tier's DR region (begin-change), present only when it has disaster recovery: its DR stack deploys first. */
    drRegion?: string;
    /** The target tier's opt-in regions (begin-change, tierOptInRegions), present only for an account tier that needs one: *Enable regions* runs first. */
    optInRegions?: string[];
    /** Lets destructive changes through (lib/tenant-record.ts ChangeRequest.allowReplacement). */
    allowReplacement?: { reason: string };
    /** Re-apply the blueprint through a drift-aware change set (ChangeRequest.repair). */
    repair?: boolean;
    /**
     * The tenant's own tags after the change, all of them (ChangeRequest.tags, lib/tenant-tags.ts TenantTags; `{}`: none):
     * put on every tenant stack by *Deploy blueprint* and *Deploy customizations* (tenantTagsOf), recorded by *Finish
     * change* (an account tenant's by *Tag account* already, as its account takes them). Absent: the recorded tags stay.
     */
    tags?: Record<string, string>;
    /**
     * An account tenant's tags or tier change, its repair, or a change after a failure (begin-change): *Tag account* puts
     * `tags` and, for a new tier, a repair or after a failure, `tessera:tier` on its AWS account after the stacks.
     */
    tagAccount?: boolean;
    /**
     * An account tenant's tier change, its repair, or a change after a failure (begin-change): *Move account* puts its AWS
     * account in the tier's OU (`tessera-<tier>`) before the stacks (lambdas/lifecycle/move-account.ts).
     */
    moveAccount?: boolean;
    /**
     * An account tenant whose last operation failed (its record's `failure`, begin-change): *Move account* and *Tag account*
     * run whatever the change changes, and *Tag account* puts `tessera:tier` as for a repair, so a tier change that failed
     * after moving the account (or before retagging it) is put right by the next change to succeed.
     */
    afterFailure?: boolean;
    /** A rolling upgrade's item: the version the tenant was on when the upgrade listed it (upgradeSkipReason). */
    listedVersion?: string;
    /** A rolling upgrade's item: the upgrade's id (its execution name) and who started it, for the tenant's history entry (list-tier-tenants.ts). */
    upgradeId?: string;
    actor?: string;
  };
}

/**
 * The tenant's own tags a deploy puts on its stacks: the change's (`state.change.tags`, which replace the recorded ones) when
 * it has some, else the record's. `{}` when the change removes them all.
 */
export const tenantTagsOf = (state: Pick<LifecycleState, 'change'>, record: { tags?: Record<string, string> }): Record<string, string> | undefined =>
  state.change?.tags ?? record.tags;

export const tenantIdOf = (state: { request?: { tenantId?: string }; tenantId?: string }) => state.request?.tenantId ?? state.tenantId;

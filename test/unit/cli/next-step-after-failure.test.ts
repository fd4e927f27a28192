import { describe, expect, it } from 'vitest';
import { nextStepAfterFailure } from '../../../lib/cli/lifecycle-answers.js';

/**
 * A change (a repair too) refused because the tenant's stack was deleted outside Tessera was followed by
 * "remove the cause above, then run the change again: … | --repair", which is refused again the same way
 * (lambdas/lifecycle/deploy-blueprint.ts); docs/resilience.md "Repairing it" says what to do instead.
 */
describe('nextStepAfterFailure', () => {
  const TENANT_GONE = 'ChangeRefused: stack tessera-gone does not exist (deleted outside Tessera): a repair does not create a live tenant\'s stack again, since a new one would start with an empty database and bucket under a new key, past the change-set guard; restore the tenant\'s data stores from their backups and snapshots (what its stack retained), or offboard it (docs/resilience.md: Drift, Repairing it)';
  const DR_GONE = 'ChangeRefused: DR stack tessera-gone-dr (us-west-2) is recorded ACTIVE but does not exist (deleted outside Tessera): a repair does not create it again, …';

  it('does not offer the refused change again when the tenant stack was deleted outside Tessera: restore, or offboard', () => {
    for (const kind of ['change', 'upgrade']) {
      const next = nextStepAfterFailure('gone', kind, TENANT_GONE);
      expect(next).toBe('the tenant stays on its previous tier and version; running the change again (a repair too) is refused the same way while the stack is gone: '
        + 'restore the tenant\'s data stores from their backups and snapshots, or offboard the tenant: tessera tenants delete gone --yes (docs/resilience.md: Drift, Repairing it)');
      expect(next).not.toContain('--repair');
    }
  });

  it('for a recorded DR stack deleted outside Tessera: import its retained stores back, or offboard', () => {
    expect(nextStepAfterFailure('gone', 'change', DR_GONE)).toContain('is refused the same way while the stack is gone: import the DR stores it retained back into it (CloudFormation resource import), or offboard the tenant: tessera tenants delete gone --yes');
  });

  it('does not offer the change again when it met its tenant or DR stack dead (DELETE_FAILED): CloudFormation takes only its deletion', () => {
    const tenant = "StackFailed: stack tessera-acme is DELETE_FAILED: The following resource(s) failed to delete: [Database]. ; a repair does not delete a tenant's stack, and CloudFormation takes no update of a DELETE_FAILED stack, only its deletion, so neither a change nor --repair can bring it back: …";
    const dr = "StackFailed: stack tessera-acme-dr in us-west-2 is DELETE_FAILED: …; a tier change does not delete a tenant's DR stack, and CloudFormation takes no update of a DELETE_FAILED stack, only its deletion, so neither a change nor --repair can bring it back: …";
    expect(nextStepAfterFailure('acme', 'change', tenant)).toBe('the tenant stays on its previous tier and version; running the change again (a repair too) fails the same way: CloudFormation takes only the deletion of that stack: '
      + 'restore the tenant\'s data stores from their backups and snapshots, or offboard the tenant: tessera tenants delete acme --yes (docs/resilience.md: Drift, Repairing it)');
    expect(nextStepAfterFailure('acme', 'upgrade', dr)).toContain('fails the same way: CloudFormation takes only the deletion of that stack: finish its deletion by hand, then import the DR stores it retained back into it (CloudFormation resource import), or offboard the tenant');
    expect(nextStepAfterFailure('acme', 'change', dr)).not.toContain('--repair');
  });

  it('still offers the change again for any other failure of a change', () => {
    expect(nextStepAfterFailure('acme', 'change', 'StackFailed: stack tessera-acme is UPDATE_ROLLBACK_COMPLETE: …')).toBe(
      'the tenant stays on its previous tier and version; remove the cause above, then run the change again: tessera tenants update acme --tier <tier> | --blueprint-version <version> | --repair');
  });

  it('for a tenant rebuilt in its DR region, points at the reason\'s own way on, not at retry (an ACTIVE tenant refuses it, 409)', () => {
    const reason = 'TenantRebuiltInDrRegion: tenant acme was rebuilt in its DR region by the failover runbook: stack tessera-acme in us-west-2 is UPDATE_COMPLETE. … then offboard it again: tessera tenants delete acme --yes';
    for (const kind of ['offboard', 'change', 'upgrade']) {
      const next = nextStepAfterFailure('acme', kind, reason);
      expect(next).toContain('follow the reason above (remove the rebuilt stacks first)');
      expect(next).not.toContain('tessera tenants retry');
      expect(next).not.toContain('tessera tenants update');
    }
  });

  it('for a DR region no longer in allowedRegions, says to list it again and deploy, then send the operation again (not retry: the tenant kept its status)', () => {
    const reason = 'DrRegionNotAllowed: tenant acme\'s DR region us-west-2 (…) is not in allowedRegions (us-east-1): …';
    expect(nextStepAfterFailure('acme', 'offboard', reason)).toBe('add the DR region named above to allowedRegions and deploy it (npx cdk deploy TesseraOrganization, whose guardrail SCP lists allowedRegions, and TesseraPlatform), then send the offboard again: tessera tenants delete acme --yes');
    expect(nextStepAfterFailure('acme', 'change', reason)).not.toContain('tessera tenants retry');
  });

  it('after a customization\'s failure, says the platform must be deployed again before the retry (the template is read from the catalog it publishes)', () => {
    const redeploy = 'deploy the platform again — npx cdk deploy TesseraPlatform, on the local platform a restart with the fixed config — or the retry deploys the old ones), then run';
    const failed = 'StackFailed: customization topics: stack tessera-acme-custom-topics is ROLLBACK_COMPLETE (its create failed): Param CREATE_FAILED: …';
    expect(nextStepAfterFailure('acme', 'onboard', failed)).toBe(`remove the cause above (a customization's template and parameters are read from the blueprint catalog the platform deployment publishes: after fixing the template file or tiers.<tier>.accountCustomizations, ${redeploy} tessera tenants retry acme (steps already done are skipped)`);
    // A reason that names no customization (an SDK error thrown at the step): the step says it.
    expect(nextStepAfterFailure('acme', 'onboard', 'Error: @aws-sdk XML parse error', undefined, 'Deploy customizations')).toContain(redeploy);
    expect(nextStepAfterFailure('acme', 'upgrade', 'Error: x', undefined, 'Check customizations')).toContain(`${redeploy} the change again: tessera tenants update acme`);
    expect(nextStepAfterFailure('acme', 'onboard', 'StackBusy: stack tessera-acme-custom-topics is CREATE_IN_PROGRESS …')).toContain(redeploy);
    // Any other step's failure: as before.
    expect(nextStepAfterFailure('acme', 'onboard', 'StackFailed: stack tessera-acme is ROLLBACK_COMPLETE', undefined, 'Deploy blueprint')).toBe('remove the cause above, then run tessera tenants retry acme (steps already done are skipped)');
  });
});

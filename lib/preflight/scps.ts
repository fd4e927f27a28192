/**
 * The service control policies in force in a target account at the *Deploy blueprint* step, per
 * isolation mode, from lib/guardrail-policies.ts (the documents the organization stack attaches).
 *
 * - account mode (vended account): root [FullAWSAccess] → tier OU `tessera-<tier>` [FullAWSAccess,
 *   guardrails] → the account [FullAWSAccess, quarantine] (the quarantine SCP is attached to the
 *   account until its tenant is ACTIVE, so it is in force for the whole deploy).
 * - VPC mode (shared workload account): root [FullAWSAccess] → an OU [FullAWSAccess, guardrails]
 *   → the account [FullAWSAccess]. Where the workload account sits is the platform team's choice;
 *   the preflight assumes the strict case, an OU with the guardrails (a modelling assumption). The
 *   workload account is never quarantined.
 * - platform account (namespace blueprints): root [FullAWSAccess] only (an assumption: the platform
 *   account is outside the Tessera OUs).
 * Source of the evaluation order (every level must allow): https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
 */
import type { SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';
import type { PlatformConfig } from '../config/schema.js';
import { guardrailPolicy, quarantinePolicy, type PolicyDocument } from '../guardrail-policies.js';

/** AWS's FullAWSAccess SCP, attached by default at every level. */
export const FULL_AWS_ACCESS: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

export type ScpContext = 'account-mode' | 'vpc-mode' | 'platform';

export interface ScpOverrides {
  /** Replace the guardrail document (self-tests plant defects this way). */
  readonly guardrail?: PolicyDocument;
  /** Replace the quarantine document. */
  readonly quarantine?: PolicyDocument;
}

/**
 * The SCP levels (root first, account last) in force for `context`. `mutate` changes the documents
 * built from the config (self-tests plant a defect in what the run really uses).
 */
export function scpsInForce(config: PlatformConfig, context: ScpContext, overrides: ScpOverrides = {}, mutate?: (name: 'guardrail' | 'quarantine', document: PolicyDocument) => PolicyDocument): SimulationOrgPolicies[] {
  const input = {
    allowedRegions: config.allowedRegions,
    provisioningRoleName: config.roles.provisioningRoleName,
    breakGlassRoleName: config.roles.breakGlassRoleName,
    blueprintExecutionRoleName: config.roles.blueprintExecutionRoleName,
  };
  const change = mutate ?? ((_n: string, d: PolicyDocument) => d);
  const guardrails = change('guardrail', structuredClone(overrides.guardrail ?? guardrailPolicy(input)));
  const quarantine = change('quarantine', structuredClone(overrides.quarantine ?? quarantinePolicy(input)));
  const root: SimulationOrgPolicies = { orgIdentifier: config.organization.rootId, policies: [{ name: 'FullAWSAccess', policy: FULL_AWS_ACCESS }] };
  if (context === 'platform') return [root];
  const ou: SimulationOrgPolicies = { orgIdentifier: 'ou-tessera-tier', policies: [{ name: 'FullAWSAccess', policy: FULL_AWS_ACCESS }, { name: 'TesseraGuardrails', policy: guardrails }] };
  const accountPolicies = [{ name: 'FullAWSAccess', policy: FULL_AWS_ACCESS }];
  if (context === 'account-mode') accountPolicies.push({ name: 'TesseraQuarantine', policy: quarantine });
  return [root, ou, { orgIdentifier: 'target-account', policies: accountPolicies }];
}

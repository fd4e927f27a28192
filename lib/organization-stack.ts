import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { OrganizationAccessRole, QUARANTINE_SCP_ARN_PARAMETER } from '../constructs/organization-access-role.js';
import { OrganizationGuardrails } from '../constructs/organization-guardrails.js';
import { configuredAlternateContactTypes } from './config/alternate-contacts.js';
import { accountTierOptInRegions } from './config/region-opt-in.js';
import type { PlatformConfig } from './config/schema.js';

export interface OrganizationStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/** The management account: Tessera OUs (per tier, Quarantine, Suspended) and their SCPs. */
export class OrganizationStack extends Stack {
  readonly guardrails: OrganizationGuardrails;

  constructor(scope: Construct, id: string, props: OrganizationStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.guardrails = new OrganizationGuardrails(this, 'Guardrails', {
      parentId: config.organization.rootId,
      tiers: Object.keys(config.tiers),
      quarantineOuName: config.organization.quarantineOuName,
      suspendedOuName: config.organization.suspendedOuName,
      allowedRegions: config.allowedRegions,
      provisioningRoleName: config.roles.provisioningRoleName,
      breakGlassRoleName: config.roles.breakGlassRoleName,
      blueprintExecutionRoleName: config.roles.blueprintExecutionRoleName,
    });
    new OrganizationAccessRole(this, 'PlatformAccess', {
      platformAccountId: config.platformAccountId,
      provisioningRoleName: config.roles.provisioningRoleName,
      organizationId: config.organization.organizationId,
      quarantineScpArn: this.guardrails.quarantineScp.attrArn,
      externalQuarantinePolicyIds: config.organization.externalQuarantinePolicies.map((p) => p.policyId),
      optInRegions: accountTierOptInRegions(config),
      alternateContactTypes: configuredAlternateContactTypes(config.tiers),
    });
    // Read by TesseraPlatform when the platform account is the management account (its lifecycle functions then hold the
    // Organizations grant themselves, constructs/tenant-lifecycle.ts): an SCP's id, hence its ARN, is known only here.
    new ssm.StringParameter(this, 'QuarantineScpArn', {
      parameterName: QUARANTINE_SCP_ARN_PARAMETER,
      stringValue: this.guardrails.quarantineScp.attrArn,
      description: 'ARN of the tessera-quarantine SCP: the one SCP the Tessera lifecycle may attach to and detach from accounts',
    });
    for (const [tier, ou] of Object.entries(this.guardrails.tierOus)) {
      new CfnOutput(this, `TierOu${tier.replace(/[^A-Za-z0-9]/g, '')}`, { value: ou.attrId, description: `OU of tier ${tier}` });
    }
    new CfnOutput(this, 'QuarantineOu', { value: this.guardrails.quarantineOu.attrId });
    new CfnOutput(this, 'SuspendedOu', { value: this.guardrails.suspendedOu.attrId });
  }
}

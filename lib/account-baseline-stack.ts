import { drRegionOf } from './config/disaster-recovery.js';
import { CfnOutput, DefaultStackSynthesizer, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AccountCustomizationsRole } from '../constructs/account-customizations-role.js';
import { BlueprintExecutionRole } from '../constructs/blueprint-execution-role.js';
import type { PlatformConfig } from './config/schema.js';

export interface AccountBaselineStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** Version stamped into the template and its outputs. */
  readonly blueprintVersion: string;
}

/**
 * What a target account needs before any tenant stack: the blueprint execution role, CloudFormation's
 * service role for tenant stacks, and, in an account tier's tenant account whose tier has account customizations, the
 * customizations role (constructs/account-customizations-role.ts; parameter `AccountCustomizationsPolicyArns`). Deployed by the lifecycle workflow (stack `tessera-account-baseline`)
 * with the provisioning role's own session, once per account and version, into every vended account
 * and the shared workload account; published to the catalog like the tier blueprints.
 */
export class AccountBaselineStack extends Stack {
  readonly executionRole: BlueprintExecutionRole;
  readonly customizationsRole: AccountCustomizationsRole;

  constructor(scope: Construct, id: string, props: AccountBaselineStackProps) {
    super(scope, id, {
      ...props,
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description: `Tessera account baseline (blueprint execution role), version ${props.blueprintVersion}`,
    });
    Tags.of(this).add('tessera:component', 'account-baseline');
    this.executionRole = new BlueprintExecutionRole(this, 'BlueprintExecution', {
      roleName: props.config.roles.blueprintExecutionRoleName,
      // Tiers with disaster recovery: their DR blueprints run as this role in their DR regions.
      drRegions: [...new Set(Object.values(props.config.tiers).map(drRegionOf).filter((r): r is string => Boolean(r)))],
    });
    const roles = props.config.roles;
    this.customizationsRole = new AccountCustomizationsRole(this, 'AccountCustomizations', {
      blueprintExecutionRoleName: roles.blueprintExecutionRoleName, provisioningRoleName: roles.provisioningRoleName, breakGlassRoleName: roles.breakGlassRoleName,
    });
    new CfnOutput(this, 'ExecutionRoleArn', { value: this.executionRole.role.roleArn });
    new CfnOutput(this, 'BlueprintVersion', { value: props.blueprintVersion });
  }
}

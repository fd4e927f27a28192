import { drRegionOf } from './config/disaster-recovery.js';
import { Aws, CfnOutput, CfnParameter, CfnRule, DefaultStackSynthesizer, Fn, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { WorkloadProvisioningRole } from '../constructs/workload-provisioning-role.js';
import type { PlatformConfig } from './config/schema.js';

export interface WorkloadProvisioningStackProps extends StackProps {
  readonly config: PlatformConfig;
  /** Version stamped into the template's description and outputs. */
  readonly blueprintVersion: string;
}

/** Template parameter naming the blueprint catalog bucket (the platform stack's `BlueprintBucketName` output). */
export const BLUEPRINT_BUCKET_PARAMETER = 'BlueprintBucketName';

/**
 * The provisioning role of the shared workload account, as a stack the platform engineer deploys
 * there once with plain `aws cloudformation deploy` (environment-agnostic, no bootstrap, like the
 * account baseline). The platform stack publishes it to the blueprint catalog
 * (`blueprints/<version>/workload-provisioning-role.template.json`, output
 * `WorkloadProvisioningRoleTemplateUrl`). Parameter `BlueprintBucketName`: the catalog bucket
 * (output `BlueprintBucketName`), whose templates CloudFormation reads with this role's credentials.
 */
export class WorkloadProvisioningStack extends Stack {
  readonly provisioning: WorkloadProvisioningRole;

  constructor(scope: Construct, id: string, props: WorkloadProvisioningStackProps) {
    super(scope, id, {
      ...props,
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description: `Tessera workload-account provisioning role (${props.config.roles.provisioningRoleName}), version ${props.blueprintVersion}`,
    });
    Tags.of(this).add('tessera:component', 'workload-provisioning-role');
    const bucket = new CfnParameter(this, BLUEPRINT_BUCKET_PARAMETER, {
      type: 'String',
      description: 'The blueprint catalog bucket: output BlueprintBucketName of the TesseraPlatform stack',
      // S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens.
      allowedPattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      constraintDescription: 'a bucket name: the TesseraPlatform stack output BlueprintBucketName',
    });
    const { config } = props;
    // The role's ARNs name the stack's Region (stacks, quotas, data stores of the lifecycle, which runs in the home Region):
    // deployed in another Region, every lifecycle call in the home Region would be refused. CloudFormation refuses that deploy.
    new CfnRule(this, 'DeployedInHomeRegion', {
      assertions: [{
        assert: Fn.conditionEquals(Aws.REGION, config.homeRegion),
        assertDescription: `Deploy this template in the home Region ${config.homeRegion}: the role's ARNs name the stack's Region, and the lifecycle calls the workload account from the home Region.`,
      }],
    });
    this.provisioning = new WorkloadProvisioningRole(this, 'Provisioning', {
      roleName: config.roles.provisioningRoleName,
      managementAccountId: config.organization.managementAccountId,
      platformAccountId: config.platformAccountId,
      homeRegion: config.homeRegion,
      allowedRegions: config.allowedRegions,
      drRegions: [...new Set(Object.values(config.tiers).map(drRegionOf).filter((r): r is string => Boolean(r)))],
      blueprintExecutionRoleName: config.roles.blueprintExecutionRoleName,
      blueprintBucketName: bucket.valueAsString,
    });
    new CfnOutput(this, 'ProvisioningRoleArn', { value: this.provisioning.role.roleArn });
    new CfnOutput(this, 'BlueprintVersion', { value: props.blueprintVersion });
  }
}

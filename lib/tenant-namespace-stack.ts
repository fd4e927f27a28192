import { Aws, CfnOutput, CfnParameter, DefaultStackSynthesizer, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type { Construct } from 'constructs';
import { TenantNamespace } from '../constructs/tenant-namespace.js';
import type { PlatformConfig, TierConfig } from './config/schema.js';
import { SHARED_CLUSTER_PARAMETERS } from './shared-cluster-parameters.js';
import { roleArn, TENANT_ID_PATTERN, TENANT_ID_TAG, tenantRoleName, TIER_TAG } from './tenant-naming.js';

export interface TenantNamespaceStackProps extends StackProps {
  readonly tierName: string;
  /** A tier whose compute mode is `shared`. */
  readonly tier: TierConfig;
  readonly config: PlatformConfig;
  readonly blueprintVersion: string;
}

/**
 * The second blueprint of a shared-compute tier, deployed in the platform account (where the shared
 * cluster lives) after the tenant blueprint: the tenant's namespace and its Pod Identity wiring.
 * It reaches the cluster's kubectl provider through SSM parameters the platform stack publishes,
 * so it carries no Lambda of its own.
 */
export class TenantNamespaceStack extends Stack {
  constructor(scope: Construct, id: string, props: TenantNamespaceStackProps) {
    super(scope, id, {
      ...props,
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description: `Tessera tenant namespace blueprint, tier ${props.tierName}, version ${props.blueprintVersion}`,
    });
    const { tier, config } = props;
    if (tier.compute.mode !== 'shared') {
      throw new Error(`TenantNamespaceStack needs a tier with compute.mode "shared"; tier "${props.tierName}" has "${tier.compute.mode}"`);
    }

    const tenantId = new CfnParameter(this, 'TenantId', { type: 'String', allowedPattern: TENANT_ID_PATTERN, description: 'Tenant id' }).valueAsString;
    const tenantAccountId = new CfnParameter(this, 'TenantAccountId', {
      type: 'String', allowedPattern: '^\\d{12}$', description: 'Account holding the tenant blueprint (the workload account for VPC-isolated tenants)',
    }).valueAsString;
    const tenantVpcCidr = new CfnParameter(this, 'TenantVpcCidr', {
      type: 'String', allowedPattern: `^(\\d{1,3}\\.){3}\\d{1,3}/${tier.network.tenantVpcPrefixLength}$`, description: 'The tenant VPC range',
    }).valueAsString;
    const ssm = (name: string, description: string) =>
      new CfnParameter(this, name, { type: 'AWS::SSM::Parameter::Value<String>', default: SHARED_CLUSTER_PARAMETERS[name as keyof typeof SHARED_CLUSTER_PARAMETERS], description }).valueAsString;
    const clusterName = ssm('ClusterName', 'SSM parameter holding the shared cluster name');
    const kubectlServiceToken = ssm('KubectlServiceToken', 'SSM parameter holding the shared cluster kubectl provider service token');
    const namespaceKubectlServiceToken = ssm('NamespaceKubectlServiceToken', 'SSM parameter holding the tenant namespaces kubectl provider service token');

    Tags.of(this).add(TENANT_ID_TAG, tenantId);
    Tags.of(this).add(TIER_TAG, props.tierName);

    const cluster = eks.Cluster.fromClusterAttributes(this, 'SharedCluster', {
      clusterName,
      kubectlProvider: eks.KubectlProvider.fromKubectlProviderAttributes(this, 'Kubectl', { serviceToken: kubectlServiceToken }),
    });

    const ns = new TenantNamespace(this, 'Namespace', {
      cluster,
      namespaceKubectlServiceToken,
      tenantId,
      tierName: props.tierName,
      quota: tier.compute.quota,
      workloadRoleArn: roleArn(Aws.PARTITION, tenantAccountId, tenantRoleName(tenantId, 'workload')),
      tenantVpcCidr,
      dataPorts: [tier.database.port, tier.cache.port],
      platformVpcCidr: config.platformNetwork.cidr,
    });
    new CfnOutput(this, 'NamespaceName', { value: ns.namespace });
    new CfnOutput(this, 'BridgeRoleArn', { value: ns.bridgeRole.roleArn });
  }
}

import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';

export interface ClusterAddonsProps {
  readonly cluster: eks.ICluster;
}

/**
 * The managed add-ons tenant isolation relies on: the VPC CNI with its network policy agent on
 * (without it a Kubernetes NetworkPolicy is accepted and silently not enforced) and the Pod
 * Identity agent (tenant pods get AWS credentials only through Pod Identity).
 */
export class ClusterAddons extends Construct {
  constructor(scope: Construct, id: string, props: ClusterAddonsProps) {
    super(scope, id);
    new eks.Addon(this, 'VpcCni', {
      cluster: props.cluster,
      addonName: 'vpc-cni',
      configurationValues: { enableNetworkPolicy: 'true', nodeAgent: { enablePolicyEventLogs: 'true' } },
    });
    new eks.Addon(this, 'PodIdentityAgent', { cluster: props.cluster, addonName: 'eks-pod-identity-agent' });
  }
}

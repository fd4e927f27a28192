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
    const addons = [
      new eks.Addon(this, 'VpcCni', {
        cluster: props.cluster,
        addonName: 'vpc-cni',
        configurationValues: { enableNetworkPolicy: 'true', nodeAgent: { enablePolicyEventLogs: 'true' } },
      }),
      new eks.Addon(this, 'PodIdentityAgent', { cluster: props.cluster, addonName: 'eks-pod-identity-agent' }),
    ];
    // A new cluster already runs the self-managed vpc-cni (with kube-proxy and CoreDNS); creating the
    // managed add-on with configuration values over it fails unless conflicts are overwritten.
    // Source: https://docs.aws.amazon.com/eks/latest/userguide/creating-an-add-on.html (--resolve-conflicts)
    for (const addon of addons) (addon.node.defaultChild as eks.CfnAddon).resolveConflicts = 'OVERWRITE';
  }
}

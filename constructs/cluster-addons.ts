import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';

export interface ClusterAddonsProps {
  readonly cluster: eks.ICluster;
}

/**
 * The managed add-ons tenant isolation relies on: the VPC CNI with its network policy agent on
 * (without it a Kubernetes NetworkPolicy is accepted and silently not enforced) and the Pod
 * Identity agent (tenant pods get AWS credentials only through Pod Identity).
 *
 * No `AddonVersion`: each add-on is created at EKS's default version for the cluster's Kubernetes
 * version at that time. On a later cluster version change the add-ons' properties are unchanged,
 * so CloudFormation does not touch them and they keep their version: "Amazon EKS doesn't
 * automatically update an add-on when new versions are released or after you update your cluster
 * to a new Kubernetes minor version" (https://docs.aws.amazon.com/eks/latest/userguide/updating-an-add-on.html).
 * A version of vpc-cni or eks-pod-identity-agent supports a range of Kubernetes versions, so one
 * minor step keeps working, but after a few steps the add-on can fall outside its range; the
 * operator updates them after a cluster upgrade (`aws eks describe-addon-versions --addon-name
 * <name> --kubernetes-version <new>`, then `aws eks update-addon`), as the upgrade procedure
 * (docs/upgrading-and-teardown.md) says. Pinning a version here is not done: it would have to be chosen per Kubernetes
 * version from describe-addon-versions, which this code cannot call at synth time.
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

import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import type { Construct } from 'constructs';

/**
 * Instance metadata options of the nodes of a cluster whose pods belong to several tenants (the shared cluster):
 * IMDSv2 only (`HttpTokens` required: no IMDSv1 request without a session token) and a PUT response hop limit of 1,
 * so a token reaches processes of the node itself (kubelet, the host-network agents: VPC CNI, the Pod Identity agent)
 * and never a pod, whose traffic crosses one more hop. A pod holding the node role's credentials could authenticate
 * to the cluster as its node and request service account tokens of the other pods on it (the node authorizer allows a
 * node that much), and exchange a token of another tenant's `workload` service account for that tenant's role through
 * EKS Pod Identity (`eks-auth:AssumeRoleForPodIdentity` is in AmazonEKSWorkerNodePolicy).
 *
 * The namespaces' NetworkPolicy denies 169.254.0.0/16 too (lib/namespace-manifests.ts), but the VPC CNI's default
 * enforcing mode, `standard`, starts a new pod with a default-allow policy until its policies are configured; the hop
 * limit holds from the pod's first packet. Without a launch template, the metadata options are whatever EKS's own
 * launch template and the AMI give (an AMI registered with `ImdsSupport` v2.0 launches with a hop limit of 2).
 * Sources: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html (hop limit),
 * https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html (standard mode: default allow at
 * pod start), https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html ("Restrict
 * access to the instance profile assigned to the worker node": hop limit 1 when pods get AWS credentials otherwise).
 */
export const NODE_METADATA_OPTIONS = { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 } as const;

/** The volume a node group's `diskSize` sizes, by AMI family: Bottlerocket's data volume, AL2023's root volume. */
export function dataVolumeDevice(amiType: string): string {
  return amiType.startsWith('BOTTLEROCKET_') ? '/dev/xvdb' : '/dev/xvda';
}

export interface NodeLaunchTemplateProps {
  /**
   * The volume that holds images and model weights, in place of the node group's `diskSize` (EKS refuses `diskSize`
   * beside a launch template): `deviceName` from {@link dataVolumeDevice}, `sizeGiB` in GiB, gp3, encrypted.
   * @default - the AMI's own volumes (20 GiB root on AL2023)
   */
  readonly dataVolume?: { readonly deviceName: string; readonly sizeGiB: number };
}

/**
 * A launch template for an EKS managed node group that sets only {@link NODE_METADATA_OPTIONS} (and the data volume):
 * no image, user data or security groups, so EKS still picks the AMI of the node group's `amiType` and version,
 * bootstraps it and applies the cluster security group.
 * Source: https://docs.aws.amazon.com/eks/latest/userguide/launch-templates.html
 * @returns the specification for the node group's `launchTemplateSpec` (its latest version)
 */
export function nodeLaunchTemplate(scope: Construct, id: string, props: NodeLaunchTemplateProps = {}): eks.LaunchTemplateSpec {
  const { dataVolume } = props;
  const template = new ec2.CfnLaunchTemplate(scope, id, {
    launchTemplateData: {
      metadataOptions: { ...NODE_METADATA_OPTIONS },
      blockDeviceMappings: dataVolume
        ? [{ deviceName: dataVolume.deviceName, ebs: { volumeSize: dataVolume.sizeGiB, volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }]
        : undefined,
    },
  });
  return { id: template.ref, version: template.attrLatestVersionNumber };
}

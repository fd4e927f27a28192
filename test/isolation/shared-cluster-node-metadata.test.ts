import { describe, expect, it } from 'vitest';
import { NODE_METADATA_OPTIONS } from '../../constructs/node-launch-template.js';
import { configWith } from '../support/config-with.js';
import { defaultAppTemplates } from '../support/default-app.js';

type Resource = { Type: string; Properties: Record<string, any> };

/**
 * The shared cluster's node role is one principal for the pods of every shared-compute tenant: from it a pod could
 * authenticate to the cluster as its node, request another tenant's `workload` service account token for a pod on the
 * same node, and trade it for that tenant's role through EKS Pod Identity. The instance metadata service is the way to
 * that role from inside a pod; the nodes must keep it to themselves (IMDSv2 only, hop limit 1), from a pod's first
 * packet (the VPC CNI's standard enforcing mode lets a new pod out before its NetworkPolicy is in place).
 */
describe("the shared cluster's nodes keep the instance metadata service to themselves", () => {
  const app = defaultAppTemplates();
  const resources = app.platform.toJSON().Resources as Record<string, Resource>;
  const nodegroups = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EKS::Nodegroup');
  const launchTemplateOf = (ng: Resource): Resource | undefined => resources[ng.Properties.LaunchTemplate?.Id?.Ref];

  it('every node group of the platform stack launches from a template with IMDSv2 required and a PUT response hop limit of 1', () => {
    // GIVEN the platform stack of the default config (a shared cluster with a system and a GPU node group)
    expect(nodegroups.map(([, r]) => r.Properties.AmiType).sort()).toEqual(['AL2023_x86_64_STANDARD', 'BOTTLEROCKET_x86_64_NVIDIA']);
    for (const [id, ng] of nodegroups) {
      // THEN each names a launch template of the stack, at its latest version
      const template = launchTemplateOf(ng);
      expect(template?.Type, id).toBe('AWS::EC2::LaunchTemplate');
      expect(ng.Properties.LaunchTemplate.Version, id).toEqual({ 'Fn::GetAtt': [ng.Properties.LaunchTemplate.Id.Ref, 'LatestVersionNumber'] });
      // with the metadata options that keep tokens on the node (no IMDSv1, no second hop into a pod's namespace)
      expect(template!.Properties.LaunchTemplateData.MetadataOptions, id).toEqual({ HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
      // and nothing that would take the AMI, its bootstrap or the cluster security group from EKS
      for (const field of ['ImageId', 'UserData', 'SecurityGroupIds', 'NetworkInterfaces', 'IamInstanceProfile']) {
        expect(template!.Properties.LaunchTemplateData[field], `${id} ${field}`).toBeUndefined();
      }
    }
    // A deployed shared cluster's system node group (this logical id, created without a launch template) cannot take one
    // in place (EKS refuses; LaunchTemplate is no create-only property): the group with the template is a new resource
    expect(Object.keys(resources)).not.toContain('SharedComputeKubernetesClusterNodegroupSystemNodes0811A067');
    expect(NODE_METADATA_OPTIONS).toEqual({ httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 });
  });

  it("the GPU node group's disk is the launch template's Bottlerocket data volume, of the config's size, encrypted", () => {
    const config = configWith();
    const [[id, gpu]] = nodegroups.filter(([, r]) => r.Properties.AmiType === 'BOTTLEROCKET_x86_64_NVIDIA');
    // EKS refuses diskSize beside a launch template: the size moved into it
    expect(gpu.Properties.DiskSize, id).toBeUndefined();
    expect(launchTemplateOf(gpu)!.Properties.LaunchTemplateData.BlockDeviceMappings).toEqual([
      { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: config.sharedCluster.gpu.diskSizeGiB, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } },
    ]);
    // the system nodes keep their AMI's volumes
    const [[, system]] = nodegroups.filter(([, r]) => r.Properties.AmiType === 'AL2023_x86_64_STANDARD');
    expect(launchTemplateOf(system)!.Properties.LaunchTemplateData.BlockDeviceMappings).toBeUndefined();
  });
});

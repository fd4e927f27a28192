import { Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CfnParameter } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { Network } from '../../constructs/network.js';
import { interfaceEndpointsOf, subnetGroupsOf, subnetPrefixLength } from '../../lib/vpc-layout.js';
import { newStack, template } from '../support/synth.js';

function build(props: { internetEgress?: boolean; eksEndpoints?: boolean; parameterCidr?: boolean } = {}) {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  const cidr = props.parameterCidr ? new CfnParameter(stack, 'VpcCidr').valueAsString : '10.64.0.0/20';
  new Network(stack, 'Network', {
    cidr, prefixLength: 20, maxAzs: 2, encryptionKey: key, flowLogGroupName: '/tessera/acme/vpc-flow-logs',
    internetEgress: props.internetEgress, eksEndpoints: props.eksEndpoints,
  });
  return template(stack);
}

describe('Network', () => {
  it('logs all traffic into a KMS-encrypted, retained log group', () => {
    const t = build();
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    t.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/tessera/acme/vpc-flow-logs', KmsKeyId: Match.anyValue(), RetentionInDays: 365 },
      DeletionPolicy: 'Retain',
    });
  });

  it('has no NAT and no internet gateway unless the tier asks for egress', () => {
    const t = build();
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 4); // data + compute in 2 AZs
    t.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });

  it('adds one NAT gateway per AZ when the tier needs internet egress', () => {
    const t = build({ internetEgress: true });
    t.resourceCountIs('AWS::EC2::NatGateway', 2);
    t.resourceCountIs('AWS::EC2::Subnet', 6);
  });

  it('has S3 and DynamoDB gateway endpoints and the workload interface endpoints', () => {
    const t = build();
    const services = Object.values(t.findResources('AWS::EC2::VPCEndpoint')).map((r: any) => JSON.stringify(r.Properties.ServiceName));
    for (const s of ['.s3', '.dynamodb', '.sts', '.ecr.api', '.ecr.dkr', '.sagemaker.api', 'sagemaker.runtime', '.logs']) {
      expect(services.some((x) => x.includes(s)), s).toBe(true);
    }
    expect(services.some((x) => x.includes('.eks"'))).toBe(false);
  });

  it('adds the private-cluster endpoints on request', () => {
    const services = Object.values(build({ eksEndpoints: true }).findResources('AWS::EC2::VPCEndpoint')).map((r: any) => JSON.stringify(r.Properties.ServiceName));
    for (const s of ['.eks"', '.eks-auth', '.ec2"', '.autoscaling']) expect(services.some((x) => x.includes(s)), s).toBe(true);
  });

  it('admits only HTTPS from the VPC range to the interface endpoints', () => {
    const t = build();
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Interface VPC endpoints: HTTPS from inside the VPC only',
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.64.0.0/20', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' })],
    });
  });

  // The config's address check (lib/vpc-layout.ts computeSubnetBudget) counts what this builds.
  it.each([
    { internetEgress: false, eksEndpoints: false },
    { internetEgress: true, eksEndpoints: true },
  ])('builds the subnets and the interface endpoints lib/vpc-layout.ts counts (%o)', (props) => {
    const t = build({ ...props, parameterCidr: true });
    const interfaces = Object.values(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
    expect(interfaces).toHaveLength(interfaceEndpointsOf({ workloadEndpoints: true, eksEndpoints: props.eksEndpoints }).length);
    // Each interface endpoint has a network interface in every compute subnet (one per AZ).
    for (const endpoint of interfaces) expect((endpoint as any).Properties.SubnetIds).toHaveLength(2);
    const subnetCount = subnetGroupsOf(props.internetEgress).length * 2;
    t.resourceCountIs('AWS::EC2::Subnet', subnetCount);
    t.hasResourceProperties('AWS::EC2::Subnet', {
      CidrBlock: { 'Fn::Select': [0, { 'Fn::Cidr': [{ Ref: 'VpcCidr' }, Match.anyValue(), String(32 - subnetPrefixLength(20, subnetCount))] }] },
    });
  });

  it('splits a parameter CIDR with Fn::Cidr', () => {
    const t = build({ parameterCidr: true });
    t.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: { Ref: 'VpcCidr' } });
    t.hasResourceProperties('AWS::EC2::Subnet', {
      CidrBlock: { 'Fn::Select': [0, { 'Fn::Cidr': [{ Ref: 'VpcCidr' }, 4, '10'] }] },
    });
  });
});

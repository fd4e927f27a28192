import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Opens `port` on `securityGroup` to each named peer. A security-group peer gets its own
 * `AWS::EC2::SecurityGroupIngress` under a construct id made from its name, not from the peer's
 * path: `addIngressRule` would derive the logical id from the peer's path, which contains the
 * blueprint's stack (and so the tier), and a tier change would replace every rule with an
 * identical one, which EC2 refuses as a duplicate (`InvalidPermission.Duplicate`). CIDR peers are
 * inline rules of the group and have no logical id of their own.
 *
 * @param peers name → peer; names are construct ids (stable across tiers and versions)
 */
export function admitPeers(securityGroup: ec2.SecurityGroup, peers: Record<string, ec2.IPeer>, port: number, description: string): void {
  for (const [name, peer] of Object.entries(peers)) {
    if (peer.canInlineRule) {
      securityGroup.addIngressRule(peer, ec2.Port.tcp(port), description);
      continue;
    }
    const source = (peer as unknown as ec2.ISecurityGroup).securityGroupId;
    if (!source) throw new Error(`admitPeers: peer "${name}" of ${securityGroup.node.path} is neither a CIDR nor a security group`);
    new ec2.CfnSecurityGroupIngress(securityGroup, `From${name}`, {
      groupId: securityGroup.securityGroupId,
      sourceSecurityGroupId: source,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description,
    });
  }
}

/**
 * Small stand-ins for the tier blueprints, deployed through the same code path (template URL,
 * parameters, outputs). moto's CloudFormation cannot create most of the real blueprint:
 * AWS::ElastiCache::{ReplicationGroup,SubnetGroup,User,UserGroup}, AWS::EKS::{Cluster,Nodegroup,
 * Addon,AccessEntry,PodIdentityAssociation}, AWS::Backup::{BackupVault,BackupPlan,BackupSelection},
 * AWS::S3::BucketPolicy, AWS::KMS::Alias with a parameter name, and the kubectl custom resource
 * of the namespace blueprint. What it can create — key, bucket, VPC, database — is here, with the
 * outputs the workflow reads.
 */
export function miniTenantBlueprint(version: string): Record<string, unknown> {
  return {
    Description: `mini tenant blueprint ${version}`,
    Parameters: { TenantId: { Type: 'String' }, VpcCidr: { Type: 'String' } },
    Resources: {
      // KeyPolicy as a JSON string: moto needs one, and fails DescribeKey when it is an object.
      Key: { Type: 'AWS::KMS::Key', DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true, KeyPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) } },
      Bucket: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain', Properties: {} },
      Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: { Ref: 'VpcCidr' } } },
      Database: {
        Type: 'AWS::RDS::DBInstance',
        DeletionPolicy: 'Snapshot',
        Properties: { Engine: 'postgres', EngineVersion: '17', DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '20', MasterUsername: 'tessera_admin', ManageMasterUserPassword: true, Port: '5438' },
      },
    },
    Outputs: {
      BlueprintVersion: { Value: version },
      KeyArn: { Value: { 'Fn::GetAtt': ['Key', 'Arn'] } },
      BucketName: { Value: { Ref: 'Bucket' } },
      VpcId: { Value: { Ref: 'Vpc' } },
      DefaultSecurityGroupId: { Value: { 'Fn::GetAtt': ['Vpc', 'DefaultSecurityGroup'] } },
      DatabaseInstanceId: { Value: { Ref: 'Database' } },
    },
  };
}

export function miniNamespaceBlueprint(): Record<string, unknown> {
  return {
    Description: 'mini namespace blueprint',
    Parameters: { TenantId: { Type: 'String' }, TenantAccountId: { Type: 'String' }, TenantVpcCidr: { Type: 'String' } },
    Resources: {
      BridgeRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: { 'Fn::Join': ['', ['tessera-', { Ref: 'TenantId' }, '-pod-bridge']] },
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] },
        },
      },
    },
    Outputs: { NamespaceName: { Value: { 'Fn::Join': ['', ['tenant-', { Ref: 'TenantId' }]] } } },
  };
}

import {
  AcceptVpcPeeringConnectionCommand, AttachInternetGatewayCommand, CreateInternetGatewayCommand, CreateNetworkInterfaceCommand, CreateVpcCommand,
  CreateVpcEndpointCommand, CreateVpcPeeringConnectionCommand, DescribeInternetGatewaysCommand, DescribeRegionsCommand, DescribeSubnetsCommand,
  DescribeVpcsCommand, EC2Client, GetEbsEncryptionByDefaultCommand,
} from '@aws-sdk/client-ec2';
import { AccountClient, GetAlternateContactCommand } from '@aws-sdk/client-account';
import { GetPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { beforeAll, describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { motoS3Control } from './support/s3-control-endpoint.js';

/**
 * tiers.<tier>.deleteDefaultVpcs on the local lifecycle (aws-local-stepfunctions + moto): an enterprise (account)
 * tenant's onboarding runs *Delete default VPCs* (lambdas/lifecycle/delete-default-vpcs.ts) in the account CreateAccount
 * made, after *Request compute quotas* and before *Allocate network*.
 *
 * What moto lacks is added to the new account just before the step runs (the `wrap` hook): AWS gives a default VPC an
 * internet gateway, moto does not, so one is attached in us-east-1 (the step must detach and delete it first: AWS's
 * DeleteVpc refuses a VPC with a gateway attached; moto's does not, so the assertion is that the gateway is gone). A
 * network interface is put in eu-west-1's default VPC (in use: kept), and a VPC of the account's own in us-west-2 (not
 * default: untouched). ap-southeast-2's default VPC, with its internet gateway, is peered with a VPC of the account's own
 * and has an S3 gateway endpoint: neither has a network interface, and EC2's DeleteVpc refuses the VPC for both (moto's
 * does not), so it must be kept whole, its gateway and subnets too. `allowedRegions` are those four: every other region
 * is recorded and not called (the guardrail SCP denies every call outside them; moto evaluates no SCP, so their default
 * VPCs are still there).
 *
 * The tier also has ebsEncryptionByDefault: *Enable EBS encryption by default*
 * (lambdas/lifecycle/enable-ebs-encryption.ts) follows *Delete default VPCs*, and moto keeps the setting per account
 * and region (EnableEbsEncryptionByDefault, GetEbsEncryptionByDefault), so what is read back is what the step set.
 *
 * And s3PublicAccessBlock: *Set S3 Block Public Access* (lambdas/lifecycle/set-s3-public-access-block.ts) follows,
 * putting the account-level PublicAccessBlock from inside the new account; moto keeps it per account
 * (PutPublicAccessBlock, GetPublicAccessBlock; its S3 Control is reached without the account-id host:
 * support/s3-control-endpoint.ts), so what is read back is what the step set.
 *
 * And alternateContacts (SECURITY, OPERATIONS): *Set alternate contacts* (lambdas/lifecycle/set-alternate-contacts.ts)
 * follows, putting them from the management account with the new account's AccountId (the fixture enables trusted access
 * for account.amazonaws.com, as docs/deploying.md asks; moto's patched Account API refuses the call without, as AWS).
 */
const ALLOWED = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-southeast-2'];
const SECURITY = { name: 'Platform security', title: 'Security team', emailAddress: 'security@platform.example.com', phoneNumber: '+1 (206) 555-0100' };
const OPERATIONS = { name: 'Platform operations', title: 'On call', emailAddress: 'ops+aws@platform.example.com', phoneNumber: '+1-206-555-0101' };
const local = useLocalLifecycle(configWith({ allowedRegions: ALLOWED, tiers: { enterprise: { deleteDefaultVpcs: true, ebsEncryptionByDefault: true, s3PublicAccessBlock: true, alternateContacts: { security: SECURITY, operations: OPERATIONS } } } }));
const tenant = 'dvpcacme';
let run: Awaited<ReturnType<typeof local.workflows.run>>;
let accountId: string;
const seeded: { gateway?: string; inUse?: string; ownVpc?: string; peered?: string; peeredGateway?: string; peering?: string; endpoint?: string } = {};

const ec2In = async (region: string) => new EC2Client({ credentials: await local.fixture.as(accountId), region });
const defaultVpcOf = async (ec2: EC2Client) => (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }))).Vpcs?.[0]?.VpcId;

beforeAll(async () => {
  local.workflows.wrap = (name, handler) => (name === 'delete-default-vpcs' ? async (event: unknown) => {
    accountId = (await getTenant(tenant))!.accountId!;
    const east = await ec2In('us-east-1');
    const eastVpc = (await defaultVpcOf(east))!;
    seeded.gateway = (await east.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await east.send(new AttachInternetGatewayCommand({ InternetGatewayId: seeded.gateway, VpcId: eastVpc }));
    const west = await ec2In('eu-west-1');
    const westVpc = (await defaultVpcOf(west))!;
    const subnet = (await west.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [westVpc] }] }))).Subnets![0].SubnetId!;
    await west.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, Description: 'something of the platform team\'s' }));
    seeded.inUse = westVpc;
    seeded.ownVpc = (await (await ec2In('us-west-2')).send(new CreateVpcCommand({ CidrBlock: '10.200.0.0/16' }))).Vpc!.VpcId!;
    const sydney = await ec2In('ap-southeast-2');
    seeded.peered = (await defaultVpcOf(sydney))!;
    seeded.peeredGateway = (await sydney.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await sydney.send(new AttachInternetGatewayCommand({ InternetGatewayId: seeded.peeredGateway, VpcId: seeded.peered }));
    const other = (await sydney.send(new CreateVpcCommand({ CidrBlock: '10.201.0.0/16' }))).Vpc!.VpcId!;
    seeded.peering = (await sydney.send(new CreateVpcPeeringConnectionCommand({ VpcId: seeded.peered, PeerVpcId: other }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await sydney.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: seeded.peering }));
    seeded.endpoint = (await sydney.send(new CreateVpcEndpointCommand({ VpcId: seeded.peered, ServiceName: 'com.amazonaws.ap-southeast-2.s3', VpcEndpointType: 'Gateway' }))).VpcEndpoint!.VpcEndpointId!;
    return handler(event);
  } : handler);
  try {
    run = await local.workflows.run('onboard', onboardRequest(tenant, 'enterprise'));
  } finally {
    local.workflows.wrap = undefined;
  }
}, 600_000);

describe('an account tier with deleteDefaultVpcs and ebsEncryptionByDefault', () => {
  it('deletes the default VPCs after Request compute quotas and before Allocate network, and the tenant becomes ACTIVE', async () => {
    expect(run.error).toBeUndefined();
    const at = (state: string) => run.states.indexOf(state);
    expect(at('Delete default VPCs')).toBe(at('Request compute quotas') + 1);
    expect(at('Enable EBS encryption by default')).toBe(at('Delete default VPCs') + 1);
    expect(at('Set S3 Block Public Access')).toBe(at('Enable EBS encryption by default') + 1);
    expect(at('Set alternate contacts')).toBe(at('Set S3 Block Public Access') + 1);
    expect(at('Allocate network')).toBe(at('Set alternate contacts') + 1);
    expect((await getTenant(tenant))!.status).toBe('ACTIVE');
  });

  it('leaves no default VPC and no gateway where none was in use, keeps the one in use and the account\'s own VPC, and records every enabled region', async () => {
    const east = await ec2In('us-east-1');
    expect(await defaultVpcOf(east)).toBeUndefined();
    expect((await east.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'internet-gateway-id', Values: [seeded.gateway!] }] }))).InternetGateways).toEqual([]);
    expect(await defaultVpcOf(await ec2In('eu-west-1'))).toBe(seeded.inUse);
    expect((await (await ec2In('us-west-2')).send(new DescribeVpcsCommand({ VpcIds: [seeded.ownVpc!] }))).Vpcs).toHaveLength(1);
    expect(await defaultVpcOf(await ec2In('us-west-2'))).toBeUndefined();
    // the tenant's own VPC, made by its blueprint after the step, stands
    const record = (await getTenant(tenant))!;
    expect(record.vpcCidr).toBeDefined();

    const enabled = ((await east.send(new DescribeRegionsCommand({}))).Regions ?? []).map((r) => r.RegionName!).sort();
    const recorded = record.defaultVpcs!;
    expect(recorded.regions.map((r) => r.region)).toEqual([...ALLOWED].sort());
    expect(recorded.regions.find((r) => r.region === 'eu-west-1')).toMatchObject({ state: 'KEPT', vpcId: seeded.inUse, reason: expect.stringMatching(/^in use: network interface eni-/) });
    for (const r of recorded.regions.filter((o) => !['eu-west-1', 'ap-southeast-2'].includes(o.region))) expect(r).toMatchObject({ state: 'DELETED', vpcId: expect.stringMatching(/^vpc-/) });
    // every other region moto lists is recorded and left alone: the guardrail SCP denies every call outside allowedRegions
    // (moto evaluates no SCP: what shows it is that their default VPCs are still there)
    expect(recorded.outsideAllowedRegions).toEqual(enabled.filter((r) => !ALLOWED.includes(r)));
    expect(await defaultVpcOf(await ec2In('ap-south-1'))).toMatch(/^vpc-/);
    expect(run.output.defaultVpcs).toEqual({ deleted: ['us-east-1', 'us-west-2'], none: [], kept: ['ap-southeast-2', 'eu-west-1'], unreachable: [], outside: recorded.outsideAllowedRegions });
  });

  it('keeps a default VPC that is peered and has a gateway endpoint whole (its internet gateway and subnets too), naming both', async () => {
    const sydney = await ec2In('ap-southeast-2');
    expect(await defaultVpcOf(sydney)).toBe(seeded.peered);
    const gateway = (await sydney.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'internet-gateway-id', Values: [seeded.peeredGateway!] }] }))).InternetGateways;
    expect(gateway?.[0]?.Attachments?.map((a) => a.VpcId)).toEqual([seeded.peered]);
    expect((await sydney.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [seeded.peered!] }] }))).Subnets?.length).toBeGreaterThan(0);
    const kept = (await getTenant(tenant))!.defaultVpcs!.regions.find((r) => r.region === 'ap-southeast-2');
    expect(kept).toMatchObject({ state: 'KEPT', vpcId: seeded.peered });
    expect(kept!.reason).toContain(`VPC endpoint ${seeded.endpoint} (com.amazonaws.ap-southeast-2.s3)`);
    expect(kept!.reason).toContain(`peering connection ${seeded.peering} (active)`);
  });

  it('turns EBS encryption by default on in every allowed region of the account, not elsewhere, and records each', async () => {
    const encrypted = async (region: string) => (await (await ec2In(region)).send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault;
    for (const region of ALLOWED) expect(await encrypted(region)).toBe(true);
    // outside allowedRegions nothing was called (the guardrail SCP denies it): moto's default, off, is still there
    expect(await encrypted('ap-south-1')).toBe(false);
    const recorded = (await getTenant(tenant))!.ebsEncryption!;
    expect(recorded.regions).toEqual([...ALLOWED].sort().map((region) => ({ region, state: 'ENABLED' })));
    expect(recorded.outsideAllowedRegions).toEqual((await getTenant(tenant))!.defaultVpcs!.outsideAllowedRegions);
    expect(run.output.ebsEncryption).toEqual({ enabled: [...ALLOWED].sort(), notEnabled: [], unreachable: [], outside: recorded.outsideAllowedRegions });
  });
  it('turns the four account-level S3 Block Public Access settings on in the new account, and records them', async () => {
    const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    // read back inside the tenant account, as Security Hub's S3.1 (the Config rule) reads it
    const read = await motoS3Control(await local.fixture.as(accountId)).send(new GetPublicAccessBlockCommand({ AccountId: accountId }));
    expect(read.PublicAccessBlockConfiguration).toEqual(all);
    const recorded = (await getTenant(tenant))!.s3PublicAccessBlock!;
    expect(recorded).toMatchObject({ region: 'us-east-1', configuration: all });
    expect(run.output.s3PublicAccessBlock).toEqual({ region: 'us-east-1' });
  });

  it('sets the tier\'s alternate contacts in the new account from the management account, as configured, and records their types', async () => {
    const account = new AccountClient({ credentials: local.fixture.management, region: 'us-east-1' });
    const read = async (type: 'SECURITY' | 'OPERATIONS' | 'BILLING') => (await account.send(new GetAlternateContactCommand({ AccountId: accountId, AlternateContactType: type }))).AlternateContact;
    expect(await read('SECURITY')).toEqual({ AlternateContactType: 'SECURITY', Name: SECURITY.name, Title: SECURITY.title, EmailAddress: SECURITY.emailAddress, PhoneNumber: SECURITY.phoneNumber });
    expect(await read('OPERATIONS')).toEqual({ AlternateContactType: 'OPERATIONS', Name: OPERATIONS.name, Title: OPERATIONS.title, EmailAddress: OPERATIONS.emailAddress, PhoneNumber: OPERATIONS.phoneNumber });
    // BILLING is not configured: none was put (moto answers ResourceNotFoundException, as AWS for a contact never set)
    await expect(read('BILLING')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await getTenant(tenant))!.alternateContacts).toMatchObject({ types: ['OPERATIONS', 'SECURITY'] });
    expect(run.output.alternateContacts).toEqual({ set: ['OPERATIONS', 'SECURITY'] });
  });
});

import { Fn } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SMALLEST_SUBNET_PREFIX, subnetPrefixLength } from '../lib/vpc-layout.js';

/**
 * VPC addressing from a CIDR that is only known at deploy time (a blueprint parameter).
 *
 * `ec2.IpAddresses.cidr()` needs a concrete string to subdivide, but each tenant's VPC range is
 * allocated by the onboarding workflow. The prefix length is fixed by the tier, so the split
 * can be planned at synth and expressed with `Fn::Cidr`: every subnet gets an equal slice.
 */
export class ParameterizedCidr implements ec2.IIpAddresses {
  constructor(
    private readonly cidr: string,
    private readonly prefixLength: number,
  ) {}

  allocateVpcCidr(): ec2.VpcIpamOptions {
    return { cidrBlock: this.cidr };
  }

  allocateSubnetsCidr(input: ec2.AllocateCidrRequest): ec2.SubnetIpamOptions {
    const count = input.requestedSubnets.length;
    // The same split the config checks the compute subnets' addresses against (lib/vpc-layout.ts).
    const subnetPrefix = subnetPrefixLength(this.prefixLength, count);
    const extraBits = subnetPrefix - this.prefixLength;
    if (subnetPrefix > SMALLEST_SUBNET_PREFIX) {
      throw new Error(`a /${this.prefixLength} VPC cannot hold ${count} subnets (each would be /${subnetPrefix}; AWS allows /28 at most)`);
    }
    const slices = Fn.cidr(this.cidr, 2 ** extraBits, String(32 - subnetPrefix));
    return { allocatedSubnets: input.requestedSubnets.map((_, i) => ({ cidr: Fn.select(i, slices) })) };
  }
}

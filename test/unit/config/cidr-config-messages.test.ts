import { describe, expect, it } from 'vitest';
import { cidrSyntaxProblem } from '../../../lib/config/cidr.js';
import { configErrorOf } from '../../support/config-errors.js';

// A newcomer's pool `10.129.0.0/12` is valid CIDR notation with host bits set: the message must say so and give the
// network that holds it, not "must be in CIDR form", which it already is (session 44's first-day walk-through).
describe('a CIDR key with host bits set (lib/config/cidr.ts cidrSyntaxProblem)', () => {
  it('fails synth naming the key, the value, the host bits and the network to write', () => {
    const message = configErrorOf({ tiers: { starter: { network: { tenantCidrPool: '10.65.0.0/12' } } } });
    expect(message).toContain('tiers.starter.network.tenantCidrPool = "10.65.0.0/12": has host bits set: 10.65.0.0 is not the first address of a /12; write the /12 that holds it, 10.64.0.0/12, or a prefix length that makes 10.65.0.0 a network\'s first address');
    expect(configErrorOf({ platformNetwork: { cidr: '10.0.0.1/16' } })).toContain('platformNetwork.cidr = "10.0.0.1/16": has host bits set: 10.0.0.1 is not the first address of a /16; write the /16 that holds it, 10.0.0.0/16,');
  });

  it('keeps the CIDR-form message for text that is no CIDR, and says nothing of a canonical one', () => {
    for (const text of ['ten', '10.0.0/16', '10.0.0.0/16/8', '10.0.0.0/-1']) expect(cidrSyntaxProblem(text)).toBe('must be an IPv4 network in CIDR form such as 10.0.0.0/16');
    expect(cidrSyntaxProblem('10.64.0.0/12')).toBeUndefined();
    expect(cidrSyntaxProblem('255.255.255.255/32')).toBeUndefined();
    expect(cidrSyntaxProblem('192.168.1.128/24')).toContain('write the /24 that holds it, 192.168.1.0/24');
  });

  it('says what is wrong with a near miss of a CIDR, after the CIDR-form message', () => {
    const form = 'must be an IPv4 network in CIDR form such as 10.0.0.0/16: ';
    expect(cidrSyntaxProblem('10.0.0.0')).toBe(`${form}10.0.0.0 has no prefix length; add one, e.g. 10.0.0.0/16`);
    expect(cidrSyntaxProblem('010.0.0.0/16')).toBe(`${form}"010" has a leading zero, which some tools read as octal (inet_aton: 010 is 8); write 10`);
    expect(cidrSyntaxProblem('10.0.0.0/08')).toContain(': "08" has a leading zero');
    expect(cidrSyntaxProblem('10.300.0.0/12')).toBe(`${form}octet 300 is over 255`);
    expect(cidrSyntaxProblem('10.0.0.0/33')).toBe(`${form}a prefix length is 0 to 32, not 33`);
    expect(cidrSyntaxProblem(' 10.64.0.0/12 ')).toBe(`${form}it has spaces around it; write 10.64.0.0/12`);
    expect(configErrorOf({ platformNetwork: { cidr: '10.0.0.0' } })).toContain('platformNetwork.cidr = "10.0.0.0": must be an IPv4 network in CIDR form such as 10.0.0.0/16: 10.0.0.0 has no prefix length');
  });
});

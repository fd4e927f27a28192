/** IPv4 CIDR arithmetic for config validation (overlap checks and pool sizing). */

export interface Ipv4Range {
  readonly cidr: string;
  readonly first: number;
  readonly last: number;
  readonly prefix: number;
}

/**
 * Dotted decimal without leading zeros (`0`, or 1-3 digits not starting with 0), then a prefix
 * length the same way: `010.0.0.0/16` is refused, since inet_aton and other parsers read `010` as
 * octal 8 and others as 10 (Python's ipaddress refuses it since 3.9.5, CVE-2021-29921).
 */
const OCTET = '(0|[1-9]\\d{0,2})';
const CIDR = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}\\/(0|[1-9]\\d?)$`);

/** The range of a CIDR, or undefined when the text is not a canonical IPv4 CIDR. */
export function parseCidr(cidr: string): Ipv4Range | undefined {
  const m = CIDR.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) return undefined; // host bits set: 10.0.0.1/16 is not a network
  return { cidr, first: address, last: address + size - 1, prefix };
}

/**
 * Why `cidr` is not a canonical IPv4 CIDR (what {@link parseCidr} refuses), or undefined when it is one. A
 * network whose address has host bits set (`10.129.0.0/12`) is named with the network that holds it
 * (`10.128.0.0/12`): the text is a valid CIDR notation, so "must be in CIDR form" alone would not say what is
 * wrong, and the value could mean either that /12 or a longer prefix at 10.129.0.0, so it is refused, not read
 * one way.
 * @returns a message for a config issue, starting lower-case, or undefined
 */
export function cidrSyntaxProblem(cidr: string): string | undefined {
  if (parseCidr(cidr) !== undefined) return undefined;
  const m = CIDR.exec(cidr);
  const octets = m?.slice(1, 5).map(Number);
  const prefix = Number(m?.[5]);
  if (!m || !octets || octets.some((o) => o > 255) || prefix > 32) {
    const why = notCidrBecause(cidr);
    return `must be an IPv4 network in CIDR form such as 10.0.0.0/16${why ? `: ${why}` : ''}`;
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
  return `has host bits set: ${octets.join('.')} is not the first address of a /${prefix}; write the /${prefix} that holds it, ${dotted}/${prefix}, or a prefix length that makes ${octets.join('.')} a network's first address`;
}

/**
 * What is wrong with a near miss of a CIDR (the text {@link cidrSyntaxProblem} refuses as no CIDR), when it can be said:
 * spaces around it, an address without `/prefix`, a part with a leading zero (ambiguous: octal to inet_aton), an octet
 * over 255, a prefix length over 32. Undefined for anything else (`ten`, `10.0.0/16`).
 */
function notCidrBecause(text: string): string | undefined {
  if (text.trim() !== text && parseCidr(text.trim())) return `it has spaces around it; write ${text.trim()}`;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1, 6).filter((p): p is string => p !== undefined);
  const zero = parts.find((p) => p.length > 1 && p.startsWith('0'));
  if (zero) return `"${zero}" has a leading zero, which some tools read as octal (inet_aton: 010 is 8); write ${Number(zero)}`;
  const big = m.slice(1, 5).find((o) => Number(o) > 255);
  if (big) return `octet ${big} is over 255`;
  if (m[5] === undefined) return `${text} has no prefix length; add one, e.g. ${text}/16`;
  if (Number(m[5]) > 32) return `a prefix length is 0 to 32, not ${m[5]}`;
  return undefined;
}

/**
 * Why `range` cannot be a VPC's CidrBlock, or undefined when it can: "The smallest VPC you can create
 * uses a /28 netmask (16 IP addresses), and the largest uses a /16 netmask (65,536 IP addresses)" (EC2
 * API Reference, CreateVpc, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html).
 * Neither CDK nor cfn-lint checks it: a /12 synthesized clean and failed at CreateVpc.
 */
export function vpcCidrProblem(range: Ipv4Range): string | undefined {
  if (range.prefix >= 16 && range.prefix <= 28) return undefined;
  return `a /${range.prefix} cannot be a VPC's CIDR block, CreateVpc accepts /16 (65,536 addresses) to /28 (16 addresses): use a prefix length from 16 to 28`;
}

export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

function formatAddress(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/** How many /`prefix` networks fit in `pool`. */
export function blockCount(pool: Ipv4Range, prefix: number): number {
  return prefix < pool.prefix ? 0 : 2 ** (prefix - pool.prefix);
}

/** The `index`-th /`prefix` network of `pool` (0-based), e.g. nthBlock(10.64.0.0/12, 22, 1) = 10.64.4.0/22. */
export function nthBlock(pool: Ipv4Range, prefix: number, index: number): string {
  if (index < 0 || index >= blockCount(pool, prefix)) throw new RangeError(`${pool.cidr} has no /${prefix} block number ${index}`);
  return `${formatAddress(pool.first + index * 2 ** (32 - prefix))}/${prefix}`;
}

/**
 * The inverse of nthBlock: the 0-based index of the /`prefix` network `cidr` within `pool`, or undefined when `cidr` is
 * not a canonical IPv4 CIDR, has another prefix length, or lies outside `pool`. E.g. blockIndex(10.64.0.0/12, 22,
 * 10.64.4.0/22) = 1.
 */
export function blockIndex(pool: Ipv4Range, prefix: number, cidr: string): number | undefined {
  const range = parseCidr(cidr);
  if (!range || range.prefix !== prefix || prefix < pool.prefix || range.first < pool.first || range.last > pool.last) return undefined;
  return (range.first - pool.first) / 2 ** (32 - prefix);
}

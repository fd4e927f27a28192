/** IPv4 CIDR arithmetic for config validation (overlap checks and pool sizing). */

export interface Ipv4Range {
  readonly cidr: string;
  readonly first: number;
  readonly last: number;
  readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

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

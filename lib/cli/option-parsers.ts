// Option value parsers for commander (`.option(flags, description, parser, default)`): a bad value
// is refused by commander as "option '--x <n>' argument 'y' is invalid. <why>" (exit 2, house
// style through politeCommander), before the command runs.
import { InvalidArgumentError } from 'commander';
import { isTenantId } from '../tenant-record.js';

/** A number written in decimal (`12`, `0.5`, `.5`, `-3`, `1e3`), around spaces allowed: what `numberIn` reads. */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/**
 * A number from `min` to `max` (inclusive); `whole` for integers only. Decimal notation only: `Number()` alone also
 * reads `0x10`, `0b11` and `0o7` (16, 3, 7), so `--max 0x10` redrove 16 messages; those are refused.
 * @throws InvalidArgumentError - naming the range, e.g. "expected a number of seconds from 0.1 to 300"
 */
export function numberIn(min: number, max: number, what: string, whole = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!DECIMAL.test(value) || !Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`Expected ${whole ? 'a whole number' : 'a number'} of ${what} from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `--interval <seconds>` of the watching commands: 0.1 to 300 s. */
export const pollSeconds = numberIn(0.1, 300, 'seconds');

/**
 * A tenant id argument (`tessera tenants show <id>` and the other commands on one tenant): a
 * value that cannot be a tenant id (isTenantId, lib/tenant-record.ts) is refused before any
 * credentials, network or admin API are needed, instead of being sent and answered 400 or 404
 * (or hidden behind an unreachable API). Reserved ids are not refused here: no tenant has one, and
 * the API's 404 says so.
 * @throws InvalidArgumentError - "expected a tenant id: a lower-case DNS label of 3-24 characters ..."
 */
export function tenantIdArgument(value: string): string {
  if (!isTenantId(value)) {
    throw new InvalidArgumentError('Expected a tenant id: a lower-case DNS label of 3-24 characters (a-z, 0-9, -), starting with a letter, ending with a letter or digit, without two hyphens in a row.');
  }
  return value;
}

// Option value parsers for commander (`.option(flags, description, parser, default)`): a bad value
// is refused by commander as "option '--x <n>' argument 'y' is invalid. <why>" (exit 2, house
// style through politeCommander), before the command runs.
import { InvalidArgumentError } from 'commander';

/**
 * A number from `min` to `max` (inclusive); `whole` for integers only.
 * @throws InvalidArgumentError - naming the range, e.g. "expected a number of seconds from 0.1 to 300"
 */
export function numberIn(min: number, max: number, what: string, whole = false): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`Expected ${whole ? 'a whole number' : 'a number'} of ${what} from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `--interval <seconds>` of the watching commands: 0.1 to 300 s. */
export const pollSeconds = numberIn(0.1, 300, 'seconds');

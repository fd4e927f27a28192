/**
 * Whether `e` is DynamoDB's refusal of a write whose condition did not hold: by its name, which the SDK's
 * ConditionalCheckFailedException sets (whichever copy of the SDK made it), so that this module, and the file and
 * memory stores that import it for `readChangeWrite`, load no DynamoDB client (`tessera serve` without --dynamodb).
 */
export const conditionFailed = (e: unknown): boolean => (e as Error | undefined)?.name === 'ConditionalCheckFailedException';

/**
 * An optimistic read-change-write of one DynamoDB item: reads it (with its `version`), applies `change`, and writes the
 * result on condition that the version is still the one read (`write` makes the conditional put); when another writer
 * came in between (DynamoDB's ConditionalCheckFailedException), reads and applies again, up to `attempts` times.
 * @param read the item and its version (0 for an item written without one), or undefined when there is none
 * @param change the new item, or undefined to keep the one read (nothing is written)
 * @param write the conditional put of `next` as version `version + 1` over the version read
 * @param what the item, as the error names it (`response resp_… of tenant acme`)
 * @returns the item written or kept; undefined when there was none
 * @throws Error naming `what` after `attempts` lost races; what `read` or `write` throw otherwise
 */
export async function versionedUpdate<T>(
  read: () => Promise<{ item: T; version: number } | undefined>, change: (current: T) => T | undefined,
  write: (next: T, version: number) => Promise<void>, attempts: number, what: string,
): Promise<T | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await read();
    if (!current) return undefined;
    const next = change(current.item);
    if (!next) return current.item;
    try {
      await write(next, current.version);
      return next;
    } catch (e) {
      if (!conditionFailed(e)) throw e;
    }
  }
  throw new Error(`${what}: not updated after ${attempts} attempts, each losing to another writer`);
}

/**
 * One read-change-write of a stored item where no other writer can come in between (the memory stores, in one process;
 * the file stores, under the item's lock file: underLock).
 * @param change the new item, or undefined to keep the one read (nothing is written)
 * @returns the item written or kept; undefined when there was none
 */
export async function readChangeWrite<T>(read: () => Promise<T | undefined>, change: (current: T) => T | undefined, write: (next: T) => Promise<void>): Promise<T | undefined> {
  const current = await read();
  if (!current) return undefined;
  const next = change(current);
  if (!next) return current;
  await write(next);
  return next;
}

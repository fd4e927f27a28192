import { MAX_TAGS_PER_MONTH } from './gateway-store.js';

/**
 * Which of a settled request's tags a month records: the tags it has already, and new ones while it holds fewer than
 * `limit` distinct tags (in the order the request sent them); the rest are dropped (the request then counts once in
 * TagUsageList.unrecorded).
 * @param tags the request's tags (no tag twice: request-tags.ts)
 * @param known whether the month has a tag already
 * @param distinct how many distinct tags the month has
 * @param limit @default MAX_TAGS_PER_MONTH
 * @returns `recorded`: the tags to count the request under; `added`: those of them new to the month; `dropped`: whether any was left out
 */
export function tagsToRecord(tags: readonly string[], known: (tag: string) => boolean, distinct: number, limit = MAX_TAGS_PER_MONTH): { recorded: string[]; added: string[]; dropped: boolean } {
  const recorded: string[] = [];
  const added: string[] = [];
  let dropped = false;
  for (const tag of tags) {
    if (known(tag)) recorded.push(tag);
    else if (distinct + added.length < limit) recorded.push(tag), added.push(tag);
    else dropped = true;
  }
  return { recorded, added, dropped };
}

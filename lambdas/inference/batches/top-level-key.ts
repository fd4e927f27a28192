/**
 * A top-level string member of a JSON object read from a piece of its text only: the first bytes of a batch request
 * line too long to hold (`head`) or its last bytes (`tail`), input-file.ts customIdOfEdges. A key is the object's own
 * only at depth 1 (RFC 8259 §4: an object's members, not those of the values nested in it), so the scan tracks the
 * depth of `{`/`[` outside strings and each string's extent by its escapes (§7: a `"` is escaped by an odd run of
 * backslashes before it). No library in the project reads JSON as a stream (node_modules holds no such parser), and
 * only a scan from the end can read a tail.
 */

/**
 * The value of a top-level key found (`value`: any JSON value, `undefined` when its text is not valid JSON), or undefined
 * when the piece does not hold such a member whole.
 */
export type TopLevelMember = { value: unknown } | undefined;

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** The index of the `"` closing the string opened at `open`; -1 when the text ends first. */
function closingQuote(s: string, open: number): number {
  for (let i = open + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/**
 * The index of the `"` opening the string closed at `close`, reading backwards: the first `"` before it preceded by an
 * even run of backslashes. -1 when the text starts first, or a run of backslashes reaches the text's start (its parity unknown).
 */
function openingQuote(s: string, close: number): number {
  for (let i = close - 1; i >= 0; i--) {
    if (s[i] !== '"') continue;
    let run = 0;
    while (i - run - 1 >= 0 && s[i - run - 1] === '\\') run++;
    if (i - run - 1 < 0 && run > 0) return -1;
    if (run % 2 === 0) return i;
  }
  return -1;
}

/** JSON.parse of a string's text, undefined when it is not a valid JSON string (a character cut at an edge decodes as U+FFFD, still valid). */
function stringAt(s: string, open: number, close: number): string | undefined {
  try {
    return JSON.parse(s.slice(open, close + 1)) as string;
  } catch {
    return undefined;
  }
}

/** JSON.parse of a member's value text (between its `:` and the `,` or `}` after it); `{ value: undefined }` when it is not valid JSON. */
function memberValue(s: string, from: number, to: number): { value: unknown } {
  try {
    return { value: JSON.parse(s.slice(from, to)) as unknown };
  } catch {
    return { value: undefined };
  }
}

/**
 * The value of member `key` of the object that opens `head` (the first bytes of its text; leading whitespace skipped),
 * reading forward: the last member at depth 1 named `key` whose value the head holds whole (a key written with escapes
 * is decoded), as JSON.parse keeps the last of a repeated key. A repeat in the text past the head is not seen.
 * @returns `{ value }` (any JSON value: a string, scalar, object or array); undefined when `head` holds no such member
 *   whole, or does not start an object
 */
export function topLevelMemberOfHead(head: string, key: string): TopLevelMember {
  let at = 0;
  while (isSpace(head[at])) at++;
  if (head[at] !== '{') return undefined;
  let depth = 0;
  let found: TopLevelMember;
  // The start of the value of a member named `key` being read (after its `:`), until its `,` or the object's `}`.
  let valueFrom = -1;
  for (let i = at; i < head.length; i++) {
    const c = head[i];
    if (c === '"') {
      const close = closingQuote(head, i);
      if (close < 0) return valueFrom < 0 ? found : undefined; // the last one named `key` is cut
      if (depth === 1 && valueFrom < 0) {
        let j = close + 1;
        while (isSpace(head[j])) j++;
        if (head[j] === ':' && stringAt(head, i, close) === key) {
          valueFrom = j + 1;
          i = j;
          continue;
        }
      }
      i = close;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth === 0) return valueFrom < 0 ? found : memberValue(head, valueFrom, i); // the object ended
    } else if (c === ',' && depth === 1 && valueFrom >= 0) {
      found = memberValue(head, valueFrom, i);
      valueFrom = -1;
    }
  }
  return valueFrom < 0 ? found : undefined;
}

/**
 * The value of member `key` of the object that ends `tail` (the last bytes of its text; trailing whitespace skipped),
 * reading backward from its closing `}`: the last member at depth 1 named `key` (as JSON.parse keeps the last of a
 * repeated key), whatever its value (a later member's value of another type is the member JSON.parse keeps, not an
 * earlier string of the same name).
 * @returns `{ value }` (any JSON value), or undefined when `tail` starts before such a member is read whole, or does not
 *   end an object
 */
export function topLevelMemberOfTail(tail: string, key: string): TopLevelMember {
  let end = tail.length - 1;
  while (isSpace(tail[end])) end--;
  if (tail[end] !== '}') return undefined;
  let depth = 1;
  // Where the depth-1 member being read backward ends: the `,` after it, or the object's closing `}`.
  let memberEnd = end;
  for (let i = end - 1; i >= 0; i--) {
    const c = tail[i];
    if (c === '"') {
      const open = openingQuote(tail, i);
      if (open < 0) return undefined;
      if (depth === 1) {
        let j = open - 1;
        while (j >= 0 && isSpace(tail[j])) j--;
        if (j < 0) return undefined;
        if (tail[j] !== ':') {
          // A key: a `:` after it, and its object's `{` or the member before's `,` before it; else text this scan misread.
          let colon = i + 1;
          while (isSpace(tail[colon])) colon++;
          if (tail[colon] !== ':' || (tail[j] !== ',' && tail[j] !== '{')) return undefined;
          if (stringAt(tail, open, i) === key) return memberValue(tail, colon + 1, memberEnd);
        }
      }
      i = open;
    } else if (c === '}' || c === ']') depth++;
    else if (c === '{' || c === '[') {
      if (--depth === 0) return undefined; // the object's start: read whole without the key
    } else if (c === ',' && depth === 1) memberEnd = i;
  }
  return undefined;
}

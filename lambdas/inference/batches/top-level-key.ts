/**
 * A top-level string member of a JSON object read from a piece of its text only: the first bytes of a batch request
 * line too long to hold (`head`) or its last bytes (`tail`), input-file.ts customIdOfEdges. A key is the object's own
 * only at depth 1 (RFC 8259 §4: an object's members, not those of the values nested in it), so the scan tracks the
 * depth of `{`/`[` outside strings and each string's extent by its escapes (§7: a `"` is escaped by an odd run of
 * backslashes before it). No library in the project reads JSON as a stream (node_modules holds no such parser), and
 * only a scan from the end can read a tail.
 */

/** The value of a top-level key found (`value`), or why none is known (`unknown`: the piece ends before it is read). */
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

/** The JSON value starting at `at` when it is a string or a complete scalar (number, true, false, null); undefined when the piece ends in it or it is an object or array. */
function valueAt(s: string, at: number): TopLevelMember {
  if (s[at] === '"') {
    const close = closingQuote(s, at);
    if (close < 0) return undefined;
    const value = stringAt(s, at, close);
    return value === undefined ? undefined : { value };
  }
  const scalar = /^(-?\d[\d.eE+-]*|true|false|null)(?=\s*[,}])/.exec(s.slice(at, at + 64));
  return scalar ? { value: JSON.parse(scalar[1]!) as unknown } : undefined;
}

/**
 * The value of member `key` of the object that opens `head` (the first bytes of its text; leading whitespace skipped),
 * reading forward: the first member at depth 1 named `key` (a key written with escapes is decoded).
 * @returns `{ value }` when its value is a string or a scalar (number, boolean, null); undefined when its value is an
 *   object or array, when `head` ends before such a member is read whole, or when `head` does not start an object
 */
export function topLevelMemberOfHead(head: string, key: string): TopLevelMember {
  let at = 0;
  while (isSpace(head[at])) at++;
  if (head[at] !== '{') return undefined;
  let depth = 0;
  for (let i = at; i < head.length; i++) {
    const c = head[i];
    if (c === '"') {
      const close = closingQuote(head, i);
      if (close < 0) return undefined;
      if (depth === 1) {
        let j = close + 1;
        while (isSpace(head[j])) j++;
        if (head[j] === ':' && stringAt(head, i, close) === key) {
          j++;
          while (isSpace(head[j])) j++;
          return valueAt(head, j);
        }
      }
      i = close;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth === 0) return undefined; // the object ended without the key
    }
  }
  return undefined;
}

/**
 * The value of member `key` of the object that ends `tail` (the last bytes of its text; trailing whitespace skipped),
 * reading backward from its closing `}`: the last member at depth 1 named `key` (as JSON.parse keeps the last of a
 * repeated key). Only a string value is read (a scalar's start cannot be told apart from the text before it).
 * @returns `{ value }`, or undefined when `tail` starts before such a member is read whole, or does not end an object
 */
export function topLevelStringOfTail(tail: string, key: string): TopLevelMember {
  let end = tail.length - 1;
  while (isSpace(tail[end])) end--;
  if (tail[end] !== '}') return undefined;
  let depth = 1;
  for (let i = end - 1; i >= 0; i--) {
    const c = tail[i];
    if (c === '"') {
      const open = openingQuote(tail, i);
      if (open < 0) return undefined;
      if (depth === 1) {
        // A value string at depth 1 has `:` before it, and its key before that.
        let j = open - 1;
        while (j >= 0 && isSpace(tail[j])) j--;
        if (tail[j] === ':') {
          j--;
          while (j >= 0 && isSpace(tail[j])) j--;
          if (tail[j] !== '"') return undefined;
          const keyOpen = openingQuote(tail, j);
          if (keyOpen < 0) return undefined;
          // A key follows its object's `{` or the member before's `,`: anything else is text this scan misread.
          let k = keyOpen - 1;
          while (k >= 0 && isSpace(tail[k])) k--;
          if (tail[k] !== ',' && tail[k] !== '{') return undefined;
          if (stringAt(tail, keyOpen, j) === key) {
            const value = stringAt(tail, open, i);
            return value === undefined ? undefined : { value };
          }
          i = keyOpen;
          continue;
        }
      }
      i = open;
    } else if (c === '}' || c === ']') depth++;
    else if (c === '{' || c === '[') {
      if (--depth === 0) return undefined; // the object's start: read whole without the key
    }
  }
  return undefined;
}

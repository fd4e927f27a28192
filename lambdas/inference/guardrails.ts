/**
 * Per-tenant guardrails that run in the gateway itself: PII redaction and a prompt-injection
 * screen. (Bedrock ApplyGuardrail runs in the bedrock provider when a guardrail id is configured.)
 */

import { isIPv6 } from 'node:net';

/*
 * PII detection: candidate regexes, then validators (Luhn and card-brand prefixes, IPv4 octets and
 * netmasks, IPv6 syntax through node:net, phone-number shapes) and a little context (a version
 * keyword before a dotted quad, a phone or SSN keyword before a bare run of digits). Measured
 * against test/fixtures/pii-labelled.jsonl with `npm run eval:pii`. Our own patterns rather than a
 * library: the JS PII libraries are US-centric regex sets (no Luhn, no IPs), and libphonenumber-js,
 * the well-kept phone parser, found fewer of the set's phone numbers (it needs one default country
 * for national formats) and brings ~150 KB of metadata into the Lambda bundle.
 *
 * Two rules keep this safe to run on every request and on streams:
 * - No regex can backtrack badly: every repetition is bounded or each of its iterations starts with
 *   a character the previous one cannot end with, and every open-ended run (email local parts) may
 *   only start where such a run starts (a look-behind), so the work is linear in the text.
 * - No match, and no attempt at one, consumes a whitespace that follows a letter (emails and IPs
 *   hold no whitespace; phone, card and SSN numbers only after a digit or ")"), and look-aheads
 *   read past a match only through non-whitespace. StreamRedactor relies on it (see below).
 *   What a validator reads before a match (at most CONTEXT characters) StreamRedactor keeps.
 */

/** How far back a validator or look-behind may read before a match. */
const CONTEXT = 64;

const luhn = (digits: string): boolean => {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
};

/** Issuer prefixes and lengths of the card networks (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay, Maestro). */
const CARD_BRANDS: Array<[RegExp, number[]]> = [
  [/^4/, [16, 19]],
  [/^(?:5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)/, [16]],
  [/^3[47]/, [15]],
  [/^3(?:0[0-5]|[689])/, [14, 15, 16, 17, 18, 19]],
  [/^6(?:011|5|4[4-9])/, [16, 17, 18, 19]],
  [/^35(?:2[89]|[3-8]\d)/, [16, 17, 18, 19]],
  [/^62/, [16, 17, 18, 19]],
  [/^(?:5[06-9]|6\d)/, [14, 15, 16, 17, 18, 19]],
];

const isCard = (m: string): boolean => {
  const digits = m.replace(/\D/g, '');
  if (!CARD_BRANDS.some(([re, lengths]) => re.test(digits) && lengths.includes(digits.length)) || !luhn(digits)) return false;
  const groups = m.split(/[ -]/);
  if (groups.length === 1) return true;
  if (new Set(m.match(/[ -]/g)).size > 1) return false; // one kind of separator
  const [first, ...rest] = groups.map((g) => g.length);
  const last = rest[rest.length - 1];
  return first === 4 && (rest.slice(0, -1).every((n) => n === 4) && last >= 1 && last <= 4 // 4-4-4-4(-3)
    || (rest.length === 2 && rest[0] === 6 && (last === 4 || last === 5))); // Amex 4-6-5, Diners 4-6-4
};

/** Words before a dotted quad that make it a version or a section number, not an address. */
const VERSION_BEFORE = /(?:\b(?:v|ver|version|release|rel|build|firmware|fw|rev|revision|section|sec|chapter|oid)[\s:.=#]*|§\s*)$/i;

const isIPv4 = (m: string, before: string): boolean => {
  if (VERSION_BEFORE.test(before)) return false;
  const n = m.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const inverted = ~n >>> 0;
  return !(m.startsWith('255.') && (inverted & (inverted + 1)) === 0); // a netmask (255.255.240.0), not an address
};

const isIPv6Address = (m: string): boolean => {
  if (!isIPv6(m)) return false;
  if (!m.includes('::')) return true; // all eight groups written out
  // Compressed: "a::b", "abc::def" (C++/Rust paths) and "1::2" (Python slices) are valid IPv6
  // syntax too; a real address has a digit and either a four-digit group or three groups.
  const groups = m.split(':').filter(Boolean);
  return /\d/.test(m) && (groups.some((g) => g.length === 4 || g.includes('.')) || groups.length >= 3);
};

const PHONE_BEFORE = /\b(?:phone|tel|telephone|mobile|cell|call|fax|whatsapp|sms|text(?: me)?|ring|dial)\b[^\d\n]{0,20}$/i;

const isPhone = (m: string, before: string): boolean => {
  const trunk = m.includes('(0)'); // +44 (0)20 …: the national trunk prefix, dropped when dialled from abroad
  const bare = trunk ? m.replace('(0)', ' ') : m;
  const digits = bare.replace(/\D/g, '');
  const chunks = bare.split(/[+ .()-]+/).filter(Boolean);
  const seps: string[] = m.match(/[ .-]/g) ?? [];
  // dots only as the one separator, used at least twice: "06.12.34.56.78", not "0.123456789"
  if (seps.includes('.') && (new Set(seps).size > 1 || seps.length < 2)) return false;
  const idd = /^00[1-9]/.test(m);
  if (m.startsWith('+') || idd) {
    const national = digits.length - (idd ? 2 : 0);
    if (national < 8 || national > 15) return false; // E.164: at most 15 digits
    const cc = idd ? chunks[0].slice(2) : chunks[0];
    if (chunks.length > 1 && cc.length > 3) return false;
    return chunks.slice(2).every((c) => c.length >= 2); // only the group right after the country code may be one digit
  }
  if (chunks.length === 1) { // a bare run of digits is a phone number only where the text says so
    return /^(?:1?[2-9]\d\d[2-9]\d{6}|0[1-9]\d{8,9})$/.test(digits) && PHONE_BEFORE.test(before);
  }
  // After "call", "phone"...: any 3-3-4 shape, valid NANP codes or not (555-123-4567 is still someone's number to a reader)
  if (PHONE_BEFORE.test(before) && /^(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}$/.test(m)) return true;
  // North American: (415) 555-0134, 415-555-0134, 415.555.0134, 1-800-555-0163
  if (/^(?:1[ .-]?)?(?:\([2-9]\d\d\)[ .-]?|[2-9]\d\d[ .-])[2-9]\d\d[ .-]\d{4}$/.test(m)) return true;
  // National with a trunk 0: 020 7946 0958, 06 12 34 56 78, 03-1234-5678, (02) 9374 4000
  return /^\(?0[1-9]/.test(m) && (digits.length === 10 || digits.length === 11) && chunks.every((c) => c.length >= 2);
};

const SSN_BEFORE = /\b(?:ssn|social[ -]security(?: (?:number|no|#))?)\b[^\d\n]{0,12}$/i;

type Accept = (match: string, before: string) => boolean;
/**
 * What every match of a pattern contains, so a text without it is not searched: an email its `@`,
 * an IPv6 address a `:` (node:net's isIPv6 accepts none without), and the numbers at least so many
 * ASCII digits (`\d` without the `u` flag): a card 14 (13-18 more after the first), an SSN 9, a
 * phone number 8 (isPhone accepts no shape with fewer: E.164's national part is 8-15 digits, the
 * others 10 or 11), an IPv4 address 4 (one per octet). The digits are counted over the whole text
 * (context before `from` included): a bound for any match in it. Most texts hold no `@` or `:`,
 * and the IPv6 pattern otherwise tries every word made of hex letters ("a", "be", "face"); a
 * request's texts often hold a digit or two ("Q3", "2 sentences") and no number a pattern accepts.
 */
type Needs = 'at' | 'colon' | number;
const PATTERNS: Array<{ label: PiiLabel; re: RegExp; needs: Needs; accept?: Accept }> = [
  {
    label: 'EMAIL',
    needs: 'at',
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g,
    accept: (m) => !/@\d+(?:\.\d+)?x\.[A-Za-z]+$/.test(m), // icon@2x.png
  },
  {
    label: 'CREDIT_CARD',
    needs: 14,
    re: /(?<![\w.-]|\d[ -])\d(?:[ -]?\d){13,18}(?!\w|[ .-]\d)/g,
    accept: isCard,
  },
  { label: 'US_SSN', needs: 9, re: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/g },
  {
    label: 'US_SSN', // 536 22 8741 or 536228741, only after "SSN" or "social security"
    needs: 9,
    re: /(?<![\w-])(?!000|666|9\d\d)\d{3}( ?)(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])/g,
    accept: (_m, before) => SSN_BEFORE.test(before),
  },
  {
    label: 'PHONE',
    needs: 8,
    re: /(?<![\w+.\/@#$%^*-])\+?(?:\(\d{1,5}\)|\d{1,15})(?:(?:[ .-]|(?<=\))|(?=\())(?:\(\d{1,5}\)|\d{1,12})){0,7}(?![\w\/@-]|[.:,]\d)/g,
    accept: isPhone,
  },
  {
    label: 'IPV4',
    needs: 4,
    re: /(?<![\w.]|\w\/)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d|-[A-Za-z]|\+\w)/g,
    accept: isIPv4,
  },
  { label: 'IPV6', needs: 'colon', re: /(?<![\w:.])[0-9A-Fa-f:.]{1,44}[0-9A-Fa-f:](?![\w:]|\.\w)/g, accept: isIPv6Address },
];

/** The largest digit count a pattern needs: counting stops there. */
const MOST_DIGITS_NEEDED = Math.max(...PATTERNS.map((p) => (typeof p.needs === 'number' ? p.needs : 0)));

/** ASCII digits (`0`-`9`) in `text`, counted up to `cap`. */
function asciiDigits(text: string, cap: number): number {
  let n = 0;
  for (let i = text.search(/\d/); i !== -1 && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++n >= cap) break;
  }
  return n;
}

export type PiiLabel = 'EMAIL' | 'PHONE' | 'US_SSN' | 'CREDIT_CARD' | 'IPV4' | 'IPV6';
/** A PII match: `text.slice(start, end)` is what `label` names. */
export interface PiiMatch { label: PiiLabel; start: number; end: number }

/**
 * Every PII match of `text` that starts at or after `from` (what precedes `from` is context
 * only: the look-behinds and validators read it). Where matches overlap, the one that starts
 * first wins, then the longer one (an IPv4 address inside an IPv6 one is part of it).
 */
export function findPii(text: string, from = 0): PiiMatch[] {
  const all: PiiMatch[] = [];
  const at = text.includes('@');
  const colon = text.includes(':');
  const digits = asciiDigits(text, MOST_DIGITS_NEEDED);
  for (const { label, re, needs, accept } of PATTERNS) {
    if (needs === 'at' ? !at : needs === 'colon' ? !colon : digits < needs) continue;
    for (const m of text.matchAll(re)) {
      if (m.index < from || (accept && !accept(m[0], text.slice(Math.max(0, m.index - CONTEXT), m.index)))) continue;
      all.push({ label, start: m.index, end: m.index + m[0].length });
    }
  }
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiMatch[] = [];
  for (const m of all) if (!out.length || m.start >= out[out.length - 1].end) out.push(m);
  return out;
}

/*
 * What a reader sees, which is what the patterns must see: "bob.smith\u200b@example.com" reads as
 * an address, "４１５−５５５−０１３４" as a phone number. Before matching, characters that render as
 * nothing are dropped — format characters (Cf: zero-width space, joiners, U+2060 word joiner, BOM,
 * soft hyphen, bidi controls, tags) and the other default-ignorable code points (variation
 * selectors, the Hangul fillers, the combining grapheme joiner) — and the full-width forms of
 * ASCII (U+FF01-U+FF5E but the full-width comma: "＠", "０"-"９", "Ａ"...) fold to ASCII, as NFKC folds them. A match is
 * then mapped back onto the text: its whole span is replaced, invisible characters inside it
 * included, and nothing outside a match changes (a ZWJ emoji sequence keeps every code unit).
 * Other NFKC folds (mathematical and circled digits, superscripts) are not made: they change a
 * text's length and would need a per-character normalization of every non-ASCII text.
 */
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** A character the view drops or folds: the text needs a view only when it holds one. */
const NEEDS_VIEW = /[\p{Cf}\p{Default_Ignorable_Code_Point}\uFF01-\uFF5E]/u;

/**
 * Whether a full-width form is read as its ASCII: all but the full-width comma U+FF0C, the comma of
 * CJK text, which a stream must be free to cut after (an ASCII comma is no safe cut: the phone
 * pattern looks past it at a digit) and which no pattern needs as a comma.
 */
const isFolded = (cp: number) => cp >= 0xff01 && cp <= 0xff5e && cp !== 0xff0c;

/** The view's code unit for one of the text's code points: '' when dropped. */
function foldCodePoint(cp: number, char: string): string {
  if (isFolded(cp)) return String.fromCharCode(cp - 0xfee0);
  return cp > 0x7f && INVISIBLE.test(char) ? '' : char;
}

/** Whether `char` (one code point) is dropped from what the patterns see. */
function isInvisible(char: string): boolean {
  return INVISIBLE.test(char);
}

/**
 * The text as the patterns see it, and where each of its code units came from: `at[k]` is the
 * index in `text` of the view's unit `k` (every kept unit is one unit of the text, folded or not).
 */
function viewOf(text: string): { view: string; at: number[] } | undefined {
  if (!NEEDS_VIEW.test(text)) return undefined;
  let view = '';
  const at: number[] = [];
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const folded = foldCodePoint(cp, text.slice(i, i + width));
    for (let k = 0; k < folded.length; k++) at.push(i + k);
    view += folded;
    i += width;
  }
  return { view, at };
}

function redactFrom(text: string, from: number): { text: string; found: PiiLabel[] } {
  const seen = viewOf(text);
  let matches = findPii(seen ? seen.view : text, seen ? firstAtOrAfter(seen.at, from) : from);
  if (seen) matches = matches.map((m) => ({ label: m.label, start: seen.at[m.start], end: seen.at[m.end - 1] + 1 }));
  let out = '';
  let at = from;
  for (const m of matches) { out += text.slice(at, m.start) + `[${m.label}]`; at = m.end; }
  return { text: out + text.slice(at), found: matches.map((m) => m.label) };
}

/** The first index `k` with `at[k] >= from` (`at` ascending), `at.length` when none. */
function firstAtOrAfter(at: number[], from: number): number {
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (at[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Replaces PII with `[LABEL]`; returns the text and the labels found, in order. */
export function redactPii(text: string): { text: string; found: string[] } {
  return redactFrom(text, 0);
}

/**
 * PII redaction over a stream of text deltas. Text is released only up to the last whitespace
 * that follows a letter: no pattern can consume such a point (emails and IPs hold no whitespace;
 * phone, card and SSN numbers only after a digit or ")"), and no look-ahead reads across one, so
 * redacting each released piece finds exactly what redacting the whole text would. What a
 * look-behind or validator reads before a match (a version or phone keyword) may lie in an
 * earlier piece: the last CONTEXT characters released are kept and given as context.
 * What follows the cut waits for more text, or for `flush` at the end of the stream.
 */
/**
 * Characters no PII pattern contains, looks behind at or looks ahead two characters from: every
 * non-ASCII character but a high surrogate (cutting there would split a pair), an invisible one
 * (the patterns see through it: it may lie inside a match) and a full-width form of ASCII (the
 * patterns see its ASCII: "＠", "１"), and ASCII punctuation outside the patterns' alphabets
 * (`"{}[];!?=<>\\'\`|~&` and line feeds, in either width). A cut right after one never splits a
 * match nor changes what the patterns see: CJK text and JSON stream as they come instead of being
 * held to the end.
 * @param text the pending text; `i` the index of its last code unit before the cut
 */
function safeToCutAfter(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code <= 0x7f) return SAFE_ASCII.has(code);
  if (code >= 0xd800 && code <= 0xdbff) return false;
  if (isFolded(code)) return SAFE_ASCII.has(code - 0xfee0);
  // a low surrogate ends a pair (or stands alone): the pair's code point decides
  const pair = code >= 0xdc00 && code <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff;
  return !isInvisible(pair ? text.slice(i - 1, i + 1) : text[i]);
}
const SAFE_ASCII = new Set([...'"{}[];!?=<>\\\'`|~&\n'].map((c) => c.charCodeAt(0)));
/** Longest PII the patterns find (an email address is at most 254 characters, RFC 5321), and what a redactor may hold. */
const MAX_MATCH = 256;
const MAX_HELD = 4096;

/**
 * The end of `text` that holds at least `n` code units the patterns see (invisible ones are not
 * counted: a run of them must not push a phone or SSN keyword out of the context), at most MAX_HELD.
 */
function visibleTail(text: string, n: number): string {
  let seen = 0;
  let i = text.length;
  while (i > 0 && seen < n && text.length - i < MAX_HELD) {
    i--;
    const code = text.charCodeAt(i);
    if (code <= 0x7f || !isInvisible(text[i])) seen++;
  }
  // never start inside a surrogate pair
  if (i > 0 && text.charCodeAt(i) >= 0xdc00 && text.charCodeAt(i) <= 0xdfff) i--;
  return text.slice(i);
}

export class StreamRedactor {
  private pending = '';
  private before = '';
  readonly found: string[] = [];

  push(delta: string): string {
    this.pending += delta;
    let cut = -1;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (safeToCutAfter(this.pending, i) || (i > 0 && this.whitespaceAfterLetter(i))) { cut = i + 1; break; }
    }
    // Text with no safe point at all (a long run of digits and letters): release all but the last
    // MAX_MATCH characters, longer than any PII the patterns find (an address is at most 254).
    if (cut < 0 && this.pending.length > MAX_HELD) cut = this.pending.length - MAX_MATCH;
    if (cut < 0) return '';
    const ready = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    return this.redact(ready);
  }

  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest ? this.redact(rest) : '';
  }

  /** A whitespace the patterns see (not a BOM, which they drop) right after an ASCII letter. */
  private whitespaceAfterLetter(i: number): boolean {
    const c = this.pending[i];
    return /\s/.test(c) && c !== '\uFEFF' && /[A-Za-z]/.test(this.pending[i - 1]);
  }

  private redact(text: string): string {
    const r = redactFrom(this.before + text, this.before.length);
    this.before = visibleTail(this.before + text, CONTEXT);
    this.found.push(...r.found);
    return r.text;
  }
}

const INJECTION = [
  /ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts|rules)/i,
  /disregard (all |any )?(the )?(previous|prior|above|system) (instructions|prompt|rules)/i,
  /(reveal|print|show|repeat) (me )?(your|the) (system prompt|hidden instructions|initial instructions)/i,
  /you are now (in )?(developer|dan|jailbreak) mode/i,
  /<\|?(im_start|system)\|?>/i,
];

/** Whitespace other than a space, or two whitespace characters in a row: what `\s+` → ' ' changes. */
const LOOSE_WHITESPACE = /[^\S ]|\s\s/;

/** A screen for the common prompt-injection phrasings; returns the matched pattern or undefined. */
export function screenPromptInjection(text: string): string | undefined {
  // Seen as a reader sees it: compatibility forms folded (full-width letters), zero-width and
  // soft-hyphen characters dropped, any run of whitespace (no-break spaces, line breaks) one space.
  const folded = text.normalize('NFKC').replace(/[\u00AD\u200B-\u200F\u2060-\u2064\uFEFF]/g, '');
  // The fold is the text itself when every run of whitespace is one plain space (most texts): not rebuilt then.
  const seen = LOOSE_WHITESPACE.test(folded) ? folded.replace(/\s+/g, ' ') : folded;
  return INJECTION.find((re) => re.test(seen))?.source;
}

import { describe, expect, it } from 'vitest';
import { catchReason, clipReason, historyReason, MAX_REASON_BYTES } from '../../../lambdas/lifecycle/catch-reason.js';

/** The UTF-8 bytes DynamoDB counts of a string ("Item sizes and formats"). */
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** A lone surrogate half: a cut inside a surrogate pair. */
const HALF_PAIR = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('catchReason: the line a Catch\'s error leaves in the registry', () => {
  it('keeps a Lambda error\'s errorMessage, a plain Cause as it is, and the Error alone without a Cause', () => {
    expect(catchReason({ Error: 'StackFailed', Cause: JSON.stringify({ errorType: 'StackFailed', errorMessage: 'stack tessera-acme is ROLLBACK_COMPLETE', trace: ['at x'] }) }))
      .toBe('StackFailed: stack tessera-acme is ROLLBACK_COMPLETE');
    expect(catchReason({ Error: 'States.Timeout', Cause: 'the task timed out' })).toBe('States.Timeout: the task timed out');
    expect(catchReason({ Error: 'States.TaskFailed' })).toBe('States.TaskFailed');
  });

  it('gives a plain Error\'s message alone: its errorType names no kind of failure (the CLI printed `error: Error: …`)', () => {
    const said = 'DetectStackDrift of tessera-acme: CloudFormation\'s endpoint answered HTTP 500';
    expect(catchReason({ Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', errorMessage: said, trace: ['at x'] }) })).toBe(said);
    expect(catchReason({ Error: 'Error', Cause: said })).toBe(said);
    // Without a message there is only the name to give; any other name is kept before the message.
    expect(catchReason({ Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', trace: [] }) })).toBe('Error');
    expect(catchReason({ Error: 'TypeError', Cause: JSON.stringify({ errorMessage: 'x is undefined' }) })).toBe('TypeError: x is undefined');
  });

  it('clips a Cause of Step Functions\' largest size (32,768 characters) to MAX_REASON_BYTES, saying how long it was: 50 history entries of it would pass DynamoDB\'s 400 KB item', () => {
    const message = 'x'.repeat(32_768 - 40);
    const reason = catchReason({ Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: message }) });
    expect(bytes(reason)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(reason).toMatch(/^StackFailed: x+ … \(32741 characters; the rest is in the execution's history\)$/);
    // 50 entries (the history's length) of such reasons stay far below 400 KB
    expect(Buffer.byteLength(JSON.stringify(Array.from({ length: 50 }, () => ({ reason }))))).toBeLessThan(200_000);
  });

  it('never cuts a surrogate pair in two, and leaves a text within the limit untouched', () => {
    const text = 'a'.repeat(50) + '😀'.repeat(100);
    for (let max = 120; max < 140; max++) {
      const clipped = clipReason(text, max);
      expect(bytes(clipped)).toBeLessThanOrEqual(max);
      expect(clipped).not.toMatch(HALF_PAIR);
    }
    expect(clipReason('short', 100)).toBe('short');
  });

  it('bounds UTF-8 bytes, as DynamoDB counts an item: 2,000 CJK characters (6,000 bytes) or 1,000 emoji (4,000) are clipped to MAX_REASON_BYTES on a character boundary', () => {
    const cjk = '失敗'.repeat(1_000);
    const emoji = '🔥'.repeat(1_000);
    const mixed = 'é失🔥'.repeat(700);
    for (const text of [cjk, emoji, mixed]) {
      const clipped = clipReason(text, MAX_REASON_BYTES);
      // before, 2,000 UTF-16 code units were kept: 6,000 bytes of CJK, 4,000 of emoji
      expect(bytes(clipped)).toBeLessThanOrEqual(MAX_REASON_BYTES);
      expect(bytes(clipped)).toBeGreaterThan(MAX_REASON_BYTES - 80);
      expect(clipped).not.toMatch(HALF_PAIR);
      expect(clipped).not.toContain('\ufffd');
      expect(text.startsWith(clipped.slice(0, clipped.indexOf(' … (')))).toBe(true);
      expect(clipped).toMatch(new RegExp(` … \\(${text.length} characters; the rest is in the execution's history\\)$`));
    }
    // every cut point of a 3-byte and a 4-byte character: a whole character or none
    for (let max = 100; max < 112; max++) {
      expect(clipReason(mixed, max)).not.toMatch(HALF_PAIR);
      expect(bytes(clipReason(mixed, max))).toBeLessThanOrEqual(max);
    }
    // within the bound in bytes: untouched (666 CJK characters are 1,998 bytes)
    expect(clipReason('失'.repeat(666), MAX_REASON_BYTES)).toBe('失'.repeat(666));
  });
});

describe('historyReason: what a FAILED history entry keeps of the failure', () => {
  it('joins the step\'s error and what Record failure found as the failure\'s reason does, when they fit', () => {
    expect(historyReason('StackFailed: x', ['left behind: Logs', 'a note'])).toBe('StackFailed: x; left behind: Logs; a note');
    expect(historyReason('StackFailed: x', [])).toBe('StackFailed: x');
  });

  it('stays within MAX_REASON_BYTES, keeping what was found (at least half) when the error is long, each clip naming its length', () => {
    const error = `StackFailed: ${'e'.repeat(MAX_REASON_BYTES)}`;
    const found = ['left behind: Logs (AWS::Logs::LogGroup) /tessera/acme/app DELETE_SKIPPED'];
    const kept = historyReason(error, found);
    expect(bytes(kept)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(kept).toMatch(/^StackFailed: e+ … \(2013 characters; the rest is in the execution's history\); left behind: Logs \(AWS::Logs::LogGroup\) \/tessera\/acme\/app DELETE_SKIPPED$/);
    // both long: each gets about half
    const both = historyReason(error, ['n'.repeat(5_000)]);
    expect(bytes(both)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(both).toMatch(/^StackFailed: e+ … \(2013 characters; [^)]+\); n+ … \(5000 characters; the rest is in the execution's history\)$/);
    expect(bytes(both.slice(both.indexOf('); n') + 3))).toBe(MAX_REASON_BYTES / 2);
    // a short error and long notes: the error whole, the notes the rest
    const short = historyReason('StackFailed: x', ['n'.repeat(5_000)]);
    expect(bytes(short)).toBe(MAX_REASON_BYTES);
    expect(short.startsWith('StackFailed: x; nnn')).toBe(true);
  });

  it('splits the room in UTF-8 bytes: a CJK error and emoji notes stay within MAX_REASON_BYTES, no character cut', () => {
    const both = historyReason(`StackFailed: ${'失'.repeat(3_000)}`, ['🔥'.repeat(3_000)]);
    expect(bytes(both)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(both).not.toMatch(HALF_PAIR);
    expect(both).toMatch(/^StackFailed: 失+ … \(3013 characters; [^)]+\); (🔥)+ … \(6000 characters; the rest is in the execution's history\)$/u);
    // the notes keep half the room
    expect(bytes(both.slice(both.indexOf('); 🔥') + 3))).toBeGreaterThan(MAX_REASON_BYTES / 2 - 4);
  });
});

import { describe, expect, it } from 'vitest';
import { catchReason, clipReason, historyReason, MAX_REASON_CHARS } from '../../../lambdas/lifecycle/catch-reason.js';

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

  it('clips a Cause of Step Functions\' largest size (32,768 characters) to MAX_REASON_CHARS, saying how long it was: 50 history entries of it would pass DynamoDB\'s 400 KB item', () => {
    const message = 'x'.repeat(32_768 - 40);
    const reason = catchReason({ Error: 'StackFailed', Cause: JSON.stringify({ errorMessage: message }) });
    expect(reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(reason).toMatch(/^StackFailed: x+ … \(32741 characters; the rest is in the execution's history\)$/);
    // 50 entries (the history's length) of such reasons stay far below 400 KB
    expect(Buffer.byteLength(JSON.stringify(Array.from({ length: 50 }, () => ({ reason }))))).toBeLessThan(200_000);
  });

  it('never cuts a surrogate pair in two, and leaves a text within the limit untouched', () => {
    const text = 'a'.repeat(50) + '😀'.repeat(100);
    for (let max = 120; max < 140; max++) {
      const clipped = clipReason(text, max);
      expect(clipped.length).toBeLessThanOrEqual(max);
      expect(clipped).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    }
    expect(clipReason('short', 100)).toBe('short');
  });
});

describe('historyReason: what a FAILED history entry keeps of the failure', () => {
  it('joins the step\'s error and what Record failure found as the failure\'s reason does, when they fit', () => {
    expect(historyReason('StackFailed: x', ['left behind: Logs', 'a note'])).toBe('StackFailed: x; left behind: Logs; a note');
    expect(historyReason('StackFailed: x', [])).toBe('StackFailed: x');
  });

  it('stays within MAX_REASON_CHARS, keeping what was found (at least half) when the error is long, each clip naming its length', () => {
    const error = `StackFailed: ${'e'.repeat(MAX_REASON_CHARS)}`;
    const found = ['left behind: Logs (AWS::Logs::LogGroup) /tessera/acme/app DELETE_SKIPPED'];
    const kept = historyReason(error, found);
    expect(kept.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(kept).toMatch(/^StackFailed: e+ … \(2013 characters; the rest is in the execution's history\); left behind: Logs \(AWS::Logs::LogGroup\) \/tessera\/acme\/app DELETE_SKIPPED$/);
    // both long: each gets about half
    const both = historyReason(error, ['n'.repeat(5_000)]);
    expect(both.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(both).toMatch(/^StackFailed: e+ … \(2013 characters; [^)]+\); n+ … \(5000 characters; the rest is in the execution's history\)$/);
    expect(both.slice(both.indexOf('); n') + 3).length).toBe(MAX_REASON_CHARS / 2);
    // a short error and long notes: the error whole, the notes the rest
    const short = historyReason('StackFailed: x', ['n'.repeat(5_000)]);
    expect(short.length).toBe(MAX_REASON_CHARS);
    expect(short.startsWith('StackFailed: x; nnn')).toBe(true);
  });
});

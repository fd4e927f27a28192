import { afterEach, describe, expect, it } from 'vitest';
import { evaluate, useAnswerStore, type AnswerStore, type EvalRequest, type EvalResult } from '../../lib/preflight/iam-eval.js';
import { saveDiskAnswers, useDiskAnswers } from './support/answer-store.js';

// lib/preflight/iam-eval.ts's answer store (the test suite's simulator answers on disk,
// test/preflight/support/answer-store.ts): what an answer is kept by, and that a kept answer is
// what evaluate gives. The principals are this file's own: evaluate memoizes every answer for the
// rest of the process, and this file shares a worker with the other isolation and preflight files.
const ACCOUNT = '111111111111';
const request = (principal: string, over: Partial<EvalRequest> = {}): EvalRequest => ({
  principalArn: `arn:aws:iam::${ACCOUNT}:role/answer-store-test-${principal}`,
  action: 's3:GetObject',
  resource: 'arn:aws:s3:::answer-store-test/key',
  resourceAccount: ACCOUNT,
  context: { 'aws:PrincipalAccount': ACCOUNT, 'aws:SecureTransport': 'true' },
  identityPolicies: [{ name: 'Read', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::answer-store-test/*' }] } }],
  scps: [],
  ...over,
});

/** A store in memory that records what it was asked and told. */
function memoryStore(preset: Record<string, EvalResult> = {}): AnswerStore & { asked: string[]; told: Map<string, EvalResult> } {
  const told = new Map<string, EvalResult>();
  const asked: string[] = [];
  return {
    asked,
    told,
    get: (text) => (asked.push(text), preset[text] ?? told.get(text)),
    set: (text, result) => void told.set(text, result),
  };
}

let previous: AnswerStore | undefined;
afterEach(() => {
  useAnswerStore(previous);
});

describe('the IAM simulator answer store (lib/preflight/iam-eval.ts useAnswerStore)', () => {
  it('records each simulated answer by a text of the whole request, and answers from it', async () => {
    const store = memoryStore();
    previous = useAnswerStore(store);
    const answer = await evaluate(request('a'));
    expect(answer).toMatchObject({ allowed: true, result: 'Allowed' });
    expect([...store.told.values()]).toEqual([answer]);
    const [text] = store.told.keys();
    expect(text).toContain('answer-store-test-a');
    expect(text).toContain('s3:GetObject');
    expect(text).toContain('aws:SecureTransport="true"');

    // A kept answer is what evaluate gives for that request, without the simulator: planted here,
    // for a principal no other test asks about.
    const planted: EvalResult = { allowed: false, result: 'ExplicitlyDenied', blockedBy: ['planted'], scpDenies: [] };
    const text2 = text.replace('answer-store-test-a', 'answer-store-test-b');
    useAnswerStore(memoryStore({ [text2]: planted }));
    await expect(evaluate(request('b'))).resolves.toEqual(planted);
  });

  it('keeps a request whose policy, context, action or resource differs apart', async () => {
    const store = memoryStore();
    previous = useAnswerStore(store);
    const base = request('c');
    const widened = request('c', { identityPolicies: [{ name: 'Read', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::answer-store-test/*' }] } }] });
    const renamed = request('c', { identityPolicies: [{ ...base.identityPolicies[0], name: 'Other' }] });
    const denied = request('c', { scps: [{ orgIdentifier: 'ou-1', policies: [{ name: 'deny', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] } }] }] });
    const withBucketPolicy = request('c', { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::answer-store-test/*' }] } });
    const otherContext = request('c', { context: { ...base.context, 'aws:SecureTransport': 'false' } });
    const otherAction = request('c', { action: 's3:PutObject' });
    const otherResource = request('c', { resource: 'arn:aws:s3:::answer-store-test/other' });
    const all = [base, widened, renamed, denied, withBucketPolicy, otherContext, otherAction, otherResource];
    const answers = await Promise.all(all.map((r) => evaluate(r)));
    expect(new Set(store.asked).size).toBe(all.length);
    expect(store.told.size).toBe(all.length);
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false, false, true, false, true]);
  });

  it('after saveDiskAnswers, the disk store answers nothing: the store it replaced is back (planted defects and later files are simulated)', async () => {
    const mine = memoryStore();
    previous = useAnswerStore(mine);
    useDiskAnswers();
    saveDiskAnswers();
    await evaluate(request('d'));
    expect(mine.asked.some((text) => text.includes('answer-store-test-d'))).toBe(true);
    expect(useAnswerStore(mine)).toBe(mine);
  });
});

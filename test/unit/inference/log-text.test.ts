import { describe, expect, it } from 'vitest';
import { logDetail, logModel, logText } from '../../../lambdas/inference/log-text.js';

// Caller's and upstream's text on a log line (the access line, the upstream failure lines): credentials out, length bounded.
describe('logText', () => {
  it('redacts a tenant key, a JWT, a Hugging Face token, an AWS access key id and OpenAI\'s ids wherever they stand', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl';
    expect(logText(`/v1/models/tsk_acme_${'a'.repeat(43)}`)).toBe('/v1/models/[redacted]');
    expect(logText(`/v1/${jwt}/x`)).toBe('/v1/[redacted]/x');
    expect(logText('/v1/files/file-%5Ftsk_acme_abc')).toBe('/v1/files/file-%5F[redacted]');
    expect(logText('code \\u0022tsk_acme_abc\\u0022')).toBe('code \\u0022[redacted]\\u0022');
    expect(logText('hf_abcdefghijklmnop AKIAABCDEFGHIJKLMNOP sk-proj-abcdef org-abcdef123')).toBe('[redacted] [redacted] [redacted] [redacted]');
  });

  // A key percent-encoded in part passed the patterns unredacted (`%74` is `t`, `%73` is `s`).
  it('redacts a credential percent-encoded in part or twice, matched on the decoded text; a malformed escape never throws', () => {
    expect(logText(`/v1/files/%74sk_live_${'a'.repeat(43)}`)).toBe('/v1/files/[redacted]');
    expect(logText('/v1/files/%73k-proj-abcdefghij/content')).toBe('/v1/files/[redacted]/content');
    expect(logText('/v1/files/%2574sk_acme_abcdef')).toBe('/v1/files/[redacted]');
    expect(logText('/v1/files/%E0%A4%74sk_acme_abcdef%')).toBe('/v1/files/%E0%A4[redacted]%');
    expect(logText('/v1/files/%FF%FE%74sk_acme_abcdef')).toBe('/v1/files/%FF%FE[redacted]');
    // Nothing more found on the decoded text: the text as sent.
    expect(logText('/v1/models/openai-compatible%2Fdefault')).toBe('/v1/models/openai-compatible%2Fdefault');
    expect(logText('/v1/files/%E0%A4%A')).toBe('/v1/files/%E0%A4%A');
    expect(logText('%')).toBe('%');
  });

  // The patterns stop at an escape: a key whose later characters were percent-encoded kept them after the marker.
  it('redacts the rest of a credential an escape continues (tsk_live_abc%5Fdef…), and one found only once the other is redacted', () => {
    expect(logText(`/v1/files/tsk_live_abc%5F${'d'.repeat(30)}/content`)).toBe('/v1/files/[redacted]/content');
    expect(logText(`/v1/files/tsk_live_abc%2D${'d'.repeat(30)}`)).toBe('/v1/files/[redacted]');
    expect(logText('/v1/files/tsk_live_abc%255Fdefghij')).toBe('/v1/files/[redacted]');
    expect(logText('/v1/x/eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0%2Ec2lnbmF0dXJl')).toBe('/v1/x/[redacted]');
    // one key found as sent, another only decoded: both redacted (the decoded text's count tied the other's, and it was kept)
    expect(logText('/v1/%41tsk_acme_abcdef/%74sk_acme_ghijkl')).toBe('/v1/A[redacted]/[redacted]');
    // a marker followed by a path's separator is as sent
    expect(logText('/v1/files/tsk_acme_abc%2Fcontent')).toBe('/v1/files/[redacted]%2Fcontent');
  });

  it('cuts at `max` characters without leaving half of a surrogate pair', () => {
    const cut = logText(`${'a'.repeat(254)}🔥🔥`);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(cut.length).toBeLessThanOrEqual(256);
  });

  it('keeps words that only contain the prefixes, and cuts at `max` characters with …', () => {
    expect(logText('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(logText('task-force desk_tsk_x')).toBe('task-force desk_[redacted]');
    expect(logText('x'.repeat(300))).toBe(`${'x'.repeat(255)}…`);
    expect(logText('y'.repeat(10), 4)).toBe('yyy…');
  });
});

describe('logModel', () => {
  it('names a model id (a catalog id, an alias, a typo, a fine-tuned model), never a prompt or a key pasted into `model`', () => {
    for (const id of ['openai/gpt-5.4-mini', 'bedrock/us.amazon.nova-lite-v1:0', 'huggingface/meta-llama/Llama-3.1-8B-Instruct', 'gpt-5.4-mini-typo', 'ft:gpt-4o-mini:acme:support:abc123']) expect(logModel(id)).toBe(id);
    expect(logModel('tsk_acme_abcdef')).toBe('[redacted]');
    expect(logModel('please summarise: my card is 4111 1111')).toBe('[not a model id]');
    expect(logModel('line1\nline2')).toBe('[not a model id]');
    expect(logModel('m'.repeat(129))).toBe('[not a model id]');
  });
});

describe('logDetail', () => {
  it('keeps an AWS message\'s first line, its quoted values redacted, at most 300 characters', () => {
    expect(logDetail("2 validation errors detected: Value 'my card 4111' at 'content.1.member.text.text' failed to satisfy constraint: x; Value 'it's mine' at 'content.2.member.text.text' failed\nstack"))
      .toBe("2 validation errors detected: Value [redacted] at 'content.1.member.text.text' failed to satisfy constraint: x; Value [redacted] at 'content.2.member.text.text' failed");
    const denied = 'User: arn:aws:sts::111122223333:assumed-role/router/fn is not authorized to perform: bedrock:ApplyGuardrail';
    expect(logDetail(denied)).toBe(denied);
    expect(logDetail('z'.repeat(400))).toHaveLength(300);
  });
});

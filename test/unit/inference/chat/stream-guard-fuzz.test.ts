import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { callKeyer, StreamOutputGuard } from '../../../../lambdas/inference/chat/output-guard.js';
import { StreamRelay } from '../../../../lambdas/inference/chat/stream-relay.js';

// Fuzz: random n=1..3 streams with interleaved content, tool calls, legacy function_call,
// refusals and audio, multi-choice chunks, finish in the same chunk as a fragment, index-less calls, usage chunk
// anywhere. The relay (with and without redaction) and the guard (pass-all) must give the client, choice by
// choice, what the upstream said: content in order once, calls whole, role first, finish once.

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Delta = Record<string, unknown>;
interface Ev { index: number; delta: Delta; finish?: string }

function script(rand: () => number, index: number, indexless: boolean): Ev[] {
  const evs: Ev[] = [{ index, delta: { role: 'assistant' } }];
  const word = () => `w${Math.floor(rand() * 1000)} ${rand() < 0.4 ? 'x'.repeat(200 + Math.floor(rand() * 400)) + ' ' : ''}`;
  const kinds = ['content', 'tool', 'refusal', 'audio', 'fn'];
  const kind = kinds[Math.floor(rand() * kinds.length)];
  for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) evs.push({ index, delta: { content: word() } });
  if (kind === 'tool') {
    const calls = 1 + Math.floor(rand() * 2);
    for (let c = 0; c < calls; c++) {
      const args = JSON.stringify({ q: `c${index}.${c}`, n: Math.floor(rand() * 100) });
      const cut = 1 + Math.floor(rand() * (args.length - 1));
      evs.push({ index, delta: { tool_calls: [{ ...(indexless ? {} : { index: c }), id: `call_${index}_${c}`, type: 'function', function: { name: `f${c}`, arguments: args.slice(0, cut) } }] } });
      evs.push({ index, delta: { tool_calls: [{ ...(indexless ? {} : { index: c }), function: { arguments: args.slice(cut) } }] } });
    }
  } else if (kind === 'fn') {
    evs.push({ index, delta: { function_call: { name: 'lookup', arguments: '{"a":' } } });
    evs.push({ index, delta: { function_call: { arguments: `${index}}` } } });
  } else if (kind === 'refusal') {
    evs.push({ index, delta: { refusal: 'I will ' } }, { index, delta: { refusal: 'not.' } });
  } else if (kind === 'audio') {
    evs.push({ index, delta: { audio: { id: `aud_${index}`, transcript: 'Hello ' } } }, { index, delta: { audio: { data: 'AAAA', transcript: 'there.' } } }, { index, delta: { audio: { expires_at: 1 } } });
  }
  if (rand() < 0.5) evs.push({ index, delta: { content: word() } });
  const finish = kind === 'tool' ? 'tool_calls' : kind === 'fn' ? 'function_call' : 'stop';
  // finish in the same chunk as the last event, or a chunk of its own
  if (rand() < 0.5) evs[evs.length - 1].finish = finish;
  else evs.push({ index, delta: {}, finish });
  return evs;
}

function stream(seed: number, n: number, indexless: boolean): ChatCompletionChunk[] {
  const rand = rng(seed);
  const queues = Array.from({ length: n }, (_, i) => script(rand, i, indexless));
  const chunks: ChatCompletionChunk[] = [];
  const mk = (choices: Ev[], extra: Record<string, unknown> = {}): ChatCompletionChunk => ({ id: 'up', object: 'chat.completion.chunk', created: 1, model: 'm', choices: choices.map((e) => ({ index: e.index, delta: e.delta, finish_reason: (e.finish ?? null) as never, logprobs: null })), ...extra });
  let usageAt = 1 + Math.floor(rand() * 20);
  while (queues.some((q) => q.length)) {
    const open = queues.map((q, i) => (q.length ? i : -1)).filter((i) => i >= 0);
    // one choice, or (30%) one event of each of several open choices in one chunk
    const pick = rand() < 0.3 && open.length > 1 ? open.filter(() => rand() < 0.7) : [open[Math.floor(rand() * open.length)]];
    const picked = pick.length ? pick : [open[0]];
    chunks.push(mk(picked.map((i) => queues[i].shift()!)));
    if (--usageAt === 0) chunks.push(mk([], { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  }
  if (usageAt > 0) chunks.push(mk([], { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  return chunks;
}

interface Message { role?: string; content: string; refusal: string; calls: Map<number | string, { id?: string; name: string; args: string }>; fn?: { name: string; args: string }; transcript: string; data: string; audioId: string; finishes: string[]; roleFirst: boolean; deltas: number }

function assemble(chunks: ChatCompletionChunk[]): Map<number, Message> {
  const out = new Map<number, Message>();
  const keyers = new Map<number, ReturnType<typeof callKeyer>>();
  for (const ch of chunks) {
    for (const c of ch.choices ?? []) {
      let m = out.get(c.index);
      const d = (c.delta ?? {}) as Delta & { tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }> };
      if (!m) {
        m = { content: '', refusal: '', calls: new Map(), transcript: '', data: '', audioId: '', finishes: [], roleFirst: d.role === 'assistant', deltas: 0 };
        out.set(c.index, m);
        keyers.set(c.index, callKeyer());
      }
      m.deltas += 1;
      if (typeof d.content === 'string') m.content += d.content;
      if (typeof d.refusal === 'string') m.refusal += d.refusal;
      for (const t of d.tool_calls ?? []) {
        const k = keyers.get(c.index)!(t);
        const call = m.calls.get(k) ?? { name: '', args: '' };
        if (t.id) call.id = t.id;
        if (t.function?.name) call.name = t.function.name;
        call.args += t.function?.arguments ?? '';
        m.calls.set(k, call);
      }
      const fc = d.function_call as { name?: string; arguments?: string } | undefined;
      if (fc) {
        m.fn ??= { name: '', args: '' };
        if (fc.name) m.fn.name = fc.name;
        m.fn.args += fc.arguments ?? '';
      }
      const a = d.audio as { id?: string; data?: string; transcript?: string } | undefined;
      if (a) {
        m.transcript += a.transcript ?? '';
        m.data += a.data ?? '';
        if (a.id) m.audioId = a.id;
      }
      if (c.finish_reason) m.finishes.push(c.finish_reason);
    }
  }
  return out;
}

const mask = (t: string) => t.replace(/w(\d)\d*/g, 'W$1').replace(/c(\d)\.(\d)/g, 'C$1$2').replace(/not\./g, 'NOT.');
async function through(chunks: ChatCompletionChunk[], redact: boolean, guardOn: boolean, masking = false): Promise<ChatCompletionChunk[]> {
  const sent: ChatCompletionChunk[] = [];
  const relay = new StreamRelay({ id: 'gw', model: 'm', includeUsage: true, redactAnswers: redact });
  const guard = guardOn ? new StreamOutputGuard(async (texts) => (masking && texts.some((t) => mask(t) !== t) ? { blocked: false, masked: texts.map(mask) } : { blocked: false }), (c) => void sent.push(structuredClone(c))) : undefined;
  const send = async (c: ChatCompletionChunk | undefined) => {
    if (!c) return;
    if (guard) await guard.push(c);
    else sent.push(structuredClone(c));
  };
  for (const c of chunks) await send(relay.relay(structuredClone(c)));
  for (const c of relay.drain()) await send(c);
  if (guard) await guard.end();
  return sent;
}

const strip = (m: Map<number, Message>) => [...m].sort(([a], [b]) => a - b).map(([i, x]) => ({ i, content: x.content, refusal: x.refusal, calls: [...x.calls.values()], fn: x.fn, transcript: x.transcript, data: x.data, audioId: x.audioId, finishes: x.finishes }));

describe('random streams through a masking guardrail', () => {
  for (const indexless of [false, true]) {
    it(`indexless=${indexless}: each choice assembles as the masked whole answer would`, async () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= 400; seed++) {
        const up = stream(seed, 1 + (seed % 3), indexless);
        const want = strip(assemble(up)).map((m) => ({ ...m, content: mask(m.content), refusal: mask(m.refusal), calls: m.calls.map((c) => ({ ...c, args: mask(c.args) })), fn: m.fn && { ...m.fn, args: mask(m.fn.args) } }));
        const sent = await through(up, false, true, true);
        try {
          expect(strip(assemble(sent))).toEqual(want);
        } catch (e) {
          failures.push(`seed ${seed}: ${(e as Error).message.split('\n').slice(0, 40).join('\n')}`);
        }
      }
      expect(failures.slice(0, 2).join('\n\n')).toBe('');
    });
  }
});

describe('random interleaved streams through StreamRelay and StreamOutputGuard', () => {
  for (const redact of [false, true]) {
    for (const guardOn of [false, true]) {
      for (const indexless of [false, true]) {
        it(`redact=${redact} guard=${guardOn} indexless=${indexless}: each choice assembles as the upstream said it`, async () => {
          const failures: string[] = [];
          for (let seed = 1; seed <= 400; seed++) {
            const n = 1 + (seed % 3);
            const up = stream(seed, n, indexless);
            const want = strip(assemble(up));
            const sent = await through(up, redact, guardOn);
            const got = assemble(sent);
            try {
              expect(strip(got)).toEqual(want);
              for (const [i, m] of got) expect(m.roleFirst, `choice ${i} role first`).toBe(true);
              // the usage chunk is the last one
              expect(sent.filter((c) => c.choices.length === 0)).toHaveLength(1);
            } catch (e) {
              failures.push(`seed ${seed}: ${(e as Error).message.split('\n').slice(0, 30).join('\n')}`);
            }
          }
          expect(failures.slice(0, 2).join('\n\n')).toBe('');
        });
      }
    }
  }
});

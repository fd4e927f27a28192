import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';

// The Lambda Node.js runtime's global for response streaming.
const from = vi.fn((stream: Writable, meta: { statusCode: number; headers: Record<string, string> }) => {
  (stream as Writable & { meta?: unknown }).meta = meta;
  return stream;
});
vi.stubGlobal('awslambda', { streamifyResponse: (f: unknown) => f, HttpResponseStream: { from } });
const { responderFor, SSE_KEEP_ALIVE_MS } = await import('../../../lambdas/inference/router-handler.js');

function sink() {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, chunks };
}

describe('router Lambda response streaming', () => {
  it('sends a JSON answer with its status through the HTTP response stream', () => {
    const { stream, chunks } = sink();
    responderFor(stream).json(429, '{"error":{}}');
    expect(from).toHaveBeenLastCalledWith(stream, { statusCode: 429, headers: { 'content-type': 'application/json' } });
    expect(chunks).toEqual(['{"error":{}}']);
  });

  it('streams server-sent events as they are written', () => {
    const { stream, chunks } = sink();
    const out = responderFor(stream).stream();
    out.write('data: {"a":1}\n\n');
    out.write('data: [DONE]\n\n');
    out.end();
    expect(from).toHaveBeenLastCalledWith(stream, { statusCode: 200, headers: { 'content-type': 'text/event-stream' } });
    expect(chunks).toEqual(['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
    expect(stream.writableEnded).toBe(true);
  });

  it('a stream that ends without an event still writes once, so that the runtime sends the prelude (it does so before the first write only)', () => {
    const { stream, chunks } = sink();
    responderFor(stream).stream().end();
    expect(chunks).toEqual(['']);
    expect(stream.writableEnded).toBe(true);
  });

  it('a write waiting for a slow reader stops waiting at the deadline, so the stream can end and be settled', async () => {
    // GIVEN a reader that takes nothing (its buffer of 1 byte full after the first write)
    const stalled = new Writable({ highWaterMark: 1, write() { /* never calls back */ } });
    const deadline = new AbortController();
    const out = responderFor(stalled, deadline.signal).stream();
    const waiting = out.write('data: {"a":1}\n\n');
    expect(waiting).toBeInstanceOf(Promise);
    let woke = false;
    void (waiting as Promise<void>).then(() => { woke = true; });
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    // WHEN the deadline comes, THEN the write returns, and later writes do not wait
    deadline.abort();
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(true);
    expect(out.write('data: {"error":{}}\n\n')).toBeUndefined();
  });

  it('an open stream without a write for a minute gets an SSE comment, again each minute; a write puts it off; none after the end', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { stream, chunks } = sink();
      const out = responderFor(stream).stream();
      out.write('data: {"a":1}\n\n');
      await vi.advanceTimersByTimeAsync(SSE_KEEP_ALIVE_MS - 1);
      expect(chunks).toEqual(['data: {"a":1}\n\n']);
      await vi.advanceTimersByTimeAsync(1);
      expect(chunks).toEqual(['data: {"a":1}\n\n', ': keep-alive\n\n']);
      await vi.advanceTimersByTimeAsync(SSE_KEEP_ALIVE_MS / 2);
      out.write('data: {"b":2}\n\n');
      await vi.advanceTimersByTimeAsync(SSE_KEEP_ALIVE_MS - 1);
      expect(chunks.at(-1)).toBe('data: {"b":2}\n\n');
      await vi.advanceTimersByTimeAsync(1);
      expect(chunks.at(-1)).toBe(': keep-alive\n\n');
      out.end();
      const before = chunks.length;
      await vi.advanceTimersByTimeAsync(SSE_KEEP_ALIVE_MS * 3);
      expect(chunks.length).toBe(before);
    } finally {
      vi.useRealTimers();
    }
  });
});

import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SseWriter } from '../../../lambdas/inference/sse-writer.js';

/** A response that records its writes; `room` says whether a write still fits its buffer. */
class FakeResponse extends EventEmitter {
  writes: string[] = [];
  ended = false;
  destroyed = false;
  writableEnded = false;
  room = true;
  write(text: string): boolean {
    this.writes.push(text);
    return this.room;
  }
  end(): void {
    this.ended = true;
    this.writableEnded = true;
  }
}

const tick = () => new Promise<void>((ok) => process.nextTick(ok));

describe('SseWriter', () => {
  it('writes the events of one turn as one write, when the turn ends', async () => {
    // GIVEN
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse);
    // WHEN
    sse.write('data: 1\n\n');
    sse.write('data: 2\n\n');
    sse.write('data: 3\n\n');
    // THEN nothing before the turn ends, then one write in order
    expect(res.writes).toEqual([]);
    await tick();
    expect(res.writes).toEqual(['data: 1\n\ndata: 2\n\ndata: 3\n\n']);
    // AND a later turn's event is a write of its own
    sse.write('data: 4\n\n');
    await tick();
    expect(res.writes).toEqual(['data: 1\n\ndata: 2\n\ndata: 3\n\n', 'data: 4\n\n']);
  });

  it('end writes what is pending before ending, and nothing is written twice', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse);
    sse.write('data: a\n\n');
    sse.write('data: [DONE]\n\n');
    sse.end();
    expect(res.writes).toEqual(['data: a\n\ndata: [DONE]\n\n']);
    expect(res.ended).toBe(true);
    await tick();
    expect(res.writes).toHaveLength(1);
  });

  it('a full buffer makes the next write wait for drain (the upstream is read no faster than the caller reads)', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse);
    res.room = false;
    expect(sse.write('data: big\n\n')).toBeUndefined();
    await tick(); // flushed into a full buffer
    const waiting = sse.write('data: next\n\n');
    expect(waiting).toBeInstanceOf(Promise);
    let drained = false;
    void waiting!.then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    res.room = true;
    res.emit('drain');
    await waiting;
    expect(drained).toBe(true);
    expect(sse.write('data: after\n\n')).toBeUndefined();
  });

  it('a caller that left: the wait ends on close, and later events are dropped', async () => {
    const res = new FakeResponse();
    const sse = new SseWriter(res as unknown as ServerResponse);
    res.room = false;
    sse.write('data: big\n\n');
    await tick();
    const waiting = sse.write('data: next\n\n');
    res.destroyed = true;
    res.emit('close');
    await waiting;
    await tick();
    expect(sse.write('data: late\n\n')).toBeUndefined();
    await tick();
    expect(res.writes).toEqual(['data: big\n\n']);
  });
});

import { describe, expect, it } from 'vitest';
import { PendingWork } from '../../lambdas/shared/pending-work.js';

describe('PendingWork', () => {
  it('settles when all tracked work ended, work tracked meanwhile included, and hands on each outcome', async () => {
    const pending = new PendingWork();
    let releaseA!: () => void;
    const a = pending.track(new Promise<string>((r) => { releaseA = () => r('a'); }));
    expect(pending.busy).toBe(true);
    let settled = false;
    const all = pending.settled().then(() => { settled = true; });
    let releaseB!: () => void;
    const b = pending.track(new Promise<void>((r) => { releaseB = r; }));
    releaseA();
    expect(await a).toBe('a');
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false); // b, tracked after settled() was called, is still running
    releaseB();
    await b;
    await all;
    expect(pending.busy).toBe(false);
  });

  it('rejects settled() with a tracked rejection, and forgets the work either way', async () => {
    const pending = new PendingWork();
    const failed = pending.track(Promise.reject(new Error('disk full')));
    await expect(pending.settled()).rejects.toThrow('disk full');
    await expect(failed).rejects.toThrow('disk full');
    expect(pending.busy).toBe(false);
    await expect(pending.settled()).resolves.toBeUndefined();
  });
});

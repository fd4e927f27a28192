/**
 * A gate for driving an interleaving deterministically: the code under test calls `wait()` at the
 * point to pause (a mocked SDK call), which resolves `reached` and then waits until the test calls
 * `release()`. No timers: the test awaits `reached`, does the other side's step, then releases.
 */
export interface Gate {
  /** Pauses the caller until `release()`; resolves `reached` first. */
  wait(): Promise<void>;
  release(): void;
  /** Resolves once some caller is paused at the gate. */
  reached: Promise<void>;
}

export function gate(): Gate {
  let release!: () => void;
  let reached!: () => void;
  const open = new Promise<void>((r) => { release = r; });
  const arrived = new Promise<void>((r) => { reached = r; });
  return { wait: async () => { reached(); await open; }, release: () => release(), reached: arrived };
}

/** A byte budget whose grants go strictly in entry order, so the entry the writer waits for can always proceed. */
export interface ByteGate {
  /** Waits until entry `index` may hold `bytes` in memory; every index must enter exactly once, in any order. */
  enter(index: number, bytes: number): Promise<void>;
  /** Gives back bytes once the entry is written. */
  release(bytes: number): void;
  /** Rejects every waiter (and later callers) with `error`. */
  fail(error: unknown): void;
}

interface Waiter {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Creates a gate holding at most `capBytes` (one entry larger than the cap is let through alone). */
export function createByteGate(capBytes: number): ByteGate {
  const waiting = new Map<number, Waiter>();
  let held = 0;
  let next = 0;
  let failure: { error: unknown } | undefined;

  // Deadlock-free: grants follow index order and the writer releases in index order, so when the
  // writer waits on entry i, everything before i is released and nothing after i is granted.
  const grant = () => {
    for (;;) {
      const waiter = waiting.get(next);
      if (waiter === undefined) return;
      if (held > 0 && held + waiter.bytes > capBytes) return;
      waiting.delete(next);
      next++;
      held += waiter.bytes;
      waiter.resolve();
    }
  };

  return {
    enter(index, bytes) {
      if (failure) return Promise.reject(failure.error);
      return new Promise<void>((resolve, reject) => {
        waiting.set(index, { bytes, resolve, reject });
        grant();
      });
    },
    release(bytes) {
      held -= bytes;
      grant();
    },
    fail(error) {
      failure = { error };
      for (const waiter of waiting.values()) waiter.reject(error);
      waiting.clear();
    },
  };
}

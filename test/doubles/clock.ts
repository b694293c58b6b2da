/**
 * A virtual clock for concurrent sleepers (the drain loop and its heartbeat timer): once every pending promise has
 * settled, it jumps to the earliest wake-up and resolves that sleeper, one at a time, so tests are deterministic and
 * take no real time.
 */
export function virtualClock() {
  let ms = 0;
  const sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  let seq = 0;
  let scheduled = false;
  const tick = () => {
    scheduled = false;
    if (sleepers.length === 0) return;
    sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = sleepers.shift()!;
    ms = Math.max(ms, next.at);
    next.resolve();
    schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(tick);
  };
  return {
    seconds: () => ms / 1000,
    now: () => ms,
    sleep: (wait: number, signal: AbortSignal): Promise<void> => {
      if (signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const onAbort = () => {
          const i = sleepers.indexOf(entry);
          if (i >= 0) sleepers.splice(i, 1);
          resolve();
        };
        const entry = {
          at: ms + wait,
          seq: seq++,
          resolve: () => {
            signal.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        sleepers.push(entry);
        signal.addEventListener("abort", onAbort, { once: true });
        schedule();
      });
    },
  };
}

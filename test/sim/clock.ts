/**
 * Simulated time. The world lives in simulated seconds that run `timeScale` times faster than the wall clock, so a
 * drain that takes minutes on AWS takes seconds here. Everything the drainer sees of time (its poll and heartbeat
 * intervals, the hook's HeartbeatTimeout) is converted to wall-clock seconds at the boundary with `toReal`.
 *
 * Scheduled events run in order of their simulated time. While one runs, `now()` is that event's own time, so what it
 * records is exact even if the event loop runs it a little late.
 */
import { performance } from "node:perf_hooks";

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

export interface Timer {
  cancel(): void;
}

export class SimClock {
  private readonly startReal = performance.now();
  private readonly queue: Scheduled[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private current: number | undefined;
  private stopped = false;
  private draining = false;
  /** Simulated seconds subtracted from the wall clock: the time spent paused. */
  private offset = 0;
  private frozenAt: number | undefined;

  /** @param timeScale simulated seconds per wall-clock second (10 means ten times faster than AWS). */
  constructor(readonly timeScale: number) {
    if (!(timeScale > 0)) throw new Error(`timeScale must be greater than 0, got ${timeScale}`);
  }

  /** Simulated seconds since the clock started. */
  now(): number {
    return this.current ?? this.realNow();
  }

  /** Wall-clock seconds for a simulated duration (what the drainer must be told). */
  toReal(simSeconds: number): number {
    return simSeconds / this.timeScale;
  }

  /** Simulated seconds for a wall-clock duration. */
  toSim(realSeconds: number): number {
    return realSeconds * this.timeScale;
  }

  /** Runs `run` at simulated time `at` (at once, in order, if that time has passed). */
  at(at: number, run: () => void): Timer {
    const item: Scheduled = { at, seq: this.seq++, run, cancelled: false };
    this.insert(item);
    this.arm();
    return {
      cancel: () => {
        item.cancelled = true;
      },
    };
  }

  after(simSeconds: number, run: () => void): Timer {
    return this.at(this.now() + simSeconds, run);
  }

  /**
   * Freezes simulated time (at `at`, by default now): nothing happens until `resume`. Tests pause the world to look
   * at it through the SDK without it moving under them.
   */
  pause(at = this.now()): void {
    if (this.frozenAt !== undefined) return;
    this.frozenAt = at;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  resume(): void {
    if (this.frozenAt === undefined) return;
    this.offset = this.rawNow() - this.frozenAt;
    this.frozenAt = undefined;
    this.arm();
  }

  get paused(): boolean {
    return this.frozenAt !== undefined;
  }

  /** Lets `simSeconds` of simulated time pass (resuming if paused), then pauses again if it was paused. */
  async runFor(simSeconds: number): Promise<void> {
    if (this.frozenAt === undefined) return this.sleep(simSeconds);
    const target = this.frozenAt + simSeconds;
    const done = new Promise<void>((resolve) =>
      this.at(target, () => {
        this.pause(target);
        resolve();
      }),
    );
    this.resume();
    await done;
    this.advance();
  }

  /** Runs every event that is due now. The API server calls it before answering, so answers are never stale. */
  advance(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    try {
      const limit = this.realNow();
      while (this.queue.length > 0 && this.queue[0].at <= limit) {
        const item = this.queue.shift()!;
        if (item.cancelled) continue;
        this.current = item.at;
        try {
          item.run();
        } finally {
          this.current = undefined;
        }
      }
    } finally {
      this.draining = false;
    }
    this.arm();
  }

  /** Resolves after a simulated duration. */
  sleep(simSeconds: number): Promise<void> {
    return new Promise((resolve) => this.after(simSeconds, resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private rawNow(): number {
    return ((performance.now() - this.startReal) / 1000) * this.timeScale;
  }

  private realNow(): number {
    return this.frozenAt ?? this.rawNow() - this.offset;
  }

  private insert(item: Scheduled): void {
    // Binary search: stable for equal times thanks to seq.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.queue[mid];
      if (q.at < item.at || (q.at === item.at && q.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
  }

  private arm(): void {
    if (this.stopped || this.draining || this.frozenAt !== undefined) return;
    while (this.queue.length > 0 && this.queue[0].cancelled) this.queue.shift();
    const next = this.queue[0]?.at ?? Infinity;
    if (next === this.armedFor && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = next;
    if (next === Infinity) return;
    const delayMs = Math.max(0, ((next - this.realNow()) / this.timeScale) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Infinity;
      this.advance();
    }, Math.ceil(delayMs));
  }
}

/**
 * AWS-style token buckets: a call takes one token; tokens refill continuously up to the burst. The refill rate is per
 * simulated second, so throttling keeps its AWS meaning however fast the simulation runs.
 */
import { SimClock } from "./clock";

export interface BucketSpec {
  readonly burst: number;
  /** Tokens per simulated second. */
  readonly refillPerSecond: number;
}

/** drainer/AWS-FACTS.md: ECS throttles per account and region. */
export const ECS_BUCKETS = {
  /** DescribeContainerInstances, DescribeTasks, ListContainerInstances, ListTasks. */
  clusterReads: { burst: 100, refillPerSecond: 20 },
  /** UpdateContainerInstancesState, RunTask, StopTask. */
  clusterModifications: { burst: 100, refillPerSecond: 40 },
} as const satisfies Record<string, BucketSpec>;

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly spec: BucketSpec,
    private readonly clock: SimClock,
  ) {
    this.tokens = spec.burst;
    this.last = clock.now();
  }

  /** Takes a token if there is one. False means the call is throttled. */
  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(
      this.spec.burst,
      this.tokens + (now - this.last) * this.spec.refillPerSecond,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

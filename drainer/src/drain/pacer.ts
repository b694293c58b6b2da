/**
 * The read pacer: keeps a run's ECS reads at ECS_READS_PER_SECOND, whatever its role or how many instances it serves.
 * ECS's cluster reads refill at 20/s per account and region, shared with everything else.
 */
import { type AwsPort, BATCH, chunks } from "../aws";

/**
 * A token bucket on the drainer's clock: `rate` tokens a second, and a burst of one second's worth. It keeps the
 * drainer's ECS reads at ECS_READS_PER_SECOND over any stretch of time, not only over a poll.
 */
export class ReadPacer {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>,
    private readonly signal: AbortSignal,
  ) {
    this.tokens = this.burst;
    this.at = now();
  }

  private get burst(): number {
    return Math.max(1, this.rate);
  }

  /** Waits for a token, then spends `calls` of them (a batched call may leave the bucket in debt). */
  async take(calls: number): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.rate);
      this.at = t;
      if (this.tokens >= 1 || this.signal.aborted) break;
      await this.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000), this.signal);
    }
    this.tokens -= calls;
  }

  /** Spends tokens for calls already made (the further pages of a list). */
  spend(calls: number): void {
    this.tokens -= calls;
  }
}

/**
 * The port, pacing and counting the ECS read calls it makes: DescribeContainerInstances and DescribeTasks take 100 a
 * call, and the lists come 100 a page. Auto Scaling calls and ECS writes have budgets of their own and go unpaced.
 */
export function pacedReads(
  port: AwsPort,
  pacer: ReadPacer,
  count: (calls: number) => void,
): AwsPort {
  const calls = (n: number) => Math.max(1, Math.ceil(n / 100));
  const read = async <T>(n: number, call: () => Promise<T>): Promise<T> => {
    await pacer.take(n);
    count(n);
    return call();
  };
  const listed = async (list: () => Promise<string[]>) => {
    const arns = await read(1, list);
    const pages = calls(arns.length) - 1;
    pacer.spend(pages);
    count(pages);
    return arns;
  };
  return {
    setDraining: (cluster, arns) => port.setDraining(cluster, arns),
    stopTask: (cluster, arn, reason) => port.stopTask(cluster, arn, reason),
    completeLifecycleAction: (ref, result) => port.completeLifecycleAction(ref, result),
    recordHeartbeat: (ref) => port.recordHeartbeat(ref),
    describeAutoScalingInstances: (ids) => port.describeAutoScalingInstances(ids),
    describeGroupInstances: (asgs) => port.describeGroupInstances(asgs),
    describeLifecycleHooks: (asg) => port.describeLifecycleHooks(asg),
    describeRetention: (asg) => port.describeRetention(asg),
    putEvents: (events) => port.putEvents(events),
    describeScalingActivities: (asg, pages, enough) =>
      port.describeScalingActivities(asg, pages, enough),
    findContainerInstances: (cluster, id) => listed(() => port.findContainerInstances(cluster, id)),
    // One filtered call per 20 instances, each waiting for its own token.
    findContainerInstancesIn: async (cluster, ids) =>
      (
        await Promise.all(
          chunks(ids, BATCH.findContainerInstancesIn).map((c) =>
            listed(() => port.findContainerInstancesIn(cluster, c)),
          ),
        )
      ).flat(),
    listContainerInstances: (cluster) => listed(() => port.listContainerInstances(cluster)),
    // A describe of many ids is many calls of 100: each waits for its own token, so that a large batch is paced too.
    describeContainerInstances: async (cluster, arns) =>
      (
        await Promise.all(
          chunks(arns, 100).map((c) => read(1, () => port.describeContainerInstances(cluster, c))),
        )
      ).flat(),
    listTasks: (cluster, arn, status) => listed(() => port.listTasks(cluster, arn, status)),
    listFamilyTasks: (cluster, family, status, firstPage) =>
      listed(() => port.listFamilyTasks(cluster, family, status, firstPage)),
    listClusterTasks: (cluster, status) => listed(() => port.listClusterTasks(cluster, status)),
    describeServices: async (cluster, names) =>
      (
        await Promise.all(
          chunks(names, BATCH.describeServices).map((c) =>
            read(1, () => port.describeServices(cluster, c)),
          ),
        )
      ).flat(),
    describeTasks: async (cluster, arns) =>
      (
        await Promise.all(
          chunks(arns, 100).map((c) => read(1, () => port.describeTasks(cluster, c))),
        )
      ).flat(),
  };
}

/**
 * The deadline keeper (rule 3). On a timer of its own, so that an ECS outage or a hung request cannot hold an
 * instance past DRAIN_TIMEOUT_SECONDS: at the deadline it logs what blocked the drain at the last look and completes
 * the action with TIMEOUT_RESULT, trying again every poll interval until Auto Scaling takes it.
 */
import { complete } from "./endings";
import { InstanceState, Run, active, deadlineOf } from "./state";

export async function keepDeadlines(run: Run): Promise<void> {
  const { ctx } = run;
  const pollMs = ctx.config.pollIntervalSeconds * 1000;
  while (!run.signal.aborted) {
    const mine = active(run).filter((s) => s.confirmed);
    const now = ctx.now();
    for (const s of mine) {
      if (now >= deadlineOf(ctx.config, s) && now >= s.deadlineRetryAt && !s.closing) {
        s.deadlineRetryAt = now + pollMs;
        void timeOut(run, s);
      }
    }
    // One whose completion is in flight wakes the keeper at the next interval at the latest, not at once: a deadline
    // already past would otherwise have it spin until the completion answers.
    const next = Math.min(
      now + pollMs,
      ...mine
        .filter((s) => !s.closing)
        .map((s) => Math.max(deadlineOf(ctx.config, s), s.deadlineRetryAt)),
    );
    await ctx.sleep(Math.max(0, next - ctx.now()), run.signal);
  }
}

/** Whether the deadline keeper has the instance: the poll leaves it alone. */
export function pastDeadline(run: Run, s: InstanceState): boolean {
  return s.confirmed && run.ctx.now() >= deadlineOf(run.ctx.config, s);
}

async function timeOut(run: Run, s: InstanceState): Promise<void> {
  const { config } = run.ctx;
  const views = (s.registrations ?? []).map((r) => r.view).filter((v) => v !== undefined);
  const retention = run.retention.get(s.ref.asg);
  const fate =
    retention === undefined
      ? "the group's retention policy is unknown"
      : retention.keptOnTimeout
        ? "the group retains the instance (Terminating:Retained): nothing on it is killed"
        : "the instance terminates with whatever still runs on it";
  s.log.log("error", `the drain timed out; ${fate}; this is what blocked it at the last look`, {
    action: "timeout",
    timeoutResult: config.timeoutResult,
    kept: retention?.keptOnTimeout ?? null,
    stuck: s.stuck ?? [],
    blockers: s.lastBlockers ?? null,
    blockingTasks: (s.lastBlocking ?? []).map((t) => ({
      taskArn: t.arn,
      group: t.group,
      lastStatus: t.lastStatus,
      desiredStatus: t.desiredStatus,
    })),
    containerInstances: views.map((v) => ({
      arn: v.arn,
      status: v.status,
      runningTasksCount: v.runningTasksCount,
      pendingTasksCount: v.pendingTasksCount,
    })),
  });
  await complete(run, s, config.timeoutResult, "timed-out");
}

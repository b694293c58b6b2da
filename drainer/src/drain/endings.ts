/**
 * How an instance's drain ends, once: an outcome, logged (with its metrics) and published, and the two ways the
 * drainer's own hand ends it: completing the lifecycle action, or a permanent failure (rule 4). Every ending of a
 * drain goes through `settle`.
 */
import { isNoActiveLifecycleAction } from "../aws";
import { LifecycleResult } from "../contract";
import { errorText } from "../log";
import { outcomeMetrics, writesMetrics } from "../telemetry";
import { publishOutcome } from "./events";
import { isPermanent, permanentFix } from "./rules";
import { InstanceState, Outcome, Result, Run, active } from "./state";

/** Ends an instance's drain, once, and logs its outcome. The run finishes when every instance has ended. */
export function settle(run: Run, s: InstanceState, outcome: Outcome): void {
  if (s.outcome) return;
  s.outcome = s.own ? outcome : { ...outcome, forPeer: true };
  logOutcome(run, s, s.outcome);
  publishOutcome(run, s, s.outcome);
  // A leader ends only once a look at its groups finds nothing held (roles.ts): a follower may have just left an
  // action to it. A drainer alone that is an ECS task may be the oldest, that followers leave their actions to: the
  // loop's last look at the registry (roles.ts, lastLook) decides whether it ends or leads.
  const mayLead = run.role === "leader" || (run.role === "alone" && !!run.ctx.ownTaskArn);
  if (active(run).length === 0 && !mayLead) run.finished.abort();
}

/**
 * One line per instance outcome, with the outcome's fields; with EMIT_METRICS, also its CloudWatch metrics (Embedded
 * Metric Format) when the outcome is a drain that counts (telemetry.ts). A peer's drain is counted by the leader that
 * completed it, once: its own drainer then finds the action already complete, which is not counted.
 */
function logOutcome(run: Run, s: InstanceState, outcome: Outcome): void {
  const { config } = run.ctx;
  const metrics = writesMetrics(config)
    ? outcomeMetrics(
        outcome,
        config.cluster,
        config.metricsNamespace,
        (run.ctx.epochMs ?? Date.now)(),
      )
    : undefined;
  const { instanceId: _id, asg: _asg, ...fields } = outcome;
  s.log.log(outcome.result === "failed" ? "error" : "info", `outcome: ${outcome.result}`, {
    action: "outcome",
    ...fields,
    ...metrics,
  });
}

export function outcomeOf(
  run: Run,
  s: InstanceState,
  result: Result,
  lifecycleResult?: string,
  error?: string,
): Outcome {
  return {
    instanceId: s.ref.instanceId,
    asg: s.ref.asg,
    result,
    drainSeconds: Math.round((run.ctx.now() - s.startedAt) / 10) / 100,
    tasksAtStart: s.tasksAtStart,
    ...(lifecycleResult ? { lifecycleResult } : {}),
    ...(error ? { error } : {}),
    ...(s.stuck && s.stuck.length > 0 && result !== "completed" ? { stuck: s.stuck } : {}),
  };
}

/** Completes the instance's lifecycle action, unless another completion is in flight or it has ended. */
export async function complete(
  run: Run,
  s: InstanceState,
  result: LifecycleResult,
  as: Result,
): Promise<void> {
  const { ctx } = run;
  if (s.outcome || s.closing) return;
  if (ctx.config.dryRun) {
    s.log.log("info", `would complete the lifecycle action with ${result}`, { action: "complete" });
    settle(run, s, outcomeOf(run, s, "dry-run"));
    return;
  }
  s.closing = true;
  try {
    // A peer's action is completed by instance ID: only its own drainer has the token.
    await run.port.completeLifecycleAction(s.own ? s.ref : { ...s.ref, token: undefined }, result);
    s.log.log("info", `completed the lifecycle action with ${result}`, {
      action: "complete",
      lifecycleResult: result,
      ...(s.own ? {} : { forPeer: true }),
    });
    settle(run, s, outcomeOf(run, s, as, result));
  } catch (err) {
    if (isNoActiveLifecycleAction(err)) {
      s.log.log("info", "the lifecycle action was already complete", { action: "complete" });
      settle(run, s, outcomeOf(run, s, "already-complete"));
    } else {
      failed(run, s, "completing the lifecycle action", err);
    }
  } finally {
    s.closing = false;
  }
}

/**
 * A failed step (rule 4): logged and retried at the next look, until the deadline. Only a permanent error ends the
 * instance's drain early, with the fix in the message.
 */
export function failed(run: Run, s: InstanceState, doing: string, err: unknown): void {
  s.consecutiveFailures += 1;
  if (isPermanent(err)) {
    const fix = permanentFix(err);
    s.log.log("error", `${doing} failed, and retrying will not help: ${fix}`, {
      action: "error",
      error: errorText(err),
    });
    settle(run, s, outcomeOf(run, s, "failed", undefined, `${doing}: ${errorText(err)}; ${fix}`));
    return;
  }
  s.log.log("warn", `${doing} failed; will retry`, {
    action: "error",
    error: errorText(err),
    consecutiveFailures: s.consecutiveFailures,
  });
}

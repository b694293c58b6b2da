/**
 * The drainer's events on the account's default EventBridge bus (PUBLISH_EVENTS): one per instance outcome that is a
 * drain (completed, timed out, failed), and one when a drain is first found stuck. Users route them (source
 * `ecs-scale-in-drainer`) to SNS, chat or a pager with a rule of their own. Publishing never changes a drain: it is not
 * waited for by the poll, a failure is a warning, and the run only waits for what is in flight before it returns
 * (each request is bounded by REQUEST_TIMEOUT_SECONDS and the SDK's retries).
 */
import { DRAIN_EVENTS } from "../contract";
import { clusterDimension, isDrain } from "../telemetry";
import { type StuckFinding, serviceNames } from "../blockers";
import { errorText } from "../log";
import type { InstanceState, Outcome, Run } from "./state";

function publish(
  run: Run,
  s: InstanceState,
  detailType: string,
  detail: Record<string, unknown>,
): void {
  const { config } = run.ctx;
  if (!config.publishEvents) return;
  const put = run.port
    .putEvents([
      {
        detailType,
        detail: {
          instanceId: s.ref.instanceId,
          autoScalingGroup: s.ref.asg,
          cluster: clusterDimension(config.cluster),
          ...detail,
        },
      },
    ])
    .catch((err) =>
      s.log.log(
        "warn",
        `could not put the "${detailType}" event on EventBridge; the drain is unaffected`,
        {
          action: "event",
          error: errorText(err),
        },
      ),
    );
  run.publishing.add(put);
  void put.finally(() => run.publishing.delete(put));
}

/** An instance's outcome, as an event, when it is a drain. */
export function publishOutcome(run: Run, s: InstanceState, outcome: Outcome): void {
  if (!isDrain(outcome.result)) return;
  publish(run, s, DRAIN_EVENTS.outcome, {
    result: outcome.result,
    lifecycleResult: outcome.lifecycleResult ?? null,
    drainSeconds: outcome.drainSeconds,
    tasksAtStart: outcome.tasksAtStart,
    reasons: (outcome.stuck ?? []).map((f) => f.reason),
    blockingServices: serviceNames(outcome.stuck ?? []),
    stuck: outcome.stuck ?? [],
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.forPeer ? { forPeer: true } : {}),
  });
}

/** A drain found stuck for a reason it was not stuck for before. */
export function publishStuck(run: Run, s: InstanceState, stuck: readonly StuckFinding[]): void {
  publish(run, s, DRAIN_EVENTS.stuck, {
    result: "stuck",
    drainSeconds: Math.round((run.ctx.now() - s.startedAt) / 10) / 100,
    reasons: [...new Set(stuck.map((f) => f.reason))],
    blockingServices: serviceNames(stuck),
    stuck,
  });
}

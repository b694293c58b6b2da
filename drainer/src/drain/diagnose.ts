/**
 * Why a drain waits: once tasks have held a DRAINING instance for a few polls, the services they belong to are read
 * (DescribeServices, shared by every instance of the run, at most once every few polls, paced like every ECS read),
 * and blockers.ts names the reason per group. The reasons are logged when they change, kept for the deadline's line and
 * the outcome, and counted once per instance and reason as a metric. Informational only: nothing here decides a
 * drain, and a failed read changes nothing but the explanation.
 */
import type { ServiceView } from "../aws";
import {
  StuckReason,
  classifyStuck,
  describeStuck,
  needsOperator,
  serviceNames,
  stuckKey,
} from "../blockers";
import { stuckMetrics, writesMetrics } from "../telemetry";
import { publishStuck } from "./events";
import { errorText } from "../log";
import { InstanceState, Run, deadlineOf } from "./state";

/** Poll intervals an instance stays DRAINING with tasks on it before the drainer looks into why. */
export const STUCK_AFTER_POLLS = 3;
/** A service is read again at most once in this many poll intervals. */
export const SERVICES_EVERY_POLLS = 3;

/**
 * The services named, read if not read within `maxAgeMs`; from the run's cache otherwise. A service's scheduling
 * strategy never changes, so a daemon stays known as one however old the read. Never throws.
 */
export async function readServices(
  run: Run,
  names: readonly string[],
  maxAgeMs: number,
): Promise<ReadonlyMap<string, ServiceView>> {
  const { ctx } = run;
  const now = ctx.now();
  const stale = names.filter((n) => {
    const cached = run.services.get(n);
    return cached === undefined || now - cached.readAt >= maxAgeMs;
  });
  if (stale.length > 0) {
    try {
      const read = await run.port.describeServices(ctx.config.cluster, stale);
      const at = ctx.now();
      for (const v of read) run.services.set(v.name, { view: v, readAt: at });
    } catch (err) {
      ctx.log.log(
        "warn",
        "could not read the services whose tasks hold the instances; will retry",
        {
          action: "stuck",
          services: stale,
          error: errorText(err),
        },
      );
    }
  }
  return new Map(
    names.flatMap((n) => {
      const cached = run.services.get(n);
      return cached ? [[n, cached.view] as const] : [];
    }),
  );
}

/** Whether every registration has been DRAINING, with tasks on it, for STUCK_AFTER_POLLS poll intervals. */
function heldTooLong(run: Run, s: InstanceState): boolean {
  const intervalMs = run.ctx.config.pollIntervalSeconds * 1000;
  const since = (s.registrations ?? []).map((r) => r.drainingSeenAt);
  return (
    (s.lastBlocking?.length ?? 0) > 0 &&
    since.length > 0 &&
    since.every((t) => t !== undefined && run.ctx.now() - t >= STUCK_AFTER_POLLS * intervalMs)
  );
}

/** Looks into why the instances that have waited a while still wait; logs the reasons when they change. */
export async function diagnose(run: Run, states: readonly InstanceState[]): Promise<void> {
  const { ctx } = run;
  const held = states.filter((s) => !s.outcome && heldTooLong(run, s));
  if (held.length === 0) return;
  const names = [...new Set(held.flatMap((s) => serviceNames(s.lastBlocking!)))].sort();
  const services = await readServices(
    run,
    names,
    SERVICES_EVERY_POLLS * ctx.config.pollIntervalSeconds * 1000,
  );
  for (const s of held) {
    if (s.outcome) continue;
    const findings = classifyStuck(s.lastBlocking!, services);
    // Progress (a daemon, tasks shutting down, a standalone task in its time) is told but pages no one (blockers.ts).
    // A standalone task turns to trouble as the deadline nears, so a new trouble is looked at as a change too.
    const trouble = needsOperator(findings, {
      secondsLeft: (deadlineOf(ctx.config, s) - ctx.now()) / 1000,
      drainTimeoutSeconds: ctx.config.drainTimeoutSeconds,
      pollIntervalSeconds: ctx.config.pollIntervalSeconds,
    });
    const fresh = trouble.filter((f) => !s.stuckCounted.has(f.reason));
    if (stuckKey(findings) === stuckKey(s.stuck ?? []) && fresh.length === 0) continue;
    s.stuck = findings;
    if (findings.length === 0) continue;
    s.log.log(trouble.length > 0 ? "warn" : "info", `waiting: ${describeStuck(findings)}`, {
      action: "wait",
      blockers: s.lastBlockers ?? null,
      stuck: findings,
    });
    for (const f of trouble) countStuck(run, s, f.reason);
    if (fresh.length > 0) publishStuck(run, s, findings);
  }
}

/**
 * A metric per instance and reason, the first time the reason appears: StuckInstances = 1, with dimensions Cluster,
 * AutoScalingGroup and Reason (Embedded Metric Format, as telemetry.ts writes the outcomes).
 */
function countStuck(run: Run, s: InstanceState, reason: StuckReason): void {
  const { config } = run.ctx;
  if (s.stuckCounted.has(reason)) return;
  s.stuckCounted.add(reason);
  if (!writesMetrics(config)) return;
  s.log.log("info", `stuck: ${reason}`, {
    action: "stuck",
    reason,
    ...stuckMetrics(
      s.ref.asg,
      reason,
      config.cluster,
      config.metricsNamespace,
      (run.ctx.epochMs ?? Date.now)(),
    ),
  });
}

/**
 * The lifecycle hook's plan (how its settings bound heartbeats and the deadline) and the retention plan (what
 * becomes of an instance whose drain times out). Pure: no I/O, no clock.
 */
import type { LifecycleHookView } from "./aws";
import { ECS_MANAGED_DRAINING_HOOK, LIMITS, TERMINATING_TRANSITION } from "./contract";

/**
 * Seconds between heartbeats: HEARTBEAT_INTERVAL_SECONDS when set, else half the hook's HeartbeatTimeout (a
 * heartbeat restarts that timeout). Until the hook is read, the run assumes the shortest timeout a hook may have.
 */
export function heartbeatInterval(
  configured: number | undefined,
  heartbeatTimeoutSeconds: number = LIMITS.heartbeatTimeoutMin,
): number {
  return configured ?? heartbeatTimeoutSeconds / 2;
}

/** The hook's settings that bound the drain, and a warning when another drainer is acting too. */
export interface HookPlan {
  readonly heartbeatIntervalSeconds: number;
  /** How long the drain may wait: DRAIN_TIMEOUT_SECONDS, kept inside the hook's global timeout. */
  readonly deadlineSeconds: number;
  readonly warnings: readonly string[];
}

/**
 * Plans heartbeats and the deadline from the hook AWS reports. The heartbeat comes at half the hook's
 * HeartbeatTimeout by default (a heartbeat restarts that timeout), and the deadline stays inside the action's global
 * limit, min(48 h, 100 x HeartbeatTimeout), with a margin of one heartbeat timeout so that the drainer, not the
 * hook's default result, decides what happens at the end.
 */
export function planHook(input: {
  readonly hookName: string;
  readonly hooks: readonly LifecycleHookView[];
  readonly heartbeatIntervalSeconds: number | undefined;
  readonly drainTimeoutSeconds: number;
  /** REQUEST_TIMEOUT_SECONDS: warned about when a request could outlast a heartbeat interval. */
  readonly requestTimeoutSeconds?: number;
}): HookPlan {
  const warnings: string[] = [];
  const hook = input.hooks.find((h) => h.name === input.hookName);
  if (input.hooks.some((h) => h.name === ECS_MANAGED_DRAINING_HOOK && h.name !== input.hookName)) {
    warnings.push(
      `the group also has ${ECS_MANAGED_DRAINING_HOOK} (ECS managed draining): two drainers are acting on this instance; turn one of them off`,
    );
  }
  if (!hook) {
    warnings.push(
      `lifecycle hook ${input.hookName} was not found on the group; assuming the shortest heartbeat timeout (${LIMITS.heartbeatTimeoutMin} s)`,
    );
  } else if (hook.transition !== TERMINATING_TRANSITION) {
    warnings.push(
      `lifecycle hook ${input.hookName} is for ${hook.transition}, not ${TERMINATING_TRANSITION}`,
    );
  }
  const timeout = hook?.heartbeatTimeout ?? LIMITS.heartbeatTimeoutMin;
  const globalLimit =
    hook && hook.globalTimeout > 0
      ? hook.globalTimeout
      : Math.min(LIMITS.globalTimeoutMaxSeconds, LIMITS.globalTimeoutHeartbeatFactor * timeout);
  let heartbeat = heartbeatInterval(input.heartbeatIntervalSeconds, timeout);
  if (heartbeat >= timeout) {
    warnings.push(
      `HEARTBEAT_INTERVAL_SECONDS (${heartbeat}) is not shorter than the hook's heartbeat timeout (${timeout} s); using ${heartbeatInterval(undefined, timeout)}`,
    );
    heartbeat = heartbeatInterval(undefined, timeout);
  }
  if (input.requestTimeoutSeconds !== undefined && input.requestTimeoutSeconds >= heartbeat) {
    warnings.push(
      `REQUEST_TIMEOUT_SECONDS (${input.requestTimeoutSeconds}) is not shorter than the heartbeat interval (${heartbeat} s): a hung request could cost a heartbeat; lower it`,
    );
  }
  const ceiling = Math.max(globalLimit - timeout, heartbeat);
  let deadline = input.drainTimeoutSeconds;
  if (deadline > ceiling) {
    warnings.push(
      `DRAIN_TIMEOUT_SECONDS (${deadline}) exceeds what the hook allows (global timeout ${globalLimit} s less one heartbeat timeout); using ${ceiling}`,
    );
    deadline = ceiling;
  }
  return { heartbeatIntervalSeconds: heartbeat, deadlineSeconds: deadline, warnings };
}

/** What becomes of an instance whose terminate action is abandoned, and what the drainer says of it at start. */
export interface RetentionPlan {
  /** The group retains an instance whose terminate hook is abandoned (TerminateHookAbandon = retain). */
  readonly retains: boolean;
  /** A drain that times out keeps the instance: TIMEOUT_RESULT is ABANDON and the group retains. */
  readonly keptOnTimeout: boolean;
  readonly level: "info" | "warn";
  readonly message: string;
}

/**
 * Whether a failed drain keeps its instance. Auto Scaling retains an instance (Terminating:Retained) instead of
 * terminating it when its terminate action is abandoned (CompleteLifecycleAction with ABANDON, or a hook whose
 * DefaultResult is ABANDON timing out) and the group's instance lifecycle policy says `retain`
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/configure-instance-retention.html). A retained instance
 * stays DRAINING, with whatever still runs on it, for an operator.
 */
export function planRetention(input: {
  readonly timeoutResult: string;
  /** The hook's DefaultResult, when the hook was found. */
  readonly hookDefaultResult?: string;
  /** The group's TerminateHookAbandon: retain, terminate, or undefined (no policy). */
  readonly terminateHookAbandon?: string;
}): RetentionPlan {
  const retains = input.terminateHookAbandon === "retain";
  const keptOnTimeout = retains && input.timeoutResult === "ABANDON";
  const deadDrainer =
    input.hookDefaultResult === "ABANDON"
      ? retains
        ? "a drainer that dies leaves the instance retained (the hook's DefaultResult is ABANDON)"
        : "a drainer that dies still terminates the instance when the hook times out"
      : "a drainer that dies terminates the instance when the hook times out (its DefaultResult is CONTINUE)";
  if (input.timeoutResult === "ABANDON" && !retains) {
    return {
      retains,
      keptOnTimeout,
      level: "warn",
      message: `TIMEOUT_RESULT=ABANDON will still terminate an instance whose drain times out: the group has no instance lifecycle policy that retains instances on abandoned terminate hooks (set its TerminateHookAbandon retention trigger to retain); ${deadDrainer}`,
    };
  }
  return {
    retains,
    keptOnTimeout,
    level: "info",
    message: keptOnTimeout
      ? `a drain that times out completes with ABANDON and the group retains the instance (Terminating:Retained), still DRAINING, with nothing on it killed; ${deadDrainer}`
      : `a drain that times out completes with ${input.timeoutResult}: the instance terminates with whatever still runs on it${retains ? " (the group would retain it with TIMEOUT_RESULT=ABANDON)" : ""}; ${deadDrainer}`,
  };
}

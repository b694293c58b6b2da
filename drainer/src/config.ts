import { LifecycleResult, METRICS_NAMESPACE, Setting, setting } from "./contract";

/** What the drainer was asked to do, validated. */
export interface DrainerConfig {
  readonly cluster: string;
  /** `event`: one instance from a lifecycle event. `sweep`: every Terminating:Wait instance of `asgs`. */
  readonly mode: "event" | "sweep";
  readonly hook: string;
  /** Event mode only. */
  readonly instanceId?: string;
  readonly asg?: string;
  readonly token?: string;
  /** Sweep mode only. */
  readonly asgs: readonly string[];
  /** AUTOSCALING_GROUP_NAMES as set: the deployment's groups (the task definition's, unless overridden). */
  readonly deploymentAsgs: readonly string[];
  readonly pollIntervalSeconds: number;
  /** Undefined: derived from the hook's HeartbeatTimeout. */
  readonly heartbeatIntervalSeconds?: number;
  readonly drainTimeoutSeconds: number;
  /** ECS reads a second one run may make (ECS_READS_PER_SECOND), paced by a token bucket. */
  readonly ecsReadsPerSecond: number;
  readonly timeoutResult: LifecycleResult;
  readonly stopStandaloneTasks: boolean;
  /** Seconds one AWS request may take before it fails and the SDK retries it (REQUEST_TIMEOUT_SECONDS). */
  readonly requestTimeoutSeconds: number;
  /** The lifecycle event's Origin, Destination and Action (event mode), when the event had them. */
  readonly event: LifecycleEventFields;
  /** Values that were ignored, with why: logged at start. Not errors: they come from AWS, not from the user. */
  readonly notes: readonly string[];
  readonly dryRun: boolean;
  /** EMIT_METRICS: outcome lines carry CloudWatch Embedded Metric Format. */
  readonly emitMetrics: boolean;
  /** METRICS_NAMESPACE. */
  readonly metricsNamespace: string;
  /** PUBLISH_EVENTS: outcome events on the default EventBridge bus. */
  readonly publishEvents: boolean;
}

/** The event fields that tell which terminate path an instance is on. Informational: its lifecycle state decides. */
export interface LifecycleEventFields {
  readonly origin?: string;
  readonly destination?: string;
  readonly action?: string;
}

/** One problem with one setting. */
export interface ConfigProblem {
  /** The environment variable (its flag is named in the message). */
  readonly name: string;
  readonly message: string;
}

/** Invalid configuration. Every problem found is listed, not just the first. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super("invalid configuration:\n" + problems.map((p) => `  ${p.name}: ${p.message}`).join("\n"));
    this.name = "ConfigError";
  }
}

const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
// Auto Scaling group and hook names: 1-255 characters, no colons (AWS rejects them in names).
const ASG_NAME = /^[^:\s,][^:,]{0,254}$/;
const HOOK_NAME = /^[A-Za-z0-9\-_/.]{1,255}$/;

// Origin, Destination and Action come from fixed AWS vocabularies (EC2, AutoScalingGroup, WarmPool, ReplaceRootVolume).
const EVENT_WORD = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

const TRUE_WORDS = ["true", "1", "yes"];
const FALSE_WORDS = ["false", "0", "no"];

/** The value as the user set it; empty means unset (IaC tools often pass ""). */
type Vars = Readonly<Record<string, string | undefined>>;

function how(s: Setting): string {
  return `set ${s.env} (or --${s.flag})`;
}

/**
 * Parses and validates the drainer's settings from environment-style variables (CLI flags are mapped onto the same
 * names first). Pure: it reads only `vars`. Throws a ConfigError naming every bad variable and how to fix it.
 */
export function parseConfig(vars: Vars): DrainerConfig {
  const problems: ConfigProblem[] = [];
  const problem = (env: string, message: string) => problems.push({ name: env, message });
  const raw = (env: string): string | undefined => {
    const v = vars[setting(env).env]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };

  const text = (
    env: string,
    pattern: RegExp,
    shape: string,
    required: boolean,
  ): string | undefined => {
    const v = raw(env);
    if (v === undefined) {
      if (required) problem(env, `is required: ${how(setting(env))} to ${shape}.`);
      return undefined;
    }
    if (!pattern.test(v)) {
      problem(env, `${JSON.stringify(v)} is not valid: it must be ${shape}.`);
      return undefined;
    }
    return v;
  };

  const seconds = (env: string): number | undefined => {
    const s = setting(env);
    const v = raw(env) ?? s.default;
    if (v === undefined) return undefined;
    const n = /^\d+(\.\d+)?$|^\.\d+$/.test(v) ? Number(v) : NaN;
    const low = s.min ?? 0;
    const tooLow = s.minExclusive ? n <= low : n < low;
    if (!Number.isFinite(n) || tooLow || (s.max !== undefined && n > s.max)) {
      const lowText = s.minExclusive ? `greater than ${low}` : `at least ${low}`;
      const what = s.kind === "rate" ? "a number" : "a number of seconds";
      problem(
        env,
        `${JSON.stringify(v)} is not valid: it must be ${what} ${lowText}` +
          (s.max !== undefined ? ` and at most ${s.max}` : "") +
          ` (decimals such as 0.5 are allowed).`,
      );
      return undefined;
    }
    return n;
  };

  const bool = (env: string): boolean => {
    const s = setting(env);
    const v = (raw(env) ?? s.default ?? "false").toLowerCase();
    if (TRUE_WORDS.includes(v)) return true;
    if (FALSE_WORDS.includes(v)) return false;
    problem(env, `${JSON.stringify(raw(env))} is not valid: use true or false.`);
    return false;
  };

  const cluster =
    raw("ECS_CLUSTER") !== undefined && CLUSTER_ARN.test(raw("ECS_CLUSTER")!)
      ? raw("ECS_CLUSTER")
      : text(
          "ECS_CLUSTER",
          CLUSTER_NAME,
          "a cluster name (letters, digits, - and _) or a cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)",
          true,
        );

  const instanceId = text(
    "EC2_INSTANCE_ID",
    INSTANCE_ID,
    "an EC2 instance ID such as i-1234567890abcdef0",
    false,
  );
  const eventMode = raw("EC2_INSTANCE_ID") !== undefined;
  const hook = text(
    "LIFECYCLE_HOOK_NAME",
    HOOK_NAME,
    "the lifecycle hook's name (letters, digits, - _ / .)",
    true,
  );
  const asg = text(
    "AUTOSCALING_GROUP_NAME",
    ASG_NAME,
    "the name of the instance's Auto Scaling group (no colons or commas)",
    eventMode,
  );
  const token = raw("LIFECYCLE_ACTION_TOKEN");
  if (token !== undefined && !eventMode) {
    problem(
      "LIFECYCLE_ACTION_TOKEN",
      `is set but EC2_INSTANCE_ID is not: a token belongs to one instance's action; set EC2_INSTANCE_ID too, or unset the token to sweep.`,
    );
  }

  const asgsRaw = raw("AUTOSCALING_GROUP_NAMES");
  const asgs = (asgsRaw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  {
    if (!eventMode && asgs.length === 0) {
      problem(
        "AUTOSCALING_GROUP_NAMES",
        `is required when EC2_INSTANCE_ID is not set (sweep mode): ${how(setting("AUTOSCALING_GROUP_NAMES"))} to a comma-separated list of Auto Scaling group names, or set EC2_INSTANCE_ID to drain one instance.`,
      );
    }
    for (const name of asgs) {
      if (!ASG_NAME.test(name)) {
        problem(
          "AUTOSCALING_GROUP_NAMES",
          `${JSON.stringify(name)} is not a valid Auto Scaling group name.`,
        );
      }
    }
  }

  const pollIntervalSeconds = seconds("POLL_INTERVAL_SECONDS");
  const heartbeatIntervalSeconds = seconds("HEARTBEAT_INTERVAL_SECONDS");
  const drainTimeoutSeconds = seconds("DRAIN_TIMEOUT_SECONDS");
  const ecsReadsPerSecond = seconds("ECS_READS_PER_SECOND");

  const resultRaw = (raw("TIMEOUT_RESULT") ?? setting("TIMEOUT_RESULT").default!).toUpperCase();
  const timeoutResult = Object.values(LifecycleResult).find((r) => r === resultRaw);
  if (!timeoutResult) {
    problem(
      "TIMEOUT_RESULT",
      `${JSON.stringify(raw("TIMEOUT_RESULT"))} is not valid: use CONTINUE or ABANDON.`,
    );
  }

  const stopStandaloneTasks = bool("STOP_STANDALONE_TASKS");
  const dryRun = bool("DRY_RUN");
  const emitMetrics = bool("EMIT_METRICS");
  const publishEvents = bool("PUBLISH_EVENTS");
  const metricsNamespace =
    text(
      "METRICS_NAMESPACE",
      METRICS_NAMESPACE,
      "a CloudWatch namespace: 1-255 letters, digits and . - _ / # :, not starting with AWS/",
      false,
    ) ?? setting("METRICS_NAMESPACE").default!;
  // A request must time out well before the next heartbeat is due. Set by the user, a timeout that is not shorter
  // than the heartbeat interval is an error; the default gives way to half the interval.
  let requestTimeoutSeconds = seconds("REQUEST_TIMEOUT_SECONDS");
  if (requestTimeoutSeconds !== undefined && heartbeatIntervalSeconds !== undefined) {
    if (raw("REQUEST_TIMEOUT_SECONDS") === undefined) {
      requestTimeoutSeconds = Math.min(requestTimeoutSeconds, heartbeatIntervalSeconds / 2);
    } else if (requestTimeoutSeconds >= heartbeatIntervalSeconds) {
      problem(
        "REQUEST_TIMEOUT_SECONDS",
        `${requestTimeoutSeconds} is not shorter than HEARTBEAT_INTERVAL_SECONDS (${heartbeatIntervalSeconds}): a hung request would cost a heartbeat; lower REQUEST_TIMEOUT_SECONDS (or --request-timeout).`,
      );
    }
  }

  // The event's words are AWS's, not the user's: an unexpected one is noted and ignored, never an error, so that a
  // new AWS word cannot stop a drain.
  const notes: string[] = [];
  const eventWord = (env: string): string | undefined => {
    const v = raw(env);
    if (v === undefined || !eventMode) return undefined;
    if (EVENT_WORD.test(v)) return v;
    notes.push(`${env} ${JSON.stringify(v)} is not a word of AWS's vocabulary; ignored`);
    return undefined;
  };
  const event: LifecycleEventFields = {
    origin: eventWord("EVENT_ORIGIN"),
    destination: eventWord("EVENT_DESTINATION"),
    action: eventWord("EVENT_ACTION"),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    cluster: cluster!,
    mode: eventMode ? "event" : "sweep",
    hook: hook!,
    instanceId: eventMode ? instanceId : undefined,
    asg: eventMode ? asg : undefined,
    token: eventMode ? token : undefined,
    // In event mode too: a drainer that leads answers for every held action of the deployment's groups.
    asgs: eventMode ? [asg!, ...asgs.filter((g) => g !== asg)] : asgs,
    deploymentAsgs: asgs,
    pollIntervalSeconds: pollIntervalSeconds!,
    heartbeatIntervalSeconds,
    drainTimeoutSeconds: drainTimeoutSeconds!,
    ecsReadsPerSecond: ecsReadsPerSecond!,
    timeoutResult: timeoutResult!,
    stopStandaloneTasks,
    requestTimeoutSeconds: requestTimeoutSeconds!,
    event,
    notes,
    dryRun,
    emitMetrics,
    metricsNamespace,
    publishEvents,
  };
}

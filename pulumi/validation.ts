/**
 * Checks of ScaleInDrainer's args, as pure functions. The component throws in its constructor on a value known when
 * the program runs, and checks every value again once its Outputs resolve (resolveArgs), before it registers any child.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULTS,
  DRAINER_START_ALLOWANCE_SECONDS,
  ECS_MANAGED_DRAINING_HOOK,
  IAM_INPUT_PATTERNS,
  LIMITS,
  LifecycleResult,
  METRICS_NAMESPACE,
  minimumHeartbeatTimeoutForSweep,
  rateExpressionSeconds,
  setting,
} from "../drainer/src/contract";
import { CpuArchitecture } from "./cpuArchitecture";
import { DEFAULT_LAUNCH_TYPE, LaunchType } from "./launchType";
import { clusterElsewhere, isClusterArn, resolveClusterScope } from "./policies";
import type { ScaleInDrainerArgs } from "./scaleInDrainerArgs";

/** One problem with one arg. */
export interface ArgProblem {
  /** The arg, e.g. `heartbeatTimeout`. */
  readonly arg: keyof ScaleInDrainerArgs;
  /** A sentence that names the arg in backticks and says how to fix it. */
  readonly message: string;
}

const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
// Auto Scaling group names: 1-255 characters, no colons; commas would break AUTOSCALING_GROUP_NAMES.
const GROUP_NAME = /^[^:\s,][^:,]{0,254}$/;
const HOOK_NAME = /^[A-Za-z0-9\-_/.]{1,255}$/;
const SCHEDULE = /^(rate|cron)\(.+\)$/;
/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;
/** The task-level CPU units Fargate accepts. */
export const FARGATE_CPU = [256, 512, 1024, 2048, 4096, 8192, 16384] as const;

/**
 * True when `value` is a plain value, known when the program runs: not an Output or a Promise, and not holding
 * Pulumi's unknown placeholder (what an engine that does not send output values passes for a value not known yet).
 */
export function isKnown<T>(value: pulumi.Input<T> | undefined): value is T {
  return (
    !pulumi.Output.isInstance(value) &&
    !(value instanceof Promise) &&
    !pulumi.containsUnknowns(value)
  );
}

/**
 * The args that decide which resources the component creates (a hook, rule and target per group; the sweep or not;
 * the network settings of the launch type): they must be known when the program runs, so an Output is an error.
 */
export const MUST_BE_KNOWN: readonly (keyof ScaleInDrainerArgs)[] = [
  "autoscalingGroupNames",
  "enableSweep",
  "launchType",
  "cpuArchitecture",
  "enableAlarms",
  "protectHooks",
];

/** A value for a message: never an Output's text (its toJSON is a long warning of Pulumi's). */
function shown(value: unknown): string {
  return isKnown(value) ? JSON.stringify(value) : "an Output";
}

/** The check of an arg that becomes a bounded numeric setting of the drainer (`seconds` or `rate`). */
function boundedCheck(env: string, arg: keyof ScaleInDrainerArgs) {
  const s = setting(env);
  const low = s.min ?? 0;
  const what = s.kind === "rate" ? "a number of reads a second" : "a number of seconds";
  return (value: unknown): string | undefined => {
    const ok =
      typeof value === "number" &&
      Number.isFinite(value) &&
      (s.minExclusive ? value > low : value >= low) &&
      (s.max === undefined || value <= s.max);
    if (ok) return undefined;
    const lowText = s.minExclusive ? `greater than ${low}` : `at least ${low}`;
    return `\`${arg}\` is ${JSON.stringify(value)}: set it to ${what} ${lowText} and at most ${s.max} (it becomes ${env}), or leave it unset for the default ${s.default}.`;
  };
}

/** The check of each arg's own value. Each returns a message, or undefined when the value is valid. */
export const ARG_CHECKS: {
  [K in keyof ScaleInDrainerArgs]-?: (value: unknown) => string | undefined;
} = {
  clusterName: (v) =>
    typeof v === "string" && (CLUSTER_NAME.test(v) || isClusterArn(v))
      ? undefined
      : `\`clusterName\` is ${JSON.stringify(v)}: set it to the ECS cluster's name (letters, digits, - and _) or its ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME).`,
  autoscalingGroupNames: (v) => {
    if (!Array.isArray(v) || v.length === 0) {
      return `\`autoscalingGroupNames\` must be a non-empty list of Auto Scaling group names, known when the program runs (one hook, rule and target is created per group): pass plain strings, not Outputs.`;
    }
    const bad = v.find((name) => typeof name !== "string" || !GROUP_NAME.test(name));
    if (bad !== undefined) {
      return `\`autoscalingGroupNames\` contains ${shown(bad)}: each entry must be an Auto Scaling group name (1-255 characters, no colons or commas) known when the program runs, not an Output.`;
    }
    const wild = v.find((name) => /[*?$]/.test(name));
    if (wild !== undefined) {
      return `\`autoscalingGroupNames\` contains ${JSON.stringify(wild)}: IAM reads *, ? and $ in a policy's resources as wildcards or policy variables, so the drainer could complete lifecycle actions of other groups; give the group a name without them.`;
    }
    const duplicate = v.find((name, i) => v.indexOf(name) !== i);
    if (duplicate !== undefined) {
      return `\`autoscalingGroupNames\` lists ${JSON.stringify(duplicate)} twice: list each group once.`;
    }
    return undefined;
  },
  subnetIds: (v) =>
    Array.isArray(v) && v.length > 0
      ? undefined
      : `\`subnetIds\` must list at least one subnet for the drainer's task (awsvpc): set it to the IDs of subnets with a route to the ECS and Auto Scaling APIs.`,
  securityGroupIds: (v) =>
    Array.isArray(v) && v.length > 0
      ? undefined
      : `\`securityGroupIds\` must list at least one security group for the drainer's task: set it to groups that allow outbound HTTPS to the ECS and Auto Scaling APIs.`,
  assignPublicIp: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`assignPublicIp\` is ${JSON.stringify(v)}: set it to true or false. Defaults to ${DEFAULTS.assignPublicIp}.`,
  drainerImage: (v) =>
    v === undefined || (typeof v === "string" && v.trim() !== "" && !/\s/.test(v))
      ? undefined
      : `\`drainerImage\` is ${JSON.stringify(v)}: set it to an image URI (e.g. ACCOUNT.dkr.ecr.REGION.amazonaws.com/ecs-scale-in-drainer:1.0.0), or leave it unset to build drainer/Dockerfile.`,
  heartbeatTimeout: (v) =>
    v === undefined ||
    (Number.isInteger(v) &&
      (v as number) >= LIMITS.heartbeatTimeoutMin &&
      (v as number) <= LIMITS.heartbeatTimeoutMax)
      ? undefined
      : `\`heartbeatTimeout\` is ${JSON.stringify(v)}: set it to a whole number of seconds from ${LIMITS.heartbeatTimeoutMin} to ${LIMITS.heartbeatTimeoutMax} (the lifecycle hook's limits). Defaults to ${DEFAULTS.heartbeatTimeoutSeconds}.`,
  drainTimeout: (v) =>
    v === undefined ? undefined : boundedCheck("DRAIN_TIMEOUT_SECONDS", "drainTimeout")(v),
  pollInterval: (v) =>
    v === undefined ? undefined : boundedCheck("POLL_INTERVAL_SECONDS", "pollInterval")(v),
  ecsReadsPerSecond: (v) =>
    v === undefined ? undefined : boundedCheck("ECS_READS_PER_SECOND", "ecsReadsPerSecond")(v),
  requestTimeout: (v) =>
    v === undefined ? undefined : boundedCheck("REQUEST_TIMEOUT_SECONDS", "requestTimeout")(v),
  timeoutResult: (v) =>
    v === undefined || Object.values(LifecycleResult).includes(v as LifecycleResult)
      ? undefined
      : `\`timeoutResult\` is ${JSON.stringify(v)}: set it to ${Object.values(LifecycleResult).join(" or ")}. Defaults to ${DEFAULTS.timeoutResult}.`,
  stopStandaloneTasks: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`stopStandaloneTasks\` is ${JSON.stringify(v)}: set it to true or false. Defaults to ${DEFAULTS.stopStandaloneTasks}.`,
  hookDefaultResult: (v) =>
    v === undefined || Object.values(LifecycleResult).includes(v as LifecycleResult)
      ? undefined
      : `\`hookDefaultResult\` is ${JSON.stringify(v)}: set it to ${Object.values(LifecycleResult).join(" or ")}. Defaults to ${DEFAULTS.hookDefaultResult}.`,
  emitMetrics: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`emitMetrics\` is ${JSON.stringify(v)}: set it to true or false. Defaults to ${DEFAULTS.emitMetrics}.`,
  enableAlarms: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`enableAlarms\` is ${JSON.stringify(v)}: set it to true or false, known when the program runs. Defaults to false.`,
  alarmTopicArn: (v) =>
    v === undefined ||
    (typeof v === "string" && /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(v))
      ? undefined
      : `\`alarmTopicArn\` is ${JSON.stringify(v)}: set it to an SNS topic ARN such as arn:aws:sns:us-west-2:123456789012:oncall, or leave it unset.`,
  fargateVcpuQuota: (v) =>
    v === undefined || (typeof v === "number" && Number.isFinite(v) && v > 0)
      ? undefined
      : `\`fargateVcpuQuota\` is ${JSON.stringify(v)}: set it to the account's Fargate On-Demand vCPU quota in the region (a number greater than 0, from Service Quotas L-3032A538), or leave it unset for no Fargate usage alarm.`,
  publishEvents: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`publishEvents\` is ${JSON.stringify(v)}: set it to true or false. Defaults to ${DEFAULTS.publishEvents}.`,
  metricsNamespace: (v) =>
    v === undefined || (typeof v === "string" && METRICS_NAMESPACE.test(v))
      ? undefined
      : `\`metricsNamespace\` is ${JSON.stringify(v)}: set it to a CloudWatch namespace (1-255 letters, digits and . - _ / # :, not starting with AWS/). Defaults to "${DEFAULTS.metricsNamespace}".`,
  sweepSchedule: (v) =>
    v === undefined || (typeof v === "string" && SCHEDULE.test(v))
      ? undefined
      : `\`sweepSchedule\` is ${JSON.stringify(v)}: set it to an EventBridge schedule expression such as "rate(5 minutes)" or "cron(0/5 * * * ? *)". Defaults to "${DEFAULTS.sweepSchedule}".`,
  enableSweep: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`enableSweep\` is ${JSON.stringify(v)}: set it to true or false, known when the program runs. Defaults to ${DEFAULTS.enableSweep}.`,
  cpu: (v) =>
    v === undefined || (Number.isInteger(v) && (v as number) > 0)
      ? undefined
      : `\`cpu\` is ${JSON.stringify(v)}: set it to the task's CPU units as a whole number (e.g. 256 = 0.25 vCPU). Defaults to ${DEFAULTS.cpu}.`,
  memory: (v) =>
    v === undefined || (Number.isInteger(v) && (v as number) > 0)
      ? undefined
      : `\`memory\` is ${JSON.stringify(v)}: set it to the task's memory in MiB as a whole number. Defaults to ${DEFAULTS.memory}.`,
  logRetentionDays: (v) =>
    v === undefined || (LOG_RETENTION_DAYS as readonly unknown[]).includes(v)
      ? undefined
      : `\`logRetentionDays\` is ${JSON.stringify(v)}: set it to one of the periods CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(", ")}). Defaults to ${DEFAULTS.logRetentionDays}.`,
  launchType: (v) =>
    v === undefined || Object.values(LaunchType).includes(v as LaunchType)
      ? undefined
      : `\`launchType\` is ${JSON.stringify(v)}: set it to ${Object.values(LaunchType).join(" or ")}, known when the program runs. Defaults to ${DEFAULTS.launchType}.`,
  cpuArchitecture: (v) =>
    v === undefined || Object.values(CpuArchitecture).includes(v as CpuArchitecture)
      ? undefined
      : `\`cpuArchitecture\` is ${JSON.stringify(v)}: set it to ${Object.values(CpuArchitecture).join(" or ")}, known when the program runs. Defaults to X86_64.`,
  hookName: (v) => {
    if (v === undefined) return undefined;
    if (v === ECS_MANAGED_DRAINING_HOOK) {
      return `\`hookName\` is "${ECS_MANAGED_DRAINING_HOOK}", the hook ECS managed draining owns: choose another name. Defaults to "${DEFAULTS.hookName}".`;
    }
    return typeof v === "string" && HOOK_NAME.test(v)
      ? undefined
      : `\`hookName\` is ${JSON.stringify(v)}: set it to 1-255 letters, digits and - _ / . characters. Defaults to "${DEFAULTS.hookName}".`;
  },
  protectHooks: (v) =>
    v === undefined || typeof v === "boolean"
      ? undefined
      : `\`protectHooks\` is ${JSON.stringify(v)}: set it to true or false, known when the program runs. Defaults to true.`,
  permissionsBoundary: (v) =>
    v === undefined || (typeof v === "string" && IAM_INPUT_PATTERNS.permissionsBoundary.test(v))
      ? undefined
      : `\`permissionsBoundary\` is ${JSON.stringify(v)}: set it to the ARN of an IAM managed policy (arn:aws:iam::123456789012:policy/NAME), or leave it unset for roles without a boundary.`,
  rolePath: (v) =>
    v === undefined || (typeof v === "string" && IAM_INPUT_PATTERNS.rolePath.test(v))
      ? undefined
      : `\`rolePath\` is ${JSON.stringify(v)}: set it to an IAM path that starts and ends with / (e.g. /platform/drainer/), at most 512 printable ASCII characters, or leave it unset for "/".`,
  kmsKeyArn: (v) =>
    v === undefined || (typeof v === "string" && IAM_INPUT_PATTERNS.kmsKeyArn.test(v))
      ? undefined
      : `\`kmsKeyArn\` is ${JSON.stringify(v)}: set it to a KMS key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID; not an alias, which CloudWatch Logs does not take), or leave it unset for AWS-managed encryption.`,
  tags: () => undefined,
};

/**
 * Checks that involve two args: they run when both values are known.
 * - a drain longer than the lifecycle action's global timeout (min(48 h, 100 x heartbeatTimeout)) would be cut short
 *   by Auto Scaling before the drainer's own deadline;
 * - EC2 tasks in awsvpc mode cannot have a public IP;
 * - Fargate accepts only its fixed CPU sizes;
 * - with the sweep on a `rate(...)` schedule, a hook whose drainer died must outlast the next sweep's start
 *   (minimumHeartbeatTimeoutForSweep); a `cron(...)` schedule is not checked.
 */
export function crossChecks(values: {
  heartbeatTimeout: number;
  drainTimeout: number;
  launchType: LaunchType;
  assignPublicIp: boolean;
  cpu: number;
  enableSweep: boolean;
  sweepSchedule: string;
}): ArgProblem[] {
  const problems: ArgProblem[] = [];
  const sweepPeriod = values.enableSweep ? rateExpressionSeconds(values.sweepSchedule) : undefined;
  if (sweepPeriod !== undefined) {
    const minimum = minimumHeartbeatTimeoutForSweep(sweepPeriod);
    if (values.heartbeatTimeout < minimum) {
      problems.push({
        arg: "heartbeatTimeout",
        message: `\`heartbeatTimeout\` is ${values.heartbeatTimeout} s, too short for \`sweepSchedule\` ${JSON.stringify(values.sweepSchedule)} (every ${sweepPeriod} s): a drainer heartbeats every half \`heartbeatTimeout\`, and if it dies the next sweep must start (${sweepPeriod} s + ${DRAINER_START_ALLOWANCE_SECONDS} s to start a task) before the hook expires, so \`heartbeatTimeout\` must be at least 2 x (${sweepPeriod} + ${DRAINER_START_ALLOWANCE_SECONDS}) = ${minimum}. Raise \`heartbeatTimeout\` to ${minimum} or more (at most ${LIMITS.heartbeatTimeoutMax}), or shorten \`sweepSchedule\`.`,
      });
    }
  }
  const globalTimeout = Math.min(
    LIMITS.globalTimeoutMaxSeconds,
    LIMITS.globalTimeoutHeartbeatFactor * values.heartbeatTimeout,
  );
  if (values.drainTimeout > globalTimeout) {
    problems.push({
      arg: "drainTimeout",
      message: `\`drainTimeout\` is ${values.drainTimeout} s, longer than the ${globalTimeout} s Auto Scaling holds an instance with \`heartbeatTimeout\` ${values.heartbeatTimeout} (min(48 h, 100 x heartbeatTimeout)): lower \`drainTimeout\` or raise \`heartbeatTimeout\`.`,
    });
  }
  if (values.launchType === LaunchType.Ec2 && values.assignPublicIp) {
    problems.push({
      arg: "assignPublicIp",
      message: `\`assignPublicIp\` is true, but EC2 tasks in awsvpc mode cannot have a public IP: set it to false, or set \`launchType\` to FARGATE.`,
    });
  }
  if (
    values.launchType === LaunchType.Fargate &&
    !(FARGATE_CPU as readonly number[]).includes(values.cpu)
  ) {
    problems.push({
      arg: "cpu",
      message: `\`cpu\` is ${values.cpu}, which Fargate does not offer: set it to one of ${FARGATE_CPU.join(", ")}.`,
    });
  }
  return problems;
}

/** Every problem with the args' known values (values that are still Outputs are skipped). */
export function checkScaleInDrainerArgs(args: ScaleInDrainerArgs): ArgProblem[] {
  const problems: ArgProblem[] = [];
  for (const arg of Object.keys(ARG_CHECKS) as (keyof ScaleInDrainerArgs)[]) {
    const value = (args as unknown as Record<string, unknown>)[arg];
    if (!isKnown(value)) {
      if (MUST_BE_KNOWN.includes(arg)) {
        problems.push({
          arg,
          message: `\`${arg}\` is an Output (or a Promise): it decides which resources ScaleInDrainer creates, so it must be known when the program runs. Pass a plain value (from the stack's config, say), not another resource's output.`,
        });
      }
      continue;
    }
    const message = ARG_CHECKS[arg](value);
    if (message) problems.push({ arg, message });
  }
  if (problems.length === 0) {
    const known = {
      heartbeatTimeout: args.heartbeatTimeout ?? DEFAULTS.heartbeatTimeoutSeconds,
      drainTimeout: args.drainTimeout ?? DEFAULTS.drainTimeoutSeconds,
      launchType: args.launchType ?? DEFAULT_LAUNCH_TYPE,
      assignPublicIp: args.assignPublicIp ?? DEFAULTS.assignPublicIp,
      cpu: args.cpu ?? DEFAULTS.cpu,
      enableSweep: args.enableSweep ?? DEFAULTS.enableSweep,
      sweepSchedule: args.sweepSchedule ?? DEFAULTS.sweepSchedule,
    };
    // The alarms read the drainer's metrics; a topic without alarms would notify of nothing.
    if (args.enableAlarms === true && args.emitMetrics === false) {
      problems.push({
        arg: "enableAlarms",
        message:
          "`enableAlarms` is true but `emitMetrics` is false: the drain alarms read the drainer's metrics. Set emitMetrics: true, or enableAlarms: false.",
      });
    }
    if (args.fargateVcpuQuota !== undefined && args.enableAlarms !== true) {
      problems.push({
        arg: "fargateVcpuQuota",
        message:
          "`fargateVcpuQuota` is set but `enableAlarms` is not true: set enableAlarms: true, or remove fargateVcpuQuota.",
      });
    }
    if (args.alarmTopicArn !== undefined && args.enableAlarms !== true) {
      problems.push({
        arg: "alarmTopicArn",
        message:
          "`alarmTopicArn` is set but `enableAlarms` is not true: set enableAlarms: true, or remove alarmTopicArn.",
      });
    }
    if (Object.values(known).every((v) => isKnown(v))) {
      problems.push(...crossChecks(known as Parameters<typeof crossChecks>[0]));
    }
  }
  return problems;
}

/** The args with each Output or Promise replaced by its value, once known: what the checks read. */
export interface ResolvedArgs {
  /** Each arg's value. One a preview does not know yet stays an Output, which the checks skip. */
  readonly values: ScaleInDrainerArgs;
  /** The args whose value is a secret: messages name them but do not show their value. */
  readonly secrets: readonly (keyof ScaleInDrainerArgs)[];
}

/**
 * Waits for the value of every arg (and of Outputs nested in lists). At `pulumi up` that is every value, once the
 * resources it comes from exist; a preview leaves unknown the values of resources not created yet.
 */
export async function resolveArgs(args: object): Promise<ResolvedArgs> {
  const values: Record<string, unknown> = {};
  const secrets: (keyof ScaleInDrainerArgs)[] = [];
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    // Output's isKnown and promise() are not in its typings, but are what the runtime itself reads.
    const output = pulumi.output(value) as pulumi.Output<unknown> & {
      isKnown: Promise<boolean>;
      promise(): Promise<unknown>;
    };
    const known = (await output.isKnown) ? { value: await output.promise() } : undefined;
    values[key] = known && !pulumi.containsUnknowns(known.value) ? known.value : value;
    if (await pulumi.isSecret(output)) secrets.push(key as keyof ScaleInDrainerArgs);
  }
  return { values: values as unknown as ScaleInDrainerArgs, secrets };
}

/**
 * `message` without the values of the secret args: each becomes [secret]. The checks show a value as JSON: a number
 * or a boolean right after its arg (`arg` is 10), a string in quotes wherever it appears.
 */
function withoutSecrets(message: string, resolved: ResolvedArgs): string {
  let text = message;
  for (const arg of resolved.secrets) {
    const value = (resolved.values as unknown as Record<string, unknown>)[arg];
    if (!isKnown(value)) continue;
    const json = JSON.stringify(value);
    text = text.split(`\`${arg}\` is ${json}`).join(`\`${arg}\` is [secret]`);
    if (typeof value === "string") text = text.split(json).join("[secret]");
  }
  return text;
}

/**
 * The one error ScaleInDrainer `name` fails with: a message naming each arg, its value and the fix, and each arg's
 * reason (the engine prints them; a Construct over gRPC carries them as details). It has no stack frames: they point
 * into Pulumi's runtime, not at the mistake, and Node 20's util.inspect, which Pulumi prints an unhandled error with,
 * spends 20 s and gigabytes on a frame of a scoped package's file (node_modules/@pulumi/resource.ts) before it fails.
 */
export function argsError(
  name: string,
  problems: readonly ArgProblem[],
): pulumi.InputPropertiesError {
  const error = new pulumi.InputPropertiesError({
    message: `ScaleInDrainer ${name}: ${problems.map((p) => p.message).join("\n")}`,
    errors: problems.map((p) => ({ propertyPath: p.arg, reason: p.message })),
  });
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

/** Where the AWS provider deploys. */
export interface ProviderScope {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/**
 * Waits for every arg's value and checks it, and a cluster given by ARN against the partition, region and account of
 * the AWS provider that `invoke` selects; throws argsError with every problem. A value a preview does not know yet
 * cannot be checked, so it is skipped; `pulumi up` knows every value. Returns where the provider deploys.
 */
export async function checkResolvedArgs(
  name: string,
  args: object,
  invoke: pulumi.InvokeOptions,
): Promise<ProviderScope> {
  const [resolved, partition, region, identity] = await Promise.all([
    resolveArgs(args),
    aws.getPartition({}, invoke),
    aws.getRegion({}, invoke),
    aws.getCallerIdentity({}, invoke),
  ]);
  const provider = {
    partition: partition.partition,
    region: region.region,
    accountId: identity.accountId,
  };
  const problems = checkScaleInDrainerArgs(resolved.values);
  const cluster = resolved.values.clusterName;
  const groups = resolved.values.autoscalingGroupNames;
  if (problems.length === 0 && typeof cluster === "string" && Array.isArray(groups)) {
    const problem = clusterElsewhere(resolveClusterScope(cluster, provider, groups), provider);
    if (problem) problems.push({ arg: "clusterName", message: problem });
  }
  if (problems.length > 0) {
    throw argsError(
      name,
      problems.map((p) => ({ arg: p.arg, message: withoutSecrets(p.message, resolved) })),
    );
  }
  return provider;
}

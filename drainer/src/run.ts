/**
 * The command line: `drain` (the default) and `status`. Wires configuration, the AWS port and the drain together
 * and turns the outcome into an exit code. Usable in-process (tests, the simulator) as well as from `main.ts`.
 */
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { ECSClient } from "@aws-sdk/client-ecs";
import { setTimeout as sleepFor } from "node:timers/promises";
import { parseArgs } from "node:util";
import { AwsPort, createAwsPort } from "./aws";
import { ConfigError, DrainerConfig, parseConfig } from "./config";
import { DEFAULTS, ExitCode, SETTINGS } from "./contract";
import { Outcome, drain } from "./drain";
import { Logger, createLogger, errorText } from "./log";
import { OwnTask, clusterName, readOwnTask } from "./metadata";
import { DEFAULT_FAMILY, UnknownTargetError, collectStatus, formatStatusTable } from "./status";

declare const DRAINER_VERSION: string | undefined;

/** The version: set by the bundler; from package.json when run from source. */
export function version(): string {
  if (typeof DRAINER_VERSION === "string") return DRAINER_VERSION;
  return (require("../../package.json") as { version: string }).version;
}

/** Settings for the SDK clients, for in-process use; a process takes them from its environment like any SDK app. */
export interface ClientConfig {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly maxAttempts?: number;
}

export interface RunOptions {
  /** Where log lines and command output go. Defaults to stdout. */
  readonly write?: (line: string) => void;
  /** Where usage and configuration errors go. Defaults to stderr. */
  readonly writeError?: (line: string) => void;
  /** Aborting it stops the drain without completing (what SIGTERM does). */
  readonly signal?: AbortSignal;
  readonly clientConfig?: ClientConfig;
  /** An AWS port to use instead of the SDK's (tests). */
  readonly port?: AwsPort;
  readonly fetch?: typeof fetch;
}

const USAGE = `Usage: drainer [drain] [options]       drain one instance (event mode) or sweep groups
       drainer status --cluster C --asg NAME[,NAME] [--family F] [--drain-timeout S] [--hook H] [--json]
       drainer --help | --version | status --help`;

const STATUS_USAGE = `Usage: drainer status --cluster C --asg NAME[,NAME] [--family F] [--drain-timeout S] [--hook H] [--json]`;

/** `status --help`: what status shows, and its options only. */
export function statusHelpText(): string {
  return `ecs-scale-in-drainer ${version()}: status

${STATUS_USAGE}

For each instance of the groups that the terminate hook holds (Terminating:Wait, ReplacingRootVolume:Wait,
Warmed:Terminating:Wait) or that its group retained (Terminating:Retained): every container-instance registration
and its ECS status, the tasks that block it and why, when the hook began to hold it (the start of its termination
scaling activity) and its deadline as a time, whether a drainer answers for it, and the next command to run.
Changes nothing.

Permissions: read-only ECS and Auto Scaling actions, autoscaling:DescribeScalingActivities among them (the drainer's
own roles are not granted it). Without it, HELD SINCE is unknown, the deadline is relative to it, and a note names
the action; the exit code does not change.

Options:
  --cluster NAME               The ECS cluster (ECS_CLUSTER). Required.
  --asg NAME[,NAME]            The Auto Scaling groups (also --asgs, AUTOSCALING_GROUP_NAMES). Required.
  --family NAME                The drainer's task definition family: its RUNNING tasks answer for the groups, the
                               oldest leading. Default: ${DEFAULT_FAMILY}.
  --drain-timeout SECONDS      The deployment's DRAIN_TIMEOUT_SECONDS, for the deadline. Default: ${DEFAULTS.drainTimeoutSeconds}.
  --hook NAME                  The drainer's lifecycle hook, for the commands shown. Default: the group's own.
  --json                       Print JSON instead of a table.

Exit codes: 0 shown; 1 an unknown cluster or group (each named), or another AWS error; 2 invalid options.
`;
}

export function helpText(): string {
  const rows = SETTINGS.map((s) => {
    const flag = `--${s.flag}${s.kind === "boolean" ? "" : " VALUE"}`;
    const def = s.default !== undefined ? ` Default: ${s.default}.` : "";
    return `  ${flag.padEnd(28)} ${s.env.padEnd(27)} ${s.description}${def}`;
  });
  return `ecs-scale-in-drainer ${version()}

Holds a terminating Auto Scaling instance until its ECS tasks have drained, then completes its lifecycle action.

${USAGE}

Commands:
  drain     With EC2_INSTANCE_ID: drain that instance (started by the lifecycle event).
            Without it: sweep every instance in Terminating:Wait in AUTOSCALING_GROUP_NAMES.
  status    Print each instance the terminate hook holds or its group retained: its registrations, what blocks
            it and why, its deadline, whether a drainer answers, and the next command. status --help for more.

Options (flag, environment variable, meaning); a flag overrides its variable:
${rows.join("\n")}
  --json                                                 status: print JSON instead of a table.
  --family NAME                                          status: the drainer's task definition family.
  -h, --help                                             Print this help.
  -v, --version                                          Print the version.

The AWS SDK's own variables apply (AWS_REGION, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, credentials).

Exit codes: 0 every instance handled; 1 a permanent AWS error (access denied, no such cluster, group or hook);
            2 invalid configuration (nothing was called); 143 stopped by SIGTERM before completing.
`;
}

/** Runs the command line. Resolves to the process exit code; never rejects. */
export async function runDrainer(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  options: RunOptions = {},
): Promise<number> {
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(line + "\n"));

  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    writeError(`${(err as Error).message}\n\n${USAGE}\nRun with --help for every option.`);
    return ExitCode.InvalidConfig;
  }
  if (parsed.help) {
    write(parsed.command === "status" ? statusHelpText() : helpText());
    return ExitCode.Ok;
  }
  if (parsed.version) {
    write(version());
    return ExitCode.Ok;
  }
  const vars = { ...env, ...parsed.vars };

  if (parsed.command === "status") {
    return status(vars, parsed.json, parsed.family, options, write, writeError);
  }

  let config: DrainerConfig;
  try {
    config = parseConfig(vars);
  } catch (err) {
    return configFailure(err, write, writeError);
  }

  const log = createLogger(write, {
    cluster: config.cluster,
    asg: config.asg ?? null,
    hook: config.hook,
    instanceId: config.instanceId ?? null,
  });
  log.log("info", config.dryRun ? "starting (DRY_RUN: no changes will be made)" : "starting", {
    action: "start",
    version: version(),
    mode: config.mode,
    settings: {
      pollIntervalSeconds: config.pollIntervalSeconds,
      heartbeatIntervalSeconds: config.heartbeatIntervalSeconds ?? null,
      drainTimeoutSeconds: config.drainTimeoutSeconds,
      ecsReadsPerSecond: config.ecsReadsPerSecond,
      timeoutResult: config.timeoutResult,
      stopStandaloneTasks: config.stopStandaloneTasks,
      requestTimeoutSeconds: config.requestTimeoutSeconds,
      asgs: config.asgs,
    },
    ...(config.mode === "event" ? { event: config.event } : {}),
  });

  const signal = options.signal ?? new AbortController().signal;
  const port =
    options.port ?? createSdkPort(env, options.clientConfig, config.requestTimeoutSeconds, signal);
  const own = await ownTask(env, config, log, options.fetch);
  let outcomes: Outcome[];
  try {
    outcomes = await drain({
      port,
      config,
      log,
      ownTaskArn: own?.taskArn,
      ownFamily: own?.family,
      signal,
      now: () => performance.now(),
      sleep: (ms, s) => sleepFor(ms, undefined, { signal: s }).catch(() => undefined),
    });
  } catch (err) {
    log.log("error", "the drainer failed before it could drain", {
      action: "error",
      error: errorText(err),
    });
    log.log("info", "summary", { action: "summary", results: [] });
    return signal.aborted ? ExitCode.Interrupted : ExitCode.Failed;
  }
  log.log("info", "summary", { action: "summary", results: outcomes });
  if (outcomes.some((o) => o.result === "failed")) return ExitCode.Failed;
  if (outcomes.some((o) => o.result === "interrupted")) return ExitCode.Interrupted;
  return ExitCode.Ok;
}

function parseCommandLine(argv: readonly string[]) {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean", short: "v" },
    json: { type: "boolean" },
    family: { type: "string" },
  };
  for (const s of SETTINGS) options[s.flag] = { type: s.kind === "boolean" ? "boolean" : "string" };
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals: true,
    strict: true,
  });
  const [command = "drain", ...rest] = positionals;
  if (command !== "drain" && command !== "status") {
    throw new Error(`unknown command ${JSON.stringify(command)}: use drain or status`);
  }
  if (rest.length > 0) throw new Error(`unexpected argument ${JSON.stringify(rest[0])}`);
  const vars: Record<string, string> = {};
  for (const s of SETTINGS) {
    const v = values[s.flag];
    if (v !== undefined) vars[s.env] = String(v);
  }
  return {
    command,
    vars,
    json: values.json === true,
    family: typeof values.family === "string" ? values.family : undefined,
    help: values.help === true,
    version: values.version === true,
  };
}

function configFailure(
  err: unknown,
  write: (l: string) => void,
  writeError: (l: string) => void,
): number {
  if (!(err instanceof ConfigError)) throw err;
  writeError(`${err.message}\nRun with --help for every option.`);
  write(
    JSON.stringify({
      time: new Date().toISOString(),
      level: "error",
      msg: "invalid configuration",
      cluster: null,
      asg: null,
      hook: null,
      instanceId: null,
      action: "config",
      problems: err.problems,
    }),
  );
  return ExitCode.InvalidConfig;
}

/**
 * The SDK-backed port, with the drainer's retry defaults and a timeout on every request (rule 5): the Node HTTP
 * handler has none by default (a socket may wait 15 minutes), so one unanswered request could hold a heartbeat.
 */
export function createSdkPort(
  env: Readonly<Record<string, string | undefined>>,
  clientConfig: ClientConfig | undefined,
  requestTimeoutSeconds: number = DEFAULTS.requestTimeoutSeconds,
  signal?: AbortSignal,
): AwsPort {
  // Retries are the SDK's: adaptive mode adds client-side rate limiting when AWS throttles.
  // AWS_MAX_ATTEMPTS and AWS_RETRY_MODE keep their SDK meaning; only the defaults are ours.
  const timeoutMs = Math.max(1, Math.round(requestTimeoutSeconds * 1000));
  const config = {
    maxAttempts: Number(env.AWS_MAX_ATTEMPTS) || 6,
    retryMode: env.AWS_RETRY_MODE || "adaptive",
    // Without throwOnRequestTimeout the Node handler only warns when requestTimeout passes, and waits on.
    requestHandler: {
      requestTimeout: timeoutMs,
      connectionTimeout: timeoutMs,
      throwOnRequestTimeout: true,
    },
    ...clientConfig,
  };
  return createAwsPort(
    new ECSClient(config),
    new AutoScalingClient(config),
    new EventBridgeClient(config),
    signal,
  );
}

async function ownTask(
  env: Readonly<Record<string, string | undefined>>,
  config: DrainerConfig,
  log: Logger,
  fetchImpl: typeof fetch | undefined,
): Promise<OwnTask | undefined> {
  try {
    const own = await readOwnTask(env.ECS_CONTAINER_METADATA_URI_V4, fetchImpl);
    if (!own) return undefined;
    if (clusterName(own.cluster) !== clusterName(config.cluster)) return undefined;
    log.log("info", "running as an ECS task of this cluster; never waiting for it", {
      action: "start",
      ownTaskArn: own.taskArn,
    });
    return own;
  } catch (err) {
    log.log("warn", "could not read the task metadata; the drainer's own task is not excluded", {
      action: "start",
      error: errorText(err),
    });
    return undefined;
  }
}

async function status(
  vars: Readonly<Record<string, string | undefined>>,
  json: boolean,
  familyFlag: string | undefined,
  options: RunOptions,
  write: (l: string) => void,
  writeError: (l: string) => void,
): Promise<number> {
  const cluster = vars.ECS_CLUSTER?.trim();
  const asgs = (vars.AUTOSCALING_GROUP_NAME ?? vars.AUTOSCALING_GROUP_NAMES ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const family = (familyFlag ?? DEFAULT_FAMILY).trim();
  const timeoutText = vars.DRAIN_TIMEOUT_SECONDS?.trim() || String(DEFAULTS.drainTimeoutSeconds);
  const drainTimeoutSeconds = Number(timeoutText);
  const hook = vars.LIFECYCLE_HOOK_NAME?.trim() || undefined;
  const problems: string[] = [];
  if (!cluster)
    problems.push("ECS_CLUSTER: is required: pass --cluster NAME (or set ECS_CLUSTER).");
  if (asgs.length === 0) {
    problems.push(
      "AUTOSCALING_GROUP_NAMES: is required: pass --asg NAME[,NAME] (or set AUTOSCALING_GROUP_NAMES).",
    );
  }
  if (!family) problems.push("--family: must not be empty: the drainer's task definition family.");
  if (!(drainTimeoutSeconds > 0)) {
    problems.push(
      `DRAIN_TIMEOUT_SECONDS: must be a number of seconds greater than 0, got ${JSON.stringify(timeoutText)}: pass --drain-timeout SECONDS.`,
    );
  }
  if (problems.length > 0) {
    writeError(`invalid configuration:\n  ${problems.join("\n  ")}\n\n${STATUS_USAGE}`);
    return ExitCode.InvalidConfig;
  }
  try {
    const port = options.port ?? createSdkPort(vars, options.clientConfig);
    const report = await collectStatus(port, {
      cluster: cluster!,
      asgs,
      family,
      drainTimeoutSeconds,
      hook,
    });
    write(json ? JSON.stringify(report, null, 2) : formatStatusTable(report).trimEnd());
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof UnknownTargetError) {
      for (const p of err.problems) writeError(`status: ${p}`);
      return ExitCode.Failed;
    }
    writeError(`status failed: ${errorText(err)}`);
    return ExitCode.Failed;
  }
}

/**
 * Two drainers to compare the real one against, driven by the same environment and talking to the simulator through
 * the same SDK clients:
 *
 * - `seedBaseline`: the seed's original algorithm. Every drainer scans all Terminating:Wait instances of its group,
 *   sets them DRAINING, counts only `runningTasksCount + pendingTasksCount`, and completes each instance whose count
 *   reached 0. It runs until its own instance is no longer waiting.
 * - `countTrustingDrainer`: the negative control. It drains only its own instance, but it too trusts
 *   `runningTasksCount + pendingTasksCount`, so it completes while tasks are still stopping.
 *
 * Neither heartbeats; both exit 0 when their instance is done, 1 on an AWS error, 143 when killed.
 */
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  DescribeContainerInstancesCommand,
  ECSClient,
  ListContainerInstancesCommand,
  UpdateContainerInstancesStateCommand,
} from "@aws-sdk/client-ecs";
import { TERMINATING_WAIT } from "../../drainer/src/contract";
import { DrainerHandle, DrainerLauncher, FAKE_CREDENTIALS, LaunchContext } from "./launchers";

class Killed extends Error {}

interface Clients {
  ecs: ECSClient;
  asg: AutoScalingClient;
}

function clients(ctx: LaunchContext): Clients {
  const config = {
    endpoint: ctx.endpoint,
    region: ctx.region,
    credentials: FAKE_CREDENTIALS,
    ...(ctx.maxAttempts !== undefined ? { maxAttempts: ctx.maxAttempts } : {}),
  };
  return { ecs: new ECSClient(config), asg: new AutoScalingClient(config) };
}

function sleep(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Killed());
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, seconds * 1000);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Killed());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function required(env: Readonly<Record<string, string>>, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

/** Completes an action; "No active Lifecycle Action" means it is already done. */
async function complete(c: Clients, asg: string, hook: string, instanceId: string): Promise<void> {
  try {
    await c.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: asg,
        LifecycleHookName: hook,
        InstanceId: instanceId,
        LifecycleActionResult: "CONTINUE",
      }),
    );
  } catch (err) {
    if ((err as Error).name === "ValidationError") return;
    throw err;
  }
}

/**
 * Looks up the container instances of `instanceIds` (100 EC2 ids a ListContainerInstances filter, generous to the
 * seed, which asked per instance), then describes them 100 at a time.
 */
async function countsFor(
  c: Clients,
  cluster: string,
  instanceIds: readonly string[],
): Promise<Map<string, { arn: string; status: string; count: number }>> {
  const arnSet = new Set<string>();
  for (let i = 0; i < instanceIds.length; i += 100) {
    const ids = instanceIds.slice(i, i + 100);
    const filter =
      ids.length === 1 ? `ec2InstanceId == ${ids[0]}` : `ec2InstanceId in [${ids.join(", ")}]`;
    let nextToken: string | undefined;
    do {
      const out = await c.ecs.send(
        new ListContainerInstancesCommand({ cluster, filter, nextToken }),
      );
      for (const arn of out.containerInstanceArns ?? []) arnSet.add(arn);
      nextToken = out.nextToken;
    } while (nextToken);
  }
  const result = new Map<string, { arn: string; status: string; count: number }>();
  const arns = [...arnSet];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await c.ecs.send(
      new DescribeContainerInstancesCommand({
        cluster,
        containerInstances: arns.slice(i, i + 100),
      }),
    );
    for (const ci of out.containerInstances ?? []) {
      result.set(ci.ec2InstanceId!, {
        arn: ci.containerInstanceArn!,
        status: ci.status!,
        count: (ci.runningTasksCount ?? 0) + (ci.pendingTasksCount ?? 0),
      });
    }
  }
  return result;
}

async function setDraining(c: Clients, cluster: string, arns: readonly string[]): Promise<void> {
  for (let i = 0; i < arns.length; i += 10) {
    await c.ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster,
        containerInstances: arns.slice(i, i + 10),
        status: "DRAINING",
      }),
    );
  }
}

/** One pass over `instanceIds`: drain them, complete those whose count is 0. Returns the ids completed. */
async function pass(
  c: Clients,
  env: Readonly<Record<string, string>>,
  asg: string,
  instanceIds: readonly string[],
): Promise<string[]> {
  const cluster = required(env, "ECS_CLUSTER");
  const hook = required(env, "LIFECYCLE_HOOK_NAME");
  const counts = await countsFor(c, cluster, instanceIds);
  await setDraining(
    c,
    cluster,
    [...counts.values()].filter((x) => x.status === "ACTIVE").map((x) => x.arn),
  );
  const done: string[] = [];
  for (const id of instanceIds) {
    const ci = counts.get(id);
    if (!ci || ci.count === 0) {
      await complete(c, asg, hook, id);
      done.push(id);
    }
  }
  return done;
}

function launcher(
  body: (
    c: Clients,
    env: Readonly<Record<string, string>>,
    signal: AbortSignal,
    log: (msg: string) => void,
  ) => Promise<void>,
): DrainerLauncher {
  return (env, ctx): DrainerHandle => {
    const lines: string[] = [];
    const stderr: string[] = [];
    const abort = new AbortController();
    const c = clients(ctx);
    const log = (msg: string) => lines.push(JSON.stringify({ msg }));
    const exit = body(c, env, abort.signal, log)
      .then(() => 0)
      .catch((err: unknown) => {
        if (err instanceof Killed) return 143;
        stderr.push(String((err as Error)?.stack ?? err));
        return 1;
      })
      .finally(() => {
        c.ecs.destroy();
        c.asg.destroy();
      });
    return { exit, lines, stderr, kill: () => abort.abort() };
  };
}

/** The seed's algorithm: scan the whole group every poll. */
export const seedBaseline: DrainerLauncher = launcher(async (c, env, signal, log) => {
  const asg = required(env, "AUTOSCALING_GROUP_NAME");
  const own = required(env, "EC2_INSTANCE_ID");
  const poll = Number(env.POLL_INTERVAL_SECONDS ?? "10");
  for (;;) {
    const out = await c.asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asg] }),
    );
    const waiting = (out.AutoScalingGroups?.[0]?.Instances ?? [])
      .filter((i) => i.LifecycleState === TERMINATING_WAIT)
      .map((i) => i.InstanceId!);
    if (!waiting.includes(own)) {
      log(`${own} is no longer waiting`);
      return;
    }
    const done = await pass(c, env, asg, waiting);
    if (done.includes(own)) {
      log(`completed ${own}`);
      return;
    }
    await sleep(poll, signal);
  }
});

/** The negative control: drains its own instance and trusts runningTasksCount + pendingTasksCount. */
export const countTrustingDrainer: DrainerLauncher = launcher(async (c, env, signal, log) => {
  const asg = required(env, "AUTOSCALING_GROUP_NAME");
  const own = required(env, "EC2_INSTANCE_ID");
  const poll = Number(env.POLL_INTERVAL_SECONDS ?? "10");
  for (;;) {
    const done = await pass(c, env, asg, [own]);
    if (done.includes(own)) {
      log(`completed ${own}`);
      return;
    }
    await sleep(poll, signal);
  }
});

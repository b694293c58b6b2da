/** What the drainer's unit tests share: a drain() run against the scripted world on a virtual clock. */
import { DrainContext, Outcome, drain } from "../../drainer/src/drain";
import { createLogger } from "../../drainer/src/log";
import { DrainerConfig, parseConfig } from "../../drainer/src/config";
import { virtualClock } from "../doubles/clock";
import { CLUSTER, FakeWorld, HOOK } from "../doubles/scripted";

/** A poll every 10 s: quick on the virtual clock, and within the default ECS read budget. */
export const FAST = { POLL_INTERVAL_SECONDS: "10" };

export interface Harness {
  world: FakeWorld;
  clock: ReturnType<typeof virtualClock>;
  lines: Record<string, any>[];
  run(vars: Record<string, string>, extra?: Partial<DrainContext>): Promise<Outcome[]>;
}

/** A world on a virtual clock and a drain() runner whose log lines are parsed for assertions. */
export function harness(): Harness {
  const clock = virtualClock();
  const world = new FakeWorld(clock.seconds);
  const lines: Record<string, any>[] = [];
  return {
    world,
    clock,
    lines,
    async run(vars, extra = {}) {
      const config: DrainerConfig = parseConfig({
        ECS_CLUSTER: CLUSTER,
        LIFECYCLE_HOOK_NAME: HOOK,
        ...vars,
      });
      const log = createLogger((l) => lines.push(JSON.parse(l)), {
        cluster: config.cluster,
        asg: config.asg ?? null,
        hook: config.hook,
        instanceId: config.instanceId ?? null,
      });
      return drain({
        port: world.port,
        config,
        log,
        signal: new AbortController().signal,
        now: clock.now,
        sleep: clock.sleep,
        ...extra,
      });
    },
  };
}

export function eventVars(instanceId: string, asg = "asg-a"): Record<string, string> {
  return { EC2_INSTANCE_ID: instanceId, AUTOSCALING_GROUP_NAME: asg, LIFECYCLE_HOOK_NAME: HOOK };
}

/**
 * `status`, the operator's first command (drainer/src/status.ts, run.ts), against the simulator over the real SDK:
 * every registration of a held instance, retained instances, unknown clusters and groups named with a non-zero exit,
 * whether a drainer answers, the deadline, and the next command. Each guarantee with the case that would break it.
 */
import { strict as assert } from "node:assert";
import { DEFAULTS, ExitCode, STATUS_ACTIONS } from "../../drainer/src/contract";
import { createSdkPort, runDrainer } from "../../drainer/src/run";
import {
  DEFAULT_FAMILY,
  SCALING_ACTIVITY_PAGES,
  StatusReport,
  StatusRow,
  explain,
} from "../../drainer/src/status";
import { StuckReason } from "../../drainer/src/blockers";
import { FAKE_CREDENTIALS } from "../sim/launchers";
import { Simulation } from "../sim/simulation";
import type { ContainerInstance, Task } from "../sim/world";

const HOOK = DEFAULTS.hookName;

async function world(): Promise<Simulation> {
  return Simulation.start({
    timeScale: 10,
    startPaused: true,
    world: {
      cluster: "prod",
      groups: [
        { name: "asg-a", instances: 3, hooks: [{ name: HOOK }] },
        { name: "asg-b", instances: 2, hooks: [{ name: HOOK }], retainOnAbandon: true },
        { name: "asg-empty", instances: 0, hooks: [{ name: HOOK }] },
      ],
      services: [{ name: "web", desiredCount: 3, groups: ["asg-a"] }],
    },
  });
}

async function status(sim: Simulation, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDrainer(
    ["status", ...args],
    {},
    {
      write: (l) => out.push(l),
      writeError: (l) => err.push(l),
      clientConfig: {
        endpoint: sim.endpoint,
        region: sim.world.region,
        credentials: FAKE_CREDENTIALS,
        maxAttempts: 1,
      },
    },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function statusJson(sim: Simulation, args: string[]): Promise<StatusReport> {
  const r = await status(sim, [...args, "--json"]);
  assert.equal(r.code, ExitCode.Ok, r.err);
  return JSON.parse(r.out) as StatusReport;
}

/** The calls (`service:Operation`) that a permission list leaves out. */
function unlisted(called: readonly string[], list: readonly string[]): string[] {
  return called.filter((c) => !list.includes(c));
}

/** A second registration of the instance, as an agent that lost its state makes: ACTIVE, with a task on it. */
function registerAgain(sim: Simulation, instanceId: string): ContainerInstance {
  const w = sim.world;
  const ec2 = w.instance(instanceId);
  const ci: ContainerInstance = {
    arn: `arn:aws:ecs:${w.region}:${w.accountId}:container-instance/prod/${"f".repeat(32)}`,
    ec2,
    status: "ACTIVE",
    agentConnected: true,
    registeredAt: sim.clock.now(),
    version: 1,
    tasks: [],
  };
  w.containerInstances.set(ci.arn, ci);
  const task: Task = {
    arn: `arn:aws:ecs:${w.region}:${w.accountId}:task/prod/${"e".repeat(32)}`,
    taskDefinitionArn: w.taskDefinitionArnOf("nightly"),
    containerInstance: ci,
    group: "family:nightly",
    lastStatus: "RUNNING",
    desiredStatus: "RUNNING",
    createdAt: sim.clock.now(),
    version: 1,
    deactivatingSeconds: 0,
    stoppingSeconds: 2,
    cpu: 0,
    memory: 0,
  };
  ci.tasks.push(task);
  w.tasks.set(task.arn, task);
  return ci;
}

/** A drainer task that RunTask accepted and that reached RUNNING at once. */
function running(sim: Simulation, family: string, _overrides: readonly unknown[]) {
  const task = sim.world.createDrainerTask(family, []);
  task.lastStatus = "RUNNING";
  task.startedAt = sim.clock.now();
  return task;
}

describe("status (against the simulator)", function () {
  this.timeout(60_000);
  let sim: Simulation;

  beforeEach(async () => {
    sim = await world();
  });
  afterEach(async () => {
    await sim.stop();
  });

  it("shows an instance held by the hook with no drainer running, and says to run the sweep", async () => {
    const [held] = sim.scaleIn("asg-a", 1);
    const report = await statusJson(sim, ["--cluster", "prod", "--asg", "asg-a,asg-b"]);
    assert.deepEqual(report.drainer, {
      family: DEFAULT_FAMILY,
      running: 0,
      starting: 0,
      leader: null,
    });
    assert.deepEqual(
      report.instances.map((r) => [
        r.instanceId,
        r.lifecycleState,
        r.held,
        r.ecsStatus,
        r.answered,
      ]),
      [[held, "Terminating:Wait", "hook", "ACTIVE", false]],
      "only the held instance: none InService",
    );
    assert.equal(
      report.instances[0].next,
      `run the sweep: drainer drain --cluster prod --hook ${HOOK} --asgs asg-a`,
    );
  });

  it("a drainer of the family answers: the oldest RUNNING task leads; another family does not count", async () => {
    const [held] = sim.scaleIn("asg-a", 1);
    const first = running(sim, "my-drainer", []);
    await sim.run(5);
    running(sim, "my-drainer", []);
    running(sim, "someone-else", []);
    const report = await statusJson(sim, [
      "--cluster",
      "prod",
      "--asg",
      "asg-a",
      "--family",
      "my-drainer",
    ]);
    assert.equal(report.drainer.running, 2);
    assert.equal(report.drainer.leader?.taskArn, first.arn);
    const row = report.instances.find((r) => r.instanceId === held)!;
    assert.equal(row.answered, true);
    assert.equal(row.next, "wait: the drainer sets it DRAINING at its next look");
    // Negative: the default family has no task running here, so nothing answers.
    const none = await statusJson(sim, ["--cluster", "prod", "--asg", "asg-a"]);
    assert.equal(none.instances[0].answered, false);
  });

  it("looks at every registration of an instance, not the first: a second one's tasks block too", async () => {
    const [held] = sim.scaleIn("asg-a", 1);
    const first = sim.world.instance(held).containerInstance!;
    sim.world.setContainerInstanceStatus(first, "DRAINING");
    const second = registerAgain(sim, held);
    const report = await statusJson(sim, ["--cluster", "prod", "--asg", "asg-a"]);
    const row = report.instances.find((r) => r.instanceId === held)!;
    assert.deepEqual(
      row.registrations.map((r) => [r.arn, r.status]).sort(),
      [
        [first.arn, "DRAINING"],
        [second.arn, "ACTIVE"],
      ].sort(),
    );
    assert.equal(row.ecsStatus.split("+").sort().join("+"), "ACTIVE+DRAINING");
    const onSecond = row.registrations.find((r) => r.arn === second.arn)!;
    assert.equal(onSecond.blockers.groups["family:nightly"], 1, "the second registration's task");
    assert.equal(row.blockers.groups["family:nightly"], 1, "counted for the instance");
    // The table shows it too.
    const table = await status(sim, ["--cluster", "prod", "--asg", "asg-a"]);
    assert.match(
      table.out,
      new RegExp(
        `^${held}\\s+asg-a\\s+Terminating:Wait\\s+(ACTIVE\\+DRAINING|DRAINING\\+ACTIVE)\\s`,
        "m",
      ),
    );
  });

  it("shows a retained instance (Terminating:Retained), and the command that lets it go once empty", async () => {
    const instance = sim.world.group("asg-b").instances[0];
    instance.lifecycleState = "Terminating:Retained";
    sim.world.setContainerInstanceStatus(instance.containerInstance!, "DRAINING");
    const report = await statusJson(sim, ["--cluster", "prod", "--asg", "asg-b"]);
    assert.deepEqual(
      report.instances.map((r) => [r.instanceId, r.lifecycleState, r.held, r.answered]),
      [[instance.id, "Terminating:Retained", "retained", false]],
    );
    assert.equal(
      report.instances[0].next,
      `aws autoscaling terminate-instance-in-auto-scaling-group --instance-id ${instance.id} --no-should-decrement-desired-capacity`,
    );
  });

  it("a misspelled group is an error that names it, exit 1, not an all-clear", async () => {
    const r = await status(sim, ["--cluster", "prod", "--asg", "asg-a,asg-x"]);
    assert.equal(r.code, ExitCode.Failed);
    assert.match(r.err, /Auto Scaling group "asg-x": not found/);
    assert.doesNotMatch(r.err, /"asg-a"/);
    assert.equal(r.out, "", "no table that could pass for an all-clear");
    // Controls: the right name, and an existing group with no instance (it has the drainer's hook), exit 0.
    assert.equal((await status(sim, ["--cluster", "prod", "--asg", "asg-a"])).code, ExitCode.Ok);
    const empty = await status(sim, ["--cluster", "prod", "--asg", "asg-empty"]);
    assert.equal(empty.code, ExitCode.Ok, empty.err);
    assert.match(
      empty.out,
      /^No instance is held by the terminate hook or retained in asg-empty\.$/m,
    );
  });

  it("an unknown cluster is an error that names it, exit 1", async () => {
    const r = await status(sim, ["--cluster", "prdo", "--asg", "asg-a"]);
    assert.equal(r.code, ExitCode.Failed);
    assert.match(r.err, /cluster "prdo": not found/);
    assert.equal(r.out, "");
  });

  it("shows when the hook began to hold each instance (its termination activity's start) and the deadline as a time", async () => {
    await sim.run(3);
    const [first] = sim.scaleIn("asg-a", 1);
    const firstAt = sim.clock.now();
    await sim.run(5);
    const [second] = sim.scaleIn("asg-a", 1);
    const secondAt = sim.clock.now();
    assert.ok(secondAt >= firstAt + 5, "two holds that began at different times");
    const report = await statusJson(sim, [
      "--cluster",
      "prod",
      "--asg",
      "asg-a",
      "--drain-timeout",
      "600",
    ]);
    const rowOf = (id: string) => report.instances.find((r) => r.instanceId === id)!;
    // Each its own: a status that gave every instance the group's first (or latest) termination would fail here.
    for (const [id, at] of [
      [first, firstAt],
      [second, secondAt],
    ] as const) {
      const row = rowOf(id);
      assert.equal(row.heldSince, sim.world.isoTime(at), id);
      assert.equal(row.heldSinceUnknown, null, id);
      assert.equal(row.deadline, sim.world.isoTime(at + 600), id);
      // The hook's own end, after the global timeout Auto Scaling reports (wall-clock seconds, see autoscaling-api.ts).
      const hook = sim.world.group("asg-a").hooks[0];
      const reported = Math.max(1, Math.round(sim.clock.toReal(hook.globalTimeout)));
      assert.equal(Date.parse(row.hookLimit!) - Date.parse(row.heldSince!), reported * 1000, id);
    }
    const table = await status(sim, [
      "--cluster",
      "prod",
      "--asg",
      "asg-a",
      "--drain-timeout",
      "600",
    ]);
    assert.equal(table.code, ExitCode.Ok, table.err);
    assert.match(
      table.out,
      /^INSTANCE\s+GROUP\s+STATE\s+ECS STATUS\s+RUNNING\s+PENDING\s+STOPPING\s+HELD SINCE\s+DEADLINE\s+BLOCKED BY\s+WHY$/m,
    );
    assert.match(
      table.out,
      new RegExp(
        `^${first}\\s+asg-a\\s+Terminating:Wait\\s+ACTIVE\\s+\\d+\\s+\\d+\\s+\\d+\\s+${sim.world.isoTime(firstAt)}\\s+${sim.world.isoTime(firstAt + 600)}\\s`,
        "m",
      ),
    );
    assert.doesNotMatch(table.out, /\s{2}unknown\s{2}|^HELD SINCE unknown/m);
    assert.match(table.out, /^HELD SINCE: when Auto Scaling began terminating the instance/m);
  });

  it("the activity read denied: the deadline relative to held-since, a note naming the action, exit 0", async () => {
    sim.scaleIn("asg-a", 1);
    sim.server.faults.denied = ["DescribeScalingActivities"];
    const args = ["--cluster", "prod", "--asg", "asg-a", "--drain-timeout", "600"];
    const report = await statusJson(sim, args);
    const row = report.instances[0];
    assert.equal(row.heldSince, null);
    assert.match(
      row.heldSinceUnknown ?? "",
      /^reading asg-a's scaling activities was denied \(AccessDenied\): status needs autoscaling:DescribeScalingActivities /,
    );
    assert.equal(row.deadline, "held since + 600 s");
    assert.match(row.hookLimit ?? "", /^held since \+ \d+ s$/);
    assert.equal(row.answered, false, "the rest of the row is still there");
    const table = await status(sim, args);
    assert.equal(table.code, ExitCode.Ok, table.err);
    assert.match(table.out, /\s+unknown\s+\+600s\s+/);
    assert.match(
      table.out,
      new RegExp(
        `^HELD SINCE unknown for ${row.instanceId}: reading asg-a's scaling activities was denied \\(AccessDenied\\): status needs autoscaling:DescribeScalingActivities .*; \`aws autoscaling describe-scaling-activities --auto-scaling-group-name asg-a\` shows when\\.$`,
        "m",
      ),
    );
    // Control: the same world, the action allowed: the time is known.
    sim.server.faults.denied = [];
    const allowed = await statusJson(sim, args);
    assert.equal(allowed.instances[0].heldSince, sim.world.isoTime(0));
    assert.equal(allowed.instances[0].heldSinceUnknown, null);
  });

  it("the activity read throttled past the SDK's retries: the relative form and why, exit 0", async () => {
    sim.scaleIn("asg-a", 1);
    sim.server.faults.throttled = ["DescribeScalingActivities"];
    const r = await status(sim, ["--cluster", "prod", "--asg", "asg-a"]);
    assert.equal(r.code, ExitCode.Ok, r.err);
    assert.match(r.out, new RegExp(`\\s+unknown\\s+\\+${DEFAULTS.drainTimeoutSeconds}s\\s+`));
    assert.match(
      r.out,
      /^HELD SINCE unknown for i-\w+: reading asg-a's scaling activities failed \(Throttling: Rate exceeded\);/m,
    );
    // Control: only that read was throttled; without it the time is shown.
    sim.server.faults.throttled = [];
    const ok = await status(sim, ["--cluster", "prod", "--asg", "asg-a"]);
    assert.doesNotMatch(ok.out, /\s{2}unknown\s{2}|^HELD SINCE unknown/m);
  });

  describe("reading the activities: pages, bounded", () => {
    /** `n` activities newer than the held instance's, still in progress (launches a lifecycle hook holds). */
    function newerActivities(n: number) {
      const g = sim.world.group("asg-a");
      for (let i = 0; i < n; i++) {
        g.activities.push({
          id: `launch-${i}`,
          instanceId: `i-${String(i).padStart(17, "0")}`,
          description: `Launching a new EC2 instance: i-${String(i).padStart(17, "0")}`,
          cause: "a test's launch",
          startedAt: sim.clock.now() + 1,
          statusCode: "MidLifecycleAction",
        });
      }
    }
    /** `n` finished activities from before the scale-in: the group's history. */
    function history(n: number) {
      const g = sim.world.group("asg-a");
      for (let i = 0; i < n; i++) {
        g.activities.unshift({
          id: `old-${i}`,
          instanceId: `i-${String(i).padStart(17, "1")}`,
          description: `Terminating EC2 instance: i-${String(i).padStart(17, "1")}`,
          cause: "a test's earlier scale-in",
          startedAt: 0,
          endedAt: 0,
          statusCode: "Successful",
        });
      }
    }
    async function reads(args: string[]) {
      sim.server.keepLog = true;
      sim.server.log.length = 0;
      const report = await statusJson(sim, args);
      const calls = sim.server.log.filter((c) => c.op === "DescribeScalingActivities");
      return { report, calls };
    }

    it("honours the abort signal: an aborted port sends no request", async () => {
      sim.scaleIn("asg-a", 1);
      const portWith = (signal: AbortSignal) =>
        createSdkPort(
          {},
          {
            endpoint: sim.endpoint,
            region: sim.world.region,
            credentials: FAKE_CREDENTIALS,
            maxAttempts: 1,
          },
          DEFAULTS.requestTimeoutSeconds,
          signal,
        );
      const controller = new AbortController();
      controller.abort();
      sim.server.keepLog = true;
      await assert.rejects(
        portWith(controller.signal).describeScalingActivities("asg-a", SCALING_ACTIVITY_PAGES),
        (err: Error) => err.name === "AbortError",
      );
      assert.deepEqual(sim.server.log, [], "nothing sent");
      // Control: the same port with a live signal reads the activity.
      const read = await portWith(new AbortController().signal).describeScalingActivities(
        "asg-a",
        SCALING_ACTIVITY_PAGES,
      );
      assert.ok(read.some((a) => a.description.startsWith("Terminating EC2 instance: ")));
    });

    it("follows NextToken, 100 a page, and stops at the page that holds the last held instance", async () => {
      history(300);
      const [held] = sim.scaleIn("asg-a", 1);
      newerActivities(150);
      const { report, calls } = await reads(["--cluster", "prod", "--asg", "asg-a"]);
      assert.equal(
        report.instances.find((r) => r.instanceId === held)!.heldSince,
        sim.world.isoTime(0),
      );
      assert.deepEqual(
        calls.map((c) => [
          c.input.AutoScalingGroupName,
          c.input.MaxRecords,
          c.input.NextToken !== undefined,
        ]),
        [
          ["asg-a", "100", false],
          ["asg-a", "100", true],
        ],
        "the second page, and no third",
      );
      assert.equal(sim.recorder.unsupported.length, 0, sim.recorder.unsupported.join("\n"));
    });

    it(`reads at most ${SCALING_ACTIVITY_PAGES} pages: past them, held-since is unknown and says so`, async () => {
      const [held] = sim.scaleIn("asg-a", 1);
      newerActivities(SCALING_ACTIVITY_PAGES * 100);
      const { report, calls } = await reads(["--cluster", "prod", "--asg", "asg-a"]);
      assert.equal(calls.length, SCALING_ACTIVITY_PAGES, "the bound, not the whole history");
      const row = report.instances.find((r) => r.instanceId === held)!;
      assert.equal(row.heldSince, null);
      assert.equal(
        row.heldSinceUnknown,
        `no termination activity for it among asg-a's latest ${SCALING_ACTIVITY_PAGES * 100} scaling activities`,
      );
      // Control: one activity fewer ahead of it, and it is on the last page read.
      sim.world.group("asg-a").activities.pop();
      const found = await reads(["--cluster", "prod", "--asg", "asg-a"]);
      assert.equal(found.calls.length, SCALING_ACTIVITY_PAGES);
      assert.equal(
        found.report.instances.find((r) => r.instanceId === held)!.heldSince,
        sim.world.isoTime(0),
      );
    });
  });

  it("calls only STATUS_ACTIONS, the operator's permission list (DescribeScalingActivities among them)", async () => {
    const [held] = sim.scaleIn("asg-a", 1);
    // A DRAINING instance with a service task on it: status reads the service too.
    sim.world.setContainerInstanceStatus(sim.world.instance(held).containerInstance!, "DRAINING");
    sim.server.keepLog = true;
    const r = await status(sim, ["--cluster", "prod", "--asg", "asg-a,asg-b"]);
    assert.equal(r.code, ExitCode.Ok, r.err);
    const called = [...new Set(sim.server.log.map((c) => `${c.service}:${c.op}`))];
    assert.deepEqual(unlisted(called, STATUS_ACTIONS), []);
    for (const a of ["autoscaling:DescribeScalingActivities", "ecs:DescribeServices"]) {
      assert.ok(called.includes(a), a);
    }
    // Negative control: a list without the new action is caught.
    assert.deepEqual(
      unlisted(
        called,
        STATUS_ACTIONS.filter((a) => a !== "autoscaling:DescribeScalingActivities"),
      ),
      ["autoscaling:DescribeScalingActivities"],
    );
  });

  it("--drain-timeout must be a number of seconds", async () => {
    sim.scaleIn("asg-a", 1);
    const bad = await status(sim, [
      "--cluster",
      "prod",
      "--asg",
      "asg-a",
      "--drain-timeout",
      "soon",
    ]);
    assert.equal(bad.code, ExitCode.InvalidConfig);
    assert.match(
      bad.err,
      /DRAIN_TIMEOUT_SECONDS: must be a number of seconds greater than 0, got "soon"/,
    );
  });
});

describe("status --help", () => {
  async function help(args: string[]) {
    const out: string[] = [];
    const code = await runDrainer(args, {}, { write: (l) => out.push(l), writeError: () => {} });
    return { code, out: out.join("\n") };
  }

  it("shows status's own usage and options", async () => {
    const r = await help(["status", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: drainer status --cluster C --asg NAME\[,NAME\] \[--family F\]/m);
    for (const flag of ["--cluster", "--asg", "--family", "--drain-timeout", "--hook", "--json"])
      assert.match(r.out, new RegExp(`^  ${flag} `, "m"), flag);
    // Negative: the drainer's own help is not status's.
    const general = await help(["--help"]);
    assert.doesNotMatch(
      general.out,
      /^Usage: drainer status --cluster C --asg NAME\[,NAME\] \[--family F\]/m,
    );
    assert.match(general.out, /^Usage: drainer \[drain\]/m);
  });
});

describe("status's next step (explain)", () => {
  const base: Omit<StatusRow, "blockedBy" | "next"> = {
    instanceId: "i-0123456789abcdef0",
    asg: "asg-a",
    lifecycleState: "Terminating:Wait",
    held: "hook",
    ecsStatus: "DRAINING",
    registrations: [
      {
        arn: "ci",
        status: "DRAINING",
        runningTasksCount: 1,
        pendingTasksCount: 0,
        blockers: { total: 1, groups: { "service:api": 1 }, standalone: 0, stopping: 0 },
      },
    ],
    runningTasksCount: 1,
    pendingTasksCount: 0,
    blockers: { total: 1, groups: { "service:api": 1 }, standalone: 0, stopping: 0 },
    stuck: [],
    heldSince: null,
    heldSinceUnknown: null,
    deadline: "held since + 3600 s",
    hookLimit: null,
    answered: true,
  };
  const q = { cluster: "prod", drainTimeoutSeconds: 3600 };

  it("a drain that cannot progress needs the operator: act, or complete the action by hand", () => {
    const r = explain(
      q,
      {
        ...base,
        stuck: [{ reason: StuckReason.CannotProgress, group: "service:api", tasks: 1, detail: "" }],
      },
      "drain",
    );
    assert.match(r.next, /^act on WHY \(service:api cannot-progress\)/);
    assert.match(
      r.next,
      /aws autoscaling complete-lifecycle-action --auto-scaling-group-name asg-a --lifecycle-hook-name drain --instance-id i-0123456789abcdef0 --lifecycle-action-result CONTINUE$/,
    );
  });

  it("negative: a daemon or a standalone job in its time is progress: wait", () => {
    for (const reason of [StuckReason.Daemon, StuckReason.Standalone, StuckReason.ShuttingDown]) {
      const r = explain(
        q,
        { ...base, stuck: [{ reason, group: "service:api", tasks: 1, detail: "" }] },
        "drain",
      );
      assert.equal(r.next, "wait: its tasks are leaving", reason);
    }
  });
});

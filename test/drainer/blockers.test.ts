/**
 * Why a drain is stuck (drainer/src/blockers.ts): each reason from the tasks that block and their services, in ECS's own
 * words where ECS gave them, and nothing for a service that is still making progress.
 */
import { strict as assert } from "node:assert";
import type { ServiceView, TaskView } from "../../drainer/src/aws";
import { DRAIN_EVENTS } from "../../drainer/src/contract";
import {
  StuckReason,
  classifyStuck,
  isProgress,
  needsOperator,
  serviceNames,
  standaloneMarginSeconds,
  stuckKey,
} from "../../drainer/src/blockers";
import { Harness, eventVars, harness } from "./harness";
import { running, stopped } from "../doubles/scripted";

function task(group: string, lastStatus = "RUNNING", desiredStatus = "RUNNING", n = 1): TaskView {
  return {
    arn: `arn:aws:ecs:us-west-2:123456789012:task/prod/${group.replace(/\W/g, "")}${n}${lastStatus}`,
    containerInstanceArn: "ci",
    lastStatus,
    desiredStatus,
    group,
    startedBy: undefined,
  };
}

function service(name: string, over: Partial<ServiceView> = {}): [string, ServiceView] {
  return [
    name,
    {
      name,
      schedulingStrategy: "REPLICA",
      desiredCount: 3,
      runningCount: 3,
      pendingCount: 0,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      events: [{ at: 1, message: `(service ${name}) has reached a steady state.` }],
      failedTasks: 0,
      ...over,
    },
  ];
}

const UNABLE =
  "service web was unable to place a task because no container instance met all of its requirements. The closest matching container-instance 5b2a0c has insufficient CPU units available.";

describe("stuck reasons", () => {
  it("cannot place: ECS's own service event, word for word", () => {
    const [f] = classifyStuck(
      [task("service:web")],
      new Map([service("web", { events: [{ at: 2, message: UNABLE }] })]),
    );
    assert.deepEqual(f, {
      reason: StuckReason.CannotPlace,
      group: "service:web",
      tasks: 1,
      detail: UNABLE,
    });
  });

  it("cannot progress: minimumHealthyPercent 100 with maximumPercent 100, and how to fix it", () => {
    const [f] = classifyStuck(
      [task("service:api"), task("service:api", "RUNNING", "RUNNING", 2)],
      new Map([service("api", { maximumPercent: 100 })]),
    );
    assert.equal(f.reason, StuckReason.CannotProgress);
    assert.equal(f.tasks, 2);
    assert.match(f.detail, /lower minimumHealthyPercent or raise maximumPercent/);
  });

  it("replacements unhealthy: a health-check event, or failed tasks in the current deployment", () => {
    const health = "(service web) (task 1f2e) failed container health checks.";
    const [byEvent] = classifyStuck(
      [task("service:web")],
      new Map([service("web", { events: [{ at: 3, message: health }] })]),
    );
    assert.deepEqual([byEvent.reason, byEvent.detail], [StuckReason.ReplacementsUnhealthy, health]);
    const [byCount] = classifyStuck(
      [task("service:web")],
      new Map([service("web", { failedTasks: 4 })]),
    );
    assert.equal(byCount.reason, StuckReason.ReplacementsUnhealthy);
    assert.match(byCount.detail, /^4 task\(s\)/);
  });

  it("standalone: tasks no service owns, whatever the services say", () => {
    const [f] = classifyStuck([task("family:nightly")], new Map());
    assert.equal(f.reason, StuckReason.Standalone);
    assert.match(f.detail, /STOP_STANDALONE_TASKS/);
  });

  it("daemon: stopped last; said so, and that standalone tasks still run beside it", () => {
    const found = classifyStuck(
      [task("service:agent"), task("family:nightly")],
      new Map([service("agent", { schedulingStrategy: "DAEMON" })]),
    );
    assert.deepEqual(
      found.map((f) => f.reason),
      [StuckReason.Standalone, StuckReason.Daemon],
    );
    assert.match(found[1].detail, /standalone tasks still run beside it/);
  });

  it("shutting down: tasks in DEACTIVATING or STOPPING, counted by state, beside the group's running ones", () => {
    const found = classifyStuck(
      [
        task("service:web", "DEACTIVATING", "STOPPED", 1),
        task("service:web", "STOPPING", "STOPPED", 2),
        task("service:web", "RUNNING", "RUNNING", 3),
      ],
      new Map([service("web", { maximumPercent: 100 })]),
    );
    assert.deepEqual(
      found.map((f) => [f.reason, f.tasks]),
      [
        [StuckReason.ShuttingDown, 2],
        [StuckReason.CannotProgress, 1],
      ],
    );
    assert.match(found[0].detail, /1 DEACTIVATING, 1 STOPPING/);
  });

  it("nothing for a service still progressing, or one not read yet", () => {
    assert.deepEqual(classifyStuck([task("service:web")], new Map([service("web")])), []);
    assert.deepEqual(classifyStuck([task("service:web")], new Map()), []);
  });

  it("names each service once, and keys the findings by reason and group only", () => {
    assert.deepEqual(
      serviceNames([
        task("service:b"),
        task("service:a"),
        task("service:b", "RUNNING", "RUNNING", 2),
        task("family:x"),
      ]),
      ["a", "b"],
    );
    const a = classifyStuck([task("family:x")], new Map());
    const b = classifyStuck(
      [task("family:x"), task("family:x", "RUNNING", "RUNNING", 2)],
      new Map(),
    );
    assert.equal(stuckKey(a), stuckKey(b));
  });
});

describe("the paging rule: a stuck event or metric only for what an operator must act on", () => {
  const finding = (reason: StuckReason, group = "service:web") => ({
    reason,
    group,
    tasks: 1,
    detail: "",
  });
  const clock = (secondsLeft: number) => ({
    secondsLeft,
    drainTimeoutSeconds: 3600,
    pollIntervalSeconds: 10,
  });

  it("a daemon and tasks shutting down are progress; what does not end by itself pages", () => {
    for (const r of [StuckReason.Daemon, StuckReason.ShuttingDown])
      assert.equal(isProgress(finding(r), clock(10)), true, r);
    for (const r of [
      StuckReason.CannotPlace,
      StuckReason.CannotProgress,
      StuckReason.ReplacementsUnhealthy,
    ])
      assert.equal(isProgress(finding(r), clock(3000)), false, r);
  });

  it("a standalone task is progress until a quarter of DRAIN_TIMEOUT (at least 3 polls) is left, then pages", () => {
    assert.equal(standaloneMarginSeconds(clock(0)), 900);
    assert.equal(
      standaloneMarginSeconds({ drainTimeoutSeconds: 60, pollIntervalSeconds: 10 }),
      30,
      "3 polls when a quarter is shorter",
    );
    const job = finding(StuckReason.Standalone, "family:nightly");
    assert.equal(isProgress(job, clock(901)), true);
    assert.equal(isProgress(job, clock(900)), false);
    assert.equal(isProgress(job), true, "without a clock (status), progress");
    assert.deepEqual(
      needsOperator(
        [job, finding(StuckReason.Daemon, "service:agent"), finding(StuckReason.CannotPlace)],
        clock(100),
      ).map((f) => f.group),
      ["family:nightly", "service:web"],
    );
  });

  it("a drain event's blocking services never name a daemon service (a finding), but a task's service is read", () => {
    assert.deepEqual(
      serviceNames([
        finding(StuckReason.Daemon, "service:agent"),
        finding(StuckReason.CannotProgress, "service:api"),
        finding(StuckReason.ShuttingDown, "service:web"),
      ]),
      ["api", "web"],
    );
    // Negative: the agent's task is a task, not a finding: its service is still read to learn it is a daemon.
    assert.deepEqual(serviceNames([task("service:agent")]), ["agent"]);
  });
});

describe("the paging rule in a drain", () => {
  const ID = "i-0000000000000041";
  const POLL = 10;
  const vars = {
    ...eventVars(ID),
    POLL_INTERVAL_SECONDS: String(POLL),
    DRAIN_TIMEOUT_SECONDS: "120",
  };
  const pages = (h: Harness) => ({
    metrics: h.lines.filter((l) => l.action === "stuck").map((l) => l.Reason),
    stuckEvents: h.world.published.filter((e) => e.detailType === DRAIN_EVENTS.stuck),
    warned: h.lines.filter((l) => l.action === "wait" && l.stuck && l.level === "warn"),
  });

  it("a standalone job that ends within its time is progress: told at info, no stuck event, no metric", async () => {
    const h = harness();
    h.world.addInstance(ID, "asg-a");
    h.world.addTask("job-1", ID, "family:nightly", running(), stopped(70));
    const [out] = await h.run(vars);
    assert.equal(out.result, "completed");
    const told = h.lines.filter((l) => l.action === "wait" && l.stuck);
    assert.ok(told.length > 0, "told");
    assert.ok(told.every((l) => l.level === "info"));
    assert.deepEqual(pages(h), { metrics: [], stuckEvents: [], warned: [] });
  });

  it("negative: one still running when a quarter of the deadline is left pages once: a warning, a metric, a stuck event", async () => {
    const h = harness();
    h.world.addInstance(ID, "asg-a");
    h.world.addTask("job-1", ID, "family:nightly", running());
    const [out] = await h.run(vars);
    assert.equal(out.result, "timed-out");
    const p = pages(h);
    assert.deepEqual(p.metrics, ["standalone"]);
    assert.equal(p.stuckEvents.length, 1);
    assert.equal(p.warned.length, 1);
    // Paged with the margin left: when 30 s of the 120 s drain were left (within a poll), not earlier, not at its end.
    const at = p.stuckEvents[0].at;
    assert.ok(at >= 90 && at < 90 + 2 * POLL, `paged at ${at} s`);
  });

  it("the outcome's blocking services name a 100/100 service, never a daemon", async () => {
    const h = harness();
    h.world.services.set("agent", { schedulingStrategy: "DAEMON", events: [] });
    h.world.services.set("api", {
      schedulingStrategy: "REPLICA",
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 },
      events: [],
    });
    h.world.addInstance(ID, "asg-a");
    h.world.addTask("agent-1", ID, "service:agent", running());
    h.world.addTask("api-1", ID, "service:api", running());
    const [out] = await h.run(vars);
    assert.equal(out.result, "timed-out");
    const outcome = h.world.published.find((e) => e.detailType === DRAIN_EVENTS.outcome)!;
    assert.deepEqual(outcome.detail.blockingServices, ["api"]);
    assert.deepEqual(
      (outcome.detail.stuck as { reason: string }[]).map((f) => f.reason).sort(),
      ["cannot-progress", "daemon"],
      "the daemon is still told",
    );
  });
});

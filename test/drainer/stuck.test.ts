/**
 * Why a drain is stuck (drainer/src/stuck.ts): each reason from the tasks that block and their services, in ECS's own
 * words where ECS gave them, and nothing for a service that is still making progress.
 */
import { strict as assert } from "node:assert";
import type { ServiceView, TaskView } from "../../drainer/src/aws";
import { StuckReason, classifyStuck, serviceNames, stuckKey } from "../../drainer/src/stuck";

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

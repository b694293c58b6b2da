import { strict as assert } from "node:assert";
import { TaskView } from "../../drainer/src/aws";
import {
  FOLLOWERS_PER_POLL,
  LISTING_EVERY_POLLS,
  assessInstance,
  eventPrecheck,
  followerPollEvery,
  knownTasksComplete,
  leadsGroup,
  needsListing,
  planHook,
} from "../../drainer/src/decisions";

const ci = (running: number, pending = 0, status = "DRAINING") => ({
  arn: "ci",
  ec2InstanceId: "i-1",
  status,
  runningTasksCount: running,
  pendingTasksCount: pending,
});
const task = (
  arn: string,
  lastStatus: string,
  desiredStatus: string,
  group = "service:web",
): TaskView => ({
  arn,
  containerInstanceArn: "ci",
  lastStatus,
  desiredStatus,
  group,
  startedBy: undefined,
});
const hook = (heartbeatTimeout: number, globalTimeout = 0) => ({
  name: "h",
  transition: "autoscaling:EC2_INSTANCE_TERMINATING",
  heartbeatTimeout,
  globalTimeout,
  defaultResult: "CONTINUE",
});

describe("assessInstance", () => {
  const base = {
    ownTaskArn: undefined,
    stopStandaloneTasks: false,
    listing: "full" as const,
    knownComplete: false,
  };

  for (const [last, desired] of [
    ["RUNNING", "RUNNING"],
    ["PENDING", "RUNNING"],
    ["PROVISIONING", "RUNNING"],
    ["ACTIVATING", "RUNNING"],
    ["DEACTIVATING", "STOPPED"],
    ["STOPPING", "STOPPED"],
    ["DEPROVISIONING", "STOPPED"],
    ["RUNNING", "STOPPED"],
  ]) {
    it(`never says drained while a task is ${last} (desired ${desired}), whatever the counters say`, () => {
      const v = assessInstance({
        ...base,
        containerInstance: ci(0),
        tasks: [task("t", last, desired)],
      });
      assert.equal(v.kind, "wait");
    });
  }

  it("says drained when every listed task is STOPPED and the counters are 0", () => {
    const v = assessInstance({
      ...base,
      containerInstance: ci(0),
      tasks: [task("t", "STOPPED", "STOPPED")],
    });
    assert.equal(v.kind, "drained");
  });

  it("never says drained without a full listing, or the complete known tasks, in this poll", () => {
    for (const listing of ["none", "running"] as const) {
      assert.equal(
        assessInstance({ ...base, listing, containerInstance: ci(0), tasks: [] }).kind,
        "wait",
      );
    }
    const stopped = [task("t", "STOPPED", "STOPPED")];
    assert.equal(
      assessInstance({ ...base, listing: "known", containerInstance: ci(0), tasks: stopped }).kind,
      "wait",
      "known tasks that may be incomplete prove nothing",
    );
    assert.equal(
      assessInstance({
        ...base,
        listing: "known",
        knownComplete: true,
        containerInstance: ci(0),
        tasks: stopped,
      }).kind,
      "drained",
    );
  });

  it("says drained for a container instance that left the cluster", () => {
    assert.equal(
      assessInstance({ ...base, containerInstance: ci(3, 0, "INACTIVE"), tasks: [] }).kind,
      "drained",
    );
  });

  it("leaves its own task out, counters included", () => {
    const v = assessInstance({
      ...base,
      ownTaskArn: "own",
      containerInstance: ci(1),
      tasks: [task("own", "RUNNING", "RUNNING", "family:drainer")],
    });
    assert.equal(v.kind, "drained");
  });

  it("asks to stop standalone tasks only when they alone remain, and only when told to", () => {
    const tasks = [
      task("job", "RUNNING", "RUNNING", "family:job"),
      task("web", "RUNNING", "RUNNING"),
    ];
    assert.equal(
      assessInstance({ ...base, stopStandaloneTasks: true, containerInstance: ci(2), tasks }).kind,
      "wait",
    );
    const alone = [tasks[0], task("job2", "STOPPING", "STOPPED", "family:job")];
    const v = assessInstance({
      ...base,
      stopStandaloneTasks: true,
      containerInstance: ci(1),
      tasks: alone,
    });
    assert.equal(v.kind, "stop-standalone");
    assert.deepEqual(v.kind === "stop-standalone" && v.stop.map((t) => t.arn), ["job"]);
    assert.equal(assessInstance({ ...base, containerInstance: ci(1), tasks: alone }).kind, "wait");
  });
});

describe("knownTasksComplete", () => {
  it("holds when a listing of a DRAINING instance counts what ECS's counters count", () => {
    const tasks = [
      task("a", "RUNNING", "RUNNING"),
      task("b", "PENDING", "RUNNING"),
      task("c", "STOPPING", "STOPPED"),
    ];
    assert.equal(knownTasksComplete(ci(1, 1), tasks), true);
    assert.equal(
      knownTasksComplete(ci(2, 1), tasks),
      false,
      "ECS counts a task the listing missed",
    );
    assert.equal(
      knownTasksComplete(ci(1, 1, "ACTIVE"), tasks),
      false,
      "an ACTIVE instance may still get tasks",
    );
  });
});

describe("needsListing", () => {
  const base = {
    first: false,
    atDeadline: false,
    counts: [3, 0] as const,
    countsAtListing: [3, 0] as const,
    pollsSinceListing: 1,
    ownTaskMayBeHere: false,
    peer: false,
    knownComplete: true,
    stopStandaloneTasks: false,
  };
  it("lists nothing while ECS's counters show tasks and have not changed", () => {
    assert.equal(needsListing(base), "none");
    assert.equal(needsListing({ ...base, pollsSinceListing: 10 }), "none");
  });
  it("lists in full until its tasks are known, then RUNNING tasks on changes at most every few polls", () => {
    assert.equal(needsListing({ ...base, first: true, knownComplete: false }), "full");
    assert.equal(needsListing({ ...base, knownComplete: false }), "full");
    assert.equal(needsListing({ ...base, counts: [2, 0], pollsSinceListing: 1 }), "none");
    assert.equal(
      needsListing({ ...base, counts: [2, 0], pollsSinceListing: LISTING_EVERY_POLLS }),
      "running",
    );
  });
  it("when the instance may be empty, describes its known tasks if complete, else lists in full", () => {
    assert.equal(needsListing({ ...base, counts: [0, 0] }), "known");
    assert.equal(needsListing({ ...base, counts: [0, 0], knownComplete: false }), "stopped");
    assert.equal(
      needsListing({ ...base, counts: [1, 0], ownTaskMayBeHere: true, knownComplete: false }),
      "full",
      "its own task may be the one ECS counts: list RUNNING tasks too",
    );
    assert.equal(needsListing({ ...base, counts: [1, 0] }), "none");
    assert.equal(needsListing({ ...base, counts: [1, 0], ownTaskMayBeHere: true }), "known");
  });
  it("lists in full at the deadline, to log exactly what blocks", () => {
    assert.equal(needsListing({ ...base, atDeadline: true }), "full");
  });
  it("for a peer's instance, lists only to learn its tasks and to prove it empty", () => {
    assert.equal(needsListing({ ...base, peer: true, first: true }), "none");
    assert.equal(
      needsListing({ ...base, peer: true, counts: [1, 0], pollsSinceListing: 9 }),
      "none",
    );
    assert.equal(needsListing({ ...base, peer: true, knownComplete: false }), "full");
    assert.equal(needsListing({ ...base, peer: true, counts: [0, 0] }), "known");
  });
  it("with STOP_STANDALONE_TASKS, lists a peer's RUNNING tasks again when its counters change, to stop what remains", () => {
    const peer = { ...base, peer: true, stopStandaloneTasks: true };
    assert.equal(needsListing({ ...peer, first: true }), "none");
    assert.equal(needsListing({ ...peer, counts: [1, 0], pollsSinceListing: 1 }), "none");
    assert.equal(
      needsListing({ ...peer, counts: [1, 0], pollsSinceListing: LISTING_EVERY_POLLS }),
      "running",
    );
    assert.equal(needsListing({ ...peer, pollsSinceListing: 9 }), "none", "counters unchanged");
  });
});

describe("leading a group", () => {
  it("the smallest waiting instance ID leads", () => {
    assert.equal(leadsGroup("i-0a", ["i-0b", "i-0c"]), true);
    assert.equal(leadsGroup("i-0b", ["i-0a", "i-0c"]), false);
    assert.equal(leadsGroup("i-0a", []), true);
  });
  it("followers look at ECS so that at most FOLLOWERS_PER_POLL of them do in one poll interval", () => {
    assert.equal(followerPollEvery(1), 1);
    assert.equal(followerPollEvery(FOLLOWERS_PER_POLL), 1);
    assert.equal(followerPollEvery(500), 500 / FOLLOWERS_PER_POLL);
  });
});

describe("planHook", () => {
  const plan = (hooks: ReturnType<typeof hook>[], heartbeat?: number, drain = 3600) =>
    planHook({
      hookName: "h",
      hooks,
      heartbeatIntervalSeconds: heartbeat,
      drainTimeoutSeconds: drain,
    });

  it("heartbeats at half the hook's HeartbeatTimeout by default", () => {
    assert.equal(plan([hook(900)]).heartbeatIntervalSeconds, 450);
    assert.deepEqual(plan([hook(900)]).warnings, []);
  });

  it("keeps a configured heartbeat interval shorter than the timeout, and corrects one that is not", () => {
    assert.equal(plan([hook(900)], 60).heartbeatIntervalSeconds, 60);
    const p = plan([hook(60)], 90);
    assert.equal(p.heartbeatIntervalSeconds, 30);
    assert.match(p.warnings[0], /HEARTBEAT_INTERVAL_SECONDS \(90\) is not shorter/);
  });

  it("keeps the deadline inside min(48 h, 100 x HeartbeatTimeout), less one timeout", () => {
    assert.equal(plan([hook(30)], undefined, 3600).deadlineSeconds, 2970);
    assert.equal(plan([hook(7200)], undefined, 172800).deadlineSeconds, 172800 - 7200);
    assert.equal(
      plan([hook(30, 1000)], undefined, 3600).deadlineSeconds,
      970,
      "AWS's own GlobalTimeout wins",
    );
    assert.equal(plan([hook(900)], undefined, 3600).deadlineSeconds, 3600);
  });

  it("warns when ECS managed draining's hook is there too, or when its own hook is missing", () => {
    const p = plan([hook(900), { ...hook(3600), name: "ecs-managed-draining-termination-hook" }]);
    assert.match(p.warnings.join(), /ecs-managed-draining-termination-hook .* two drainers/);
    const missing = plan([]);
    assert.equal(missing.heartbeatIntervalSeconds, 15);
    assert.match(missing.warnings.join(), /was not found/);
  });
});

describe("eventPrecheck", () => {
  it("proceeds only for an instance the hook holds", () => {
    assert.equal(eventPrecheck("Terminating:Wait"), "proceed");
    assert.equal(eventPrecheck("Terminating"), "proceed");
    assert.equal(eventPrecheck("Terminating:Proceed"), "already-complete");
    assert.equal(eventPrecheck("Terminated"), "already-complete");
    assert.equal(eventPrecheck(undefined), "already-complete");
    assert.equal(eventPrecheck("InService"), "not-terminating");
  });
});

import { strict as assert } from "node:assert";
import { planHook } from "../../drainer/src/hook";
import { drainerTask, leaderOf, servesGroups } from "../../drainer/src/drain/roles";
import type { DrainerTask } from "../../drainer/src/drain/state";

const hook = (heartbeatTimeout: number, globalTimeout = 0) => ({
  name: "h",
  transition: "autoscaling:EC2_INSTANCE_TERMINATING",
  heartbeatTimeout,
  globalTimeout,
  defaultResult: "CONTINUE",
});

const REV1 = "arn:aws:ecs:us-west-2:123456789012:task-definition/ecs-scale-in-drainer:1";
const REV2 = "arn:aws:ecs:us-west-2:123456789012:task-definition/ecs-scale-in-drainer:2";
const task = (arn: string, since: number, over: Partial<DrainerTask> = {}): DrainerTask => ({
  arn,
  taskDefinitionArn: REV1,
  live: true,
  stopped: false,
  since,
  instanceId: undefined,
  ran: true,
  ...over,
});

describe("leadership: the oldest live drainer of the revision leads", () => {
  it("the oldest RUNNING task of the same revision leads, whichever instance it was started for", () => {
    const tasks = [task("t-self", 300), task("t-old", 100), task("t-mid", 200)];
    assert.equal(leaderOf(tasks, "t-self")?.arn, "t-old");
    assert.equal(leaderOf(tasks, "t-old")?.arn, "t-old");
  });
  it("a task that is stopping, stopped or still starting does not lead", () => {
    const tasks = [
      task("t-self", 300),
      task("t-stopping", 50, { live: false }),
      task("t-stopped", 60, { live: false, stopped: true }),
    ];
    assert.equal(leaderOf(tasks, "t-self")?.arn, "t-self");
  });
  it("another revision's drainer does not lead this one's groups (an upgrade runs both for a while)", () => {
    const tasks = [task("t-self", 300, { taskDefinitionArn: REV2 }), task("t-old", 100)];
    assert.equal(leaderOf(tasks, "t-self")?.arn, "t-self");
  });
  it("a drainer leaves only to a leader that serves its group: its event's group, or the deployment's groups", () => {
    const other = task("t-old", 100, { eventGroup: "asg-b" });
    const self = task("t-self", 300, { eventGroup: "asg-a" });
    // The task definition names no groups: each drainer serves its event's group only.
    const servesA = (t: DrainerTask) => servesGroups(t, ["asg-a"], undefined);
    assert.equal(leaderOf([other, self], "t-self", servesA)?.arn, "t-self");
    // The task definition names both groups: the older drainer serves asg-a too.
    const deployment = (t: DrainerTask) => servesGroups(t, ["asg-a"], ["asg-a", "asg-b"]);
    assert.equal(leaderOf([other, self], "t-self", deployment)?.arn, "t-old");
    // Its own overrides say otherwise.
    const narrowed = task("t-old", 100, { eventGroup: "asg-b", groupsOverride: ["asg-b"] });
    assert.equal(leaderOf([narrowed, self], "t-self", deployment)?.arn, "t-self");
    // Negative control: judged by revision alone, the other group's drainer would lead, and asg-a's actions would
    // be left to a drainer that never looks at asg-a.
    assert.equal(leaderOf([other, self], "t-self")?.arn, "t-old");
  });
  it("ties are broken by ARN, so two drainers started together agree", () => {
    const tasks = [task("t-b", 100), task("t-a", 100)];
    assert.equal(leaderOf(tasks, "t-b")?.arn, "t-a");
    assert.equal(leaderOf(tasks, "t-a")?.arn, "t-a");
  });
  it("negative control: comparing by creation instead of start would let a late-started peer lead", () => {
    // t-late was created first but started last (a slow launch); t-self started first and has led since.
    const late = drainerTask({
      arn: "t-late",
      containerInstanceArn: undefined,
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      group: "family:ecs-scale-in-drainer",
      startedBy: undefined,
      createdAt: 0,
      startedAt: 500,
      taskDefinitionArn: REV1,
    });
    const self = task("t-self", 100);
    assert.equal(leaderOf([late, self], "t-self")?.arn, "t-self");
    // The broken variant: `since` from createdAt picks the task that was created first, not the one that leads.
    const byCreation = leaderOf([{ ...late, since: 0 }, self], "t-self");
    assert.equal(byCreation?.arn, "t-late");
  });
  it("a drainer task that failed to start never ran; one that reached RUNNING did", () => {
    const base = {
      arn: "t",
      containerInstanceArn: undefined,
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      group: "family:f",
      startedBy: undefined,
      overrides: { EC2_INSTANCE_ID: "i-1" },
    };
    assert.equal(drainerTask({ ...base, stopCode: "TaskFailedToStart" }).ran, false);
    assert.equal(
      drainerTask({ ...base, startedAt: 5, stopCode: "EssentialContainerExited" }).ran,
      true,
    );
    assert.equal(drainerTask({ ...base, startedAt: 5 }).instanceId, "i-1");
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

  it("warns when a request could outlast a heartbeat interval", () => {
    const p = planHook({
      hookName: "h",
      hooks: [hook(30)],
      heartbeatIntervalSeconds: undefined,
      drainTimeoutSeconds: 60,
      requestTimeoutSeconds: 20,
    });
    assert.match(
      p.warnings.join(),
      /REQUEST_TIMEOUT_SECONDS \(20\) is not shorter than the heartbeat interval \(15 s\)/,
    );
    assert.deepEqual(plan([hook(30)], undefined, 60).warnings, []);
  });

  it("warns when ECS managed draining's hook is there too, or when its own hook is missing", () => {
    const p = plan([hook(900), { ...hook(3600), name: "ecs-managed-draining-termination-hook" }]);
    assert.match(p.warnings.join(), /ecs-managed-draining-termination-hook .* two drainers/);
    const missing = plan([]);
    assert.equal(missing.heartbeatIntervalSeconds, 15);
    assert.match(missing.warnings.join(), /was not found/);
  });
});

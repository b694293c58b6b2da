// Who leads (drainer/src/drain/roles.ts): the pure rules, leaderOf, servesGroups and drainerTask.
import { strict as assert } from "node:assert";
import {
  drainerTask,
  leaderOf,
  registryLookDue,
  servesGroups,
} from "../../../drainer/src/drain/roles";
import type { DrainerTask, Run } from "../../../drainer/src/drain/state";

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

describe("the schedule of a drainer that does not lead (registryLookDue)", () => {
  const run = (role: string, spreadPolls = 1, ownTaskArn: string | undefined = "t-self") =>
    ({ role, spreadPolls, ctx: { ownTaskArn } }) as unknown as Run;

  it("a follower looks again at every poll after its first, which only sets its instance DRAINING", () => {
    assert.deepEqual(
      [0, 1, 2].map((p) => registryLookDue(run("follower"), p)),
      [false, true, true],
    );
  });

  it("a drainer alone looks again at the spread's pace, and only when it is an ECS task", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((p) => registryLookDue(run("alone", 3), p)),
      [false, false, false, true, false, false, true],
    );
    assert.equal(registryLookDue(run("alone", 1, ""), 3), false);
  });

  it("a leader's looks are its keeper's, not the loop's", () => {
    assert.ok([0, 1, 2, 3].every((p) => !registryLookDue(run("leader"), p)));
  });
});

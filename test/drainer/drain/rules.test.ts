// One test (or a few) named after each safety rule of drainer/src/drain/rules.ts. The property tests
// (properties.test.ts) try to break them over random worlds; these show each rule on one world chosen for it.
import { strict as assert } from "node:assert";
import { once } from "node:events";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { AwsPort, ContainerInstanceView, TaskView } from "../../../drainer/src/aws";
import { proveDrained, isPermanent, terminatePath } from "../../../drainer/src/drain/rules";
import { createSdkPort } from "../../../drainer/src/run";
import { CLUSTER as MODEL_CLUSTER, Model } from "../../doubles/model";
import { virtualClock } from "../../doubles/clock";
import { awsError, running, stopped, stopping } from "../../doubles/scripted";
import { FAST, eventVars, harness } from "../harness";
import { drain } from "../../../drainer/src/drain";
import { parseConfig } from "../../../drainer/src/config";
import { createLogger } from "../../../drainer/src/log";

const S = 1000;

const view = (status: string, running = 0, pending = 0, arn = "ci-1"): ContainerInstanceView => ({
  arn,
  ec2InstanceId: "i-1",
  status,
  runningTasksCount: running,
  pendingTasksCount: pending,
});
const task = (arn: string, lastStatus: string, desiredStatus = "STOPPED"): TaskView => ({
  arn,
  containerInstanceArn: "ci-1",
  lastStatus,
  desiredStatus,
  group: "service:web",
  startedBy: undefined,
});

/** A drain against the adversarial model (test/doubles/model.ts), on the virtual clock. */
async function modelDrain(
  build: (m: Model) => void,
  vars: Record<string, string>,
  breakPort?: (p: AwsPort) => AwsPort,
) {
  const clock = virtualClock();
  const model = new Model(
    {
      lagMs: 0,
      reactMs: 1 * S,
      heartbeatTimeoutMs: 60 * S,
      latencyMs: () => 50,
      hangMs: 12 * S,
      faults: [],
    },
    clock.now,
    clock.sleep,
  );
  build(model);
  model.advance(0);
  const lines: Record<string, any>[] = [];
  const config = parseConfig({
    ECS_CLUSTER: MODEL_CLUSTER,
    LIFECYCLE_HOOK_NAME: "drain-hook",
    POLL_INTERVAL_SECONDS: "10",
    ...vars,
  });
  const outcomes = await drain({
    port: breakPort ? breakPort(model) : model,
    config,
    log: createLogger((l) => lines.push(JSON.parse(l))),
    signal: new AbortController().signal,
    now: clock.now,
    sleep: clock.sleep,
  });
  model.advance(clock.now());
  return { model, outcomes, lines, clock };
}

describe("rule 1, completion: drained only on a fresh full listing of every registration, in a poll begun after DRAINING was seen", () => {
  const poll = (registrations: Parameters<typeof proveDrained>[0]["registrations"]) =>
    proveDrained({ pollStartedAt: 100, registrations, ownTaskArn: "own" });

  it("proves drained: DRAINING seen before the poll, counters 0, nothing listed but STOPPED tasks and its own", () => {
    assert.deepEqual(
      poll([
        {
          view: view("DRAINING", 1),
          drainingSeenAt: 50,
          listed: [task("a", "STOPPED"), task("own", "RUNNING", "RUNNING")],
        },
      ]),
      { drained: true },
    );
  });

  it("never from a poll that began before this drainer saw DRAINING (counters read before the DRAINING call took effect)", () => {
    const p = poll([{ view: view("DRAINING"), drainingSeenAt: 100, listed: [] }]);
    assert.equal(p.drained, false);
    assert.equal(
      poll([{ view: view("DRAINING"), drainingSeenAt: undefined, listed: [] }]).drained,
      false,
    );
  });

  it("never while ECS counts a task, a listing shows one not STOPPED, or there was no fresh listing", () => {
    assert.equal(
      poll([{ view: view("DRAINING", 1), drainingSeenAt: 5, listed: [] }]).drained,
      false,
    );
    assert.equal(
      poll([{ view: view("DRAINING", 0, 1), drainingSeenAt: 5, listed: [] }]).drained,
      false,
    );
    const stopping = poll([
      { view: view("DRAINING"), drainingSeenAt: 5, listed: [task("web", "DEACTIVATING")] },
    ]);
    assert.equal(stopping.drained, false);
    assert.deepEqual(stopping.drained ? [] : stopping.blocking.map((t) => t.arn), ["web"]);
    assert.equal(
      poll([{ view: view("DRAINING"), drainingSeenAt: 5, listed: undefined }]).drained,
      false,
    );
    assert.equal(poll([{ view: view("ACTIVE"), drainingSeenAt: 5, listed: [] }]).drained, false);
  });

  it("holds for every registration of the EC2 instance; one that left the cluster counts for nothing", () => {
    const second = { view: view("ACTIVE", 1, 0, "ci-2"), drainingSeenAt: undefined, listed: [] };
    const first = { view: view("DRAINING"), drainingSeenAt: 5, listed: [] as TaskView[] };
    assert.equal(poll([first, second]).drained, false);
    assert.equal(poll([first, { ...second, view: view("INACTIVE", 0, 0, "ci-2") }]).drained, true);
  });

  it("drains a stale second registration too, and completes only when its task has stopped", async () => {
    const { model, outcomes } = await modelDrain(
      (m) => {
        m.hold("i-00000000000000f1", "asg-a", 0);
        m.register("i-00000000000000f1");
        const stale = m.register("i-00000000000000f1");
        m.place(stale, 0, { service: false, pendingMs: 0, shutdownMs: 5 * S, endsAfterMs: 95 * S });
      },
      { EC2_INSTANCE_ID: "i-00000000000000f1", AUTOSCALING_GROUP_NAME: "asg-a" },
    );
    const action = model.actions.get("i-00000000000000f1")!;
    assert.equal(outcomes[0].result, "completed");
    assert.ok(
      action.endedAt! >= 100 * S,
      `completed at ${action.endedAt} ms, after the task stopped`,
    );
    assert.deepEqual(action.killed, []);
    assert.ok([...model.registrations.values()].every((r) => r.status === "DRAINING"));
  });

  it("never completes from its known tasks: a task placed in an ACTIVE window someone opened between two polls is found", async () => {
    const { model } = await modelDrain(
      (m) => {
        m.hold("i-00000000000000f2", "asg-a", 0);
        const reg = m.register("i-00000000000000f2");
        // Stops from 1 s to 61 s: meanwhile the drainer knows it, and describes it again each poll.
        m.place(reg, 0, { service: true, pendingMs: 0, shutdownMs: 60 * S });
        // Between the polls at 40 and 50 s: ACTIVE at 41 s, a task lands at 42 s, DRAINING again at 43 s; the task
        // is told to stop at 44 s and takes 40 s to shut down.
        m.activeWindow(reg, 41 * S, 43 * S, 42 * S, 40 * S);
      },
      { EC2_INSTANCE_ID: "i-00000000000000f2", AUTOSCALING_GROUP_NAME: "asg-a" },
    );
    const action = model.actions.get("i-00000000000000f2")!;
    assert.deepEqual(action.killed, [], "nothing was running when the action completed");
    assert.ok(action.endedAt! >= 84 * S, "it waited for the task from the window to stop");
  });
});

describe("rule 1 and what ECS does: a task DescribeTasks cannot describe yet (MISSING)", () => {
  const id = "i-00000000000000f9";
  function world() {
    const h = harness();
    h.world
      .addInstance(id, "asg-a")
      // Shutting down from 5 s to 60 s: ECS's counters no longer count it, ListTasks (STOPPED) lists it.
      .addTask("slow", id, "service:web", running(), stopping(5), stopped(60));
    const arn = h.world.tasks[0].arn;
    // DescribeTasks answers it in failures (MISSING) until 45 s.
    h.world.missingUntil.set(arn, 45);
    return { h, arn };
  }

  it("blocks completion like any task that is not STOPPED, and is read again next poll", async () => {
    const { h } = world();
    const [out] = await h.run({ ...eventVars(id), ...FAST });
    assert.equal(out.result, "completed");
    assert.deepEqual(h.world.killed(id), []);
    assert.ok(h.world.completions[0].at >= 60, `completed at ${h.world.completions[0].at} s`);
    const describes = h.world.calls
      .filter((c) => c.name === "DescribeTasksCommand")
      .map((c) => c.at);
    assert.ok(describes.filter((t) => t < 45).length >= 2, "described again while MISSING");
  });

  it("negative control: a drainer that does not see the undescribed task completes with it still stopping", async () => {
    const { h, arn } = world();
    const port = Object.create(h.world.port) as AwsPort;
    port.listTasks = async (c, ci, status) =>
      (await h.world.port.listTasks(c, ci, status)).filter((a) => a !== arn);
    const [out] = await h.run({ ...eventVars(id), ...FAST }, { port });
    assert.equal(out.result, "completed");
    assert.deepEqual(h.world.killed(id).length, 1);
  });
});

describe("rule 1 and what ECS does: a listing of many pages can miss an instance that is there", () => {
  const id = "i-00000000000000fa";
  function world() {
    const h = harness();
    h.world.addInstance(id, "asg-a").addTask("web", id, "service:web", running(), stopped(60));
    // The cluster-wide listing (pages read seconds apart while instances leave the cluster) skipped it.
    const port = Object.create(h.world.port) as AwsPort;
    port.listContainerInstances = async () => [];
    return { h, port };
  }

  it("an instance the cluster's listing did not show is looked for on its own before it counts as not in the cluster", async () => {
    const { h, port } = world();
    const [out] = await h.run({ ...eventVars(id), ...FAST }, { port, bulkAbove: 0 });
    assert.equal(out.result, "completed");
    assert.deepEqual(h.world.killed(id), []);
    assert.equal(h.world.instances.get(id)!.ecsStatus, "DRAINING");
  });

  it("negative control: a drainer that trusts the listing's absence completes the instance with its task running", async () => {
    const { h, port } = world();
    port.findContainerInstances = async () => [];
    port.findContainerInstancesIn = async () => [];
    const [out] = await h.run({ ...eventVars(id), ...FAST }, { port, bulkAbove: 0 });
    assert.equal(out.result, "not-in-cluster");
    assert.equal(h.world.killed(id).length, 1);
  });
});

describe("a read budget smaller than one listing slows the listing, never skips it", () => {
  it("with POLL_INTERVAL_SECONDS=0.2 at 15 reads a second, blockers are still learnt and STOP_STANDALONE_TASKS acts", async () => {
    const h = harness();
    const id = "i-0000000000000013";
    h.world
      .addInstance(id, "asg-a")
      .addTask("web-1", id, "service:web", running(), stopped(5))
      .addTask("job-1", id, "family:batch", running());
    const [out] = await h.run({
      ...eventVars(id),
      POLL_INTERVAL_SECONDS: "0.2",
      ECS_READS_PER_SECOND: "15",
      STOP_STANDALONE_TASKS: "true",
      DRAIN_TIMEOUT_SECONDS: "600",
    });
    // The regime under test: one listing (two ListTasks and a DescribeTasks) is more than a poll's budget left.
    assert.ok(Math.floor(15 * 0.2) - 2 < 3);
    assert.equal(out.result, "completed", JSON.stringify(out));
    assert.deepEqual(
      h.world.stopped.map((s) => s.arn.split("/").pop()),
      ["job-1"],
    );
    assert.ok(
      h.lines.some((l) => l.action === "wait" && l.blockers?.total > 0),
      "blockers learnt",
    );
    assert.deepEqual(h.world.killed(id), []);
  });
});

describe("rule 2, heartbeats: at once, then every interval, each on its own", () => {
  it("heartbeats an old action as soon as it starts, before it locates anything", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000041", "asg-a");
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 30 }]);
    await h.run({ ...eventVars("i-0000000000000041"), ...FAST });
    const first = h.world.calls.findIndex(
      (c) => c.name === "RecordLifecycleActionHeartbeatCommand",
    );
    const locate = h.world.calls.findIndex((c) => c.name === "ListContainerInstancesCommand");
    assert.equal(h.world.calls[first].at, 0);
    assert.ok(first < locate, "the heartbeat went before the instance was located");
  });

  it("a heartbeat that never answers does not hold the next one", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000042", "asg-a")
      .addTask("web", "i-0000000000000042", "service:web", running(), stopped(100));
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 30 }]);
    let calls = 0;
    const port = Object.create(h.world.port) as AwsPort;
    port.recordHeartbeat = (ref) =>
      ++calls === 2 ? new Promise(() => undefined) : h.world.port.recordHeartbeat(ref);
    const [out] = await h.run({ ...eventVars("i-0000000000000042"), ...FAST }, { port });
    assert.equal(out.result, "completed");
    const beats = h.world.heartbeats.map((b) => b.at);
    assert.deepEqual(
      beats.slice(0, 3),
      [0, 30, 45],
      "the second (at 15 s) hung; the third went on time",
    );
  });

  it("retries a failed heartbeat soon, and stops only on 'No active Lifecycle Action'", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000043", "asg-a")
      .addTask("web", "i-0000000000000043", "service:web", running());
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 60 }]);
    h.world.failures.set("RecordLifecycleActionHeartbeatCommand", [
      undefined as unknown as Error,
      awsError("ServiceUnavailable", "try later", 503),
      undefined as unknown as Error,
      awsError(
        "ValidationError",
        "No active Lifecycle Action found with instance ID i-0000000000000043",
      ),
    ]);
    const [out] = await h.run({ ...eventVars("i-0000000000000043"), ...FAST });
    assert.equal(out.result, "already-complete");
    assert.deepEqual(
      h.world.calls
        .filter((c) => c.name === "RecordLifecycleActionHeartbeatCommand")
        .map((c) => c.at),
      [0, 15, 25, 55],
      "at once; at 15 s (before the hook was read) it failed and was retried at the keeper's next look, within a poll interval; then every 30 s",
    );
  });
});

describe("rule 3, deadline: enforced on its own timer, even while a request hangs", () => {
  it("completes with TIMEOUT_RESULT at the deadline although every ECS read from 20 s on never answers", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000051", "asg-a")
      .addTask("web", "i-0000000000000051", "service:web", running());
    const port = Object.create(h.world.port) as AwsPort;
    port.describeContainerInstances = (c, arns) =>
      h.clock.now() >= 20_000
        ? new Promise(() => undefined)
        : h.world.port.describeContainerInstances(c, arns);
    const [out] = await h.run(
      {
        ...eventVars("i-0000000000000051"),
        ...FAST,
        DRAIN_TIMEOUT_SECONDS: "60",
        TIMEOUT_RESULT: "ABANDON",
      },
      { port },
    );
    assert.equal(out.result, "timed-out");
    assert.deepEqual(
      h.world.completions.map((c) => [c.result, c.at]),
      [["ABANDON", 60]],
    );
    const timeout = h.lines.find((l) => l.action === "timeout");
    assert.equal(timeout?.blockers.total, 1, "it logs what blocked at the last look");
  });

  it("waits, and does not spin, while its completion at the deadline is in flight", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000054", "asg-a")
      .addTask("web", "i-0000000000000054", "service:web", running());
    const port = Object.create(h.world.port) as AwsPort;
    // The completion takes 30 s to answer (a slow Auto Scaling, retries).
    port.completeLifecycleAction = async (ref, result) => {
      await h.clock.sleep(30_000, new AbortController().signal);
      return h.world.port.completeLifecycleAction(ref, result);
    };
    let immediate = 0;
    const [out] = await h.run(
      { ...eventVars("i-0000000000000054"), ...FAST, DRAIN_TIMEOUT_SECONDS: "60" },
      {
        port,
        sleep: (ms, signal) => {
          if (ms <= 0) immediate++;
          // A keeper that spins never lets the clock reach 90 s: give up on it rather than hang the suite.
          if (immediate > 1000) return Promise.reject(new Error("a keeper is spinning"));
          return h.clock.sleep(ms, signal);
        },
      },
    );
    assert.equal(out.result, "timed-out");
    assert.deepEqual(
      h.world.completions.map((c) => c.at),
      [90],
    );
    assert.ok(immediate < 10, `${immediate} sleeps of 0 ms`);
  });

  it("a follower enforces its own deadline while its instance still has tasks counted", async () => {
    const h = harness();
    for (const id of ["i-0000000000000052", "i-0000000000000053"]) {
      h.world.addInstance(id, "asg-a").addTask(`web-${id}`, id, "service:web", running());
    }
    const [out] = await h.run(
      { ...eventVars("i-0000000000000053"), ...FAST, DRAIN_TIMEOUT_SECONDS: "90" },
      { random: () => 0 },
    );
    assert.equal(out.result, "timed-out");
    assert.deepEqual(
      h.world.completions.map((c) => [c.instanceId, c.at]),
      [["i-0000000000000053", 90]],
    );
  });
});

describe("rule 4, persistence: no AWS failure gives an instance up before its deadline; only a permanent one ends a run", () => {
  it("keeps heartbeating and trying through five minutes of ECS errors, then drains", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000061", "asg-a");
    h.world.hooks.set("asg-a", [{ name: "drain-hook", heartbeatTimeout: 30 }]);
    const port = Object.create(h.world.port) as AwsPort;
    port.describeContainerInstances = async (c, arns) => {
      if (h.clock.now() < 300_000) throw awsError("ServerException", "internal", 500);
      return h.world.port.describeContainerInstances(c, arns);
    };
    const [out] = await h.run({ ...eventVars("i-0000000000000061"), ...FAST }, { port });
    assert.equal(out.result, "completed");
    assert.ok(h.world.completions[0].at >= 300);
    const beats = h.world.heartbeats.map((b) => b.at);
    assert.ok(
      beats.slice(1).every((t, i) => t - beats[i] <= 15),
      `heartbeats: ${beats.join(", ")}`,
    );
  });

  it("ends the run on access denied, with exit-code outcome failed and the fix in the error", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000062", "asg-a");
    h.world.failures.set("ListContainerInstancesCommand", [
      awsError("AccessDeniedException", "not authorized to perform ecs:ListContainerInstances"),
    ]);
    const [out] = await h.run(eventVars("i-0000000000000062"));
    assert.equal(out.result, "failed");
    assert.match(out.error!, /AccessDeniedException.*check the task role's policy/);
  });

  it("tells permanent errors from transient ones", () => {
    assert.equal(isPermanent(awsError("AccessDeniedException", "no")), true);
    assert.equal(isPermanent(awsError("ClusterNotFoundException", "no")), true);
    assert.equal(
      isPermanent(awsError("ValidationError", "No Lifecycle Hook found for hook h")),
      true,
    );
    assert.equal(isPermanent(awsError("ServerException", "internal", 500)), false);
    assert.equal(isPermanent(awsError("ThrottlingException", "slow down")), false);
    assert.equal(isPermanent(awsError("InvalidParameterException", "transient?")), false);
    assert.equal(
      isPermanent(awsError("ValidationError", "No active Lifecycle Action found")),
      false,
    );
  });
});

describe("rule 5, bounded calls: every AWS request has a timeout, then the SDK retries", () => {
  it("a request that never answers fails after REQUEST_TIMEOUT_SECONDS and is sent again", async function () {
    this.timeout(20_000);
    let requests = 0;
    const server = createServer(() => {
      requests++; // never answers
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const aws = createSdkPort(
        { AWS_MAX_ATTEMPTS: "2", AWS_RETRY_MODE: "standard" },
        {
          endpoint: `http://127.0.0.1:${port}`,
          region: "us-west-2",
          credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "x" },
        },
        0.3,
      );
      const started = performance.now();
      await assert.rejects(
        aws.describeContainerInstances("prod", ["ci"]),
        /timed? ?out|TimeoutError|socket hang up/i,
      );
      const took = performance.now() - started;
      assert.equal(requests, 2, "one request, then the SDK's retry");
      assert.ok(took < 5_000, `gave up after ${Math.round(took)} ms`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("rule 6, every terminate path", () => {
  it("drains an instance held for a root-volume replacement (ReplacingRootVolume:Wait), and logs the event's fields", async () => {
    const h = harness();
    h.world
      .addInstance("i-0000000000000071", "asg-a", "ACTIVE", "ReplacingRootVolume:Wait")
      .addTask("web", "i-0000000000000071", "service:web", running(), stopped(15));
    const [out] = await h.run({
      ...eventVars("i-0000000000000071"),
      ...FAST,
      EVENT_ORIGIN: "AutoScalingGroup",
      EVENT_DESTINATION: "AutoScalingGroup",
      EVENT_ACTION: "ReplaceRootVolume",
    });
    assert.equal(out.result, "completed");
    assert.deepEqual(h.world.killed("i-0000000000000071"), []);
    const precheck = h.lines.find((l) => l.action === "precheck");
    assert.deepEqual(precheck?.event, {
      origin: "AutoScalingGroup",
      destination: "AutoScalingGroup",
      action: "ReplaceRootVolume",
    });
    assert.equal(precheck?.lifecycleState, "ReplacingRootVolume:Wait");
  });

  it("completes a warm-pool instance (Warmed:Terminating:Wait) at once when it is not registered, after draining when it is", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000072", "asg-w", null, "Warmed:Terminating:Wait");
    h.world
      .addInstance("i-0000000000000073", "asg-v", "ACTIVE", "Warmed:Terminating:Wait")
      .addTask("web", "i-0000000000000073", "service:web", running(), stopped(25));
    const [unregistered] = await h.run(eventVars("i-0000000000000072", "asg-w"));
    assert.equal(unregistered.result, "not-in-cluster");
    const [registered] = await h.run({ ...eventVars("i-0000000000000073", "asg-v"), ...FAST });
    assert.equal(registered.result, "completed");
    assert.deepEqual(h.world.killed("i-0000000000000073"), []);
  });

  it("the sweep picks up all three, warm-pool instances through DescribeWarmPool", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000074", "asg-a", "ACTIVE", "Terminating:Wait");
    h.world.addInstance("i-0000000000000075", "asg-a", "ACTIVE", "ReplacingRootVolume:Wait");
    h.world.addInstance("i-0000000000000076", "asg-a", "ACTIVE", "Warmed:Terminating:Wait");
    h.world.addInstance("i-0000000000000077", "asg-a", "ACTIVE", "InService");
    const outs = await h.run({ AUTOSCALING_GROUP_NAMES: "asg-a", ...FAST });
    assert.deepEqual(outs.map((o) => [o.instanceId, o.result]).sort(), [
      ["i-0000000000000074", "completed"],
      ["i-0000000000000075", "completed"],
      ["i-0000000000000076", "completed"],
    ]);
    assert.equal(h.world.instances.get("i-0000000000000077")!.ecsStatus, "ACTIVE");
  });

  it("knows which lifecycle states the hook holds", () => {
    for (const s of [
      "Terminating:Wait",
      "ReplacingRootVolume:Wait",
      "Warmed:Terminating:Wait",
      "Terminating",
    ]) {
      assert.equal(terminatePath(s), "drain", s);
    }
    for (const s of [
      "Terminating:Proceed",
      "Terminated",
      "Warmed:Terminated",
      "ReplacingRootVolume:Proceed",
      undefined,
    ]) {
      assert.equal(terminatePath(s), "over", String(s));
    }
    for (const s of ["InService", "Pending", "Warmed:Stopped"])
      assert.equal(terminatePath(s), "not-held", s);
  });
});

describe("rule 7, prompt start and no pile-up", () => {
  it("a follower sets its own instance DRAINING at its first look", async () => {
    const h = harness();
    for (const id of ["i-0000000000000081", "i-0000000000000082"]) h.world.addInstance(id, "asg-a");
    await h.run({ ...eventVars("i-0000000000000082"), ...FAST }, { random: () => 0 });
    const update = h.world.calls.find((c) => c.name === "UpdateContainerInstancesStateCommand");
    assert.equal(update?.at, 0);
  });

  it("a sweep that finds a live leader exits at once, and says why: it re-proves nothing a leader serves", async () => {
    const h = harness();
    h.world.addInstance("i-0000000000000083", "asg-a");
    const own = "arn:aws:ecs:us-west-2:123456789012:task/prod/sweep-2";
    const older = "arn:aws:ecs:us-west-2:123456789012:task/prod/sweep-1";
    const event = "arn:aws:ecs:us-west-2:123456789012:task/prod/event-0";
    const port = Object.create(h.world.port) as AwsPort;
    port.listFamilyTasks = async () => [event, older, own];
    port.describeTasks = async (_c, arns) =>
      arns.map((arn) => ({
        arn,
        containerInstanceArn: undefined,
        lastStatus: "RUNNING",
        desiredStatus: "RUNNING",
        group: "family:drainer",
        startedBy: "events-rule/x",
        taskDefinitionArn: "arn:aws:ecs:us-west-2:123456789012:task-definition/drainer:3",
        // The event's drainer is the oldest: it leads, sweep or not.
        startedAt: arn === event ? 0 : arn === older ? 1000 : 2000,
        overrides: (arn === event ? { EC2_INSTANCE_ID: "i-0000000000000099" } : {}) as Record<
          string,
          string
        >,
      }));
    const outs = await h.run(
      { AUTOSCALING_GROUP_NAMES: "asg-a" },
      { port, ownTaskArn: own, ownFamily: "drainer" },
    );
    assert.deepEqual(outs, []);
    assert.equal(h.world.count({ name: "DescribeAutoScalingGroupsCommand" }), 0);
    const line = h.lines.find((l) => /a live drainer leads these groups/.test(l.msg));
    assert.equal(line?.leaderTaskArn, event);
    // The leader itself (here, as a sweep) serves the group.
    const outsLeader = await h.run(
      { AUTOSCALING_GROUP_NAMES: "asg-a", ...FAST },
      { port, ownTaskArn: event, ownFamily: "drainer" },
    );
    assert.equal(outsLeader.length, 1);
  });
});

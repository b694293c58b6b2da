import { strict as assert } from "node:assert";
import { once } from "node:events";
import { createServer } from "node:http";
import { AddressInfo } from "node:net";
import { ExitCode, SETTINGS } from "../../drainer/src/contract";
import { createSdkPort, runDrainer, version } from "../../drainer/src/run";
import { CLUSTER, FakeWorld, HOOK, running, stopped, stopping } from "../doubles/scripted";

/** A world on the real clock, for runs through the command line. */
function realWorld() {
  const start = performance.now();
  return new FakeWorld(() => (performance.now() - start) / 1000);
}

async function cli(argv: string[], env: Record<string, string>, world: FakeWorld, extra = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDrainer(argv, env, {
    port: world.port,
    write: (l) => out.push(l),
    writeError: (l) => err.push(l),
    ...extra,
  });
  return { code, out, err, json: out.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)) };
}

const EVENT_ENV = {
  ECS_CLUSTER: CLUSTER,
  LIFECYCLE_HOOK_NAME: HOOK,
  EC2_INSTANCE_ID: "i-0000000000000101",
  AUTOSCALING_GROUP_NAME: "asg-a",
  POLL_INTERVAL_SECONDS: "0.01",
  // A poll of 0.01 s would allow no listing within 15 reads a second.
  ECS_READS_PER_SECOND: "10000",
};

describe("the command line", () => {
  it("exits 2 on bad configuration, naming the variable, and calls nothing", async () => {
    const world = realWorld();
    const r = await cli([], { ECS_CLUSTER: CLUSTER, EC2_INSTANCE_ID: "i-0000000000000101" }, world);
    assert.equal(r.code, ExitCode.InvalidConfig);
    assert.match(r.err.join("\n"), /LIFECYCLE_HOOK_NAME: is required/);
    assert.match(r.err.join("\n"), /AUTOSCALING_GROUP_NAME: is required/);
    assert.deepEqual(
      r.json[0].problems.map((p: { name: string }) => p.name),
      ["LIFECYCLE_HOOK_NAME", "AUTOSCALING_GROUP_NAME"],
    );
    assert.equal(world.ecsMock.calls().length + world.asMock.calls().length, 0);
  });

  it("exits 2 on an unknown flag or command, with the usage", async () => {
    const world = realWorld();
    for (const argv of [["--clusterr", "x"], ["evacuate"]]) {
      const r = await cli(argv, {}, world);
      assert.equal(r.code, ExitCode.InvalidConfig);
      assert.match(r.err.join("\n"), /Usage: drainer/);
    }
    assert.equal(world.ecsMock.calls().length, 0);
  });

  it("lets a flag override its variable", async () => {
    const world = realWorld();
    world.addInstance("i-0000000000000102", "asg-a");
    const r = await cli(
      ["drain", "--instance-id", "i-0000000000000102", "--dry-run"],
      EVENT_ENV,
      world,
    );
    assert.equal(r.code, ExitCode.Ok);
    assert.equal(r.json[0].instanceId, "i-0000000000000102");
    assert.equal(r.json[0].msg, "starting (DRY_RUN: no changes will be made)");
  });

  it("--help lists every setting with its flag and variable; --version prints the version", async () => {
    const world = realWorld();
    const help = await cli(["--help"], {}, world);
    assert.equal(help.code, 0);
    for (const s of SETTINGS) {
      assert.match(help.out[0], new RegExp(`--${s.flag}\\b.*${s.env}`), s.env);
    }
    const v = await cli(["--version"], {}, world);
    assert.deepEqual(v.out, [version()]);
    assert.match(version(), /^\d+\.\d+\.\d+/);
  });

  it("drains, exits 0 and ends with a summary line giving each instance's result", async () => {
    const world = realWorld();
    world
      .addInstance("i-0000000000000101", "asg-a")
      .addTask("web-1", "i-0000000000000101", "service:web", running(), stopped(0.05));
    const r = await cli([], EVENT_ENV, world);
    assert.equal(r.code, ExitCode.Ok);
    const summary = r.json[r.json.length - 1];
    assert.equal(summary.msg, "summary");
    assert.equal(summary.results.length, 1);
    assert.equal(summary.results[0].instanceId, "i-0000000000000101");
    assert.equal(summary.results[0].result, "completed");
    assert.equal(summary.results[0].tasksAtStart, 1);
    assert.ok(summary.results[0].drainSeconds > 0);
    assert.deepEqual(world.killed("i-0000000000000101"), []);
  });

  it("exits 1 when an AWS failure leaves the instance not completed", async () => {
    const world = realWorld();
    world.addInstance("i-0000000000000101", "asg-a");
    world.failures.set("ListContainerInstancesCommand", [
      Object.assign(new Error("denied"), {
        name: "AccessDeniedException",
        $metadata: { httpStatusCode: 400 },
      }),
    ]);
    const r = await cli([], EVENT_ENV, world);
    assert.equal(r.code, ExitCode.Failed);
    assert.equal(world.completions.length, 0);
  });

  it("exits 143 without completing when stopped mid-drain", async () => {
    const world = realWorld();
    world
      .addInstance("i-0000000000000101", "asg-a")
      .addTask("web-1", "i-0000000000000101", "service:web", running());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await cli([], EVENT_ENV, world, { signal: controller.signal });
    assert.equal(r.code, ExitCode.Interrupted);
    assert.equal(world.completions.length, 0);
    assert.equal(r.json[r.json.length - 1].results[0].result, "interrupted");
  });

  it("reads its own task from the task metadata endpoint and never waits for it", async () => {
    const world = realWorld();
    world
      .addInstance("i-0000000000000101", "asg-a")
      .addTask("self", "i-0000000000000101", "family:drainer", running());
    const own = world.tasks[0].arn;
    const fetched: string[] = [];
    const fakeFetch = (async (url: string) => {
      fetched.push(url);
      return new Response(
        JSON.stringify({
          TaskARN: own,
          Cluster: "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
        }),
      );
    }) as unknown as typeof fetch;
    const r = await cli(
      [],
      { ...EVENT_ENV, ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/abc" },
      world,
      { fetch: fakeFetch },
    );
    assert.equal(r.code, 0);
    assert.deepEqual(fetched, ["http://169.254.170.2/v4/abc/task"]);
    assert.equal(world.completions.length, 1);
    assert.ok(r.json.some((l) => l.ownTaskArn === own));
  });

  it("status prints each waiting instance, the services and groups that block it, and why", async () => {
    const world = realWorld();
    world.services.set("web", {
      schedulingStrategy: "REPLICA",
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 },
      events: [],
    });
    world
      .addInstance("i-0000000000000201", "asg-a", "DRAINING")
      .addInstance("i-0000000000000202", "asg-b", null)
      .addInstance("i-0000000000000203", "asg-a", "ACTIVE", "InService")
      .addTask("web-1", "i-0000000000000201", "service:web", running())
      .addTask("web-2", "i-0000000000000201", "service:web", stopping(0))
      .addTask("job-1", "i-0000000000000201", "family:nightly", running())
      .addTask("old", "i-0000000000000201", "service:web", stopped(0));
    // The fake world lists every task for a family; here no drainer runs.
    const noDrainer = { port: { ...world.port, listFamilyTasks: async () => [] } };
    const table = await cli(
      ["status", "--cluster", CLUSTER, "--asg", "asg-a,asg-b"],
      {},
      world,
      noDrainer,
    );
    assert.equal(table.code, 0, table.err.join("\n"));
    const lines = table.out.join("\n").split("\n");
    assert.match(
      lines[0],
      /^INSTANCE\s+GROUP\s+STATE\s+ECS STATUS\s+RUNNING\s+PENDING\s+STOPPING\s+HELD SINCE\s+DEADLINE\s+BLOCKED BY\s+WHY$/,
    );
    assert.match(
      lines[1],
      /^i-0000000000000201\s+asg-a\s+Terminating:Wait\s+DRAINING\s+2\s+0\s+1\s+2026-11-25T10:00:00\.\d{3}Z\s+2026-11-25T11:00:00\.\d{3}Z\s+family:nightly=1, service:web=2 \(1 standalone\); no drainer running\s+family:nightly standalone, service:web shutting-down, service:web cannot-progress$/,
    );
    assert.match(
      lines[2],
      /^i-0000000000000202\s+asg-b\s+Terminating:Wait\s+NOT_IN_CLUSTER\s+0\s+0\s+0\s+2026-11-25T10:00:00\.\d{3}Z\s+2026-11-25T11:00:00\.\d{3}Z\s+no drainer running\s+-$/,
    );
    assert.equal(lines[3], "");
    assert.match(
      table.out.join("\n"),
      /^Next:\n {2}i-0000000000000201: run the sweep: drainer drain --cluster prod --hook /m,
    );

    const json = await cli(
      ["status", "--cluster", CLUSTER, "--asg", "asg-a", "--json"],
      {},
      world,
      noDrainer,
    );
    const doc = JSON.parse(json.out.join("\n"));
    assert.deepEqual(doc.instances[0].blockers, {
      total: 3,
      groups: { "family:nightly": 1, "service:web": 2 },
      standalone: 1,
      stopping: 1,
    });
    assert.deepEqual(
      doc.instances[0].stuck.map((f: { reason: string }) => f.reason),
      ["standalone", "shutting-down", "cannot-progress"],
    );
    assert.equal(
      world.count({ name: "UpdateContainerInstancesStateCommand" }),
      0,
      "status changes nothing",
    );
  });

  it("status without a cluster or groups exits 2", async () => {
    const r = await cli(["status"], {}, realWorld());
    assert.equal(r.code, ExitCode.InvalidConfig);
    assert.match(r.err.join("\n"), /ECS_CLUSTER: is required: pass --cluster/);
    assert.match(r.err.join("\n"), /pass --asg NAME/);
  });
});

describe("the SDK port", () => {
  it("leaves retries of throttling and 5xx to the SDK: one call of the drainer, several requests on the wire", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const target = req.headers["x-amz-target"];
        if (target) {
          seen.push(String(target).split(".")[1]);
          if (seen.filter((s) => s === "DescribeContainerInstances").length <= 2) {
            res.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }));
            return;
          }
          res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
          res.end(JSON.stringify({ containerInstances: [], failures: [] }));
          return;
        }
        const action = new URLSearchParams(body).get("Action")!;
        seen.push(action);
        if (seen.filter((s) => s === action).length === 1) {
          res.writeHead(500, { "content-type": "text/xml" });
          res.end(
            `<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Receiver</Type><Code>ResourceContention</Code><Message>busy</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
          );
          return;
        }
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(
          `<RecordLifecycleActionHeartbeatResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><RecordLifecycleActionHeartbeatResult/><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></RecordLifecycleActionHeartbeatResponse>`,
        );
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const aws = createSdkPort(
        {},
        {
          endpoint: `http://127.0.0.1:${port}`,
          region: "us-west-2",
          credentials: { accessKeyId: "test", secretAccessKey: "test" },
        },
      );
      await aws.describeContainerInstances("prod", ["arn:ci"]);
      await aws.recordHeartbeat({ asg: "a", hook: "h", instanceId: "i-1" });
      assert.deepEqual(seen, [
        "DescribeContainerInstances",
        "DescribeContainerInstances",
        "DescribeContainerInstances",
        "RecordLifecycleActionHeartbeat",
        "RecordLifecycleActionHeartbeat",
      ]);
    } finally {
      server.close();
    }
  });
});

/**
 * The component plugin, booted and driven the way the Pulumi engine does it, over Pulumi's own gRPC protocol.
 *
 * How the engine starts a source-based Node.js component plugin (pulumi/pulumi at 1b5949891b3c, the newest snapshot
 * read for this test):
 * - sdk/nodejs/cmd/pulumi-language-nodejs/main.go, `RunPlugin`: the language host resolves
 *   `@pulumi/pulumi/cmd/run-plugin` from the plugin's directory, and runs
 *   `node <that> <plugin directory> <engine address>` with the working directory set to `req.Pwd`: the *consumer's*
 *   project directory.
 * - sdk/nodejs/cmd/run-plugin/run.ts: registers ts-node with the tsconfig.json of that working directory (type
 *   checking on), then `require`s the plugin directory, which loads package.json's `main`. Exported components are
 *   hosted by `componentProviderHost`; an exported function is called.
 * - sdk/nodejs/provider/server.ts, `main`: the provider's gRPC server prints its port on stdout, which is how the
 *   engine finds it. Construct then connects to the resource monitor whose address the request carries.
 *
 * So this test runs the plugin from a consumer directory (with the tsconfig.json of Pulumi's TypeScript template,
 * pulumi/templates typescript/tsconfig.json at 65db26bfbdb2; with no tsconfig; and from a Python project), reads its
 * port, and speaks to it with the generated stubs that @pulumi/pulumi ships: GetPluginInfo, GetSchema and Construct,
 * against a fake engine and a fake resource monitor that record what the plugin sends. A negative control boots the
 * previous layout (`main` pointing at the TypeScript source) and sees it fail as the issue reported (TS5011).
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");
const SCHEMA_TEXT = readFileSync(join(REPO, "pulumi", "schema.json"), "utf8");
const PACKAGE = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));

// The stubs, gRPC and protobuf exactly as @pulumi/pulumi loads them (it carries its own google-protobuf).
const pulumiRequire = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc: typeof import("@grpc/grpc-js") = pulumiRequire("@grpc/grpc-js");
const provrpc = pulumiRequire("./proto/provider_grpc_pb");
const provproto = pulumiRequire("./proto/provider_pb");
const resrpc = pulumiRequire("./proto/resource_grpc_pb");
const resproto = pulumiRequire("./proto/resource_pb");
const enginerpc = pulumiRequire("./proto/engine_grpc_pb");
const engineproto = pulumiRequire("./proto/engine_pb");
const errorproto = pulumiRequire("./proto/errors_pb");
const emptyproto = pulumiRequire("google-protobuf/google/protobuf/empty_pb");
const structproto = pulumiRequire("google-protobuf/google/protobuf/struct_pb");
const statusproto = pulumiRequire("./proto/status_pb");

/**
 * A value not known yet, as the engine sends it to a provider whose Configure answered `acceptOutputs` (this one's
 * does): an output value without a value (sdk/nodejs/runtime/rpc.ts, `specialSigKey`, `specialOutputValueSig`).
 */
const UNKNOWN = { "4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4" };
/**
 * A known value that another resource's output (another stack's, say) carries, as the engine sends it to a provider
 * that accepts outputs: an output value with its value and its dependency.
 */
function outputValue(value: unknown): object {
  return {
    "4dabf18193072939515e22adb298388d": "d0e6a833031e9bbcd3f4e8bde6ca49a4",
    value,
    dependencies: ["urn:pulumi:dev::consumer::pulumi:pulumi:StackReference::shared"],
  };
}
/** The same, as older engines send it: the plain unknown sentinel (rpc.ts `unknownValue`). */
const LEGACY_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const PROJECT = "consumer";
const STACK = "dev";
const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const TOKEN = `${PACKAGE.name}:index:ScaleInDrainer`;

/** pulumi/templates, typescript/tsconfig.json at 65db26bfbdb2, byte for byte. */
const TEMPLATE_TSCONFIG = `{
    "compilerOptions": {
        "strict": true,
        "outDir": "bin",
        "target": "es2020",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "sourceMap": true,
        "experimentalDecorators": true,
        "pretty": true,
        "noFallthroughCasesInSwitch": true,
        "noImplicitReturns": true,
        "forceConsistentCasingInFileNames": true
    },
    "files": [
        "index.ts"
    ]
}
`;

interface Registered {
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  inputs: Record<string, any>;
  /** The URNs the registration depends on. */
  dependencies: string[];
}

/** A fake engine (logs) and resource monitor (registrations, invokes) on loopback ports. */
class FakeEngine {
  readonly logs: { severity: number; message: string }[] = [];
  readonly registered: Registered[] = [];
  readonly invokes: string[] = [];
  dryRun = false;
  private readonly server = new grpc.Server();
  engineAddress = "";
  monitorAddress = "";
  private readonly monitorServer = new grpc.Server();

  async start(): Promise<void> {
    this.server.addService(enginerpc.EngineService, {
      log: (call: any, cb: any) => {
        this.logs.push({
          severity: call.request.getSeverity(),
          message: call.request.getMessage(),
        });
        cb(null, new emptyproto.Empty());
      },
      getRootResource: (_: any, cb: any) =>
        cb(null, new engineproto.GetRootResourceResponse().setUrn("")),
      setRootResource: (_: any, cb: any) => cb(null, new engineproto.SetRootResourceResponse()),
    });
    this.monitorServer.addService(resrpc.ResourceMonitorService, {
      // Only what a plain component needs; anything else answers UNIMPLEMENTED, as an old engine would.
      supportsFeature: (call: any, cb: any) => {
        const feature = call.request.getId();
        const supported = ["secrets", "resourceReferences", "outputValues", "aliasSpecs"];
        cb(null, new resproto.SupportsFeatureResponse().setHassupport(supported.includes(feature)));
      },
      invoke: (call: any, cb: any) => {
        const tok: string = call.request.getTok();
        this.invokes.push(tok);
        const results: Record<string, object> = {
          "aws:index/getPartition:getPartition": {
            partition: "aws",
            dnsSuffix: "amazonaws.com",
            id: "aws",
          },
          "aws:index/getRegion:getRegion": { region: REGION, name: REGION, id: REGION },
          "aws:index/getCallerIdentity:getCallerIdentity": {
            accountId: ACCOUNT,
            arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
            userId: "AIDACI",
            id: ACCOUNT,
          },
        };
        if (!results[tok])
          return cb({ code: grpc.status.NOT_FOUND, details: `no such function ${tok}` });
        cb(
          null,
          new resproto.ResourceInvokeResponse().setReturn(
            structproto.Struct.fromJavaScript(results[tok]),
          ),
        );
      },
      registerResource: (call: any, cb: any) => {
        const req = call.request;
        const inputs = req.getObject()?.toJavaScript() ?? {};
        const entry: Registered = {
          type: req.getType(),
          name: req.getName(),
          custom: req.getCustom(),
          parent: req.getParent(),
          inputs,
          dependencies: req.getDependenciesList(),
        };
        this.registered.push(entry);
        const urn = `urn:pulumi:${STACK}::${PROJECT}::${entry.type}::${entry.name}`;
        // A preview knows no outputs the provider computes; an update gets an ARN, an id and a URL.
        const computed = this.dryRun
          ? {}
          : {
              arn: `arn:aws:fake:${REGION}:${ACCOUNT}:${entry.name}`,
              name: inputs.name ?? entry.name,
              url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${entry.name}`,
            };
        cb(
          null,
          new resproto.RegisterResourceResponse()
            .setUrn(urn)
            .setId(entry.custom && !this.dryRun ? `${entry.name}-id` : "")
            .setObject(structproto.Struct.fromJavaScript({ ...inputs, ...computed })),
        );
      },
      registerResourceOutputs: (_: any, cb: any) => cb(null, new emptyproto.Empty()),
    });
    this.engineAddress = await bind(this.server);
    this.monitorAddress = await bind(this.monitorServer);
  }

  reset(dryRun: boolean): void {
    this.dryRun = dryRun;
    this.registered.length = 0;
    this.invokes.length = 0;
    this.logs.length = 0;
  }

  stop(): void {
    this.server.forceShutdown();
    this.monitorServer.forceShutdown();
  }
}

function bind(server: import("@grpc/grpc-js").Server): Promise<string> {
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(`127.0.0.1:${port}`),
    ),
  );
}

interface Booted {
  child: ChildProcess;
  port: number;
  /** Milliseconds from spawn to the port on stdout. */
  ms: number;
  /** Peak resident memory (VmHWM) when the port was printed, in MiB. */
  peakMiB: number;
}

/** Starts the plugin as the nodejs language host does, in `cwd`; resolves when it prints its port. */
function boot(pluginDir: string, cwd: string, engineAddress: string): Promise<Booted> {
  const runPlugin = createRequire(join(pluginDir, "package.json")).resolve(
    "@pulumi/pulumi/cmd/run-plugin",
  );
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [runPlugin, pluginDir, engineAddress], {
    cwd,
    env: { ...process.env, PULUMI_NODEJS_TYPESCRIPT: undefined },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`no port within 60 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 60_000);
    child.stderr!.on("data", (d) => (stderr += d));
    child.stdout!.on("data", (d) => {
      stdout += d;
      const line = /^(\d+)\r?\n/.exec(stdout);
      if (!line) return;
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
      resolve({ child, port: Number(line[1]), ms, peakMiB: peakKiB / 1024 });
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`the plugin exited (${code}) before printing its port\n${stdout}\n${stderr}`),
      );
    });
  });
}

function stopPlugin(b: Booted | undefined): void {
  if (b && b.child.exitCode === null) {
    b.child.removeAllListeners("exit");
    b.child.kill();
  }
}

function unary<T>(client: any, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, (err: unknown, res: T) => (err ? reject(err) : resolve(res))),
  );
}

/** A ConstructRequest for ScaleInDrainer, as the engine sends it. */
function constructRequest(engine: FakeEngine, name: string, inputs: object, dryRun: boolean) {
  return new provproto.ConstructRequest()
    .setProject(PROJECT)
    .setStack(STACK)
    .setOrganization("organization")
    .setDryrun(dryRun)
    .setParallel(4)
    .setMonitorendpoint(engine.monitorAddress)
    .setType(TOKEN)
    .setName(name)
    .setInputs(structproto.Struct.fromJavaScript(inputs));
}

/** The per-property reasons a failed Construct carries (pulumirpc.InputPropertiesError), by property. */
function propertyErrors(err: any): Record<string, string> {
  const bin = err.metadata?.get("grpc-status-details-bin")?.[0];
  if (!bin) return {};
  const status = statusproto.Status.deserializeBinary(bin);
  const out: Record<string, string> = {};
  for (const any of status.getDetailsList()) {
    const details = errorproto.InputPropertiesError.deserializeBinary(any.getValue_asU8());
    for (const e of details.getErrorsList()) out[e.getPropertyPath()] = e.getReason();
  }
  return out;
}

const INPUTS = {
  clusterName: "prod",
  autoscalingGroupNames: ["prod-ecs-a", "prod-ecs-b"],
  subnetIds: ["subnet-1", "subnet-2"],
  securityGroupIds: ["sg-1"],
  drainerImage: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/ecs-scale-in-drainer:0.1.0`,
};

describe("the component plugin over Pulumi's gRPC protocol", function () {
  this.timeout(120_000);
  const scratch = mkdtempSync(join(tmpdir(), "plugin-consumers-"));
  const consumers = {
    typescript: join(scratch, "typescript"),
    none: join(scratch, "no-tsconfig"),
    python: join(scratch, "python"),
  };
  const engine = new FakeEngine();
  let plugin: Booted | undefined;
  let client: any;

  before(async () => {
    for (const dir of Object.values(consumers)) mkdirSync(dir);
    writeFileSync(join(consumers.typescript, "tsconfig.json"), TEMPLATE_TSCONFIG);
    writeFileSync(
      join(consumers.typescript, "index.ts"),
      'import * as pulumi from "@pulumi/pulumi";\n',
    );
    writeFileSync(join(consumers.typescript, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
    writeFileSync(join(consumers.none, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
    writeFileSync(join(consumers.python, "Pulumi.yaml"), "name: consumer\nruntime: python\n");
    writeFileSync(join(consumers.python, "__main__.py"), "import pulumi\n");
    await engine.start();
    plugin = await boot(REPO, consumers.typescript, engine.engineAddress);
    client = new provrpc.ResourceProviderClient(
      `127.0.0.1:${plugin.port}`,
      grpc.credentials.createInsecure(),
    );
    // The engine configures a provider before its first Construct.
    const configured: any = await unary(
      client,
      "configure",
      new provproto.ConfigureRequest()
        .setArgs(structproto.Struct.fromJavaScript({}))
        .setAcceptsecrets(true)
        .setAcceptresources(true),
    );
    assert.equal(configured.getAcceptoutputs(), true);
  });

  after(() => {
    client?.close();
    stopPlugin(plugin);
    engine.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const [consumer, note] of [
    ["typescript", "with the tsconfig.json of Pulumi's TypeScript template"],
    ["none", "with no tsconfig.json"],
    ["python", "of a Python program"],
  ] as const) {
    it(`boots from a consumer directory ${note}, printing its port, under 300 MB`, async () => {
      const b = await boot(REPO, consumers[consumer], engine.engineAddress);
      try {
        console.log(
          `      ${consumer}: port after ${b.ms.toFixed(0)} ms, peak ${b.peakMiB.toFixed(0)} MiB`,
        );
        assert.ok(b.port > 0);
        assert.ok(b.peakMiB < 300, `peak resident memory ${b.peakMiB.toFixed(0)} MiB`);
        const c = new provrpc.ResourceProviderClient(
          `127.0.0.1:${b.port}`,
          grpc.credentials.createInsecure(),
        );
        const info: any = await unary(c, "getPluginInfo", new emptyproto.Empty());
        assert.equal(info.getVersion(), PACKAGE.version);
        c.close();
      } finally {
        stopPlugin(b);
      }
    });
  }

  it("GetPluginInfo: the package's version", async () => {
    const info: any = await unary(client, "getPluginInfo", new emptyproto.Empty());
    assert.equal(info.getVersion(), PACKAGE.version);
  });

  it("GetSchema: the committed pulumi/schema.json", async () => {
    const res: any = await unary(
      client,
      "getSchema",
      new provproto.GetSchemaRequest().setVersion(0),
    );
    assert.equal(res.getSchema(), SCHEMA_TEXT);
  });

  it("Construct (update): registers the component and its children with their key inputs", async () => {
    engine.reset(false);
    const res: any = await unary(
      client,
      "construct",
      constructRequest(engine, "drain", INPUTS, false),
    );
    assert.equal(res.getUrn(), `urn:pulumi:${STACK}::${PROJECT}::${TOKEN}::drain`);
    const component = engine.registered.find((r) => r.type === TOKEN)!;
    assert.ok(component, "the component itself is registered");
    assert.equal(component.custom, false);

    const of = (type: string) => engine.registered.filter((r) => r.type === type);
    const hooks = of("aws:autoscaling/lifecycleHook:LifecycleHook");
    assert.deepEqual(
      hooks.map((h) => h.inputs.autoscalingGroupName).sort(),
      INPUTS.autoscalingGroupNames,
    );
    for (const h of hooks) {
      assert.equal(h.inputs.lifecycleTransition, "autoscaling:EC2_INSTANCE_TERMINATING");
      assert.equal(h.inputs.defaultResult, "CONTINUE");
    }
    const rules = of("aws:cloudwatch/eventRule:EventRule");
    assert.equal(rules.length, 3, "a rule per group and the sweep's");
    const patterns = rules
      .filter((r) => r.inputs.eventPattern)
      .map((r) => JSON.parse(r.inputs.eventPattern));
    assert.deepEqual(
      patterns.map((p) => p.detail.AutoScalingGroupName[0]).sort(),
      INPUTS.autoscalingGroupNames,
    );
    assert.equal(rules.filter((r) => r.inputs.scheduleExpression === "rate(5 minutes)").length, 1);
    const targets = of("aws:cloudwatch/eventTarget:EventTarget");
    assert.equal(targets.length, 3);
    for (const t of targets) {
      assert.equal(t.inputs.arn, `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`);
      assert.deepEqual(t.inputs.ecsTarget.networkConfiguration.subnets, INPUTS.subnetIds);
    }
    const [taskDefinition] = of("aws:ecs/taskDefinition:TaskDefinition");
    const [container] = JSON.parse(taskDefinition.inputs.containerDefinitions);
    assert.equal(container.image, INPUTS.drainerImage);
    assert.deepEqual(
      engine.registered.filter((r) => r.type === "aws:iam/role:Role").length,
      3,
      "task, execution and events roles",
    );
    // Every child hangs under the component (directly or through its parts).
    const urns = new Set(
      engine.registered.map((r) => `urn:pulumi:${STACK}::${PROJECT}::${r.type}::${r.name}`),
    );
    for (const r of engine.registered.filter((r) => r !== component)) {
      assert.ok(urns.has(r.parent), `${r.type} ${r.name} has parent ${r.parent}`);
    }
    assert.deepEqual([...new Set(engine.invokes)].sort(), [
      "aws:index/getCallerIdentity:getCallerIdentity",
      "aws:index/getPartition:getPartition",
      "aws:index/getRegion:getRegion",
    ]);
    // The component's outputs come back as its state, as the schema lists them.
    const state = res.getState().toJavaScript();
    assert.deepEqual(
      Object.keys(state).sort(),
      Object.keys(JSON.parse(SCHEMA_TEXT).resources[TOKEN].properties)
        .filter((k) => state[k] !== undefined)
        .sort(),
    );
    assert.deepEqual(state.hookNames, ["ecs-scale-in-drainer", "ecs-scale-in-drainer"]);
    assert.equal(state.imageUri, INPUTS.drainerImage);
  });

  it("Construct (preview): unknown subnets and image still plan every child", async () => {
    engine.reset(true);
    await unary(
      client,
      "construct",
      constructRequest(
        engine,
        "preview",
        { ...INPUTS, subnetIds: UNKNOWN, drainerImage: UNKNOWN, enableSweep: false },
        true,
      ),
    );
    const types = engine.registered.map((r) => r.type);
    assert.equal(
      types.filter((t) => t === "aws:autoscaling/lifecycleHook:LifecycleHook").length,
      2,
    );
    assert.equal(
      types.filter((t) => t === "aws:cloudwatch/eventTarget:EventTarget").length,
      2,
      "no sweep",
    );
    assert.equal(types.filter((t) => t === "aws:ecs/taskDefinition:TaskDefinition").length, 1);
    const target = engine.registered.find(
      (r) => r.type === "aws:cloudwatch/eventTarget:EventTarget",
    )!;
    // Passed on to the monitor as unknown, for the engine to show as "output<string>" in the preview.
    assert.equal(target.inputs.ecsTarget.networkConfiguration.subnets, LEGACY_UNKNOWN);
  });

  for (const [title, inputs, arg, words] of [
    [
      "a group name IAM would read as a wildcard",
      { autoscalingGroupNames: ["web-*"] },
      "autoscalingGroupNames",
      /\*/,
    ],
    ["a heartbeat timeout out of range", { heartbeatTimeout: 20 }, "heartbeatTimeout", /30/],
    [
      "an unknown group list (it decides which resources exist)",
      { autoscalingGroupNames: UNKNOWN },
      "autoscalingGroupNames",
      /decides which resources ScaleInDrainer creates/,
    ],
    [
      "an unknown sweep switch",
      { enableSweep: UNKNOWN },
      "enableSweep",
      /decides which resources ScaleInDrainer creates/,
    ],
    [
      "an unknown launch type",
      { launchType: UNKNOWN },
      "launchType",
      /decides which resources ScaleInDrainer creates/,
    ],
    [
      "an unknown sweep switch from an older engine",
      { enableSweep: LEGACY_UNKNOWN },
      "enableSweep",
      /decides which resources ScaleInDrainer creates/,
    ],
  ] as const) {
    // In a preview, where unknowns occur (an update never sends one) and where a user first meets the error.
    it(`Construct (invalid): ${title} fails, naming \`${arg}\``, async () => {
      engine.reset(true);
      const err: any = await unary(
        client,
        "construct",
        constructRequest(engine, "bad", { ...INPUTS, ...inputs }, true),
      ).then(
        () => assert.fail("Construct succeeded"),
        (e) => e,
      );
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
      const reasons = propertyErrors(err);
      assert.ok(reasons[arg], `no reason for ${arg} in ${JSON.stringify(reasons)}: ${err.message}`);
      assert.match(reasons[arg], words);
      assert.ok(reasons[arg].includes(`\`${arg}\``), reasons[arg]);
      assert.ok(!/toJSON|Calling \[toString\]/.test(err.message), err.message);
      const children = engine.registered.filter((r) => r.type !== TOKEN);
      assert.deepEqual(children, [], "nothing is registered after a rejected input");
    });
  }

  for (const [title, inputs, arg, value, fix] of [
    [
      "a drain timeout from another stack's output, beyond 48 hours",
      { drainTimeout: outputValue(999999) },
      "drainTimeout",
      "999999",
      /set it to a number of seconds greater than 0 and at most 172800/,
    ],
    [
      "a heartbeat timeout from another stack's output that the default sweep cannot beat",
      { heartbeatTimeout: outputValue(600) },
      "heartbeatTimeout",
      "600",
      /Raise `heartbeatTimeout` to 840 or more/,
    ],
    [
      "a cluster ARN in another region, from another stack's output",
      { clusterName: outputValue(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`) },
      "clusterName",
      `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`,
      /Set `aws:region` to us-east-1 .*or give ScaleInDrainer an AWS provider/,
    ],
  ] as const) {
    it(`Construct (update, invalid Output): ${title} fails with one message naming \`${arg}\`, its value and the fix, registering no child`, async () => {
      engine.reset(false);
      const err: any = await unary(
        client,
        "construct",
        constructRequest(engine, "late", { ...INPUTS, ...inputs }, false),
      ).then(
        () => assert.fail("Construct succeeded"),
        (e) => e,
      );
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
      const reasons = propertyErrors(err);
      assert.deepEqual(Object.keys(reasons), [arg], err.message);
      assert.ok(reasons[arg].includes(`\`${arg}\``), reasons[arg]);
      assert.ok(reasons[arg].includes(value), reasons[arg]);
      assert.match(reasons[arg], fix);
      assert.equal(err.message.split(reasons[arg]).length, 2, `one message: ${err.message}`);
      assert.deepEqual(
        engine.registered.filter((r) => r.type !== TOKEN),
        [],
        "nothing is registered after a rejected input",
      );
      assert.deepEqual(
        engine.logs.filter((l) => /error serializing property/.test(l.message)),
        [],
      );
    });
  }

  it("Construct (update): a valid drain timeout from another stack's output reaches the container, with its dependency", async () => {
    engine.reset(false);
    await unary(
      client,
      "construct",
      constructRequest(engine, "late-ok", { ...INPUTS, drainTimeout: outputValue(1800) }, false),
    );
    const [taskDefinition] = engine.registered.filter(
      (r) => r.type === "aws:ecs/taskDefinition:TaskDefinition",
    );
    const [container] = JSON.parse(taskDefinition.inputs.containerDefinitions);
    assert.deepEqual(
      container.environment.find((e: { name: string }) => e.name === "DRAIN_TIMEOUT_SECONDS"),
      { name: "DRAIN_TIMEOUT_SECONDS", value: "1800" },
    );
    // The value keeps its dependency: the task definition still depends on what produced it.
    assert.ok(
      taskDefinition.dependencies.includes(
        "urn:pulumi:dev::consumer::pulumi:pulumi:StackReference::shared",
      ),
      JSON.stringify(taskDefinition.dependencies),
    );
  });

  it("keeps serving after failed constructs, without growing past 300 MB", async () => {
    const status = readFileSync(`/proc/${plugin!.child.pid}/status`, "utf8");
    const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
    console.log(`      resident after the constructs above: ${rssMiB.toFixed(0)} MiB`);
    assert.ok(rssMiB < 300, `${rssMiB.toFixed(0)} MiB`);
    const info: any = await unary(client, "getPluginInfo", new emptyproto.Empty());
    assert.equal(info.getVersion(), PACKAGE.version);
  });

  it("negative control: the previous layout (main = pulumi/index.ts) fails from the template's consumer with TS5011", async () => {
    const old = join(scratch, "old-layout");
    mkdirSync(old);
    for (const f of [
      "pulumi",
      "drainer",
      "lib",
      "node_modules",
      "tsconfig.json",
      "PulumiPlugin.yaml",
    ]) {
      symlinkSync(join(REPO, f), join(old, f));
    }
    writeFileSync(
      join(old, "package.json"),
      JSON.stringify({ ...PACKAGE, main: "pulumi/index.ts" }),
    );
    await assert.rejects(boot(old, consumers.typescript, engine.engineAddress), /TS5011/);
  });
});

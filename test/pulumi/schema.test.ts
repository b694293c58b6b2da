import { strict as assert } from "assert";
import * as fs from "fs";
import { installMocks, inventory, one, recorded, reset, settle, valueOf } from "./harness";
import * as pulumi from "@pulumi/pulumi";
import {
  PACKAGE_NAME,
  SCHEMA_PATH,
  createComponentProvider,
  renderSchema,
} from "../../pulumi/provider";
import { writeSchema } from "../../pulumi/generateSchema";

/**
 * The multi-language schema, generated offline from the components' TypeScript types the way `pulumi package add`
 * does. Set UPDATE_SCHEMA=1 to rewrite the committed pulumi/schema.json (or run `npx tsx pulumi/generateSchema.ts`).
 */
describe("the component package schema (Pulumi)", function () {
  // The analyzer type-checks the whole project: tens of seconds.
  this.timeout(180_000);
  const provider = createComponentProvider();
  let text: string;
  let schema: any;

  before(async () => {
    installMocks();
    text = await renderSchema(provider);
    schema = JSON.parse(text);
    if (process.env.UPDATE_SCHEMA === "1") await writeSchema(text);
  });

  it("names the package after package.json, as Pulumi's plugin host does", () => {
    const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
    assert.equal(PACKAGE_NAME, pkg.name);
    assert.equal(schema.name, pkg.name);
  });

  it("has the four components", () => {
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      `${PACKAGE_NAME}:index:DrainerImage`,
      `${PACKAGE_NAME}:index:DrainerTask`,
      `${PACKAGE_NAME}:index:ScaleInDrainer`,
      `${PACKAGE_NAME}:index:ScaleInHook`,
    ]);
  });

  it("describes every component, input and output, and every property of its types", () => {
    const missing: string[] = [];
    for (const [token, resource] of Object.entries<any>(schema.resources)) {
      if (!resource.description) missing.push(token);
      for (const [kind, props] of [
        ["input", resource.inputProperties],
        ["output", resource.properties],
      ]) {
        for (const [prop, def] of Object.entries<any>(props ?? {})) {
          if (!def.description) missing.push(`${token} ${kind} ${prop}`);
        }
      }
    }
    for (const [token, type] of Object.entries<any>(schema.types ?? {})) {
      for (const [prop, def] of Object.entries<any>(type.properties ?? {})) {
        if (!def.description) missing.push(`${token} ${prop}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it("states each optional input's default in its description", () => {
    const drainer = schema.resources[`${PACKAGE_NAME}:index:ScaleInDrainer`];
    const required = new Set(drainer.requiredInputs);
    for (const [prop, def] of Object.entries<any>(drainer.inputProperties)) {
      if (required.has(prop)) assert.match(def.description, /Required\./, prop);
      else assert.match(def.description, /Defaults to /, prop);
    }
  });

  it("requires exactly the cluster, the groups, the subnets and the security groups", () => {
    const drainer = schema.resources[`${PACKAGE_NAME}:index:ScaleInDrainer`];
    assert.deepEqual([...drainer.requiredInputs].sort(), [
      "autoscalingGroupNames",
      "clusterName",
      "securityGroupIds",
      "subnetIds",
    ]);
  });

  it("types the launch type and the timeout result as enums", () => {
    const inputs = schema.resources[`${PACKAGE_NAME}:index:ScaleInDrainer`].inputProperties;
    assert.equal(inputs.launchType.$ref, `#/types/${PACKAGE_NAME}:index:LaunchType`);
    assert.equal(inputs.timeoutResult.$ref, `#/types/${PACKAGE_NAME}:index:LifecycleResult`);
    assert.deepEqual(
      schema.types[`${PACKAGE_NAME}:index:LaunchType`].enum.map((e: any) => e.value),
      ["FARGATE", "EC2"],
    );
    assert.deepEqual(
      schema.types[`${PACKAGE_NAME}:index:LifecycleResult`].enum.map((e: any) => e.value),
      ["CONTINUE", "ABANDON"],
    );
  });

  it("matches the committed pulumi/schema.json (regenerate: UPDATE_SCHEMA=1, or npx tsx pulumi/generateSchema.ts)", () => {
    // Compared as JSON, so that formatting the file (Prettier) changes nothing.
    assert.deepEqual(JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8")), schema);
  });

  it("constructs ScaleInDrainer through the provider, from plain inputs as another language sends them", async () => {
    reset();
    const result = await provider.construct(
      "via-provider",
      `${PACKAGE_NAME}:index:ScaleInDrainer`,
      {
        clusterName: "prod",
        autoscalingGroupNames: ["asg-a", "asg-b"],
        subnetIds: ["subnet-1"],
        securityGroupIds: ["sg-1"],
        launchType: "EC2",
        drainerImage: "public.ecr.aws/example/drainer:1",
        enableSweep: false,
      },
      {},
    );
    await settle();
    const own = recorded.filter((r) => !r.type.startsWith("pulumi:providers:"));
    assert.deepEqual(
      own
        .filter((r) => r.type.startsWith(`${PACKAGE_NAME}:`))
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
      [
        `${PACKAGE_NAME}:index:DrainerImage via-provider-image`,
        `${PACKAGE_NAME}:index:DrainerTask via-provider-task`,
        `${PACKAGE_NAME}:index:ScaleInDrainer via-provider`,
        `${PACKAGE_NAME}:index:ScaleInHook via-provider-asg-a`,
        `${PACKAGE_NAME}:index:ScaleInHook via-provider-asg-b`,
      ],
    );
    assert.ok(inventory().includes("aws:ecs/taskDefinition:TaskDefinition via-provider-task"));
    assert.deepEqual(
      one("aws:ecs/taskDefinition:TaskDefinition", "via-provider-task").inputs
        .requiresCompatibilities,
      ["EC2"],
    );
    assert.equal(
      own.some((r) => r.name === "via-provider-sweep"),
      false,
    );

    // The state the provider returns is the schema's outputs.
    const outputs = Object.keys(
      schema.resources[`${PACKAGE_NAME}:index:ScaleInDrainer`].properties,
    );
    assert.deepEqual(Object.keys(result.state).sort(), [...outputs].sort());
    assert.equal(
      await valueOf(result.state.imageUri as pulumi.Output<string>),
      "public.ecr.aws/example/drainer:1",
    );
    assert.match(
      await valueOf(pulumi.output(result.urn)),
      /::ecs-scale-in-drainer:index:ScaleInDrainer::via-provider$/,
    );
  });
});

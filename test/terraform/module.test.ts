/**
 * The Terraform module as files: every variable and output documented and typed, every reference declared, the
 * example complete, the submodule's validations identical to the root's, and the defaults equal to the contract's.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DEFAULTS,
  DEFAULT_CPU_ARCHITECTURE,
  ECS_MANAGED_DRAINING_HOOK,
  LIMITS,
  setting,
} from "../../drainer/src/contract";
import {
  CONTRACT_DIR,
  EXAMPLE_DIR,
  MODULE_DIR,
  ParsedModule,
  REPO,
  block,
  parseModule,
  referencedNames,
  stringsIn,
  tfFiles,
} from "./hcl";

/** The image `make all` publishes: `${repository}:${version}` from .release (KEY=VALUE lines, as make reads them). */
function releaseImage(): string {
  const release = Object.fromEntries(
    readFileSync(join(REPO, ".release"), "utf8")
      .split("\n")
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
  );
  return `${release.repository}:${release.version}`;
}

describe("terraform module: files", function () {
  this.timeout(60_000);
  let root: ParsedModule;
  let contract: ParsedModule;
  let example: ParsedModule;
  const modules = () => [root, contract, example];

  before(async () => {
    [root, contract, example] = await Promise.all([
      parseModule(MODULE_DIR),
      parseModule(CONTRACT_DIR),
      parseModule(EXAMPLE_DIR),
    ]);
  });

  it("has the layout of terraform-aws-modules", () => {
    const files = tfFiles(MODULE_DIR);
    for (const f of ["main.tf", "variables.tf", "outputs.tf", "versions.tf"]) {
      assert.ok(files.includes(f), `terraform-module/${f} is missing`);
    }
    assert.ok(
      files.some((f) => f.startsWith("examples/complete/")),
      "examples/complete is empty",
    );
  });

  it("parses every .tf file with hcl2json", () => {
    const parsed = modules().reduce((n, m) => n + m.files.length, 0);
    assert.equal(parsed, tfFiles(MODULE_DIR).length, "a .tf file lies outside the parsed modules");
  });

  it("reads the region in a form both 5.x and 6.x accept, and keeps rule descriptions within EventBridge's 512 characters", () => {
    const main = readFileSync(join(MODULE_DIR, "main.tf"), "utf8");
    assert.doesNotMatch(main, /data\.aws_region\.current\.name/, "`name` is deprecated in 6.x");
    assert.doesNotMatch(
      main,
      /data\.aws_region\.current\.region/,
      "`region` does not exist in 5.x",
    );
    assert.match(main, /data\.aws_region\.current\.id/);
    const descriptions = [...main.matchAll(/^\s*description\s*=\s*(.*)$/gm)].map((m) => m[1]);
    const perGroup = descriptions.filter((d) => d.includes("each.key"));
    assert.ok(perGroup.length > 0);
    for (const d of perGroup) assert.match(d, /^substr\(.*, 0, 512\)$/, d);
  });

  it("replaces the task definition without a gap: the new revision is registered and targeted before the old one goes", () => {
    // Terraform destroys first by default, and ECS runs no new task of a deregistered (INACTIVE) revision.
    const [lifecycle] = block(root, "resource", "aws_ecs_task_definition", "this").lifecycle as {
      create_before_destroy?: boolean;
    }[];
    assert.equal(lifecycle?.create_before_destroy, true);
  });

  it("requires Terraform 1.9 and hashicorp/aws 5.x or 6.x, the versions checked", () => {
    const terraform = root.raw.flatMap((doc) => (doc.terraform as Record<string, unknown>[]) ?? []);
    assert.equal(terraform.length, 1);
    assert.equal(terraform[0].required_version, ">= 1.9");
    const providers = (terraform[0].required_providers as Record<string, unknown>[])[0];
    assert.deepEqual(providers.aws, { source: "hashicorp/aws", version: ">= 5.0, < 7.0" });
    const contractTerraform = contract.raw.flatMap(
      (doc) => (doc.terraform as Record<string, unknown>[]) ?? [],
    );
    assert.deepEqual(contractTerraform, [{ required_version: ">= 1.9" }]);
  });

  it("keeps the contract submodule free of providers, resources and data sources", () => {
    assert.deepEqual(contract.resource, {});
    assert.deepEqual(contract.data, {});
    assert.ok(
      !contract.raw.some((doc) => "provider" in doc),
      "modules/contract configures a provider",
    );
  });

  it("documents and types every variable and output", () => {
    for (const mod of modules()) {
      for (const [name, v] of Object.entries(mod.variable)) {
        assert.ok(
          v.description && v.description.trim().endsWith("."),
          `${mod.dir}: variable ${name} needs a description sentence`,
        );
        assert.match(v.type ?? "", /^\$\{.+\}$/, `${mod.dir}: variable ${name} needs a type`);
      }
      for (const [name, o] of Object.entries(mod.output)) {
        assert.ok(
          o.description && o.description.trim().endsWith("."),
          `${mod.dir}: output ${name} needs a description sentence`,
        );
      }
    }
  });

  it("gives every validation a sentence that says what to change", () => {
    for (const mod of [root, contract]) {
      for (const [name, v] of Object.entries(mod.variable)) {
        for (const rule of v.validation ?? []) {
          assert.match(rule.error_message, /^[A-Z].*\.$/s, `${name}: ${rule.error_message}`);
          assert.match(
            rule.error_message,
            /\b(Set|Choose|Each)\b/,
            `${name}: ${rule.error_message}`,
          );
          assert.ok(
            rule.error_message.includes(name),
            `${name}'s message must name it: ${rule.error_message}`,
          );
        }
      }
    }
  });

  it("marks every toggle non-nullable", () => {
    for (const [name, v] of Object.entries(root.variable)) {
      if (v.type === "${bool}")
        assert.equal(v.nullable, false, `variable ${name} must set nullable = false`);
    }
  });

  it("declares every var, local and module output it references", () => {
    for (const mod of modules()) {
      const texts = stringsIn(mod.raw);
      for (const name of referencedNames(texts, "var")) {
        assert.ok(
          name in mod.variable,
          `${mod.dir} references var.${name}, which it does not declare`,
        );
      }
      for (const name of referencedNames(texts, "local")) {
        assert.ok(
          name in mod.locals,
          `${mod.dir} references local.${name}, which it does not declare`,
        );
      }
    }
    for (const name of referencedNames(stringsIn(root.raw), "module.contract")) {
      assert.ok(
        name in contract.output,
        `main.tf uses module.contract.${name}, which modules/contract does not output`,
      );
    }
    for (const name of referencedNames(stringsIn(example.raw), "module.scale_in_drainer")) {
      assert.ok(
        name in root.output,
        `the example uses module.scale_in_drainer.${name}, which the module does not output`,
      );
    }
  });

  it("refers only to resources and data sources it declares", () => {
    const texts = stringsIn(root.raw);
    for (const m of texts.join("\n").matchAll(/(?<![\w.])(data\.)?(aws_\w+)\.(\w+)/g)) {
      const [, data, type, name] = m;
      block(root, data ? "data" : "resource", type, name);
    }
  });

  it("has no dependency cycle between the resources and modules/contract (what terraform validate would find)", () => {
    // Terraform graphs each module variable, local and output on its own, so a resource may feed one of the
    // submodule's variables and read another of its outputs. Build that graph from the references and look for cycles.
    const edges = new Map<string, Set<string>>();
    const refsOf = (value: unknown, inContract: boolean): string[] => {
      const text = stringsIn(value).join("\n");
      if (inContract) {
        return [
          ...referencedNames([text], "var").map((n) => `contract.var.${n}`),
          ...referencedNames([text], "local").map((n) => `contract.local.${n}`),
        ];
      }
      return [
        ...[...text.matchAll(/(?<![\w.])(data\.)?(aws_\w+)\.(\w+)/g)].map((m) => m[0]),
        ...referencedNames([text], "module.contract").map((n) => `contract.output.${n}`),
        ...referencedNames([text], "local").map((n) => `local.${n}`),
      ];
    };
    const add = (node: string, deps: string[]) => edges.set(node, new Set(deps));
    for (const [type, byName] of Object.entries(root.resource))
      for (const [name, b] of Object.entries(byName)) add(`${type}.${name}`, refsOf(b, false));
    for (const [type, byName] of Object.entries(root.data))
      for (const [name, b] of Object.entries(byName)) add(`data.${type}.${name}`, refsOf(b, false));
    for (const [name, value] of Object.entries(root.locals))
      add(`local.${name}`, refsOf(value, false));
    for (const [name, value] of Object.entries(root.module.contract))
      add(`contract.var.${name}`, refsOf(value, false));
    for (const [name, value] of Object.entries(contract.locals))
      add(`contract.local.${name}`, refsOf(value, true));
    for (const [name, o] of Object.entries(contract.output))
      add(`contract.output.${name}`, refsOf(o.value, true));
    // A validation refers to its own variable (not a dependency) and sometimes to others (which are).
    for (const [name, v] of Object.entries(contract.variable)) {
      const node = `contract.var.${name}`;
      const checks = refsOf(v.validation ?? [], true).filter((ref) => ref !== node);
      edges.set(node, new Set([...(edges.get(node) ?? []), ...checks]));
    }

    const state = new Map<string, "visiting" | "done">();
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === "done") return;
      assert.notEqual(
        state.get(node),
        "visiting",
        `dependency cycle: ${[...path, node].join(" -> ")}`,
      );
      assert.ok(edges.has(node), `${path.at(-1)} refers to ${node}, which is not declared`);
      state.set(node, "visiting");
      for (const dep of edges.get(node)!) visit(dep, [...path, node]);
      state.set(node, "done");
    };
    for (const node of edges.keys()) visit(node, []);
    assert.ok(
      edges
        .get("aws_sqs_queue_policy.dead_letter")!
        .has("contract.output.dead_letter_queue_policy"),
    );
  });

  it("passes every root variable to modules/contract, which checks it", () => {
    const call = root.module.contract;
    assert.equal(call.source, "./modules/contract");
    for (const name of Object.keys(root.variable)) {
      assert.equal(
        call[name],
        `\${var.${name}}`,
        `module "contract" must get ${name} = var.${name}`,
      );
    }
    const required = Object.entries(contract.variable).filter(([, v]) => !("default" in v));
    for (const [name] of required)
      assert.ok(name in call, `module "contract" lacks its required ${name}`);
  });

  it("repeats the root's variables in modules/contract word for word, validations included", () => {
    for (const [name, v] of Object.entries(root.variable)) {
      assert.deepEqual(
        contract.variable[name],
        v,
        `variable ${name} differs between the root and modules/contract`,
      );
    }
  });

  it("uses the module in the example with every required input, and no unknown one", () => {
    const call = example.module.scale_in_drainer;
    assert.equal(call.source, "../..");
    const inputs = Object.keys(call).filter((k) => k !== "source");
    for (const [name, v] of Object.entries(root.variable)) {
      if (!("default" in v))
        assert.ok(inputs.includes(name), `the example lacks the required input ${name}`);
    }
    for (const name of inputs)
      assert.ok(name in root.variable, `the example sets ${name}, which the module lacks`);
    const providers = example.raw.flatMap((doc) => Object.keys((doc.provider as object) ?? {}));
    assert.deepEqual(providers, ["aws"]);
  });

  it("gives every required input of the example a value in terraform.tfvars.example", async () => {
    const { parse } = await import("@cdktf/hcl2json");
    const file = `${EXAMPLE_DIR}/terraform.tfvars.example`;
    const values = await parse("terraform.tfvars", readFileSync(file, "utf8"));
    const required = Object.entries(example.variable)
      .filter(([, v]) => !("default" in v))
      .map(([name]) => name);
    for (const name of required)
      assert.ok(name in values, `terraform.tfvars.example lacks ${name}`);
    for (const name of Object.keys(values))
      assert.ok(name in example.variable, `${name} is not a variable of the example`);
  });

  it("requires exactly the inputs Terraform cannot default", () => {
    const required = Object.entries(root.variable)
      .filter(([, v]) => !("default" in v))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(required, [
      "autoscaling_group_names",
      "cluster_name",
      "security_group_ids",
      "subnet_ids",
    ]);
  });

  it("defaults the image to the release the repository publishes: ${repository}:${version} from .release", () => {
    const image = root.variable.drainer_image.default;
    assert.equal(image, releaseImage());
    assert.equal(image, "public.ecr.aws/ecs-scale-in-drainer/drainer:0.2.0");
    assert.equal(contract.variable.drainer_image.default, image);
  });

  it("defaults every setting to the contract's default", () => {
    const defaults = Object.fromEntries(
      Object.entries(root.variable)
        .filter(([, v]) => "default" in v)
        .map(([n, v]) => [n, v.default]),
    );
    assert.deepEqual(defaults, {
      name: null,
      drainer_image: releaseImage(),
      assign_public_ip: DEFAULTS.assignPublicIp,
      heartbeat_timeout: DEFAULTS.heartbeatTimeoutSeconds,
      drain_timeout: Number(setting("DRAIN_TIMEOUT_SECONDS").default),
      poll_interval: Number(setting("POLL_INTERVAL_SECONDS").default),
      ecs_reads_per_second: Number(setting("ECS_READS_PER_SECOND").default),
      request_timeout: Number(setting("REQUEST_TIMEOUT_SECONDS").default),
      timeout_result: setting("TIMEOUT_RESULT").default,
      stop_standalone_tasks: setting("STOP_STANDALONE_TASKS").default === "true",
      hook_default_result: DEFAULTS.hookDefaultResult,
      emit_metrics: setting("EMIT_METRICS").default === "true",
      metrics_namespace: setting("METRICS_NAMESPACE").default,
      publish_events: setting("PUBLISH_EVENTS").default === "true",
      enable_alarms: false,
      alarm_topic_arn: null,
      fargate_vcpu_quota: null,
      enable_sweep: DEFAULTS.enableSweep,
      sweep_schedule: DEFAULTS.sweepSchedule,
      cpu: DEFAULTS.cpu,
      memory: DEFAULTS.memory,
      log_retention_days: DEFAULTS.logRetentionDays,
      launch_type: DEFAULTS.launchType,
      cpu_architecture: DEFAULT_CPU_ARCHITECTURE,
      hook_name: DEFAULTS.hookName,
      permissions_boundary: null,
      role_path: "/",
      kms_key_arn: null,
      tags: {},
    });
    // The contract's own defaults agree with each other.
    assert.equal(Number(setting("DRAIN_TIMEOUT_SECONDS").default), DEFAULTS.drainTimeoutSeconds);
    assert.equal(Number(setting("POLL_INTERVAL_SECONDS").default), DEFAULTS.pollIntervalSeconds);
    assert.equal(Number(setting("ECS_READS_PER_SECOND").default), DEFAULTS.ecsReadsPerSecond);
  });

  it("writes the contract's limits and names into the validations", () => {
    const conditions = (name: string) =>
      (root.variable[name].validation ?? []).map((r) => r.condition).join(" ");
    assert.ok(conditions("heartbeat_timeout").includes(`>= ${LIMITS.heartbeatTimeoutMin}`));
    assert.ok(conditions("heartbeat_timeout").includes(`<= ${LIMITS.heartbeatTimeoutMax}`));
    assert.ok(conditions("drain_timeout").includes(`<= ${setting("DRAIN_TIMEOUT_SECONDS").max}`));
    assert.ok(
      conditions("drain_timeout").includes(
        `${LIMITS.globalTimeoutHeartbeatFactor} * var.heartbeat_timeout`,
      ),
    );
    assert.ok(conditions("poll_interval").includes(`<= ${setting("POLL_INTERVAL_SECONDS").max}`));
    const reads = setting("ECS_READS_PER_SECOND");
    assert.equal(reads.minExclusive, true);
    assert.ok(conditions("ecs_reads_per_second").includes(`> ${reads.min}`));
    assert.ok(conditions("ecs_reads_per_second").includes(`<= ${reads.max}`));
    assert.ok(conditions("hook_name").includes(`"${ECS_MANAGED_DRAINING_HOOK}"`));
  });

  it("writes the input template as a heredoc with unquoted placeholders", async () => {
    const source = readFileSync(`${CONTRACT_DIR}/main.tf`, "utf8");
    assert.match(source, /input_template = <<-EOT\n/);
    const template = contract.locals.input_template as string;
    assert.doesNotMatch(template, /jsonencode/);
    for (const placeholder of ["instance", "asg", "hook", "token"]) {
      assert.ok(template.includes(`: <${placeholder}>`), `<${placeholder}> must appear unquoted`);
    }
  });

  it("lists every input with its default, and every output, in the README's tables", async () => {
    const readme = readFileSync(`${MODULE_DIR}/README.md`, "utf8");
    const section = (title: string) => readme.split(`\n## ${title}\n`)[1].split("\n## ")[0];
    const rows = (text: string) =>
      Object.fromEntries(
        [...text.matchAll(/^\| `(\w+)` +\|(.*)\|$/gm)].map((m) => [
          m[1],
          m[2].split("|").map((c) => c.trim()),
        ]),
      );
    const inputs = rows(section("Inputs"));
    assert.deepEqual(Object.keys(inputs).sort(), Object.keys(root.variable).sort());
    for (const [name, v] of Object.entries(root.variable)) {
      const [, type, shown] = inputs[name];
      assert.equal(type, "`" + v.type!.slice(2, -1) + "`", `README type of ${name}`);
      const expected = !("default" in v) ? "(required)" : "`" + JSON.stringify(v.default) + "`";
      assert.equal(shown, expected, `README default of ${name}`);
    }
    assert.deepEqual(Object.keys(rows(section("Outputs"))).sort(), Object.keys(root.output).sort());
    assert.match(
      readme,
      /`terraform plan` and `terraform apply` of this module against an AWS account were \*\*not\*\*/,
    );
  });

  it("builds the per-group resources for each group and the sweep once, when enabled", () => {
    for (const [type, name] of [
      ["aws_autoscaling_lifecycle_hook", "this"],
      ["aws_cloudwatch_event_rule", "lifecycle"],
      ["aws_cloudwatch_event_target", "lifecycle"],
    ]) {
      assert.equal(
        block(root, "resource", type, name).for_each,
        "${local.groups}",
        `${type}.${name}`,
      );
    }
    assert.equal(root.locals.groups, "${toset(var.autoscaling_group_names)}");
    for (const type of ["aws_cloudwatch_event_rule", "aws_cloudwatch_event_target"]) {
      assert.equal(block(root, "resource", type, "sweep").count, "${var.enable_sweep ? 1 : 0}");
    }
  });
});

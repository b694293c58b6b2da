/**
 * Runs the `terraform` CLI for the tests, offline and without leaving anything in the working tree: every run gets
 * a temporary data directory, an empty CLI configuration and no update checks.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTRACT_DIR } from "./hcl";

/** Why Terraform tests cannot run here, or undefined when `terraform` is on PATH. */
export function terraformMissing(): string | undefined {
  const probe = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (probe.error) return `terraform is not on PATH (${probe.error.message})`;
  if (probe.status !== 0) return `terraform version failed: ${probe.stderr}`;
  return undefined;
}

export interface TerraformResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A scratch area for Terraform: its own data directory and CLI config. `dispose()` removes it. */
export class TerraformScratch {
  readonly dir = mkdtempSync(join(tmpdir(), "tf-test-"));
  private readonly env: NodeJS.ProcessEnv;

  /** `extraEnv`: more variables for every run (TF_REATTACH_PROVIDERS, say). */
  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    const cliConfig = join(this.dir, "terraformrc");
    writeFileSync(cliConfig, "");
    this.env = {
      ...process.env,
      ...extraEnv,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_DATA_DIR: join(this.dir, "data"),
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
      NO_COLOR: "1",
    };
  }

  run(args: string[], cwd: string): TerraformResult {
    const r = spawnSync("terraform", args, { cwd, env: this.env, encoding: "utf8" });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs and throws with Terraform's own output when the command fails. */
  ok(args: string[], cwd: string): string {
    const r = this.run(args, cwd);
    if (r.status !== 0) {
      throw new Error(
        `terraform ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`,
      );
    }
    return r.stdout;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The variables of modules/contract, as Terraform takes them (snake_case). */
export type ContractVariables = Record<string, unknown>;

/** Every output of modules/contract, as `terraform output -json` gives their values. */
export interface ContractOutputs {
  names: Record<string, string>;
  lifecycle_rule_names: Record<string, string>;
  cluster_arn: string;
  autoscaling_group_arns: Record<string, string>;
  hook: {
    name: string;
    lifecycle_transition: string;
    default_result: string;
    heartbeat_timeout: number;
  };
  event_patterns: Record<string, string>;
  input_paths: Record<string, string>;
  input_template: string;
  container_environment: { name: string; value: string }[];
  container_definitions: string;
  task_role_policy: string;
  events_role_policy: string;
  dead_letter_queue_policy: string;
  ecs_tasks_assume_role_policy: string;
  execution_assume_role_policy: string;
  events_assume_role_policy: string;
  retry_policy: { maximum_event_age_in_seconds: number; maximum_retry_attempts: number };
  task_definition: {
    network_mode: string;
    requires_compatibilities: string[];
    cpu: string;
    memory: string;
    operating_system_family: string;
    cpu_architecture: string;
  };
  execution_role_policy_arn: string;
  ecs_target: {
    task_count: number;
    launch_type: string;
    platform_version: string | null;
    propagate_tags: string;
    subnets: string[];
    security_groups: string[];
    assign_public_ip: boolean;
  };
  dead_letter_queue: {
    message_retention_seconds: number;
    sqs_managed_sse_enabled: boolean | null;
    kms_master_key_id: string | null;
  };
  alarms: Record<
    string,
    {
      description: string;
      namespace: string;
      metric_name: string;
      dimensions: Record<string, string>;
      statistic: string;
      threshold: number;
      comparison_operator: string;
    }
  >;
  alarm_shape: {
    period: number;
    evaluation_periods: number;
    treat_missing_data: string;
  };
  alarm_names: Record<string, string>;
  task_failure_pattern: string;
  task_failures_queue_policy: string;
}

/** A rejected plan: the variables Terraform named as invalid, and its message. */
export class TerraformRejected extends Error {
  constructor(
    readonly invalidVariables: string[],
    readonly output: string,
  ) {
    super(`terraform rejected the variables ${invalidVariables.join(", ")}:\n${output}`);
  }
}

/** The variable of modules/contract/variables.tf whose block holds line `line` (1-based). */
function variableAtLine(line: number): string {
  const lines = readFileSync(join(CONTRACT_DIR, "variables.tf"), "utf8").split("\n");
  for (let i = line - 1; i >= 0; i--) {
    const m = /^variable "(\w+)"/.exec(lines[i]);
    if (m) return m[1];
  }
  throw new Error(`no variable block above variables.tf line ${line}`);
}

/**
 * Evaluates modules/contract for given variables with the real Terraform: a root module in a scratch directory calls
 * it by path, `terraform apply` computes its outputs (it has no resources, so nothing leaves the machine).
 */
export class ContractRenderer {
  private readonly scratch = new TerraformScratch();
  private readonly root = join(this.scratch.dir, "root");
  private initialized = false;

  render(variables: ContractVariables): ContractOutputs {
    const config = {
      module: { contract: { source: CONTRACT_DIR, ...variables } },
      output: { contract: { value: "${module.contract}" } },
    };
    // In JSON configuration every string is a template; `$${` keeps a literal `${`.
    const json = JSON.stringify(
      config,
      (key, value) =>
        typeof value === "string" && key !== "value" ? value.replace(/\$\{/g, "$${") : value,
      2,
    );
    rmSync(this.root, { recursive: true, force: true });
    mkdirSync(this.root, { recursive: true });
    writeFileSync(join(this.root, "main.tf.json"), json);
    if (!this.initialized) {
      this.scratch.ok(["init", "-input=false", "-no-color"], this.root);
      this.initialized = true;
    }
    const applied = this.scratch.run(
      ["apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"],
      this.root,
    );
    if (applied.status !== 0) {
      const text = applied.stdout + applied.stderr;
      // Each error quotes the line of main.tf.json that sets the invalid variable: `  24:       "name": value`.
      const invalid = [
        ...text.matchAll(
          /on main\.tf\.json line \d+, in module\.contract:\s*\n\s*\d+:\s+"(\w+)":/g,
        ),
      ].map((m) => m[1]);
      // A rule on a variable left at its default (one that compares it with another) quotes no line of
      // main.tf.json; it names the rule's line in variables.tf, inside the variable's block.
      for (const m of text.matchAll(
        /checked by the validation rule at\s+\S*variables\.tf:(\d+),/g,
      )) {
        invalid.push(variableAtLine(Number(m[1])));
      }
      throw new TerraformRejected([...new Set(invalid)].sort(), text);
    }
    const out = JSON.parse(this.scratch.ok(["output", "-json", "-no-color"], this.root));
    return out.contract.value as ContractOutputs;
  }

  dispose(): void {
    this.scratch.dispose();
  }
}

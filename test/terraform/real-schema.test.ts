/**
 * The Terraform module against the hashicorp/aws provider's own schema: real `terraform validate` of the root module
 * and examples/complete, and real `terraform test` (terraform-module/tests, `mock_provider "aws"`) that plans and
 * applies the root module, for the lowest 5.x and the newest 6.x schema npm carries.
 *
 * The provider cannot be downloaded here, so test/terraform/standin/provider.mjs serves the schema extract
 * (test/terraform/provider-schema, written by extract.mjs from @cdktf/provider-aws) over Terraform's plugin protocol,
 * and Terraform attaches to it through TF_REATTACH_PROVIDERS.
 *
 * What this proves: every argument, block, nesting and reference the module writes is one the real provider's schema
 * has, required arguments are given, and the plan/apply logic (counts, conditions, wiring) holds under mocks. What it
 * does not: the provider's own value checks (an ARN's shape, an enum), and AWS itself. Negative controls: a misspelled
 * argument, a missing required argument and a block used as an attribute are each rejected, naming them.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MODULE_DIR, REPO, parseModule } from "./hcl";
import { TerraformScratch, terraformMissing } from "./terraform";

const SCHEMA_DIR = join(REPO, "test", "terraform", "provider-schema");
const STANDIN = join(REPO, "test", "terraform", "standin", "provider.mjs");
const PROVIDER = "registry.terraform.io/hashicorp/aws";

/** The extracts: the lowest 5.x and the newest 6.x, by file name. */
const EXTRACTS = readdirSync(SCHEMA_DIR)
  .filter((f) => /^aws-[\d.]+\.json$/.test(f))
  .sort((a, b) => Number(a.split(/[-.]/)[1]) - Number(b.split(/[-.]/)[1]));

/** Starts the stand-in for `extract`; resolves with the TF_REATTACH_PROVIDERS value. */
function startStandin(extract: string): Promise<{ child: ChildProcess; reattach: string }> {
  const child = spawn(process.execPath, [STANDIN, join(SCHEMA_DIR, extract)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stand-in did not start: ${err}`)), 20_000);
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve({ child, reattach: line });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the stand-in exited (${code}): ${err}`));
    });
  });
}

describe("terraform module: against the hashicorp/aws provider's schema", function () {
  this.timeout(180_000);

  before(function () {
    const missing = terraformMissing();
    if (missing) {
      console.log(`    skipping the real-schema tests: ${missing}`);
      this.skip();
    }
  });

  it("has extracts of the lowest 5.x and the newest 6.x, each naming its provider release and npm source", () => {
    assert.equal(EXTRACTS.length, 2, EXTRACTS.join(", "));
    const majors = EXTRACTS.map((f) => Number(f.split(/[-.]/)[1]));
    assert.deepEqual(majors, [5, 6]);
    for (const f of EXTRACTS) {
      const { source } = JSON.parse(readFileSync(join(SCHEMA_DIR, f), "utf8"));
      const version = f.replace(/^aws-|\.json$/g, "");
      assert.equal(source.provider, `${PROVIDER} ${version}`);
      assert.match(source.npm, /^@cdktf\/provider-aws@\d+\.\d+\.\d+$/);
    }
  });

  it("covers every resource and data source type the module and its example use", async () => {
    const used = new Set<string>();
    for (const dir of [MODULE_DIR, join(MODULE_DIR, "examples", "complete")]) {
      const m = await parseModule(dir);
      for (const doc of m.raw) {
        for (const t of Object.keys((doc.resource as object) ?? {})) used.add(`resource ${t}`);
        for (const t of Object.keys((doc.data as object) ?? {})) used.add(`data ${t}`);
      }
    }
    for (const f of EXTRACTS) {
      const p = JSON.parse(readFileSync(join(SCHEMA_DIR, f), "utf8")).provider_schemas[PROVIDER];
      for (const u of used) {
        const [kind, type] = u.split(" ");
        const schemas = kind === "resource" ? p.resource_schemas : p.data_source_schemas;
        assert.ok(schemas[type], `${f} has no schema for ${u}`);
      }
    }
    assert.ok(used.size >= 13, [...used].join(", "));
  });

  for (const extract of EXTRACTS) {
    describe(extract.replace(/\.json$/, ""), () => {
      let standin: ChildProcess | undefined;
      let scratch: TerraformScratch;
      let work: string;

      before(async () => {
        const started = await startStandin(extract);
        standin = started.child;
        scratch = new TerraformScratch({ TF_REATTACH_PROVIDERS: started.reattach });
        // A copy: init and test write nothing into the repository.
        work = mkdtempSync(join(tmpdir(), "tf-module-"));
        cpSync(MODULE_DIR, work, {
          recursive: true,
          filter: (src) => !/[/\\]\.terraform(\.lock\.hcl)?$/.test(src),
        });
      });

      after(() => {
        standin?.stdin?.end();
        standin?.kill();
        scratch?.dispose();
        if (work) rmSync(work, { recursive: true, force: true });
      });

      const init = (dir: string) =>
        scratch.ok(["init", "-backend=false", "-input=false", "-no-color"], dir);

      it("terraform validate: the root module is valid", () => {
        init(work);
        assert.match(scratch.ok(["validate", "-no-color"], work), /The configuration is valid/);
      });

      it("terraform validate: examples/complete is valid", () => {
        const example = join(work, "examples", "complete");
        init(example);
        assert.match(scratch.ok(["validate", "-no-color"], example), /The configuration is valid/);
      });

      it("terraform test: plans and applies the root module under mock_provider, every run passing", () => {
        const r = scratch.run(["test", "-no-color"], work);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const summary = /Success! (\d+) passed, 0 failed\./.exec(r.stdout);
        assert.ok(summary, r.stdout);
        assert.ok(Number(summary[1]) >= 7, `only ${summary[1]} runs`);
        assert.match(r.stdout, /run "three_groups_on_ec2_without_the_sweep"\.\.\. pass/);
      });

      for (const [what, from, to, message] of [
        [
          "a misspelled argument",
          "    task_count          = module.contract.ecs_target.task_count\n",
          "    task_count_x        = module.contract.ecs_target.task_count\n",
          /An argument named "task_count_x" is not expected here/,
        ],
        [
          "a missing required argument",
          '  assume_role_policy   = module.contract.ecs_tasks_assume_role_policy\n  tags                 = var.tags\n}\n\nresource "aws_iam_role_policy" "task"',
          '  tags                 = var.tags\n}\n\nresource "aws_iam_role_policy" "task"',
          /The argument "assume_role_policy" is required/,
        ],
        [
          "a block written as an attribute",
          "  runtime_platform {\n",
          "  runtime_platform = {\n",
          /An argument named "runtime_platform" is not expected here|Unsupported argument/,
        ],
      ] as const) {
        it(`negative control: ${what} fails terraform validate, named`, () => {
          const broken = mkdtempSync(join(tmpdir(), "tf-broken-"));
          try {
            cpSync(work, broken, { recursive: true });
            const main = readFileSync(join(broken, "main.tf"), "utf8");
            assert.ok(main.includes(from), `main.tf no longer has ${JSON.stringify(from)}`);
            writeFileSync(join(broken, "main.tf"), main.replace(from, to));
            const r = scratch.run(["validate", "-no-color"], broken);
            assert.notEqual(r.status, 0, "terraform validate accepted it");
            assert.match(r.stdout + r.stderr, message);
          } finally {
            rmSync(broken, { recursive: true, force: true });
          }
        });
      }
    });
  }
});

/**
 * Terraform itself, where it is on PATH: the module is `terraform fmt` clean, and modules/contract's own tests
 * (every validation rule, the rendered policies, pattern and template) pass offline with `terraform test`.
 * The root module needs the hashicorp/aws provider, which cannot be downloaded here, so it is not planned.
 */
import { strict as assert } from "node:assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { CONTRACT_DIR, MODULE_DIR, REPO } from "./hcl";
import { TerraformScratch, terraformMissing } from "./terraform";

describe("terraform CLI", function () {
  this.timeout(120_000);
  let scratch: TerraformScratch;
  const leftoversBefore = terraformLeftovers(MODULE_DIR);

  before(function () {
    const missing = terraformMissing();
    if (missing) {
      console.log(`    skipping the terraform CLI tests: ${missing}`);
      this.skip();
    }
    scratch = new TerraformScratch();
  });
  after(() => scratch?.dispose());

  it("finds the module formatted (terraform fmt -check -recursive)", () => {
    const r = scratch.run(["fmt", "-check", "-recursive", "-no-color", "terraform-module"], REPO);
    assert.equal(
      r.status,
      0,
      `terraform fmt would change: ${r.stdout}${r.stderr}\nrun: terraform fmt -recursive terraform-module`,
    );
  });

  it("runs modules/contract's terraform tests offline, every one passing", () => {
    scratch.ok(["init", "-backend=false", "-input=false", "-no-color"], CONTRACT_DIR);
    const r = scratch.run(["test", "-no-color"], CONTRACT_DIR);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const summary = /Success! (\d+) passed, 0 failed\./.exec(r.stdout);
    assert.ok(summary, r.stdout);
    const files = readdirSync(join(CONTRACT_DIR, "tests")).filter((f) => f.endsWith(".tftest.hcl"));
    assert.deepEqual(files.sort(), [
      "rejects_invalid_settings.tftest.hcl",
      "renders_policies_events_and_task.tftest.hcl",
    ]);
    assert.ok(Number(summary[1]) >= 40, `only ${summary[1]} terraform test runs passed`);
  });

  it("leaves nothing behind in the module's directories", () => {
    assert.deepEqual(terraformLeftovers(MODULE_DIR), leftoversBefore);
  });
});

/** Terraform's working files under `dir`: what a run that used the working tree would leave. */
function terraformLeftovers(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === ".terraform" || e.name.endsWith(".tfstate") || e.name === ".terraform.lock.hcl"
      ? [join(dir, e.name)]
      : e.isDirectory()
        ? terraformLeftovers(join(dir, e.name))
        : [],
  );
}

// The README is the front door: these checks keep what it says about the contract true.
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DECLARED_ACTIONS,
  ExitCode,
  OPERATOR_ACTIONS,
  SETTINGS,
  STATUS_ACTIONS,
} from "../drainer/src/contract";

const root = join(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
/** The cells of every Markdown table row, trimmed. */
const rows = readme
  .split("\n")
  .filter((l) => l.startsWith("|"))
  .map((l) =>
    l
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim()),
  );

const scripts = (
  JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts;

describe("README.md", () => {
  it("documents every setting with its flag and default", () => {
    for (const s of SETTINGS) {
      const row = rows.find((r) => r[0] === `\`${s.env}\``);
      assert.ok(row, `a configuration row for ${s.env}`);
      assert.equal(row[1], `\`--${s.flag}\``, `${s.env}'s flag`);
      if (s.default !== undefined) assert.equal(row[2], `\`${s.default}\``, `${s.env}'s default`);
    }
  });

  it("documents every exit code", () => {
    for (const code of Object.values(ExitCode).filter((v) => typeof v === "number")) {
      assert.ok(
        rows.some((r) => r[0] === `\`${code}\`` && r[1].length > 10),
        `exit code ${code}`,
      );
    }
  });

  it("lists every AWS action the drainer declares", () => {
    for (const a of DECLARED_ACTIONS) assert.ok(readme.includes(`\`${a.action}\``), a.action);
  });

  it("lists every action status needs in What `status` needs, the operator-only ones said to be so", () => {
    const start = readme.indexOf("#### What `status` needs");
    assert.ok(start >= 0, "the section");
    const section = readme.slice(start, readme.indexOf("\n#", start + 1));
    for (const a of STATUS_ACTIONS) assert.ok(section.includes(`\`${a}\``), a);
    assert.match(section, /`OPERATOR_ACTIONS`\): neither face grants it/);
    for (const a of OPERATOR_ACTIONS) {
      assert.ok(!DECLARED_ACTIONS.some((d) => d.action === a.action), a.action);
    }
  });

  it("gives a newcomer's two commands, and both exist", () => {
    assert.match(readme, /npm ci && npm run demo/);
    assert.match(readme, /^npm test\b/m);
    assert.ok(scripts.demo, "an npm script named demo");
    assert.ok(scripts.test, "an npm script named test");
  });

  it("tables every ScaleInDrainer arg, as the committed schema has them, here and in pulumi/README.md", () => {
    const schema = JSON.parse(readFileSync(join(root, "pulumi", "schema.json"), "utf8"));
    const component = schema.resources["ecs-scale-in-drainer:index:ScaleInDrainer"];
    const inputs = Object.keys(component.inputProperties).sort();
    const argRows = (text: string) =>
      text
        .split("\n")
        .filter((l) => l.startsWith("|"))
        .map((l) =>
          l
            .split("|")
            .slice(1, -1)
            .map((c) => c.trim()),
        )
        .filter((r) => /^`\w+`$/.test(r[0]) && inputs.includes(r[0].slice(1, -1)));
    const here = argRows(readme);
    const there = argRows(readFileSync(join(root, "pulumi", "README.md"), "utf8"));
    assert.deepEqual(here.map((r) => r[0].slice(1, -1)).sort(), inputs);
    assert.deepEqual(here, there, "the two tables say the same");
    for (const required of component.requiredInputs) {
      assert.equal(here.find((r) => r[0] === `\`${required}\``)![1], "required", required);
    }
  });
});

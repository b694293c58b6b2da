import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "../..");
const bundle = join(root, "dist", "drainer.js");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** `.release` as the Makefile reads it: KEY=VALUE lines. */
function release(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(root, ".release"), "utf8")
      .split("\n")
      .filter((l) => /^\w+=/.test(l))
      .map((l) => l.split("=", 2) as [string, string]),
  );
}

describe("the drainer bundle", () => {
  before(function () {
    try {
      statSync(bundle);
    } catch {
      throw new Error(`${bundle} is missing: run npm run build (npm test does it first)`);
    }
  });

  it("is one file under 1 MB", () => {
    assert.ok(statSync(bundle).size < 1024 * 1024, `${statSync(bundle).size} bytes`);
  });

  it("runs --help and --version from any directory, needing nothing beside it", () => {
    const help = spawnSync(process.execPath, [bundle, "--help"], {
      cwd: tmpdir(),
      encoding: "utf8",
    });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /Usage: drainer \[drain\]/);
    assert.match(help.stdout, /Exit codes: 0 every instance handled/);
    const version = spawnSync(process.execPath, [bundle, "--version"], {
      cwd: tmpdir(),
      encoding: "utf8",
    });
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it("exits 2 with the variable named when started without configuration", () => {
    const r = spawnSync(process.execPath, [bundle], {
      cwd: tmpdir(),
      encoding: "utf8",
      env: { PATH: process.env.PATH },
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /ECS_CLUSTER: is required/);
  });
});

describe("the image release", () => {
  it("make -n all builds, tags and pushes the image named in .release, at the package's version", function () {
    const { version, repository } = release();
    assert.equal(version, pkg.version, ".release and package.json name the same version");
    let out: string;
    try {
      out = execFileSync("make", ["-n", "all"], { cwd: root, encoding: "utf8" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        console.log("      (skipped: make is not installed)");
        this.skip();
      }
      throw err;
    }
    assert.deepEqual(out.trim().split("\n"), [
      `docker build --file drainer/Dockerfile --tag ${repository}:${version} .`,
      `docker tag ${repository}:${version} ${repository}:latest`,
      `docker push ${repository}:${version}`,
      `docker push ${repository}:latest`,
    ]);
  });

  it("the Dockerfile builds the bundle in one stage and runs it as a non-root user on a pinned Node 22 image", () => {
    const text = readFileSync(join(root, "drainer", "Dockerfile"), "utf8");
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    assert.match(
      image ?? "",
      /^public\.ecr\.aws\/docker\/library\/node:22\.\d+\.\d+-alpine[\d.]+$/,
      "ECR Public, pinned",
    );
    const froms = [...text.matchAll(/^FROM (\S+)(?: AS (\w+))?$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(froms, [
      ["${NODE_IMAGE}", "build"],
      ["${NODE_IMAGE}", undefined],
    ]);
    assert.match(text, /^RUN node drainer\/build\.mjs$/m);
    assert.match(text, /^COPY --from=build \/src\/dist\/drainer\.js \.\/drainer\.js$/m);
    const finalStage = text.slice(text.lastIndexOf("FROM "));
    assert.match(finalStage, /^USER 1000:1000$/m);
    assert.match(finalStage, /^ENTRYPOINT \["node", "\/app\/drainer\.js"\]$/m);
  });
});

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
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

  it("is one bundle under 1 MB, with its entry and V8's code cache beside it", () => {
    const program = join(root, "dist", "drainer.bundle.js");
    assert.ok(statSync(program).size < 1024 * 1024, `${statSync(program).size} bytes`);
    assert.ok(statSync(`${program}.cache`).size > 0, "the code cache was made at build time");
    assert.ok(statSync(bundle).size < 4096, "the entry only loads the bundle");
  });

  it("runs without its code cache too (a cache made by another Node is ignored the same way)", () => {
    const dir = mkdtempSync(join(tmpdir(), "drainer-"));
    try {
      copyFileSync(bundle, join(dir, "drainer.js"));
      copyFileSync(join(root, "dist", "drainer.bundle.js"), join(dir, "drainer.bundle.js"));
      writeFileSync(join(dir, "drainer.bundle.js.cache"), "not a V8 code cache");
      const r = spawnSync(process.execPath, [join(dir, "drainer.js"), "--version"], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), pkg.version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs --help and --version from any directory, needing nothing but dist/", () => {
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

describe("the npm package's command (npx ecs-scale-in-drainer)", function () {
  this.timeout(120_000);
  let dir: string;
  let tarball: string;

  before(function () {
    statSync(bundle); // built by npm test (npm run build)
    dir = mkdtempSync(join(tmpdir(), "drainer-pack-"));
    // --ignore-scripts: the bundle is built; prepack would rebuild lib/ and dist/ from nothing (it does on publish).
    const r = spawnSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
      cwd: root,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    tarball = join(dir, (JSON.parse(r.stdout) as { filename: string }[])[0].filename);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Installs the tarball as npm lays it out (the package, and its bin linked into node_modules/.bin), without deps. */
  function install(): string {
    const project = mkdtempSync(join(dir, "project-"));
    const pkgDir = join(project, "node_modules", "ecs-scale-in-drainer");
    mkdirSync(pkgDir, { recursive: true });
    const untar = spawnSync("tar", ["xzf", tarball, "-C", pkgDir, "--strip-components=1"]);
    assert.equal(untar.status, 0, String(untar.stderr));
    const { bin } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
    for (const [name, target] of Object.entries(bin))
      symlinkSync(
        join("..", "ecs-scale-in-drainer", target),
        join(project, "node_modules", ".bin", name),
      );
    return project;
  }

  it("is declared, ships with the bundle it runs, and runs status --help with no dependency installed", () => {
    const project = install();
    const command = join(project, "node_modules", ".bin", "ecs-scale-in-drainer");
    const help = spawnSync(command, ["status", "--help"], { cwd: project, encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: drainer status --cluster C --asg NAME\[,NAME\]/m);
    const version = spawnSync(command, ["--version"], { cwd: project, encoding: "utf8" });
    assert.equal(version.stdout.trim(), pkg.version);
    // A status with a bad option fails as the CLI does, so the command line reached the drainer.
    const bad = spawnSync(command, ["status"], { cwd: project, encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /ECS_CLUSTER: is required/);
  });

  it("negative: without dist/ (a copy installed from git, not built) it says how to build, exit 2", () => {
    const project = install();
    rmSync(join(project, "node_modules", "ecs-scale-in-drainer", "dist"), { recursive: true });
    const r = spawnSync(
      join(project, "node_modules", ".bin", "ecs-scale-in-drainer"),
      ["--version"],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /dist\/drainer\.js is missing: this copy of the package was not built\. Run `npm run build`/,
    );
  });

  it("publishing rebuilds the bundle it ships (prepack)", () => {
    const { scripts, files } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
      files: string[];
    };
    assert.match(scripts.prepack, /&& npm run build$/);
    for (const f of ["bin/", "dist/drainer.js", "dist/drainer.bundle.js"])
      assert.ok(files.includes(f), f);
  });
});

describe("the image release", () => {
  /** `make -n ARGS` in the repository: what make would run, without running it (no docker needed). */
  function makeDryRun(ctx: Mocha.Context, ...args: string[]) {
    const r = spawnSync("make", ["-n", ...args], { cwd: root, encoding: "utf8" });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      console.log("      (skipped: make is not installed)");
      ctx.skip();
    }
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
  }

  it(".release and package.json name the same version", () => {
    assert.equal(release().version, pkg.version);
  });

  it("make builds both architectures by default, for the platforms named, and pushes nothing", function () {
    const { version } = release();
    const build = `docker buildx build --file drainer/Dockerfile`;
    assert.deepEqual(makeDryRun(this), {
      status: 0,
      stdout: `${build} --platform linux/amd64,linux/arm64  --tag ecs-scale-in-drainer:${version} .`,
      stderr: "",
    });
    assert.equal(
      makeDryRun(this, "build", "PLATFORM=linux/arm64").stdout,
      `${build} --platform linux/arm64 --load --tag ecs-scale-in-drainer:${version} .`,
    );
  });

  it("make push refuses to run without REGISTRY, naming it, and runs no docker command", function () {
    for (const target of ["push", "all"]) {
      const r = makeDryRun(this, target);
      assert.notEqual(r.status, 0, `make -n ${target}`);
      assert.match(r.stderr, /make push needs REGISTRY, the registry to push to/);
      assert.equal(r.stdout, "", "nothing would run");
    }
    const blank = makeDryRun(this, "push", "REGISTRY= ");
    assert.notEqual(blank.status, 0, "a blank REGISTRY is no registry");
  });

  it("make push refuses the project's public path, which only the release workflow publishes to", function () {
    const publicPath = release().repository.replace(/\/[^/]+$/, "");
    const r = makeDryRun(this, "push", `REGISTRY=${publicPath}`);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /is the project's public path: only the release workflow publishes there/,
    );
    assert.equal(r.stdout, "");
  });

  it("the Makefile and the README say how to create the repository and log in before a push", () => {
    for (const file of ["Makefile", "README.md"]) {
      const text = readFileSync(join(root, file), "utf8");
      assert.match(text, /aws ecr create-repository --repository-name ecs-scale-in-drainer/, file);
      assert.match(
        text,
        /aws ecr get-login-password --region \S+ \| docker login --username AWS --password-stdin \S+/,
        file,
      );
    }
  });

  it("make push REGISTRY=... pushes both architectures there, with SBOM and provenance (the control)", function () {
    const { version } = release();
    const registry = "123456789012.dkr.ecr.us-west-2.amazonaws.com";
    assert.deepEqual(makeDryRun(this, "push", `REGISTRY=${registry}`), {
      status: 0,
      stdout:
        `docker buildx build --file drainer/Dockerfile --platform linux/amd64,linux/arm64 ` +
        `--sbom=true --provenance=mode=max --push --tag ${registry}/ecs-scale-in-drainer:${version} .`,
      stderr: "",
    });
  });

  it("keeps the build context small whichever builder runs: node_modules, .git, test/ and dist/ stay out", () => {
    const rules = (file: string) =>
      readFileSync(join(root, file), "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));
    // BuildKit reads drainer/Dockerfile.dockerignore; the legacy builder only the context's .dockerignore.
    assert.deepEqual(rules(".dockerignore"), rules("drainer/Dockerfile.dockerignore"));
    // Docker's rules: the last pattern that matches the path, or one of its parent directories, decides.
    const glob = (p: string) =>
      new RegExp(
        `^${p
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]")}$`,
      );
    const excluded = (path: string) => {
      let out = false;
      for (const rule of rules(".dockerignore")) {
        const negated = rule.startsWith("!");
        const re = glob(rule.replace(/^!/, "").replace(/\/$/, ""));
        const parts = path.split("/");
        const hit = parts.some((_, i) => re.test(parts.slice(0, i + 1).join("/")));
        if (hit) out = !negated;
      }
      return out;
    };
    for (const path of [
      "node_modules/esbuild/package.json",
      ".git/HEAD",
      "test/doubles/scripted.ts",
      "dist/drainer.js",
      "terraform-module/main.tf",
      "drainer/Dockerfile",
    ]) {
      assert.equal(excluded(path), true, `${path} stays out of the build context`);
    }
    for (const path of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "drainer/src/main.ts",
    ]) {
      assert.equal(excluded(path), false, `${path} is in the build context`);
    }
  });

  it("needs nothing from Docker Hub: no syntax directive (BuildKit would pull its frontend image from there)", () => {
    const text = readFileSync(join(root, "drainer", "Dockerfile"), "utf8");
    assert.doesNotMatch(text, /^#\s*syntax\s*=/im);
    for (const from of text.match(/^ARG NODE_IMAGE=.*$/m) ?? [])
      assert.match(from, /public\.ecr\.aws\//);
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
    assert.match(text, /^COPY --from=build \/src\/dist\/ \.\/$/m);
    const finalStage = text.slice(text.lastIndexOf("FROM "));
    assert.match(finalStage, /^USER 1000:1000$/m);
    assert.match(finalStage, /^ENTRYPOINT \["node", "\/app\/drainer\.js"\]$/m);
  });
});

import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
// The mocks must be installed before the component (and @pulumi/aws) is loaded.
import { installMocks, recorded, reset, settle, type Recorded } from "./harness";
import * as source from "../../pulumi";

/**
 * The npm package: what `npm install ecs-scale-in-drainer` gives a TypeScript program (the compiled lib/, found
 * through package.json's `exports`), next to what `pulumi package add` needs (the TypeScript source, found by the
 * component-package analyzer and by Pulumi's plugin host). Builds lib/ once with `npm run build:lib`, the script
 * that `prepare` and `prepack` run: about 15 s from nothing, 1 s when lib/ is up to date.
 */
const root = path.resolve(__dirname, "../..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const LIB_ENTRY = path.join(root, "lib", "pulumi", "index.js");
const SOURCE_ENTRY = path.join(root, "pulumi", "index.ts");

/** The pulumi/ sources that tsconfig.lib.json compiles: all but the provider, the schema writer and the program. */
const LIBRARY_SOURCES = fs
  .readdirSync(path.join(root, "pulumi"))
  .filter((f) => f.endsWith(".ts") && !["provider.ts", "generateSchema.ts"].includes(f))
  .map((f) => f.replace(/\.ts$/, ""));

/** Runs `node` without any TypeScript loader (no tsx, no ts-node), as a consumer's compiled program does. */
function plainNode(args: string[], cwd: string): string {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return execFileSync(process.execPath, args, { cwd, env, encoding: "utf8" });
}

/** A consumer project: node_modules/ecs-scale-in-drainer links to this repository, as `npm install <dir>` does. */
function consumerProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drainer-consumer-"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(root, path.join(dir, "node_modules", pkg.name), "dir");
  return dir;
}

describe("the npm package (TypeScript through npm)", function () {
  this.timeout(180_000);

  before(() => {
    try {
      execFileSync("npm", ["run", "--silent", "build:lib"], { cwd: root, encoding: "utf8" });
    } catch (err) {
      // tsc reports its errors on stdout.
      const { stdout, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`npm run build:lib failed:\n${stdout ?? ""}${stderr ?? ""}`);
    }
  });

  describe("npm pack", () => {
    let files: string[];
    before(() => {
      // --ignore-scripts: lib/ is built above; prepack would rebuild it from nothing.
      const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: root,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      files = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    });

    it("ships exactly lib/, pulumi/, drainer/, bin/ and the bundle (the operator CLI), PulumiPlugin.yaml, the tsconfigs, the README, the LICENSE, package.json and the image's .dockerignore", () => {
      // .dockerignore: the component builds the image from the installed package, with whichever builder Docker has.
      assert.deepEqual([...new Set(files.map((f) => f.split("/")[0]))].sort(), [
        ".dockerignore",
        "LICENSE",
        "PulumiPlugin.yaml",
        "README.md",
        "bin",
        "dist",
        "drainer",
        "lib",
        "package.json",
        "pulumi",
        "tsconfig.json",
        "tsconfig.lib.json",
      ]);
    });

    it("ships the compiled JavaScript and declarations of every library module, and what they import from drainer/src", () => {
      const expected = [
        ...LIBRARY_SOURCES.map((m) => `pulumi/${m}`),
        // The modules outside pulumi/ that the library imports.
        "drainer/src/contract",
      ].flatMap((m) => [`lib/${m}.js`, `lib/${m}.d.ts`]);
      const shipped = files.filter((f) => f.startsWith("lib/") && /\.(js|d\.ts)$/.test(f));
      assert.deepEqual(shipped.sort(), expected.sort());
      assert.ok(files.includes("lib/pulumi/index.js") && files.includes("lib/pulumi/index.d.ts"));
      assert.ok(!files.includes("lib/.tsbuildinfo"), "tsc's build state stays out");
    });

    it("ships what the component-package route and the image build read: PulumiPlugin.yaml, the sources, the Dockerfile", () => {
      for (const f of [
        "PulumiPlugin.yaml",
        "tsconfig.json",
        "pulumi/index.ts",
        "pulumi/provider.ts",
        "pulumi/schema.json",
        "drainer/Dockerfile",
        "drainer/Dockerfile.dockerignore",
        "drainer/build.mjs",
        "drainer/src/main.ts",
        "drainer/src/contract.ts",
      ]) {
        assert.ok(files.includes(f), `${f} is in the package`);
      }
    });

    it("ships the image's whole build context: package.json, tsconfig.json and every file under drainer/", () => {
      const walk = (dir: string): string[] =>
        fs
          .readdirSync(path.join(root, dir), { withFileTypes: true })
          .flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
      const context = ["package.json", "tsconfig.json", ...walk("drainer")];
      assert.ok(context.includes("drainer/src/main.ts"));
      assert.deepEqual(
        context.filter((f) => !files.includes(f)),
        [],
      );
    });

    it("ships no tests, no Terraform module and no lockfile; of dist/, only the bundle the CLI runs", () => {
      assert.deepEqual(
        files.filter((f) => /^(test|terraform-module|node_modules)\/|^package-lock\.json$/.test(f)),
        [],
      );
      assert.deepEqual(files.filter((f) => f.startsWith("dist/")).sort(), [
        "dist/drainer.bundle.js",
        "dist/drainer.bundle.js.cache",
        "dist/drainer.js",
      ]);
    });
  });

  describe("resolution", () => {
    it("is public, with main, types and exports naming files that exist", () => {
      assert.equal(pkg.private, false);
      assert.equal(pkg.main, "lib/pulumi/plugin.js");
      assert.equal(pkg.types, "lib/pulumi/index.d.ts");
      assert.deepEqual(pkg.exports, {
        ".": {
          types: "./lib/pulumi/index.d.ts",
          node: "./lib/pulumi/index.js",
          default: "./pulumi/index.ts",
        },
        "./package.json": "./package.json",
      });
      for (const f of [pkg.main, pkg.types, ...Object.values<string>(pkg.exports["."])]) {
        assert.ok(fs.existsSync(path.join(root, f)), f);
      }
    });

    it("Node resolves the package name to the compiled JavaScript, for require and for import, and loads no TypeScript", () => {
      const dir = consumerProject();
      try {
        const out = plainNode(
          [
            "--input-type=module",
            "-e",
            `
import { createRequire } from "node:module";
import * as imported from ${JSON.stringify(pkg.name)};
const require = createRequire(import.meta.url);
const required = require(${JSON.stringify(pkg.name)});
const pulumi = createRequire(require.resolve(${JSON.stringify(pkg.name)}))("@pulumi/pulumi");
console.log(JSON.stringify({
  required: require.resolve(${JSON.stringify(pkg.name)}),
  imported: import.meta.resolve(${JSON.stringify(pkg.name)}),
  requiredNames: Object.keys(required).sort(),
  importedNames: Object.keys(imported).filter((k) => k !== "default" && k !== "__esModule").sort(),
  isComponent: required.ScaleInDrainer.prototype instanceof pulumi.ComponentResource,
  sameClass: imported.ScaleInDrainer === required.ScaleInDrainer,
  typescriptLoaded: Object.keys(require.cache).filter((f) => /\\.[cm]?tsx?$/.test(f)),
}));`,
          ],
          dir,
        );
        const r = JSON.parse(out);
        assert.equal(r.required, LIB_ENTRY);
        assert.equal(r.imported, `file://${LIB_ENTRY}`);
        // The compiled package exports exactly what the source exports.
        // (tsx keeps the source's type-only re-exports, such as ScaleInDrainerArgs, as undefined values.)
        const sourceValues = Object.entries(source).filter(([, v]) => v !== undefined);
        assert.deepEqual(r.requiredNames, sourceValues.map(([k]) => k).sort());
        assert.deepEqual(r.importedNames, r.requiredNames);
        assert.ok(r.requiredNames.includes("ScaleInDrainer"));
        assert.equal(r.isComponent, true);
        assert.equal(r.sameClass, true);
        assert.deepEqual(r.typescriptLoaded, []);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("TypeScript resolves the package name to the compiled declarations", () => {
      const dir = consumerProject();
      try {
        for (const moduleResolution of [
          ts.ModuleResolutionKind.NodeNext,
          ts.ModuleResolutionKind.Bundler,
        ]) {
          const resolved = ts.resolveModuleName(
            pkg.name,
            path.join(dir, "index.ts"),
            {
              module:
                moduleResolution === ts.ModuleResolutionKind.NodeNext
                  ? ts.ModuleKind.NodeNext
                  : ts.ModuleKind.ESNext,
              moduleResolution,
            },
            ts.sys,
          ).resolvedModule;
          assert.equal(
            resolved && fs.realpathSync(resolved.resolvedFileName),
            path.join(root, "lib", "pulumi", "index.d.ts"),
            ts.ModuleResolutionKind[moduleResolution],
          );
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the component-package analyzer's rules (exports default, then main) still find the TypeScript source", () => {
      // The real rules, run against the files of this package's TypeScript program (what tsconfig.json includes).
      const { Analyzer } = require("@pulumi/pulumi/provider/experimental/analyzer");
      const config = ts.readConfigFile(path.join(root, "tsconfig.json"), ts.sys.readFile);
      const programFiles = new Set(
        ts
          .parseJsonConfigFileContent(config.config, ts.sys, root)
          .fileNames.map((f) => path.resolve(f)),
      );
      const entry = Analyzer.prototype.findProgramEntryPoint.call({
        dir: root,
        packageJSON: pkg,
        program: {
          getSourceFile: (f: string) =>
            programFiles.has(path.resolve(f)) ? { fileName: path.resolve(f) } : undefined,
        },
      });
      assert.equal(entry.fileName, SOURCE_ENTRY);
    });

    it("Pulumi's plugin host, which requires the package's directory, gets the compiled plugin entry from main", () => {
      // @pulumi/pulumi/cmd/run-plugin does `require(<plugin directory>)` after registering ts-node with the
      // consumer's tsconfig.json: compiled JavaScript is not type-checked against it (test/pulumi/plugin-protocol).
      assert.equal(require.resolve(root), path.join(root, "lib", "pulumi", "plugin.js"));
      const entry = require(root);
      assert.equal(typeof entry, "function", "run-plugin calls an exported function");
      const { getPulumiComponents } = require("@pulumi/pulumi/provider/experimental");
      assert.deepEqual(
        getPulumiComponents(entry),
        [],
        "no components: run-plugin must not host them itself",
      );
    });
  });

  describe("the compiled component", () => {
    before(installMocks);

    /** Constructs a ScaleInDrainer from `lib` in another directory, as a consumer's program does. */
    async function construct(
      lib: typeof source,
      name: string,
    ): Promise<{ resources: Recorded[]; imageUri: string }> {
      reset();
      const cwd = process.cwd();
      process.chdir(os.tmpdir());
      let drainer: InstanceType<typeof source.ScaleInDrainer>;
      // The component creates its children once its args are checked, after `new` returns: the program stays in the
      // other directory until they are registered.
      try {
        drainer = new lib.ScaleInDrainer(name, {
          clusterName: "prod",
          autoscalingGroupNames: ["asg-a", "asg-b"],
          subnetIds: ["subnet-1"],
          securityGroupIds: ["sg-1"],
          launchType: lib.LaunchType.Ec2,
        });
        await settle();
      } finally {
        process.chdir(cwd);
      }
      const imageUri = await new Promise<string>((resolve) => drainer.imageUri.apply(resolve));
      const resources = recorded
        .filter((r) => !r.type.startsWith("pulumi:providers:"))
        .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
      return { resources, imageUri };
    }

    it("registers exactly the resources, inputs and parents the source does, and builds this package's Dockerfile", async () => {
      const compiled: typeof source = require(LIB_ENTRY);
      assert.notEqual(compiled.ScaleInDrainer, source.ScaleInDrainer, "a separate module");
      const fromSource = await construct(source, "drainer");
      const fromLib = await construct(compiled, "drainer");
      assert.ok(fromSource.resources.length > 20, `${fromSource.resources.length} resources`);
      assert.deepEqual(fromLib, fromSource);

      // lib/pulumi is one level deeper than pulumi/: the build context is still the package root.
      const image = fromLib.resources.find((r) => r.type === "awsx:ecr:Image")!.inputs;
      assert.equal(path.resolve(os.tmpdir(), image.context), root);
      assert.equal(image.dockerfile, path.join(root, "drainer", "Dockerfile"));
    });
  });

  describe("the drainer image, built from an installed copy (npm never publishes package-lock.json)", () => {
    const dockerfile = fs.readFileSync(path.join(root, "drainer", "Dockerfile"), "utf8");
    /** The build stage's instructions, with continuation lines joined and comments dropped. */
    const buildStage = dockerfile
      .slice(dockerfile.indexOf("FROM ${NODE_IMAGE} AS build"), dockerfile.lastIndexOf("\nFROM "))
      .replace(/\\\n\s*/g, "")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));

    it("copies package.json with the lockfile when there is one, then the tsconfig and drainer/", () => {
      assert.deepEqual(buildStage, [
        "FROM ${NODE_IMAGE} AS build",
        "WORKDIR /src",
        "COPY package*.json ./",
        "RUN if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund; " +
          "else npm install --ignore-scripts --no-audit --no-fund; fi",
        "COPY tsconfig.json ./",
        "COPY drainer ./drainer",
        "RUN node drainer/build.mjs",
      ]);
    });

    it("installs with npm ci from a checkout and with npm install from a packed copy, never running scripts", () => {
      const install = buildStage.find((l) => l.startsWith("RUN if "))!.slice("RUN ".length);
      const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fake-npm-"));
      fs.writeFileSync(path.join(bin, "npm"), '#!/bin/sh\necho "npm $*"\n', { mode: 0o755 });
      const run = (withLockfile: boolean) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "build-stage-"));
        fs.writeFileSync(path.join(dir, "package.json"), "{}");
        if (withLockfile) fs.writeFileSync(path.join(dir, "package-lock.json"), "{}");
        try {
          return execFileSync("/bin/sh", ["-c", install], {
            cwd: dir,
            encoding: "utf8",
            env: { PATH: `${bin}:${process.env.PATH}` },
          }).trim();
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      };
      try {
        assert.equal(run(true), "npm ci --ignore-scripts --no-audit --no-fund");
        assert.equal(run(false), "npm install --ignore-scripts --no-audit --no-fund");
      } finally {
        fs.rmSync(bin, { recursive: true, force: true });
      }
    });
  });
});

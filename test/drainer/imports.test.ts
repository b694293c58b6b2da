/**
 * The project's import structure (drainer/src and pulumi): no import circle, type imports included, and the drain's
 * data model and rules import little. Read from the import statements themselves, so that a circle a bundler or
 * `import type` would tolerate still fails.
 */
import { strict as assert } from "assert";
import { existsSync, readFileSync, readdirSync, statSync } from "fs";
import { dirname, join, relative, resolve } from "path";

const ROOT = resolve(__dirname, "../..");
const SOURCE_DIRS = ["drainer/src", "pulumi"];

/** Every .ts file under `dir`, as a path relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/**
 * The relative modules a file imports or re-exports (`import`, `import type`, `export ... from`, `import()`,
 * `require()`), resolved to files of the repository.
 */
export function importsOf(file: string, text: string): string[] {
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
    ...text.matchAll(/\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return [
    ...new Set(
      specifiers
        .filter((s) => s.startsWith("."))
        .map((s) => resolveModule(join(dirname(file), s)))
        .filter((p): p is string => p !== undefined),
    ),
  ];
}

function resolveModule(base: string): string | undefined {
  for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
    const abs = join(ROOT, candidate);
    if (existsSync(abs) && statSync(abs).isFile()) return relative(ROOT, abs);
  }
  return undefined;
}

/** Every import circle of a graph, each as the files along it (each circle once, from its least file). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found = new Map<string, string[]>();
  const visit = (path: string[], onPath: Set<string>) => {
    const here = path[path.length - 1];
    for (const next of graph.get(here) ?? []) {
      if (next === path[0]) {
        const key = [...path].sort().join(" ");
        if (!found.has(key)) found.set(key, [...path, next]);
      } else if (!onPath.has(next) && next > path[0]) {
        onPath.add(next);
        visit([...path, next], onPath);
        onPath.delete(next);
      }
    }
  };
  for (const start of [...graph.keys()].sort()) visit([start], new Set([start]));
  return [...found.values()];
}

function projectGraph(): Map<string, string[]> {
  const files = SOURCE_DIRS.flatMap(sources);
  return new Map(files.map((f) => [f, importsOf(f, readFileSync(join(ROOT, f), "utf8"))]));
}

describe("the project's imports", () => {
  const graph = projectGraph();

  it("are read from every statement form, type imports included (negative control: a synthetic circle is found)", () => {
    const a = "drainer/src/drain/a.ts";
    const text = [
      'import type { X } from "./state";',
      'import {\n  Y,\n  Z,\n} from "../aws";',
      'export { W } from "./rules";',
      'const m = require("./pacer");',
    ].join("\n");
    assert.deepEqual(importsOf(a, text).sort(), [
      "drainer/src/aws.ts",
      "drainer/src/drain/pacer.ts",
      "drainer/src/drain/rules.ts",
      "drainer/src/drain/state.ts",
    ]);
    const synthetic = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts", "d.ts"]],
      ["d.ts", []],
    ]);
    assert.deepEqual(circles(synthetic), [["a.ts", "b.ts", "c.ts", "a.ts"]]);
    assert.deepEqual(
      circles(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", []],
        ]),
      ),
      [],
    );
  });

  it("form no circle anywhere in drainer/src or pulumi", () => {
    assert.ok(graph.size > 20, `read only ${graph.size} files`);
    assert.deepEqual(
      circles(graph).map((c) => c.join(" -> ")),
      [],
    );
  });

  it("leave the drain's data model (drain/state.ts) importing nothing from drain/", () => {
    const drainImports = (graph.get("drainer/src/drain/state.ts") ?? []).filter((f) =>
      f.startsWith("drainer/src/drain/"),
    );
    assert.deepEqual(drainImports, []);
  });

  it("leave the safety rules and the pacer importing at most drain/state.ts from drain/", () => {
    for (const file of ["drainer/src/drain/rules.ts", "drainer/src/drain/pacer.ts"]) {
      const drainImports = (graph.get(file) ?? []).filter(
        (f) => f.startsWith("drainer/src/drain/") && f !== "drainer/src/drain/state.ts",
      );
      assert.deepEqual(drainImports, [], file);
    }
  });
});

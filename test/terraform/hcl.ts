/**
 * Reads the Terraform module's `.tf` files with @cdktf/hcl2json, the way Terraform itself would see them.
 */
import { parse } from "@cdktf/hcl2json";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

export const REPO = join(__dirname, "..", "..");
export const MODULE_DIR = join(REPO, "terraform-module");
export const CONTRACT_DIR = join(MODULE_DIR, "modules", "contract");
export const EXAMPLE_DIR = join(MODULE_DIR, "examples", "complete");

/** One `variable` block as hcl2json gives it. Expressions are `${...}` strings. */
export interface VariableBlock {
  description?: string;
  type?: string;
  default?: unknown;
  nullable?: boolean;
  validation?: { condition: string; error_message: string }[];
}

export interface OutputBlock {
  description?: string;
  value?: unknown;
}

/** The blocks of one Terraform module (one directory), merged across its files. */
export interface ParsedModule {
  dir: string;
  files: string[];
  variable: Record<string, VariableBlock>;
  output: Record<string, OutputBlock>;
  locals: Record<string, unknown>;
  module: Record<string, Record<string, unknown>>;
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data: Record<string, Record<string, Record<string, unknown>>>;
  /** Every block, for scans over all expressions. */
  raw: Record<string, unknown>[];
}

/** The `.tf` files of every module directory under `root` (skipping `.terraform`), relative to it. */
export function tfFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".tf")) out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

function one<T>(blocks: T[] | undefined, what: string): T {
  if (!blocks || blocks.length !== 1)
    throw new Error(`${what} is declared ${blocks?.length} times`);
  return blocks[0];
}

/** Parses the `.tf` files directly in `dir` (one module) and merges their blocks, failing on duplicates. */
export async function parseModule(dir: string): Promise<ParsedModule> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort();
  const parsed: ParsedModule = {
    dir,
    files,
    variable: {},
    output: {},
    locals: {},
    module: {},
    resource: {},
    data: {},
    raw: [],
  };
  const add = <T>(into: Record<string, T>, name: string, value: T, what: string) => {
    if (name in into) throw new Error(`${what} ${name} is declared twice in ${dir}`);
    into[name] = value;
  };
  for (const file of files) {
    const doc = await parse(file, readFileSync(join(dir, file), "utf8"));
    parsed.raw.push(doc);
    for (const [name, blocks] of Object.entries(doc.variable ?? {}))
      add(parsed.variable, name, one(blocks as VariableBlock[], `variable ${name}`), "variable");
    for (const [name, blocks] of Object.entries(doc.output ?? {}))
      add(parsed.output, name, one(blocks as OutputBlock[], `output ${name}`), "output");
    for (const block of (doc.locals ?? []) as Record<string, unknown>[])
      for (const [name, value] of Object.entries(block)) add(parsed.locals, name, value, "local");
    for (const [name, blocks] of Object.entries(doc.module ?? {}))
      add(
        parsed.module,
        name,
        one(blocks as Record<string, unknown>[], `module ${name}`),
        "module",
      );
    for (const kind of ["resource", "data"] as const) {
      for (const [type, byName] of Object.entries(doc[kind] ?? {})) {
        parsed[kind][type] ??= {};
        for (const [name, blocks] of Object.entries(byName as Record<string, unknown[]>)) {
          add(
            parsed[kind][type],
            name,
            one(blocks as Record<string, unknown>[], `${type}.${name}`),
            kind,
          );
        }
      }
    }
  }
  return parsed;
}

/** Every string in a parsed value: the expressions and literals Terraform evaluates. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The distinct names `prefix.NAME` refers to across `texts` (e.g. `var`, `local`, `module.contract`). */
export function referencedNames(texts: string[], prefix: string): string[] {
  const pattern = new RegExp(
    `(?<![\\w.])${prefix.replace(/\./g, "\\.")}\\.([A-Za-z_][\\w-]*)`,
    "g",
  );
  const names = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(pattern)) names.add(m[1]);
  return [...names].sort();
}

/** The single block of a resource or data source, failing when it is missing. */
export function block(
  mod: ParsedModule,
  kind: "resource" | "data",
  type: string,
  name: string,
): Record<string, unknown> {
  const found = mod[kind][type]?.[name];
  if (!found) throw new Error(`${kind} ${type}.${name} is not declared in ${mod.dir}`);
  return found;
}

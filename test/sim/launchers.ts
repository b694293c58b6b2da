/**
 * Ways to start a drainer against the simulator: the real bundle as a child process (what ECS runs), the drainer
 * in-process (for benchmarks with hundreds of drains), or any other program written against the same contract
 * (the seed baseline, the negative control).
 */
import { ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runDrainer } from "../../drainer/src/run";

/** A started drainer. */
export interface DrainerHandle {
  /** The exit code: 0, 1, 2, or 143 after SIGTERM. */
  readonly exit: Promise<number>;
  /** SIGTERM (a child process) or an abort (in-process). */
  kill(): void;
  /** Its stdout, one JSON log line each. */
  readonly lines: string[];
  /** Its stderr (child processes only). */
  readonly stderr: string[];
}

export interface LaunchContext {
  readonly endpoint: string;
  readonly region: string;
  /** The SDK's AWS_MAX_ATTEMPTS; undefined keeps the SDK's default (3). */
  readonly maxAttempts?: number;
}

/** Starts one drainer with the task's environment. */
export type DrainerLauncher = (
  env: Readonly<Record<string, string>>,
  ctx: LaunchContext,
) => DrainerHandle;

export const BUNDLE = join(__dirname, "..", "..", "dist", "drainer.js");

/** Fake credentials: the simulator does not check signatures, but the SDK insists on signing. */
export const FAKE_CREDENTIALS = {
  accessKeyId: "AKIASIMULATOR0000000",
  secretAccessKey: "simulator",
};

function splitLines(into: string[]): (chunk: string) => void {
  let rest = "";
  return (chunk: string) => {
    rest += chunk;
    const parts = rest.split("\n");
    rest = parts.pop()!;
    for (const p of parts) if (p.trim() !== "") into.push(p);
  };
}

/** The real bundle, `node dist/drainer.js`, with only the environment ECS would give it plus the SDK's variables. */
export function bundleLauncher(bundle = BUNDLE): DrainerLauncher {
  if (!existsSync(bundle)) {
    throw new Error(`${bundle} does not exist: run \`npm run build\` first.`);
  }
  return (env, ctx) => {
    const lines: string[] = [];
    const stderr: string[] = [];
    const child: ChildProcess = spawn(process.execPath, [bundle], {
      env: {
        PATH: process.env.PATH ?? "",
        AWS_ENDPOINT_URL: ctx.endpoint,
        AWS_REGION: ctx.region,
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: "true",
        ...(ctx.maxAttempts !== undefined ? { AWS_MAX_ATTEMPTS: String(ctx.maxAttempts) } : {}),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.setEncoding("utf8").on("data", splitLines(lines));
    child.stderr!.setEncoding("utf8").on("data", splitLines(stderr));
    const exit = new Promise<number>((resolve) => {
      child.on("close", (code, signal) => {
        resolve(code ?? (signal === "SIGTERM" ? 143 : signal === "SIGKILL" ? 137 : 128));
      });
      child.on("error", (err) => {
        stderr.push(String(err));
        resolve(-1);
      });
    });
    return { exit, lines, stderr, kill: () => void child.kill("SIGTERM") };
  };
}

/** The drainer's own code in this process: hundreds of drains without hundreds of processes. */
export function inProcessLauncher(): DrainerLauncher {
  return (env, ctx) => {
    const lines: string[] = [];
    const stderr: string[] = [];
    const abort = new AbortController();
    const push = splitLines(lines);
    const exit = runDrainer(
      [],
      { ...env },
      {
        write: (line) => push(line.endsWith("\n") ? line : `${line}\n`),
        writeError: (line) => stderr.push(line),
        signal: abort.signal,
        clientConfig: {
          endpoint: ctx.endpoint,
          region: ctx.region,
          credentials: FAKE_CREDENTIALS,
          ...(ctx.maxAttempts !== undefined ? { maxAttempts: ctx.maxAttempts } : {}),
        },
      },
    ).catch((err: unknown) => {
      stderr.push(String((err as Error)?.stack ?? err));
      return -1;
    });
    return { exit, lines, stderr, kill: () => abort.abort() };
  };
}

/** Parses a drainer's JSON log lines; lines that are not JSON are kept as `{ msg: line, unparsed: true }`. */
export function parseLogLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.map((l) => {
    try {
      const v = JSON.parse(l) as unknown;
      return v !== null && typeof v === "object"
        ? (v as Record<string, unknown>)
        : { msg: l, unparsed: true };
    } catch {
      return { msg: l, unparsed: true };
    }
  });
}

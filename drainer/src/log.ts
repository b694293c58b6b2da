/** Structured logs: one JSON object per line, with the same keys on every line. */

export type Level = "debug" | "info" | "warn" | "error";

/** The keys every line carries (null where they do not apply), so that log queries never miss a field. */
export interface LogContext {
  readonly cluster: string | null;
  readonly asg: string | null;
  readonly hook: string | null;
  readonly instanceId: string | null;
}

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry this context (instance, group, ...) too. */
  with(context: Partial<LogContext>): Logger;
}

export function createLogger(
  write: (line: string) => void,
  context: LogContext = { cluster: null, asg: null, hook: null, instanceId: null },
  now: () => Date = () => new Date(),
): Logger {
  return {
    log(level, msg, fields = {}) {
      const { action = null, ...rest } = fields;
      write(JSON.stringify({ time: now().toISOString(), level, msg, ...context, action, ...rest }));
    },
    with(more) {
      return createLogger(write, { ...context, ...more }, now);
    },
  };
}

/** An error as one line of a log field: `Name: message`. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

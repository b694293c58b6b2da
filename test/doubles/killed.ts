/**
 * The one definition of a killed task, for every fake world and the simulator: a task is killed when its instance
 * terminates while the task is not STOPPED.
 */

/** "CONTINUE" and "ABANDON" as CompleteLifecycleAction (or the hook's DefaultResult) ends an action. */
export type LifecycleResult = "CONTINUE" | "ABANDON";

/**
 * Whether ending a terminate hook's action terminates the instance: CONTINUE always does; ABANDON does too, unless
 * the group's instance lifecycle policy retains the instance on an abandoned terminate hook (TerminateHookAbandon
 * "retain").
 */
export function terminatesInstance(result: string, terminateHookAbandon?: string): boolean {
  return result === "CONTINUE" || (result === "ABANDON" && terminateHookAbandon !== "retain");
}

/**
 * The tasks killed when their instance terminates: those whose lastStatus at that moment is not STOPPED.
 * `lastStatusAt` answers undefined for a task that was not there yet.
 */
export function killedTasks<T>(
  tasks: Iterable<T>,
  lastStatusAt: (task: T) => string | undefined,
): T[] {
  return [...tasks].filter((t) => {
    const status = lastStatusAt(t);
    return status !== undefined && status !== "STOPPED";
  });
}

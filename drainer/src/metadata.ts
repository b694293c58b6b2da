/** The drainer's own task, from the ECS task metadata endpoint v4, so that it never waits for itself. */

export interface OwnTask {
  readonly taskArn: string;
  readonly cluster: string;
  /** The task definition family: a sweep looks for other sweeps of the same deployment by it. */
  readonly family?: string;
}

/** The cluster's name, from a name or an ARN. */
export function clusterName(nameOrArn: string): string {
  const i = nameOrArn.indexOf(":cluster/");
  return i >= 0 ? nameOrArn.slice(i + ":cluster/".length) : nameOrArn;
}

/** Attempts at the metadata endpoint, and the wait before each retry (doubling). */
export const METADATA_ATTEMPTS = 4;
const METADATA_RETRY_MS = 250;

/**
 * Reads `$ECS_CONTAINER_METADATA_URI_V4/task`. Undefined when the variable is not set (not running as an ECS task).
 * Throws when it is set but cannot be read in METADATA_ATTEMPTS tries of 2 s each (250, 500, 1000 ms apart): without
 * its own task ARN a drainer cannot tell whether it leads, so a slow endpoint at start is worth a few seconds.
 */
export async function readOwnTask(
  metadataUri: string | undefined,
  fetchImpl: typeof fetch = fetch,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<OwnTask | undefined> {
  if (!metadataUri) return undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetchImpl(`${metadataUri}/task`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`task metadata answered HTTP ${res.status}`);
      const body = (await res.json()) as { TaskARN?: string; Cluster?: string; Family?: string };
      if (!body.TaskARN || !body.Cluster)
        throw new Error("task metadata has no TaskARN or Cluster");
      return { taskArn: body.TaskARN, cluster: body.Cluster, family: body.Family || undefined };
    } catch (err) {
      if (attempt >= METADATA_ATTEMPTS) throw err;
      await sleep(METADATA_RETRY_MS * 2 ** (attempt - 1));
    }
  }
}

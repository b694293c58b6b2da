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

/**
 * Reads `$ECS_CONTAINER_METADATA_URI_V4/task`. Undefined when the variable is not set (not running as an ECS task).
 * Throws when it is set but cannot be read.
 */
export async function readOwnTask(
  metadataUri: string | undefined,
  fetchImpl: typeof fetch = fetch,
): Promise<OwnTask | undefined> {
  if (!metadataUri) return undefined;
  const res = await fetchImpl(`${metadataUri}/task`, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`task metadata answered HTTP ${res.status}`);
  const body = (await res.json()) as { TaskARN?: string; Cluster?: string; Family?: string };
  if (!body.TaskARN || !body.Cluster) throw new Error("task metadata has no TaskARN or Cluster");
  return { taskArn: body.TaskARN, cluster: body.Cluster, family: body.Family || undefined };
}

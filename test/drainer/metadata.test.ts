// The drainer's own task, from the ECS task metadata endpoint v4 (drainer/src/metadata.ts).
import { strict as assert } from "node:assert";
import { METADATA_ATTEMPTS, clusterName, readOwnTask } from "../../drainer/src/metadata";

describe("the task metadata (metadata.ts)", () => {
  it("is nothing to read outside ECS (no ECS_CONTAINER_METADATA_URI_V4)", async () => {
    let fetched = 0;
    const fetchImpl = (async () => {
      fetched++;
      return new Response("{}");
    }) as unknown as typeof fetch;
    assert.equal(await readOwnTask(undefined, fetchImpl), undefined);
    assert.equal(fetched, 0);
  });

  it("reads the task's ARN, cluster and family", async () => {
    const fetchImpl = (async () =>
      new Response(
        JSON.stringify({
          TaskARN: "arn:task/x",
          Cluster: "arn:aws:ecs:us-west-2:1:cluster/prod",
          Family: "d",
        }),
      )) as unknown as typeof fetch;
    const own = await readOwnTask("http://169.254.170.2/v4/abc", fetchImpl, async () => undefined);
    assert.deepEqual(own, {
      taskArn: "arn:task/x",
      cluster: "arn:aws:ecs:us-west-2:1:cluster/prod",
      family: "d",
    });
    assert.equal(clusterName(own!.cluster), "prod");
  });

  it("retries a task metadata endpoint that fails at first, and gives up after four tries", async () => {
    const waits: number[] = [];
    const flaky = (failures: number) => {
      let calls = 0;
      return (async () => {
        if (calls++ < failures)
          throw new Error("TimeoutError: The operation was aborted due to timeout");
        return new Response(JSON.stringify({ TaskARN: "arn:task/x", Cluster: "prod" }));
      }) as unknown as typeof fetch;
    };
    const sleep = async (ms: number) => void waits.push(ms);
    const own = await readOwnTask("http://169.254.170.2/v4/abc", flaky(3), sleep);
    assert.equal(own?.taskArn, "arn:task/x");
    assert.deepEqual(waits, [250, 500, 1000]);
    assert.equal(METADATA_ATTEMPTS, 4);
    // Negative control: one failure more than it tries is an error, after the same waits.
    waits.length = 0;
    await assert.rejects(
      readOwnTask("http://169.254.170.2/v4/abc", flaky(4), sleep),
      /TimeoutError/,
    );
    assert.deepEqual(waits, [250, 500, 1000]);
  });
});

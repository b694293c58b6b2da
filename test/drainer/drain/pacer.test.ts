import { strict as assert } from "node:assert";
import { ReadPacer } from "../../../drainer/src/drain";
import { virtualClock } from "../../doubles/clock";

describe("ReadPacer (ECS_READS_PER_SECOND)", () => {
  it("lets a burst of one second's worth through, then paces every further read at the rate", async () => {
    const clock = virtualClock();
    const pacer = new ReadPacer(10, clock.now, clock.sleep, new AbortController().signal);
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        await pacer.take(1);
        times.push(clock.now());
      }),
    );
    assert.equal(times.filter((t) => t === 0).length, 10, "the burst");
    // Any 1-second window holds at most the burst plus the refill: 10 + 10, and the 40 take 3 s.
    for (const from of times) {
      const inWindow = times.filter((t) => t >= from && t < from + 1000).length;
      assert.ok(inWindow <= 20, `${inWindow} reads in the second from ${from} ms`);
    }
    assert.equal(Math.max(...times), 3000);
  });

  it("counts a batched call as several reads, and pages already read as debt", async () => {
    const clock = virtualClock();
    const pacer = new ReadPacer(10, clock.now, clock.sleep, new AbortController().signal);
    await pacer.take(10);
    pacer.spend(5);
    await pacer.take(1);
    // The bucket is 5 tokens in debt: the next read waits for 6 tokens of refill, 0.6 s.
    assert.equal(clock.now(), 600);
  });

  it("stops waiting when the drainer is stopped", async () => {
    const clock = virtualClock();
    const stop = new AbortController();
    const pacer = new ReadPacer(1, clock.now, clock.sleep, stop.signal);
    await pacer.take(1);
    const waiting = pacer.take(1);
    stop.abort();
    await waiting;
    assert.equal(clock.now(), 0);
  });
});

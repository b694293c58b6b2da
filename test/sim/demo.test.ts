/** `npm run demo` end to end: the program a newcomer runs first finishes, kills nothing and says so. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

function demo(...args: string[]) {
  return spawnSync(
    process.execPath,
    [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(__dirname, "demo.ts"), ...args],
    { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
  );
}

describe("npm run demo", function () {
  this.timeout(60_000);

  it("scales in with a live timeline and ends with 0 tasks killed and each instance's drain time", () => {
    const out = demo(
      "--instances",
      "2",
      "--cluster-size",
      "3",
      "--time-scale",
      "30",
      "--heartbeat-timeout",
      "300",
    );
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /instance-1 +lifecycle Terminating:Wait/);
    assert.match(out.stdout, /drainer@instance-\d +waiting for \d task\(s\)/);
    assert.match(out.stdout, /tasks killed: 0/);
    assert.match(
      out.stdout,
      /instance-1: \d task\(s\) at scale-in; terminated after \d+ s \(CONTINUE, api\); 0 killed/,
    );
    assert.match(out.stdout, /instance-2: \d task\(s\) at scale-in; terminated after \d+ s/);
  });

  it("--scenario stuck: says why in ECS's words, puts the drain events, and keeps the instance without killing", () => {
    const out = demo("--scenario", "stuck", "--time-scale", "30");
    assert.equal(out.status, 0, out.stderr);
    assert.match(
      out.stdout,
      /waiting: .*service:web cannot-place: service web was unable to place a task/,
    );
    assert.match(out.stdout, /the drain timed out; the group retains the instance/);
    assert.match(out.stdout, /ECS Scale-In Drain Stuck: instance-1 stuck \(.*cannot-place/);
    assert.match(out.stdout, /ECS Scale-In Drain Outcome: instance-1 timed-out/);
    assert.match(
      out.stdout,
      /instance-1: \d task\(s\) at scale-in; kept after \d+ s \(ABANDON\): Terminating:Retained, ECS DRAINING/,
    );
    assert.match(out.stdout, /tasks killed: 0/);
  });

  it("refuses a bad option with a message that names it", () => {
    const out = demo("--instances", "5", "--cluster-size", "3");
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--instances \(5\) must be smaller than --cluster-size \(3\)/);
  });
});

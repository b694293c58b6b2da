import { strict as assert } from "node:assert";
import * as loose from "node:assert";

describe("the test runner's assert.ok (test/support/assert-ok.js)", () => {
  it("fails at once with a plain message instead of rebuilding the expression from the source", () => {
    const started = Date.now();
    assert.throws(
      () => assert.ok([1, 2].every((x) => x === 7)),
      (err: Error) =>
        err.name === "AssertionError" && /expected a truthy value, got false/.test(err.message),
    );
    assert.throws(() => loose.ok(0), /expected a truthy value, got 0/);
    assert.throws(() => assert.ok(false, "with a message"), /^AssertionError.*with a message/);
    assert.equal(Date.now() - started < 1000, true, "it took more than a second");
  });
});

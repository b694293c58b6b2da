// Node's assert.ok, when it fails without a message, rebuilds the failed expression from the test's source file. On
// tsx-compiled tests that search can spin at full CPU for minutes: the failure then looks like a hang, and mocha's
// timeout cannot fire. This gives assert.ok (and assert.strict.ok) a plain message instead, nothing else changes.
const assert = require("node:assert");

function ok(value, message) {
  if (value) return;
  if (message instanceof Error) throw message;
  throw new assert.AssertionError({
    message: message ?? `expected a truthy value, got ${String(value)}`,
    actual: value,
    expected: true,
    operator: "==",
    stackStartFn: ok,
  });
}

assert.ok = ok;
assert.strict.ok = ok;

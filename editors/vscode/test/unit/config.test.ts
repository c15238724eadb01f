import { test } from "node:test";
import * as assert from "node:assert/strict";
import { initializationOptions, normaliseAsOf, serverCommand } from "../../src/config";

test("the server is `weft lsp` unless the settings say otherwise", () => {
  assert.deepEqual(serverCommand({}), { command: "weft", args: ["lsp"] });
  assert.deepEqual(serverCommand({ serverPath: "  " }), { command: "weft", args: ["lsp"] });
  assert.deepEqual(
    serverCommand({ serverPath: "cargo", extraArgs: ["run", "-q", "-p", "weft-cli", "--"] }),
    { command: "cargo", args: ["run", "-q", "-p", "weft-cli", "--", "lsp"] },
  );
});

test("the as-of date is a real date, a month meaning its first day", () => {
  assert.equal(normaliseAsOf("2019-08"), "2019-08-01");
  assert.equal(normaliseAsOf(" 2020-02-29 "), "2020-02-29");
  assert.equal(normaliseAsOf("2019-02-29"), undefined);
  assert.equal(normaliseAsOf("2019-13"), undefined);
  assert.equal(normaliseAsOf("August"), undefined);
  assert.equal(normaliseAsOf(""), undefined);
  assert.equal(normaliseAsOf(undefined), undefined);
});

test("the server is told the as-of date only when there is one", () => {
  assert.deepEqual(initializationOptions({ asOf: "2019-08" }), { asOf: "2019-08-01" });
  assert.deepEqual(initializationOptions({ asOf: "" }), {});
});

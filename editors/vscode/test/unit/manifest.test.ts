// The extension's manifest, grammar and snippets agree with each other,
// with the extension's code and with the language.

import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(__dirname, "..", "..", "..");
const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");
const manifest = JSON.parse(read("package.json"));

test("every setting and command the code uses is declared", () => {
  const code = read("src/extension.ts");
  const props = Object.keys(manifest.contributes.configuration.properties);
  for (const m of code.matchAll(/c\.get<[^>]*>\("([^"]+)"\)/g)) {
    assert.ok(props.includes(`weft.${m[1]}`), `weft.${m[1]} is not declared`);
  }
  const commands = manifest.contributes.commands.map((c: { command: string }) => c.command);
  for (const m of code.matchAll(/registerCommand\("([^"]+)"/g)) {
    assert.ok(commands.includes(m[1]), `${m[1]} is not declared`);
  }
  assert.ok(fs.existsSync(path.join(root, manifest.main.replace(/^\.\//, ""))), manifest.main);
});

test("the grammar is the one the manifest names", () => {
  const g = manifest.contributes.grammars[0];
  const grammar = JSON.parse(read(g.path));
  assert.equal(grammar.scopeName, g.scopeName);
  for (const p of grammar.patterns) {
    const name = p.include.replace(/^#/, "");
    assert.ok(grammar.repository[name], `#${name} is not in the repository`);
  }
});

test("there is a snippet for every kind of item of the language", () => {
  const scan = read("../../crates/weft-syntax/src/scan.rs");
  const list = /ITEM_KEYWORDS: &\[&str\] = &\[([^\]]*)\]/.exec(scan);
  assert.ok(list, "ITEM_KEYWORDS not found in scan.rs");
  const items = [...list[1].matchAll(/"([a-z]+)"/g)].map((m) => m[1]);
  assert.ok(items.length > 10, String(items));
  const snippets = JSON.parse(read("snippets/weft.json"));
  const prefixes = Object.values(snippets).map((s) => (s as { prefix: string }).prefix);
  for (const k of items) {
    assert.ok(prefixes.includes(k), `no snippet for \`${k}\``);
  }
});

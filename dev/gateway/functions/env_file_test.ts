/** Parsing supabase/functions/.env. */
import assert from "node:assert/strict";
import { parseEnvFile } from "./env_file.ts";

Deno.test(".env files parse quotes, exports and comments", () => {
  assert.deepEqual(
    parseEnvFile(`
# comment
A=plain
export B="double \\"quoted\\"\\nline"
C='single # not a comment'
D=value # trailing comment
not a line
`),
    { A: "plain", B: 'double "quoted"\nline', C: "single # not a comment", D: "value" },
  );
});

import assert from "node:assert/strict";
import { emailConfirmationsOn } from "./auth_settings.ts";

Deno.test("email confirmations are read from [auth.email], off unless set to true", () => {
  assert.equal(emailConfirmationsOn(""), false);
  assert.equal(emailConfirmationsOn("[auth.email]\nenable_confirmations = false\n"), false);
  assert.equal(emailConfirmationsOn("[auth.email]\nenable_confirmations = true # on\n"), true);
  assert.equal(
    emailConfirmationsOn("[auth.sms]\nenable_confirmations = true\n[auth.email]\nenabled = true\n"),
    false,
    "the SMS table's key is not the email one",
  );
  const project = Deno.readTextFileSync(new URL("../supabase/config.toml", import.meta.url));
  assert.equal(emailConfirmationsOn(project), false, "this project's config.toml: off");
});

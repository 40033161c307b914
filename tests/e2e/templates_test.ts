/**
 * Templates end to end through supabase-js and the running stack (fal simulator): the public
 * catalog for the template picker, a video made from a template and its variables (the filled
 * prompt is what fal receives), defaults of optional variables, and refusals that name the
 * variable and write nothing.
 */
import assert from "node:assert/strict";
import { anonymousUser, call, e2eSuite, ledgerOf, subscribeJobs } from "./helpers.ts";

const { stack, control, test: e2eTest, stop } = e2eSuite();

type TemplateInfo = {
  id: string;
  model: string;
  needs_image: boolean;
  credits: number;
  variables: { name: string; required: boolean; max_length: number; default: string | null }[];
};

e2eTest("the template catalog is public and describes each template's variables", async () => {
  const s = await stack();
  const anon = s.client();
  const { data, error } = await anon.functions.invoke("generate-video?templates", {
    method: "GET",
  });
  assert.equal(error, null, String(error));
  const templates = (data as { templates: TemplateInfo[] }).templates;
  const ad = templates.find((t) => t.id === "product-ad");
  assert.ok(ad, "product-ad is listed");
  assert.deepEqual(ad.variables.map((v) => [v.name, v.required, v.max_length]), [
    ["BRAND", true, 40],
    ["MODEL", true, 40],
  ]);
  assert.equal(ad.credits, 10);
  assert.equal(templates.find((t) => t.id === "product-photo-motion")?.needs_image, true);
  assert.equal(templates.find((t) => t.id === "travel-teaser")?.variables[1]?.default, "serene");
});

e2eTest("a template with its variables makes a video from the filled prompt", async () => {
  const s = await stack();
  const ctl = await control();
  await ctl.defaults({ durationMs: 200 });
  const user = await anonymousUser(s);
  const jobs = await subscribeJobs(user);
  const invoked = await user.client.functions.invoke("generate-video", {
    body: { template_id: "product-ad", variables: { BRAND: "Tesla", MODEL: "Model S" } },
  });
  assert.equal(invoked.error, null, String(invoked.error));
  const job = (invoked.data as { job: { id: string; prompt: string; model: string } }).job;
  assert.equal(job.model, "minimax-video-01");
  assert.match(job.prompt, /^A cinematic commercial for the Tesla Model S: slow camera orbit/);
  assert.doesNotMatch(job.prompt, /\{\{/);
  await jobs.waitFor((e) => e.id === job.id && e.status === "completed", 30_000);
  const [row] = await s.sql<{ provider_request_id: string }[]>`
    select provider_request_id from public.jobs where id = ${job.id}::uuid`;
  const sent = (await ctl.requests()).find((r) => r.requestId === row?.provider_request_id);
  assert.equal((sent?.input as { prompt: string }).prompt, job.prompt, "fal got the filled prompt");
  assert.deepEqual(await ledgerOf(s, job.id), { reserve: 1, capture: 1 });
  await jobs.close();
});

e2eTest(
  "an optional variable left out takes its default; template options still apply",
  async () => {
    const s = await stack();
    const user = await anonymousUser(s);
    const res = await call(s, "generate-video", {
      token: user.token,
      body: { template_id: "travel-teaser", variables: { PLACE: "the Amalfi coast" }, duration: 5 },
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    const job = res.json.job as { prompt: string; model: string; credits_cost: number };
    assert.equal(job.model, "kling-1.6-pro");
    assert.match(job.prompt, /over the Amalfi coast at golden hour, serene atmosphere/);
    assert.equal(job.credits_cost, 10);
    const bad = await call(s, "generate-video", {
      token: user.token,
      body: { template_id: "travel-teaser", variables: { PLACE: "Rome" }, duration: 7 },
    });
    assert.equal(bad.status, 400);
    assert.match(
      (bad.json.error as { message: string }).message,
      /^duration: kling-1.6-pro accepts 5, 10/,
    );
  },
);

e2eTest(
  "missing, unknown and oversized variables are refused naming the variable, writing nothing",
  async () => {
    const s = await stack();
    const user = await anonymousUser(s);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ template_id: "product-ad", variables: { MODEL: "S" } }, /^variables\.BRAND: required$/],
      [
        { template_id: "product-ad", variables: { BRAND: "A", MODEL: "S", COLOR: "red" } },
        /^variables\.COLOR: unknown variable \(template product-ad takes BRAND, MODEL\)$/,
      ],
      [
        { template_id: "product-ad", variables: { BRAND: "x".repeat(41), MODEL: "S" } },
        /^variables\.BRAND: at most 40 characters$/,
      ],
      [{ template_id: "no-such-template" }, /^template_id: unknown template no-such-template$/],
      [
        { template_id: "product-photo-motion", variables: { PRODUCT: "sneaker" } },
        /^image_path: minimax-video-01-i2v needs a start image$/,
      ],
    ];
    for (const [body, message] of cases) {
      const res = await call(s, "generate-video", { token: user.token, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = res.json.error as { code: string; message: string };
      assert.equal(error.code, "invalid_input");
      assert.match(error.message, message);
    }
    const [row] = await s.sql<{ n: number }[]>`
    select count(*)::int as n from public.jobs where user_id = ${user.userId}::uuid`;
    assert.equal(row?.n, 0);
  },
);

e2eTest("stop the templates stack", async () => {
  await stop();
});

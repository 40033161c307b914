/**
 * Migrations go through the real Supabase CLI (`db push`) as the non-superuser `postgres`, as on
 * a hosted project: applied ones are recorded, and what hosted Supabase refuses fails here too.
 */
import assert from "node:assert/strict";
import { dbPush } from "../dev/supabase_cli.ts";
import { asUser, freshDatabase } from "./harness/db.ts";

async function projectWith(migrations: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "vq-mig-" });
  await Deno.mkdir(`${dir}/supabase/migrations`, { recursive: true });
  await Deno.copyFile(
    new URL("../supabase/config.toml", import.meta.url),
    `${dir}/supabase/config.toml`,
  );
  // The template database has the project's migrations recorded; the CLI refuses a push whose
  // folder lacks them, exactly as against a hosted project.
  for await (const entry of Deno.readDir(new URL("../supabase/migrations/", import.meta.url))) {
    if (entry.isFile && entry.name.endsWith(".sql")) {
      await Deno.copyFile(
        new URL(`../supabase/migrations/${entry.name}`, import.meta.url),
        `${dir}/supabase/migrations/${entry.name}`,
      );
    }
  }
  for (const [name, text] of Object.entries(migrations)) {
    await Deno.writeTextFile(`${dir}/supabase/migrations/${name}`, text);
  }
  return dir;
}

Deno.test("a migration pushed by the Supabase CLI is applied and recorded", async () => {
  await using db = await freshDatabase();
  const dir = await projectWith({
    "20990101000000_sample.sql": `
      create table public.sample (id bigint generated always as identity primary key, note text);
      alter table public.sample enable row level security;
      create policy "read own" on public.sample for select to authenticated using (true);
      grant select on public.sample to authenticated;`,
  });
  try {
    await dbPush(db.url, { workdir: dir, seed: false });
    const recorded = await db.sql`
      select version from supabase_migrations.schema_migrations where version = '20990101000000'`;
    assert.equal(recorded.length, 1);
    const visible = await asUser(
      db.sql,
      { role: "authenticated", sub: crypto.randomUUID() },
      (tx) => tx`select count(*)::int as n from public.sample`,
    );
    assert.equal(visible[0]?.n, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a migration needing superuser fails as it would on hosted Supabase", async () => {
  await using db = await freshDatabase();
  const dir = await projectWith({
    "20990101000001_superuser.sql": "alter system set work_mem = '64MB';",
  });
  try {
    await assert.rejects(
      dbPush(db.url, { workdir: dir, seed: false }),
      /permission denied|must be superuser/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("project migrations may write storage policies and auth triggers like on Supabase", async () => {
  await using db = await freshDatabase();
  const dir = await projectWith({
    "20990101000002_platform.sql": `
      insert into storage.buckets (id, name, public) values ('clips', 'clips', false);
      create policy "own folder" on storage.objects for select to authenticated
        using (bucket_id = 'clips' and (storage.foldername(name))[1] = (select auth.uid())::text);
      create policy "own topic" on realtime.messages for select to authenticated
        using ((select realtime.topic()) = 'u:' || (select auth.uid())::text);
      create table public.profiles (id uuid primary key references auth.users (id) on delete cascade);
      create function public.on_user() returns trigger language plpgsql security definer
        set search_path = '' as $$ begin insert into public.profiles (id) values (new.id); return new; end $$;
      create trigger on_user after insert on auth.users for each row execute function public.on_user();`,
  });
  try {
    await dbPush(db.url, { workdir: dir, seed: false });
    const id = crypto.randomUUID();
    await db.sql`insert into auth.users (id, email) values (${id}, 'p@example.com')`;
    const profiles = await db.sql`select id from public.profiles where id = ${id}`;
    assert.equal(profiles.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

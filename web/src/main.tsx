/**
 * Browser entry point: reads `config.json` (Supabase URL and anon key, never compiled in),
 * creates the one Supabase client, and renders the app, or a readable error when the config is
 * missing.
 */
import { createClient } from "@supabase/supabase-js";
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import { loadConfig } from "./config.ts";

const root = createRoot(document.getElementById("root")!);

try {
  const config = await loadConfig();
  const supabase = createClient(config.supabaseUrl, config.anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true },
  });
  root.render(<App supabase={supabase} />);
} catch (e) {
  root.render(
    <main className="main">
      <section className="page narrow">
        <h1>Vidqueue cannot start</h1>
        <p className="inline-error" role="alert">{e instanceof Error ? e.message : String(e)}</p>
      </section>
    </main>,
  );
}

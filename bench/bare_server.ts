/**
 * The baseline server of the benchmark: a bare `Deno.serve` answering "ok", in its own process
 * like each Edge Function worker. Listens where DENO_SERVE_ADDRESS says (tcp:127.0.0.1:<port>).
 */
Deno.serve(() => new Response("ok"));

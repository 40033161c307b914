// Wires the real dependencies into the admin-queue handler.
import { createRuntime } from "../_shared/runtime.ts";
import { createAdminQueueHandler } from "./handler.ts";
import { createAdminStore } from "./store.ts";

const rt = createRuntime("admin-queue");
Deno.serve(createAdminQueueHandler({ ...rt, admin: createAdminStore(rt.sql), limits: rt.env }));

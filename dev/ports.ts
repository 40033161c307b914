/**
 * Port layout of one dev stack. Everything derives from STACK_PORT so two stacks with different
 * STACK_PORT values never collide: gateway = STACK_PORT, Postgres = +1, fal simulator = +2.
 */

export interface StackPorts {
  gateway: number;
  postgres: number;
  falSimulator: number;
}

/** The ports of a stack whose gateway listens on `stackPort`. */
export function stackPorts(stackPort: number): StackPorts {
  return { gateway: stackPort, postgres: stackPort + 1, falSimulator: stackPort + 2 };
}

function isFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A base port whose whole stack layout (plus `spare` more ports) is currently free. */
export function freeStackPort(spare = 4): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let p = base; p < base + 3 + spare && ok; p++) ok = isFree(p);
    if (ok) return base;
  }
  throw new Error("no free port range found on 127.0.0.1");
}

/** One free ephemeral port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Holding a process at an exact point, so a fault can strike there: an EXCLUSIVE lock on
 * `vidqueue.slots` stops every dispatcher before its claim (after the job was inserted), and
 * test-only triggers stop, on an advisory lock the test holds, the transition of one chosen job
 * to one chosen status (e.g. the `submitted` that stores fal's request id) or the Storage upload
 * of its media (the object row is written when the copy lands). Installed with the superuser for
 * the duration of a scenario and removed afterwards.
 */
import type postgres from "postgres";

export const GATE_KEY = 740_001;

/** An open transaction holding `vidqueue.slots` in EXCLUSIVE mode; dispatchers block on it. */
export async function holdSlots(admin: postgres.Sql): Promise<{ release(): Promise<void> }> {
  const conn = await admin.reserve();
  await conn`begin`;
  await conn`lock table vidqueue.slots in exclusive mode`;
  return {
    async release() {
      try {
        await conn`commit`;
      } finally {
        conn.release();
      }
    },
  };
}

export interface TransitionGate {
  /**
   * From now on, the transition of `jobId` to `status` waits until `release()`; with status
   * `upload`, the Storage upload of its media does.
   */
  hold(jobId: string, status: string): Promise<void>;
  release(): Promise<void>;
  uninstall(): Promise<void>;
}

/** Installs the gate trigger (a no-op for jobs not held). */
export async function installTransitionGate(admin: postgres.Sql): Promise<TransitionGate> {
  await admin.unsafe(`
    create schema if not exists vq_fault;
    create table if not exists vq_fault.gates (
      job_id uuid not null, to_status text not null, primary key (job_id, to_status));
    create or replace function vq_fault.gate() returns trigger
    language plpgsql security definer set search_path = '' as $$
    begin
      if old.status is distinct from new.status and exists (
        select 1 from vq_fault.gates g where g.job_id = new.id and g.to_status = new.status)
      then
        perform pg_advisory_xact_lock_shared(${GATE_KEY});
      end if;
      return new;
    end
    $$;
    create or replace function vq_fault.upload_gate() returns trigger
    language plpgsql security definer set search_path = '' as $$
    begin
      if new.bucket_id = 'videos' and exists (select 1 from vq_fault.gates g
        where g.to_status = 'upload' and new.name like '%' || g.job_id::text || '%')
      then
        perform pg_advisory_xact_lock_shared(${GATE_KEY});
      end if;
      return new;
    end
    $$;
    drop trigger if exists vq_fault_gate on public.jobs;
    create trigger vq_fault_gate before update on public.jobs
      for each row execute function vq_fault.gate();
    drop trigger if exists vq_fault_upload_gate on storage.objects;
    create trigger vq_fault_upload_gate before insert or update on storage.objects
      for each row execute function vq_fault.upload_gate();
  `);
  let holder: postgres.ReservedSql | null = null;
  const release = async () => {
    await admin`delete from vq_fault.gates`;
    if (holder) {
      const h = holder;
      holder = null;
      try {
        await h`select pg_advisory_unlock(${GATE_KEY})`;
      } finally {
        h.release();
      }
    }
  };
  return {
    async hold(jobId, status) {
      if (!holder) {
        holder = await admin.reserve();
        await holder`select pg_advisory_lock(${GATE_KEY})`;
      }
      await admin`insert into vq_fault.gates (job_id, to_status) values (${jobId}, ${status})
        on conflict do nothing`;
    },
    release,
    async uninstall() {
      await release();
      await admin.unsafe(`drop trigger if exists vq_fault_gate on public.jobs;
        drop trigger if exists vq_fault_upload_gate on storage.objects;
        drop schema if exists vq_fault cascade;`);
    },
  };
}

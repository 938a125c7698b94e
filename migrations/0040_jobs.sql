-- The durable job queue (services/core/queue.py, services/core/worker.py).
--
-- A job is enqueued in the transaction of the request (or job, or webhook) that decides it, so it
-- commits or rolls back with that work. Workers claim due jobs with FOR UPDATE SKIP LOCKED and hold
-- a lease: a worker that dies lets its lease expire and the job is claimed again; a worker that
-- finishes late finds another lease token on the row and its result is ignored.
--   queued  waiting for run_after       running  leased by lease_owner until lease_expires_at
--   done    finished                    failed   will retry at run_after (last_error says why)
--   dead    out of attempts, or refused permanently: only the operator's retry revives it
create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  kind text not null check (kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' and length(kind) <= 100),
  payload jsonb not null default '{}'
    check (jsonb_typeof(payload) = 'object' and pg_column_size(payload) <= 65536),
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  -- null: the worker's FOXEO_JOBS_MAX_ATTEMPTS
  max_attempts integer check (max_attempts between 1 and 100),
  run_after timestamptz not null default now(),
  last_error text check (length(last_error) <= 4000),
  lease_owner text check (length(lease_owner) <= 200),
  lease_token uuid,
  lease_expires_at timestamptz,
  idempotency_key text check (length(idempotency_key) between 1 and 200),
  -- the client the job is about, for the operator's view and audit; kept when the client goes
  client_id uuid references public.clients (id) on delete set null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  check ((status = 'running') = (lease_token is not null and lease_expires_at is not null))
);
create unique index jobs_idempotency_key_idx on public.jobs (idempotency_key) where idempotency_key is not null;
-- The claim reads only these two small partial indexes: an idle queue costs an empty index probe.
create index jobs_due_idx on public.jobs (run_after) where status in ('queued', 'failed');
create index jobs_lease_idx on public.jobs (lease_expires_at) where status = 'running';
create index jobs_created_idx on public.jobs (created_at desc, id desc);
create index jobs_client_idx on public.jobs (client_id) where client_id is not null;

-- Only the operator reads jobs (and updates them, to retry); members see nothing. Workers run as
-- the service role; requests enqueue through private.enqueue_job below.
alter table public.jobs enable row level security;
create policy jobs_operator_read on public.jobs for select to authenticated
  using ((select private.is_operator()));
create policy jobs_operator_update on public.jobs for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, update on public.jobs to authenticated;

-- Enqueue from any session, a member's request included (security definer: members cannot insert
-- into public.jobs themselves). Idempotent on the key: a second enqueue answers null. The NOTIFY is
-- delivered at commit only, so an idle worker wakes for jobs that exist, never for rolled-back ones;
-- one empty payload per transaction, however many jobs it enqueued.
create function private.enqueue_job(
  p_kind text, p_payload jsonb, p_idempotency_key text, p_run_after timestamptz, p_client_id uuid,
  p_max_attempts integer
) returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_id uuid;
begin
  insert into public.jobs (kind, payload, idempotency_key, run_after, client_id, max_attempts)
  values (p_kind, coalesce(p_payload, '{}'), p_idempotency_key, coalesce(p_run_after, now()), p_client_id,
          p_max_attempts)
  on conflict (idempotency_key) where idempotency_key is not null do nothing
  returning id into v_id;
  if v_id is not null and coalesce(p_run_after, now()) <= now() then
    perform pg_notify('foxeo_jobs', '');
  end if;
  return v_id;
end
$$;
revoke all on function private.enqueue_job(text, jsonb, text, timestamptz, uuid, integer) from public;
grant execute on function private.enqueue_job(text, jsonb, text, timestamptz, uuid, integer)
  to authenticated, service_role;

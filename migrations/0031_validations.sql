-- Validation Hub: a client submits a project step to MiKL; each submission is a round of one
-- request, and each round gets at most one decision.

create table public.validation_requests (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  project_id uuid not null,
  step_id uuid not null,
  -- closed: the journey was closed (graduation) before a decision.
  status text not null default 'pending'
    check (status in ('pending', 'changes_requested', 'approved', 'rejected', 'closed')),
  current_round integer not null default 1 check (current_round >= 1),
  submitted_by uuid not null,
  last_submitted_at timestamptz not null default now(),
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  foreign key (project_id, client_id) references public.projects (id, client_id) on delete cascade,
  -- no action (not restrict): a client's deletion cascades here in the same statement.
  foreign key (step_id, client_id) references public.project_steps (id, client_id)
);
-- At most one open request per step: a resubmission is a new round of it, not a new request.
create unique index validation_requests_open_step_key on public.validation_requests (step_id)
  where status in ('pending', 'changes_requested');
create index validation_requests_queue_idx on public.validation_requests (last_submitted_at, id)
  where status = 'pending';
create index validation_requests_client_idx on public.validation_requests (client_id, created_at desc, id desc);
create index validation_requests_project_idx on public.validation_requests (project_id);
alter table public.validation_requests enable row level security;
create policy validation_requests_operator_all on public.validation_requests for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy validation_requests_member_read on public.validation_requests for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.validation_requests to authenticated;

create table public.validation_rounds (
  id uuid primary key default gen_random_uuid(),
  request_id uuid not null,
  client_id uuid not null references public.clients (id) on delete cascade,
  round integer not null check (round >= 1),
  message text not null default '' check (length(message) <= 20000),
  -- Documents of the same client (checked on submission); no FK so documents keep their own life.
  document_ids uuid[] not null default '{}' check (cardinality(document_ids) <= 20),
  submitted_by uuid not null,
  submitted_at timestamptz not null default now(),
  decision text check (decision in ('approved', 'changes_requested', 'rejected')),
  decision_comment text check (length(decision_comment) <= 20000),
  decided_by uuid,
  decided_at timestamptz,
  unique (request_id, round),
  foreign key (request_id, client_id) references public.validation_requests (id, client_id)
    on delete cascade,
  check ((decision is null) = (decided_at is null)),
  check (decision is null or decision = 'approved' or length(trim(decision_comment)) > 0)
);
create index validation_rounds_client_idx on public.validation_rounds (client_id);
alter table public.validation_rounds enable row level security;
create policy validation_rounds_operator_all on public.validation_rounds for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy validation_rounds_member_read on public.validation_rounds for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.validation_rounds to authenticated;

-- Members only read these tables: a submission is the one write they may do, and it goes through
-- this function, which performs exactly that transition (so a member can never decide, nor edit a
-- step, even with direct database access). Lock order everywhere: project, step, request.
-- Errors: FX404 (not the caller's step), FX409 (the project or step is not in a submittable state).
create function private.submit_step(p_step_id uuid, p_message text, p_document_ids uuid[])
returns table (request_id uuid, round integer)
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_uid uuid := (select auth.uid());
  v_project_id uuid;
  v_client_id uuid;
  v_status text;
  v_request_id uuid;
  v_round integer;
begin
  select s.project_id, s.client_id into v_project_id, v_client_id
    from public.project_steps s where s.id = p_step_id;
  if v_project_id is null or v_uid is null
     or not (v_client_id = any ((select private.my_client_ids())::uuid[])) then
    raise exception 'no such step, or it is not yours' using errcode = 'FX404';
  end if;
  perform 1 from public.projects p where p.id = v_project_id and p.status = 'active' for share;
  if not found then
    raise exception 'the project is not active' using errcode = 'FX409';
  end if;
  select s.status into v_status from public.project_steps s where s.id = p_step_id for update;
  if v_status not in ('todo', 'in_progress', 'changes_requested') then
    raise exception 'the step is %', v_status using errcode = 'FX409';
  end if;
  select r.id, r.current_round into v_request_id, v_round from public.validation_requests r
    where r.step_id = p_step_id and r.status = 'changes_requested' for update;
  if v_request_id is null then
    v_round := 1;
    insert into public.validation_requests (client_id, project_id, step_id, submitted_by)
      values (v_client_id, v_project_id, p_step_id, v_uid) returning id into v_request_id;
  else
    v_round := v_round + 1;
    update public.validation_requests
      set status = 'pending', current_round = v_round, submitted_by = v_uid,
          last_submitted_at = now(), updated_at = now()
      where id = v_request_id;
  end if;
  insert into public.validation_rounds (request_id, client_id, round, message, document_ids, submitted_by)
    values (v_request_id, v_client_id, v_round, coalesce(p_message, ''), coalesce(p_document_ids, '{}'), v_uid);
  update public.project_steps
    set status = 'submitted', submitted_at = now(), started_at = coalesce(started_at, now()),
        updated_at = now()
    where id = p_step_id;
  return query select v_request_id, v_round;
end $$;
revoke all on function private.submit_step(uuid, text, uuid[]) from public;
grant execute on function private.submit_step(uuid, text, uuid[]) to authenticated;

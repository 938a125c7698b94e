-- Evolution requests (One): a client asks for an evolution of their tool; MiKL estimates, quotes,
-- and delivers it through an `evolution` project.

create table public.evolution_requests (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  title text not null check (length(title) between 1 and 200),
  description text not null default '' check (length(description) <= 20000),
  desired_date date,
  status text not null default 'requested'
    check (status in ('requested', 'estimating', 'quoted', 'accepted', 'in_progress', 'delivered', 'declined')),
  -- The quote's reference in the billing tool (filled when quoted; billing comes later).
  quote_reference text check (length(quote_reference) <= 100),
  decline_reason text check (length(decline_reason) <= 5000),
  project_id uuid,
  requested_by uuid not null,
  delivered_at timestamptz,
  declined_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  foreign key (project_id, client_id) references public.projects (id, client_id),
  check ((status = 'declined') = (decline_reason is not null and declined_at is not null)),
  check ((status = 'delivered') = (delivered_at is not null))
);
create index evolution_requests_client_idx on public.evolution_requests (client_id, created_at desc, id desc);
create index evolution_requests_created_idx on public.evolution_requests (created_at desc, id desc);
create index evolution_requests_status_idx on public.evolution_requests (status, created_at desc, id desc);
create index evolution_requests_project_idx on public.evolution_requests (project_id)
  where project_id is not null;
alter table public.evolution_requests enable row level security;
create policy evolution_requests_operator_all on public.evolution_requests for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy evolution_requests_member_read on public.evolution_requests for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
-- A member may only open a fresh request for their own client, in their own name.
create policy evolution_requests_member_insert on public.evolution_requests for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and requested_by = (select auth.uid()) and status = 'requested'
              and quote_reference is null and decline_reason is null and project_id is null
              and delivered_at is null and declined_at is null);
grant select, insert, update, delete on public.evolution_requests to authenticated;

-- The request's history: one row per status change (the first one is the request itself).
create table public.evolution_events (
  id bigint generated always as identity primary key,
  evolution_id uuid not null,
  client_id uuid not null references public.clients (id) on delete cascade,
  from_status text,
  to_status text not null,
  note text check (length(note) <= 5000),
  actor_id uuid,
  actor_role text not null check (actor_role in ('operator', 'member', 'system')),
  at timestamptz not null default now(),
  foreign key (evolution_id, client_id) references public.evolution_requests (id, client_id)
    on delete cascade
);
create index evolution_events_evolution_idx on public.evolution_events (evolution_id, id);
create index evolution_events_client_idx on public.evolution_events (client_id);
alter table public.evolution_events enable row level security;
create policy evolution_events_operator_all on public.evolution_events for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy evolution_events_member_read on public.evolution_events for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
create policy evolution_events_member_insert on public.evolution_events for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and actor_id = (select auth.uid()) and actor_role = 'member'
              and from_status is null and to_status = 'requested');
grant select, insert, update, delete on public.evolution_events to authenticated;

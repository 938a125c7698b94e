-- Lab → One graduation and Lab reactivation.

-- The Élio Lab switch (an LLM with a cost): on while a client is in the Lab, off after graduation,
-- back on only when MiKL reopens the Lab.
alter table public.client_configs add column elio_lab_enabled boolean not null default true;

-- One row per graduation or reactivation. `lab_cycle` numbers the Lab cycles: 1 is the first Lab
-- phase; each reactivation opens the next one. `config_before` keeps the configuration the change
-- replaced, so a client who comes back to One finds the One modules they had.
create table public.client_lifecycle_events (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  kind text not null check (kind in ('graduated', 'lab_reactivated')),
  from_status text not null,
  to_status text not null check (to_status in ('lab', 'one')),
  lab_cycle integer not null check (lab_cycle >= 1),
  note text check (length(note) <= 5000),
  config_before jsonb not null default '{}'::jsonb,
  closed_project_ids uuid[] not null default '{}',
  actor_id uuid,
  at timestamptz not null default now()
);
create index client_lifecycle_events_client_idx on public.client_lifecycle_events (client_id, at desc, id);
alter table public.client_lifecycle_events enable row level security;
create policy client_lifecycle_events_operator_all on public.client_lifecycle_events for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy client_lifecycle_events_member_read on public.client_lifecycle_events for select
  to authenticated using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.client_lifecycle_events to authenticated;

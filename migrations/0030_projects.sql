-- Projects: Lab journeys, deliveries and evolutions, their ordered steps, the operator's tasks,
-- the per-client timeline, and the operator's reusable journey templates.

-- ---------------------------------------------------------------- journey templates (operator only)
-- Steps are copied into a project when a journey starts, so editing a template never rewrites a
-- running journey; `version` says which edit a journey was started from.
create table public.journey_templates (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  description text not null default '' check (length(description) <= 20000),
  steps jsonb not null default '[]'::jsonb check (jsonb_typeof(steps) = 'array'),
  version integer not null default 1 check (version >= 1),
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index journey_templates_name_idx on public.journey_templates (lower(name), id);
alter table public.journey_templates enable row level security;
create policy journey_templates_operator_all on public.journey_templates for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update, delete on public.journey_templates to authenticated;

-- ---------------------------------------------------------------- projects
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  kind text not null check (kind in ('journey', 'delivery', 'evolution')),
  -- The client's phase when the project was created: Lab projects stay readable as "Lab history".
  phase text not null check (phase in ('lab', 'one')),
  name text not null check (length(name) between 1 and 200),
  description text not null default '' check (length(description) <= 20000),
  status text not null default 'planned'
    check (status in ('planned', 'active', 'paused', 'done', 'cancelled')),
  template_id uuid references public.journey_templates (id) on delete set null,
  template_version integer,
  start_date date,
  due_date date,
  started_at timestamptz,
  closed_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  check (due_date is null or start_date is null or due_date >= start_date)
);
create index projects_client_idx on public.projects (client_id, created_at desc, id desc);
create index projects_created_idx on public.projects (created_at desc, id desc);
create index projects_open_journey_idx on public.projects (client_id, kind)
  where status in ('planned', 'active', 'paused');
alter table public.projects enable row level security;
create policy projects_operator_all on public.projects for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy projects_member_read on public.projects for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.projects to authenticated;

-- Positions are dense (1..n) per project; the constraint is checked at the end of each statement
-- so a single UPDATE can shift or permute positions.
create table public.project_steps (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  project_id uuid not null,
  position integer not null check (position >= 1),
  title text not null check (length(title) between 1 and 200),
  description text not null default '' check (length(description) <= 20000),
  client_role text not null default '' check (length(client_role) <= 5000),
  status text not null default 'todo'
    check (status in ('todo', 'in_progress', 'submitted', 'changes_requested', 'validated')),
  due_date date,
  started_at timestamptz,
  submitted_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, client_id) references public.projects (id, client_id) on delete cascade,
  unique (id, client_id),
  constraint project_steps_position_key unique (project_id, position) deferrable initially immediate,
  check ((status = 'validated') = (completed_at is not null))
);
create index project_steps_client_idx on public.project_steps (client_id);
alter table public.project_steps enable row level security;
create policy project_steps_operator_all on public.project_steps for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy project_steps_member_read on public.project_steps for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.project_steps to authenticated;

-- The operator's own to-do list per project (never shown to the client).
create table public.project_tasks (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  project_id uuid not null,
  title text not null check (length(title) between 1 and 500),
  notes text not null default '' check (length(notes) <= 20000),
  done boolean not null default false,
  done_at timestamptz,
  due_date date,
  source text not null default 'manual' check (source in ('manual', 'meeting', 'validation', 'evolution')),
  source_ref text check (length(source_ref) <= 200),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, client_id) references public.projects (id, client_id) on delete cascade,
  check (done = (done_at is not null))
);
create index project_tasks_project_idx on public.project_tasks (project_id, done, created_at, id);
create index project_tasks_client_idx on public.project_tasks (client_id);
alter table public.project_tasks enable row level security;
create policy project_tasks_operator_all on public.project_tasks for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update, delete on public.project_tasks to authenticated;

-- ---------------------------------------------------------------- timeline
-- One stream per client: project events (project_id set) and client-level ones (graduation,
-- reactivation). Members may only add their own comments and submissions.
create table public.timeline_events (
  id bigint generated always as identity primary key,
  client_id uuid not null references public.clients (id) on delete cascade,
  project_id uuid,
  step_id uuid,
  kind text not null check (kind ~ '^[a-z][a-z_]{1,48}$'),
  actor_id uuid,
  actor_role text not null check (actor_role in ('operator', 'member', 'system')),
  body text check (length(body) <= 20000),
  data jsonb not null default '{}'::jsonb,
  at timestamptz not null default now(),
  -- Composite so an event can never point at another client's project.
  foreign key (project_id, client_id) references public.projects (id, client_id) on delete cascade
);
create index timeline_events_client_idx on public.timeline_events (client_id, id desc);
create index timeline_events_project_idx on public.timeline_events (project_id, id desc)
  where project_id is not null;
alter table public.timeline_events enable row level security;
create policy timeline_events_operator_all on public.timeline_events for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy timeline_events_member_read on public.timeline_events for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
create policy timeline_events_member_insert on public.timeline_events for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and actor_id = (select auth.uid()) and actor_role = 'member'
              and kind in ('comment', 'step_submitted', 'evolution_requested'));
grant select, insert, update, delete on public.timeline_events to authenticated;

-- ---------------------------------------------------------------- documents ↔ projects
-- The documents table (0010) left this key to the projects module. Composite, so a document can
-- only point at a project of its own client; deleting a project only clears the link.
alter table public.documents add constraint documents_project_fk
  foreign key (project_id, client_id) references public.projects (id, client_id)
  on delete set null (project_id);

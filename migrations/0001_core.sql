-- Core: the non-exposed `private` schema with the RLS helpers, and the audit log.

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

grant usage on schema public to anon, authenticated, service_role;

-- ---------------------------------------------------------------- clients and membership
create table public.clients (
  id uuid primary key default gen_random_uuid(),
  status text not null default 'prospect'
    check (status in ('prospect', 'lab', 'one', 'archived')),
  prospect_temperature text check (prospect_temperature in ('hot', 'warm', 'cold', 'no')),
  company_name text not null check (length(company_name) between 1 and 200),
  contact_first_name text check (length(contact_first_name) <= 100),
  contact_last_name text check (length(contact_last_name) <= 100),
  email text check (length(email) <= 320),
  phone text check (length(phone) <= 40),
  city text check (length(city) <= 120),
  siret text check (siret ~ '^[0-9]{14}$'),
  tags text[] not null default '{}',
  status_before_archive text,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index clients_status_idx on public.clients (status, created_at desc, id desc);
create index clients_created_idx on public.clients (created_at desc, id desc);
create index clients_company_idx on public.clients (lower(company_name), id);
create index clients_tags_idx on public.clients using gin (tags);
create index clients_search_idx on public.clients using gin (
  (lower(company_name || ' ' || coalesce(contact_first_name, '') || ' ' || coalesce(contact_last_name, '')
   || ' ' || coalesce(email, '') || ' ' || coalesce(city, ''))) extensions.gin_trgm_ops);

create table public.client_members (
  client_id uuid not null references public.clients (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  email text not null check (length(email) <= 320),
  role text not null default 'member' check (role in ('owner', 'member')),
  invited_by uuid,
  created_at timestamptz not null default now(),
  primary key (client_id, user_id)
);
create index client_members_user_idx on public.client_members (user_id, client_id);

-- The helpers every policy is built from. security definer + empty search_path: they read
-- client_members without recursing into its own policies, and cannot be hijacked.
create function private.is_operator() returns boolean
language sql stable security definer set search_path = '' as $$
  select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role', '') = 'operator'
$$;

create function private.my_client_ids() returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(m.client_id), '{}')
  from public.client_members m
  where m.user_id = (select auth.uid())
$$;

revoke all on function private.is_operator(), private.my_client_ids() from public;
grant execute on function private.is_operator(), private.my_client_ids() to authenticated, service_role;

alter table public.clients enable row level security;
create policy clients_operator_all on public.clients for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy clients_member_read on public.clients for select to authenticated
  using (id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.clients to authenticated;

alter table public.client_members enable row level security;
create policy client_members_operator_all on public.client_members for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy client_members_member_read on public.client_members for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.client_members to authenticated;

-- The CRM profile is the operator's private view of a client: members never read it.
create table public.client_crm_profiles (
  client_id uuid primary key references public.clients (id) on delete cascade,
  photo_url text check (length(photo_url) <= 2048),
  birthday date,
  personal_notes text check (length(personal_notes) <= 20000),
  background text check (length(background) <= 20000),
  notes text check (length(notes) <= 20000),
  updated_at timestamptz not null default now()
);
alter table public.client_crm_profiles enable row level security;
create policy client_crm_profiles_operator_all on public.client_crm_profiles for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update, delete on public.client_crm_profiles to authenticated;

-- ---------------------------------------------------------------- audit
create table public.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_id uuid,
  actor_role text not null check (actor_role in ('operator', 'member', 'system')),
  client_id uuid,
  action text not null,
  entity_type text not null,
  entity_id text,
  before jsonb,
  after jsonb,
  request_id text
);
create index audit_log_at_idx on public.audit_log (at desc, id desc);
create index audit_log_client_idx on public.audit_log (client_id, at desc, id desc);
create index audit_log_entity_idx on public.audit_log (entity_type, entity_id);
alter table public.audit_log enable row level security;
create policy audit_log_operator_read on public.audit_log for select to authenticated
  using ((select private.is_operator()));
grant select on public.audit_log to authenticated;

-- Entries are written only through this function, so the actor is the signed-in user, never a
-- value the caller chose; service sessions (no JWT) are recorded as 'system'.
create function private.write_audit(
  p_client_id uuid, p_action text, p_entity_type text, p_entity_id text,
  p_before jsonb, p_after jsonb, p_request_id text
) returns void
language sql volatile security definer set search_path = '' as $$
  insert into public.audit_log (actor_id, actor_role, client_id, action, entity_type, entity_id,
                                before, after, request_id)
  values ((select auth.uid()),
          case when (select auth.uid()) is null then 'system'
               when (select private.is_operator()) then 'operator' else 'member' end,
          p_client_id, p_action, p_entity_type, p_entity_id, p_before, p_after, p_request_id)
$$;
revoke all on function private.write_audit(uuid, text, text, text, jsonb, jsonb, text) from public;
grant execute on function private.write_audit(uuid, text, text, text, jsonb, jsonb, text)
  to authenticated, service_role;

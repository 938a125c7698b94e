-- Profiles: one row per auth user, created on the user's first authenticated call.

create table public.profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  display_name text check (length(display_name) <= 120),
  avatar_url text check (length(avatar_url) <= 2048),
  locale text not null default 'fr-FR' check (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
  theme text not null default 'system' check (theme in ('light', 'dark', 'system')),
  notification_prefs jsonb not null default '{
    "chat": {"enabled": true, "sound": true, "badge": true, "priority": "normal"},
    "validation_hub": {"enabled": true, "sound": true, "badge": true, "priority": "high"},
    "system": {"enabled": true, "sound": false, "badge": true, "priority": "low"}}'::jsonb,
  quiet_hours jsonb not null default
    '{"enabled": false, "start": "22:00", "end": "08:00", "time_zone": "Europe/Paris"}'::jsonb,
  onboarding jsonb not null default '{"first_launch_done": false, "tooltips_seen": []}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table public.profiles enable row level security;
create policy profiles_self_read on public.profiles for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_operator()));
create policy profiles_self_update on public.profiles for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
grant select, update on public.profiles to authenticated;

-- Called in the request's setup round trip the first time a process sees a user: creates the
-- profile if the auth user exists (it always does behind a verified Supabase token).
create function private.ensure_profile() returns void
language sql volatile security definer set search_path = '' as $$
  insert into public.profiles (user_id)
  select u.id from auth.users u where u.id = (select auth.uid())
  on conflict (user_id) do nothing
$$;
revoke all on function private.ensure_profile() from public;
grant execute on function private.ensure_profile() to authenticated;

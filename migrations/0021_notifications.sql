-- Notifications: one row per recipient, created by domain events (chat, validation hub, system).

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  -- The client the event is about (null for operator-only/system events); not the recipient's tenant.
  client_id uuid references public.clients (id) on delete cascade,
  actor_id uuid,
  source text not null check (source in ('chat', 'validation_hub', 'system')),
  priority text not null check (priority in ('low', 'normal', 'high')),
  title text not null check (length(title) between 1 and 200),
  body text check (length(body) <= 2000),
  link text check (length(link) <= 2048),
  entity_type text check (length(entity_type) <= 64),
  entity_id text check (length(entity_id) <= 128),
  -- Computed at creation from the recipient's preferences and quiet hours.
  sound boolean not null,
  badge boolean not null,
  created_at timestamptz not null default clock_timestamp(),
  read_at timestamptz,
  -- SSE resume (see services/events): the writing transaction and the oldest transaction running then.
  -- (xid8 values as bigint: 64-bit, far below 2^63, and every client library knows bigint.)
  change_xid bigint not null default pg_current_xact_id()::text::bigint,
  stream_xmin bigint not null default pg_snapshot_xmin(pg_current_snapshot())::text::bigint
);
create index notifications_user_idx on public.notifications (user_id, created_at desc, id desc);
create index notifications_user_source_idx on public.notifications (user_id, source, created_at desc, id desc);
create index notifications_unread_idx on public.notifications (user_id, source) where read_at is null;
create index notifications_client_idx on public.notifications (client_id);
create index notifications_change_idx on public.notifications (user_id, change_xid);
create index notifications_retention_idx on public.notifications (read_at) where read_at is not null;

alter table public.notifications enable row level security;
create policy notifications_self_read on public.notifications for select to authenticated
  using (user_id = (select auth.uid()));
create policy notifications_self_update on public.notifications for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
-- No insert/delete grant: rows are created through private.create_notifications (below) and purged
-- by the retention job; a user can only mark their own as read.
grant select on public.notifications to authenticated;
grant update (read_at) on public.notifications to authenticated;

-- Who may notify whom. Notifications are created from the *actor's* session (a member's chat
-- message notifies the operator, the operator's reply notifies the members), and the actor can
-- neither read the recipient's preferences nor insert rows it cannot see, so creation goes through
-- security-definer functions gated by this rule rather than an INSERT policy: the operator may
-- notify anyone; anyone may notify themselves; a member may notify, about one of *their* clients,
-- the operators and that client's members; a session without JWT claims (jobs, webhooks, the CLI,
-- never a PostgREST role) may notify anyone.
create function private.can_notify(p_recipient uuid, p_client_id uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select case
    when (select auth.uid()) is null
      then coalesce(current_setting('role', true), 'none') not in ('anon', 'authenticated')
    when (select private.is_operator()) or p_recipient = (select auth.uid()) then true
    when p_client_id is null or not (p_client_id = any ((select private.my_client_ids())::uuid[])) then false
    else exists (select 1 from public.client_members m
                 where m.client_id = p_client_id and m.user_id = p_recipient)
      or exists (select 1 from auth.users u
                 where u.id = p_recipient and u.raw_app_meta_data ->> 'role' = 'operator')
  end
$$;

-- The operators, for notify_operators(): `authenticated` cannot read auth.users.
create function private.operator_ids() returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(u.id order by u.id), '{}') from auth.users u
  where u.raw_app_meta_data ->> 'role' = 'operator' and u.deleted_at is null
$$;

-- A client's members, for notify_client_members() and chat routing.
create function private.client_member_ids(p_client_id uuid) returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(m.user_id order by m.user_id), '{}') from public.client_members m
  where m.client_id = p_client_id
$$;

-- The delivery preferences of the recipients the caller may notify (null when a user has no profile
-- row yet: the service applies the defaults); raises if any recipient is off limits.
create function private.notification_recipients(p_user_ids uuid[], p_client_id uuid)
returns table (user_id uuid, notification_prefs jsonb, quiet_hours jsonb)
language plpgsql stable security definer set search_path = '' as $$
declare
  v_id uuid;
begin
  foreach v_id in array coalesce(p_user_ids, '{}') loop
    if not private.can_notify(v_id, p_client_id) then
      raise exception 'not allowed to notify user %', v_id using errcode = '42501';
    end if;
  end loop;
  return query
    select u.id, p.notification_prefs, p.quiet_hours
    from auth.users u left join public.profiles p on p.user_id = u.id
    where u.id = any (p_user_ids) and u.deleted_at is null
    order by u.id;
end
$$;

-- Inserts the rows the service computed (sound/badge from preferences), re-checking the rule.
create function private.create_notifications(p_rows jsonb) returns setof uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  r record;
begin
  for r in select * from jsonb_to_recordset(p_rows) as x(user_id uuid, client_id uuid) loop
    if not private.can_notify(r.user_id, r.client_id) then
      raise exception 'not allowed to notify user %', r.user_id using errcode = '42501';
    end if;
  end loop;
  return query
    insert into public.notifications (user_id, client_id, actor_id, source, priority, title, body, link,
                                      entity_type, entity_id, sound, badge)
    select x.user_id, x.client_id, (select auth.uid()), x.source, x.priority, x.title, x.body, x.link,
           x.entity_type, x.entity_id, x.sound, x.badge
    from jsonb_to_recordset(p_rows) as x(user_id uuid, client_id uuid, source text, priority text,
                                         title text, body text, link text, entity_type text,
                                         entity_id text, sound boolean, badge boolean)
    returning id;
end
$$;

revoke all on function private.can_notify(uuid, uuid), private.operator_ids(), private.client_member_ids(uuid),
  private.notification_recipients(uuid[], uuid), private.create_notifications(jsonb) from public;
grant execute on function private.can_notify(uuid, uuid), private.operator_ids(), private.client_member_ids(uuid),
  private.notification_recipients(uuid[], uuid), private.create_notifications(jsonb)
  to authenticated, service_role;

-- Realtime, way 2: NOTIFY at commit for the in-process SSE broker: the id, the recipient, and the
-- resume cursor of this write (the broker reads the row itself and routes it to that user's streams).
create function private.notifications_emit() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform pg_notify('foxeo_events', json_build_object(
    't', 'notification', 'id', new.id, 'x', new.stream_xmin, 'user', new.user_id)::text);
  return null;
end
$$;
revoke all on function private.notifications_emit() from public;
create trigger notifications_emit after insert on public.notifications
  for each row execute function private.notifications_emit();

-- Realtime, way 1: supabase-js postgres_changes, filtered by the select policy above.
alter publication supabase_realtime add table public.notifications;

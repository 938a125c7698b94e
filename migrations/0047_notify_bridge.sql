-- TEMPORARY BRIDGE — the lead deletes this file when merging after the chat branch, whose
-- 0046_chat_notifications_writes.sql defines these functions (private.notification_text,
-- private.notification_delivery, private.notify). The Validation Hub's one-call writes (0048) notify
-- through private.notify; this file creates the three functions only where 0046 has not, copied from
-- the chat branch as it stood, so this branch runs on its own and can never override 0046.
do $bridge$
begin
  if to_regprocedure('private.notification_text(text, integer)') is null then
    execute $fn$
create function private.notification_text(p_text text, p_limit integer) returns text
language sql immutable set search_path = '' as $$
  select case when length(t) <= p_limit then t
              else regexp_replace(left(t, p_limit - 1), '\s+$', '') || '…' end
  from (select regexp_replace(regexp_replace(p_text, '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]', '', 'g'),
                              '^\s+|\s+$', '', 'g') as t) s
$$;
    $fn$;
  end if;
  if to_regprocedure('private.notification_delivery(jsonb, jsonb, text, text, timestamptz)') is null then
    execute $fn$
create function private.notification_delivery(
  p_prefs jsonb, p_quiet jsonb, p_source text, p_priority text, p_now timestamptz
) returns table (priority text, sound boolean, badge boolean)
language plpgsql stable set search_path = '' as $$
declare
  v_defaults jsonb := case p_source
    when 'validation_hub' then '{"enabled": true, "sound": true, "badge": true, "priority": "high"}'
    when 'system' then '{"enabled": true, "sound": false, "badge": true, "priority": "low"}'
    else '{"enabled": true, "sound": true, "badge": true, "priority": "normal"}' end;
  v_prefs jsonb := v_defaults;
  v_quiet jsonb := p_quiet;
  v_quiet_now boolean := false;
  v_local time;
  v_start time;
  v_end time;
  v_priority text;
begin
  if jsonb_typeof(p_prefs -> p_source) = 'object' then
    v_prefs := v_defaults || (p_prefs -> p_source);
    if exists (select 1 from jsonb_object_keys(v_prefs) k where k not in ('enabled', 'sound', 'badge', 'priority'))
       or jsonb_typeof(v_prefs -> 'enabled') <> 'boolean' or jsonb_typeof(v_prefs -> 'sound') <> 'boolean'
       or jsonb_typeof(v_prefs -> 'badge') <> 'boolean'
       or coalesce(v_prefs ->> 'priority', '') not in ('low', 'normal', 'high') then
      v_prefs := v_defaults;
    end if;
  end if;
  if not (v_prefs -> 'enabled')::boolean then
    return;
  end if;
  v_priority := coalesce(p_priority, v_prefs ->> 'priority');
  if jsonb_typeof(v_quiet) = 'object' and v_quiet -> 'enabled' = 'true'::jsonb then
    v_quiet := '{"start": "22:00", "end": "08:00", "time_zone": "Europe/Paris"}'::jsonb || v_quiet;
    if not exists (select 1 from jsonb_object_keys(v_quiet) k where k not in ('enabled', 'start', 'end', 'time_zone'))
       and v_quiet ->> 'start' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
       and v_quiet ->> 'end' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
       and jsonb_typeof(v_quiet -> 'time_zone') = 'string' then
      begin
        v_local := date_trunc('minute', p_now at time zone (v_quiet ->> 'time_zone'))::time;
        v_start := (v_quiet ->> 'start')::time;
        v_end := (v_quiet ->> 'end')::time;
        v_quiet_now := case when v_start = v_end then false
                            when v_start < v_end then v_local >= v_start and v_local < v_end
                            else v_local >= v_start or v_local < v_end end;
      exception when invalid_parameter_value then  -- an unknown time zone: quiet hours are malformed
        v_quiet_now := false;
      end;
    end if;
  end if;
  return query select v_priority,
    (v_prefs -> 'sound')::boolean and (v_priority = 'high' or not v_quiet_now),
    (v_prefs -> 'badge')::boolean;
end
$$;
    $fn$;
  end if;
  if to_regprocedure('private.notify(uuid[], uuid, text, text, text, text, text, text, text, text)') is null then
    execute $fn$
create function private.notify(
  p_user_ids uuid[], p_client_id uuid, p_source text, p_title text, p_body text, p_priority text,
  p_link text, p_entity_type text, p_entity_id text, p_request_id text
) returns uuid[]
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_users uuid[];
  v_id uuid;
  v_ids uuid[];
  v_recipients uuid[];
begin
  select coalesce(array_agg(u order by u), '{}') into v_users
    from (select distinct u from unnest(p_user_ids) u where u is not null) t;
  foreach v_id in array v_users loop
    if not private.can_notify(v_id, p_client_id) then
      raise exception 'not allowed to notify user %', v_id using errcode = '42501';
    end if;
  end loop;
  with created as (
    insert into public.notifications (user_id, client_id, actor_id, source, priority, title, body, link,
                                      entity_type, entity_id, sound, badge)
    select u.id, p_client_id, (select auth.uid()), p_source, d.priority,
           private.notification_text(p_title, 200), nullif(private.notification_text(p_body, 2000), ''),
           p_link, left(p_entity_type, 64), left(p_entity_id, 128), d.sound, d.badge
    from auth.users u
    left join public.profiles p on p.user_id = u.id
    cross join lateral private.notification_delivery(p.notification_prefs, p.quiet_hours, p_source, p_priority,
                                                     now()) d
    where u.id = any (v_users) and u.deleted_at is null
    order by u.id
    returning id, user_id
  )
  select array_agg(id order by user_id), array_agg(user_id order by user_id) into v_ids, v_recipients
    from created;
  if v_ids is null then
    return '{}';
  end if;
  perform private.write_audit(
    p_client_id, 'notifications.created', 'notification', case when cardinality(v_ids) = 1 then v_ids[1]::text end,
    null, jsonb_build_object('ids', v_ids, 'recipients', v_recipients, 'source', p_source,
                             'entity_type', p_entity_type, 'entity_id', p_entity_id),
    p_request_id);
  return v_ids;
end
$$;
    $fn$;
    revoke all on function private.notification_text(text, integer),
      private.notification_delivery(jsonb, jsonb, text, text, timestamptz),
      private.notify(uuid[], uuid, text, text, text, text, text, text, text, text) from public;
    grant execute on function private.notification_text(text, integer),
      private.notification_delivery(jsonb, jsonb, text, text, timestamptz),
      private.notify(uuid[], uuid, text, text, text, text, text, text, text, text) to authenticated, service_role;
  end if;
end
$bridge$;

-- Chat and notification writes in one round trip: each request's write is ONE function call, so the
-- locks it takes (the conversation row bumped by the message trigger, a read position, a message, a
-- notification) are held inside that call only, never across the API's round trips.
--
-- Refusals raise SQLSTATEs the services map to their typed errors:
--   FXC04 no such conversation (or not the caller's)   FXM04 no such message (or not the caller's)
--   FXK04 the client has no configuration (members)    FXL04 no such client (or not the caller's)
--   FXD03 chat module off for the client (members)      FXA03 not the author of the message
--   FXA09 client archived (read-only conversations)     FXX09 the message was deleted
--   FX422 invalid input; COLUMN names the field
-- Every function but private.notify (which reads others' preferences) is security invoker: RLS stays
-- the floor of what the caller may read and write.

-- ---------------------------------------------------------------- notifications

-- Title and body as a notification stores them: control characters removed, trimmed, clipped to
-- `p_limit` characters ending with an ellipsis.
create function private.notification_text(p_text text, p_limit integer) returns text
language sql immutable set search_path = '' as $$
  select case when length(t) <= p_limit then t
              else regexp_replace(left(t, p_limit - 1), '\s+$', '') || '…' end
  from (select regexp_replace(regexp_replace(p_text, '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]', '', 'g'),
                              '^\s+|\s+$', '', 'g') as t) s
$$;

-- How a notification from `p_source` reaches a user with these stored preferences at `p_now`: no row
-- when they switched the source off, else its priority and sound/badge flags. A source's stored
-- preferences are merged over its defaults, and a malformed entry (unknown key, wrong type) falls
-- back to the defaults, as do malformed quiet hours (never quiet then): a bad row never blocks a
-- notification. Inside quiet hours [start, end) in the user's time zone (a window may wrap
-- midnight; start = end is no window) there is no sound, except at `high` priority.
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

-- Notifies users of an event from the actor's own session (who may notify whom: private.can_notify,
-- 42501 otherwise): one row per recipient who has not switched the source off, flags from their
-- preferences, and the audit entry. The ids created, in recipient order. security definer: the actor
-- reads neither the recipients' preferences nor their rows.
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

-- A notification's realtime event goes out at commit, after the events of what it is about written in
-- the same transaction: a chat message notifies before its insert (to keep the conversation's lock
-- short), yet its subscribers still receive the message first, then the notification.
drop trigger notifications_emit on public.notifications;
create constraint trigger notifications_emit after insert on public.notifications
  deferrable initially deferred for each row execute function private.notifications_emit();

-- Marks one of my notifications read (once: a concurrent call waits on the row, then finds it read
-- and writes no second audit entry). The row as JSON; null when it is not mine, or gone (not an error,
-- which would abort the caller's transaction).
create function private.mark_notification_read(p_id uuid, p_request_id text) returns text
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_row public.notifications;
begin
  update public.notifications set read_at = now() where id = p_id and read_at is null returning * into v_row;
  if found then
    perform private.write_audit(v_row.client_id, 'notification.read', 'notification', p_id::text,
                                '{"read_at": null}', jsonb_build_object('read_at', v_row.read_at), p_request_id);
  else
    select * into v_row from public.notifications where id = p_id;
    if not found then
      return null;
    end if;
  end if;
  return (to_jsonb(v_row) - 'user_id' - 'change_xid' - 'stream_xmin')::text;
end
$$;

-- Marks all my unread notifications (of one source, or all) read; how many.
create function private.mark_notifications_read(p_source text, p_request_id text) returns integer
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_count integer;
begin
  update public.notifications set read_at = now()
    where user_id = (select auth.uid()) and read_at is null and (p_source is null or source = p_source);
  get diagnostics v_count = row_count;
  if v_count > 0 then
    perform private.write_audit(null, 'notifications.read_all', 'notification', null, null,
                                jsonb_build_object('source', p_source, 'updated', v_count), p_request_id);
  end if;
  return v_count;
end
$$;

-- ---------------------------------------------------------------- chat

-- Members need the chat module active on the client (the operator does not).
create function private.require_chat_active(p_client_id uuid) returns void
language plpgsql stable security invoker set search_path = '' as $$
declare
  v_modules text[];
begin
  if (select private.is_operator()) then
    return;
  end if;
  select c.active_modules into v_modules from public.client_configs c where c.client_id = p_client_id;
  if not found then
    raise exception 'no configuration for this client, or it is not yours to see' using errcode = 'FXK04';
  end if;
  if not ('chat' = any (v_modules)) then
    raise exception 'the chat module is not active for this client' using errcode = 'FXD03';
  end if;
end
$$;

-- Attachments are documents of the client that its members can open: shared, not archived. (The
-- message trigger re-checks same-client for writers other than these functions.)
create function private.check_chat_attachments(p_ids uuid[], p_client_id uuid) returns void
language plpgsql stable security invoker set search_path = '' as $$
declare
  v_id uuid;
  v_document record;
begin
  for v_id in select a from unnest(p_ids) with ordinality t (a, i) group by a order by min(i) loop
    select d.client_id, d.visibility, d.archived_at into v_document from public.documents d where d.id = v_id;
    if not found then
      raise exception 'no document % to attach', v_id using errcode = 'FX422', column = 'attachment_ids';
    end if;
    if v_document.client_id <> p_client_id then
      raise exception 'attachments must be documents of this client' using errcode = 'FX422', column = 'attachment_ids';
    end if;
    if v_document.visibility <> 'shared' or v_document.archived_at is not null then
      raise exception 'document % is internal or archived: the client could not open it', v_id
        using errcode = 'FX422', column = 'attachment_ids';
    end if;
  end loop;
end
$$;

-- A message as the API renders it (MessageRead).
create function private.chat_message_json(p_message public.chat_messages) returns jsonb
language sql immutable set search_path = '' as $$
  select to_jsonb(p_message) - 'change_xid' - 'stream_xmin'
$$;

-- The API picks a message's id up front (below) so that its notifications are written before the
-- insert takes the conversation's row lock, which is then held until commit (see the next function).
grant insert (id) on public.chat_messages to authenticated;

-- Sends a message: the conversation must be the caller's, chat active for members, the client not
-- archived, the reply in the same conversation, attachments openable by the client. The other side is
-- notified (the client's members, or the operators) first; then the insert, whose trigger allocates
-- `seq` under the conversation's row lock, and the audit entry: the least work is done while holding
-- that lock, which every sender to the conversation waits for. The message JSON.
create function private.send_chat_message(
  p_conversation_id uuid, p_body text, p_attachment_ids uuid[], p_reply_to_id uuid, p_request_id text
) returns text
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_id uuid := gen_random_uuid();
  v_actor uuid := (select auth.uid());
  v_client_id uuid;
  v_company text;
  v_status text;
  v_message public.chat_messages;
  v_json jsonb;
  v_excerpt text := coalesce(nullif(p_body, ''), '📎 Pièce jointe');
begin
  select c.client_id, cl.company_name, cl.status into v_client_id, v_company, v_status
    from public.chat_conversations c join public.clients cl on cl.id = c.client_id
    where c.id = p_conversation_id;
  if not found then
    raise exception 'no such conversation' using errcode = 'FXC04';
  end if;
  perform private.require_chat_active(v_client_id);
  if v_status = 'archived' then
    raise exception 'the client is archived' using errcode = 'FXA09';
  end if;
  if p_reply_to_id is not null and not exists (
      select 1 from public.chat_messages m where m.id = p_reply_to_id and m.conversation_id = p_conversation_id) then
    raise exception 'the replied-to message is not in this conversation' using errcode = 'FX422', column = 'reply_to_id';
  end if;
  perform private.check_chat_attachments(p_attachment_ids, v_client_id);
  if length(v_excerpt) > 140 then
    v_excerpt := left(v_excerpt, 139) || '…';
  end if;
  if (select private.is_operator()) then
    perform private.notify(
      array(select u from unnest(private.client_member_ids(v_client_id)) u where u is distinct from v_actor),
      v_client_id, 'chat', 'Nouveau message', v_excerpt, null, '/chat/' || p_conversation_id,
      'chat_message', v_id::text, p_request_id);
  else
    perform private.notify(
      array(select u from unnest(private.operator_ids()) u where u is distinct from v_actor),
      v_client_id, 'chat', 'Nouveau message — ' || v_company, v_excerpt, null, '/chat/' || p_conversation_id,
      'chat_message', v_id::text, p_request_id);
  end if;
  insert into public.chat_messages (id, conversation_id, author_id, body, attachment_ids, reply_to_id)
    values (v_id, p_conversation_id, v_actor, nullif(p_body, ''), coalesce(p_attachment_ids, '{}'), p_reply_to_id)
    returning * into v_message;
  v_json := private.chat_message_json(v_message);
  perform private.write_audit(v_client_id, 'chat.message_sent', 'chat_message', v_id::text, null,
                              v_json - 'body', p_request_id);
  return v_json::text;
end
$$;

-- The client's direct conversation, created (and audited) on first use unless the client is archived.
create function private.open_direct_chat(p_client_id uuid, p_request_id text) returns uuid
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_status text;
  v_id uuid;
begin
  select c.status into v_status from public.clients c where c.id = p_client_id;
  if not found then
    raise exception 'no such client' using errcode = 'FXL04';
  end if;
  perform private.require_chat_active(p_client_id);
  select c.id into v_id from public.chat_conversations c where c.client_id = p_client_id and c.kind = 'direct';
  if found then
    return v_id;
  end if;
  if v_status = 'archived' then
    raise exception 'the client is archived' using errcode = 'FXA09';
  end if;
  insert into public.chat_conversations (client_id, kind) values (p_client_id, 'direct')
    on conflict (client_id) where kind = 'direct' do nothing returning id into v_id;
  if v_id is null then  -- a concurrent call created it (and audited it)
    select c.id into v_id from public.chat_conversations c where c.client_id = p_client_id and c.kind = 'direct';
    return v_id;
  end if;
  perform private.write_audit(p_client_id, 'chat.conversation_opened', 'chat_conversation', v_id::text, null,
                              jsonb_build_object('id', v_id, 'kind', 'direct'), p_request_id);
  return v_id;
end
$$;

-- My message, locked, for an edit or a deletion: visible, chat active, mine, client not archived,
-- not deleted.
create function private.lock_own_chat_message(p_message_id uuid) returns public.chat_messages
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_message public.chat_messages;
begin
  select * into v_message from public.chat_messages m where m.id = p_message_id;
  if not found then
    raise exception 'no such message' using errcode = 'FXM04';
  end if;
  perform private.require_chat_active(v_message.client_id);
  if v_message.author_id is distinct from (select auth.uid()) then
    raise exception 'only the author of a message can edit or delete it' using errcode = 'FXA03';
  end if;
  if exists (select 1 from public.clients c where c.id = v_message.client_id and c.status = 'archived') then
    raise exception 'the client is archived' using errcode = 'FXA09';
  end if;
  -- FOR UPDATE also applies the update policy (own messages only), hence after the author check.
  select * into v_message from public.chat_messages m where m.id = p_message_id for update;
  if not found then
    raise exception 'no such message' using errcode = 'FXM04';
  end if;
  if v_message.deleted_at is not null then
    raise exception 'the message was deleted and cannot change' using errcode = 'FXX09';
  end if;
  return v_message;
end
$$;

-- Edits my message: `p_set_body` says whether the body changes (to `p_body`, null to clear it);
-- null `p_attachment_ids` leaves them. Unchanged content writes nothing. The message JSON.
create function private.edit_chat_message(
  p_message_id uuid, p_set_body boolean, p_body text, p_attachment_ids uuid[], p_request_id text
) returns text
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_before public.chat_messages := private.lock_own_chat_message(p_message_id);
  v_after public.chat_messages;
  v_body text := case when p_set_body then nullif(p_body, '') else v_before.body end;
  v_attachments uuid[] := coalesce(p_attachment_ids, v_before.attachment_ids);
begin
  if v_body is null and cardinality(v_attachments) = 0 then
    raise exception 'a message needs a body or an attachment' using errcode = 'FX422', column = 'body';
  end if;
  if v_body is not distinct from v_before.body and v_attachments = v_before.attachment_ids then
    return private.chat_message_json(v_before)::text;
  end if;
  if p_attachment_ids is not null then
    perform private.check_chat_attachments(p_attachment_ids, v_before.client_id);
  end if;
  update public.chat_messages set body = v_body, attachment_ids = v_attachments
    where id = p_message_id returning * into v_after;
  perform private.write_audit(v_after.client_id, 'chat.message_edited', 'chat_message', p_message_id::text,
                              private.chat_message_json(v_before), private.chat_message_json(v_after), p_request_id);
  return private.chat_message_json(v_after)::text;
end
$$;

-- Deletes my message, leaving a tombstone (the trigger clears body and attachments). The tombstone JSON.
create function private.delete_chat_message(p_message_id uuid, p_request_id text) returns text
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_before public.chat_messages := private.lock_own_chat_message(p_message_id);
  v_after public.chat_messages;
begin
  update public.chat_messages set deleted_at = now() where id = p_message_id returning * into v_after;
  perform private.write_audit(v_after.client_id, 'chat.message_deleted', 'chat_message', p_message_id::text,
                              private.chat_message_json(v_before), private.chat_message_json(v_after), p_request_id);
  return private.chat_message_json(v_after)::text;
end
$$;

-- Moves my read position forward to `p_seq` (null: the latest message), never back; audited when it
-- moves. Concurrent calls serialise on my read-position row. Returns the position and my unread count.
create function private.mark_chat_read(p_conversation_id uuid, p_seq bigint, p_request_id text)
returns table (last_read_seq bigint, unread_count bigint)
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_uid uuid := (select auth.uid());
  v_client_id uuid;
  v_last_seq bigint;
  v_previous bigint;
  v_target bigint;
begin
  select c.client_id, c.last_seq into v_client_id, v_last_seq
    from public.chat_conversations c where c.id = p_conversation_id;
  if not found then
    raise exception 'no such conversation' using errcode = 'FXC04';
  end if;
  perform private.require_chat_active(v_client_id);
  if p_seq > v_last_seq then
    raise exception 'seq % is past the last message (%)', p_seq, v_last_seq using errcode = 'FX422', column = 'seq';
  end if;
  v_target := coalesce(p_seq, v_last_seq);
  select r.last_read_seq into v_previous from public.chat_reads r
    where r.conversation_id = p_conversation_id and r.user_id = v_uid for update;
  if not found then
    v_previous := 0;
    if v_target > 0 then
      insert into public.chat_reads (conversation_id, user_id, client_id, last_read_seq)
        values (p_conversation_id, v_uid, v_client_id, v_target)
        on conflict (conversation_id, user_id) do nothing;
      if not found then  -- a concurrent call created it: take its position, locked, as the previous one
        select r.last_read_seq into v_previous from public.chat_reads r
          where r.conversation_id = p_conversation_id and r.user_id = v_uid for update;
      end if;
    end if;
  end if;
  if v_target > v_previous then
    update public.chat_reads r set last_read_seq = v_target, read_at = now()
      where r.conversation_id = p_conversation_id and r.user_id = v_uid and r.last_read_seq < v_target;
    perform private.write_audit(v_client_id, 'chat.read', 'chat_conversation', p_conversation_id::text,
                                jsonb_build_object('last_read_seq', v_previous),
                                jsonb_build_object('last_read_seq', v_target), p_request_id);
  else
    v_target := v_previous;
  end if;
  return query select v_target, (select count(*) from public.chat_messages m
    where m.conversation_id = p_conversation_id and m.seq > v_target
      and m.author_id is distinct from v_uid and m.deleted_at is null);
end
$$;

revoke all on function private.notification_text(text, integer),
  private.notification_delivery(jsonb, jsonb, text, text, timestamptz),
  private.notify(uuid[], uuid, text, text, text, text, text, text, text, text),
  private.mark_notification_read(uuid, text), private.mark_notifications_read(text, text),
  private.require_chat_active(uuid), private.check_chat_attachments(uuid[], uuid),
  private.chat_message_json(public.chat_messages),
  private.open_direct_chat(uuid, text),
  private.send_chat_message(uuid, text, uuid[], uuid, text), private.lock_own_chat_message(uuid),
  private.edit_chat_message(uuid, boolean, text, uuid[], text), private.delete_chat_message(uuid, text),
  private.mark_chat_read(uuid, bigint, text) from public;
grant execute on function private.notification_text(text, integer),
  private.notification_delivery(jsonb, jsonb, text, text, timestamptz),
  private.notify(uuid[], uuid, text, text, text, text, text, text, text, text),
  private.mark_notification_read(uuid, text), private.mark_notifications_read(text, text),
  private.require_chat_active(uuid), private.check_chat_attachments(uuid[], uuid),
  private.chat_message_json(public.chat_messages),
  private.open_direct_chat(uuid, text),
  private.send_chat_message(uuid, text, uuid[], uuid, text), private.lock_own_chat_message(uuid),
  private.edit_chat_message(uuid, boolean, text, uuid[], text), private.delete_chat_message(uuid, text),
  private.mark_chat_read(uuid, bigint, text)
  to authenticated, service_role;

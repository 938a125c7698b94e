-- Chat: conversations between the operator and a client's members, messages, read positions.

create table public.chat_conversations (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  -- 'direct' is the one operator <-> client conversation; 'project' (subject_id = the project) and
  -- other kinds come later, hence no foreign key on subject_id.
  kind text not null default 'direct' check (kind in ('direct', 'project')),
  subject_id uuid,
  title text check (length(title) between 1 and 200),
  -- Per-conversation message counter: messages get last_seq + 1 under this row's lock, so within a
  -- conversation `seq` order is commit order and has no gaps (pagination and unread counts use it).
  last_seq bigint not null default 0,
  last_activity_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  check ((kind = 'direct') = (subject_id is null))
);
create unique index chat_conversations_direct_uq on public.chat_conversations (client_id) where kind = 'direct';
create unique index chat_conversations_subject_uq on public.chat_conversations (client_id, kind, subject_id)
  where subject_id is not null;
create index chat_conversations_activity_idx on public.chat_conversations (last_activity_at desc, id desc);
create index chat_conversations_client_idx on public.chat_conversations (client_id, last_activity_at desc, id desc);

alter table public.chat_conversations enable row level security;
create policy chat_conversations_operator_all on public.chat_conversations for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy chat_conversations_member_read on public.chat_conversations for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
-- A member may open their client's direct conversation (the API does it on first use).
create policy chat_conversations_member_open on public.chat_conversations for insert to authenticated
  with check (kind = 'direct' and client_id = any ((select private.my_client_ids())::uuid[]));
grant select on public.chat_conversations to authenticated;
grant insert (client_id, kind, subject_id, title), update (title) on public.chat_conversations to authenticated;

create table public.chat_messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.chat_conversations (id) on delete cascade,
  client_id uuid not null references public.clients (id) on delete cascade,
  seq bigint not null,
  author_id uuid references auth.users (id) on delete set null,
  author_role text not null check (author_role in ('operator', 'member', 'system')),
  body text check (length(body) <= 4000),
  -- Documents of the same client. No foreign key: the documents table belongs to another module and
  -- may not exist yet; the insert/update trigger checks same-client when public.documents exists.
  attachment_ids uuid[] not null default '{}' check (cardinality(attachment_ids) <= 10),
  reply_to_id uuid references public.chat_messages (id) on delete set null,
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  version integer not null default 1,
  -- SSE resume (see services/events): the writing transaction and the oldest transaction running then.
  -- (xid8 values as bigint: 64-bit, far below 2^63, and every client library knows bigint.)
  change_xid bigint not null default pg_current_xact_id()::text::bigint,
  stream_xmin bigint not null default pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
  unique (conversation_id, seq),
  check (deleted_at is not null or body is not null or cardinality(attachment_ids) > 0),
  check (body !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]')
);
create index chat_messages_client_idx on public.chat_messages (client_id, change_xid);
create index chat_messages_change_idx on public.chat_messages (change_xid);
create index chat_messages_reply_idx on public.chat_messages (reply_to_id) where reply_to_id is not null;
create index chat_messages_author_idx on public.chat_messages (author_id);

alter table public.chat_messages enable row level security;
create policy chat_messages_read on public.chat_messages for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy chat_messages_write on public.chat_messages for insert to authenticated
  with check (author_id = (select auth.uid())
              and ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[])));
-- Only one's own messages are edited or tombstoned; nobody deletes rows (no delete grant).
create policy chat_messages_own_update on public.chat_messages for update to authenticated
  using (author_id = (select auth.uid())
         and ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[])))
  with check (author_id = (select auth.uid()));
grant select on public.chat_messages to authenticated;
grant insert (conversation_id, author_id, body, attachment_ids, reply_to_id),
  update (body, attachment_ids, deleted_at) on public.chat_messages to authenticated;

create table public.chat_reads (
  conversation_id uuid not null references public.chat_conversations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  client_id uuid not null references public.clients (id) on delete cascade,
  last_read_seq bigint not null default 0 check (last_read_seq >= 0),
  read_at timestamptz not null default now(),
  primary key (conversation_id, user_id)
);
create index chat_reads_user_idx on public.chat_reads (user_id);
create index chat_reads_client_idx on public.chat_reads (client_id);
alter table public.chat_reads enable row level security;
-- Everyone in a conversation sees everyone's read position ("seen" marks); each writes only their own.
create policy chat_reads_read on public.chat_reads for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy chat_reads_own_insert on public.chat_reads for insert to authenticated
  with check (user_id = (select auth.uid())
              and ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[])));
create policy chat_reads_own_update on public.chat_reads for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
grant select on public.chat_reads to authenticated;
grant insert (conversation_id, user_id, client_id, last_read_seq), update (last_read_seq, read_at)
  on public.chat_reads to authenticated;

-- What the database guarantees whoever writes (the API or supabase-js directly): server-side seq,
-- client, author role and timestamps; control characters stripped; same-conversation reply;
-- same-client attachments; tombstones are final. security definer: it bumps the conversation row,
-- which members may not update; the insert policy above still decides whether the row may exist.
create function private.chat_messages_before_write() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_client uuid;
  v_seq bigint;
  v_found integer;
begin
  if tg_op = 'INSERT' then
    update public.chat_conversations set last_seq = last_seq + 1, last_activity_at = clock_timestamp()
      where id = new.conversation_id returning client_id, last_seq into v_client, v_seq;
    if v_client is null then
      raise exception 'no such conversation' using errcode = '23503', column = 'conversation_id';
    end if;
    new.client_id := v_client;
    new.seq := v_seq;
    new.author_role := case
      when new.author_id is null then 'system'
      when exists (select 1 from auth.users u where u.id = new.author_id
                   and u.raw_app_meta_data ->> 'role' = 'operator') then 'operator'
      else 'member' end;
    new.created_at := clock_timestamp();
    new.edited_at := null;
    new.deleted_at := null;
    new.version := 1;
    if new.reply_to_id is not null and not exists (
        select 1 from public.chat_messages m
        where m.id = new.reply_to_id and m.conversation_id = new.conversation_id) then
      raise exception 'the replied-to message is not in this conversation'
        using errcode = '23503', column = 'reply_to_id';
    end if;
  else
    if old.deleted_at is not null then
      raise exception 'a deleted message cannot change' using errcode = '55000';
    end if;
    new.version := old.version + 1;
    if new.deleted_at is not null then
      new.deleted_at := clock_timestamp();
      new.body := null;
      new.attachment_ids := '{}';
    elsif new.body is distinct from old.body or new.attachment_ids is distinct from old.attachment_ids then
      new.edited_at := clock_timestamp();
    end if;
  end if;
  new.body := nullif(regexp_replace(new.body, '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]', '', 'g'), '');
  new.attachment_ids := array(select a from unnest(new.attachment_ids) with ordinality t (a, i)
                              where a is not null group by a order by min(i));
  if cardinality(new.attachment_ids) > 0 and to_regclass('public.documents') is not null then
    execute 'select count(*) from public.documents where id = any ($1) and client_id = $2'
      into v_found using new.attachment_ids, new.client_id;
    if v_found <> cardinality(new.attachment_ids) then
      raise exception 'attachments must be documents of the same client'
        using errcode = '23503', column = 'attachment_ids';
    end if;
  end if;
  new.change_xid := pg_current_xact_id()::text::bigint;
  new.stream_xmin := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
  return new;
end
$$;
revoke all on function private.chat_messages_before_write() from public;
create trigger chat_messages_before_write before insert or update on public.chat_messages
  for each row execute function private.chat_messages_before_write();

-- NOTIFY at commit for the SSE broker: ids plus who may receive it (the client's members at commit
-- time; operators receive every client's messages), so routing never trusts the subscriber.
create function private.chat_messages_emit() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_to uuid[];
begin
  -- A NOTIFY payload is limited to 8000 bytes: past 100 members the broker looks them up itself.
  select coalesce(array_agg(m.user_id), '{}') into v_to
    from (select user_id from public.client_members where client_id = new.client_id limit 101) m;
  perform pg_notify('foxeo_events', json_build_object(
    't', 'message', 'id', new.id, 'v', new.version, 'x', new.stream_xmin, 'client', new.client_id,
    'to', case when cardinality(v_to) <= 100 then v_to end)::text);
  return null;
end
$$;
revoke all on function private.chat_messages_emit() from public;
create trigger chat_messages_emit after insert or update on public.chat_messages
  for each row execute function private.chat_messages_emit();

-- Realtime, way 1: supabase-js postgres_changes, filtered by the select policies above.
alter publication supabase_realtime add table public.chat_conversations, public.chat_messages, public.chat_reads;

-- Fixes to 0020_chat.sql and 0021_notifications.sql (both already applied, hence a new file).

-- A read position belongs to a conversation of its own client: without this, a member could record a
-- read position on another client's conversation (tagged with their own client_id), which the
-- operator would then see as a "seen" mark of an outsider. The subquery runs under the caller's RLS,
-- so the conversation must also be one they can see.
drop policy chat_reads_own_insert on public.chat_reads;
create policy chat_reads_own_insert on public.chat_reads for insert to authenticated
  with check (user_id = (select auth.uid())
              and ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]))
              and exists (select 1 from public.chat_conversations c
                          where c.id = chat_reads.conversation_id and c.client_id = chat_reads.client_id));

-- The members of a client, only to those who may know them: the operator, that client's own members,
-- and sessions without JWT claims (the service: jobs, the SSE broker). 0021 answered any caller about
-- any client, so a member could list another client's users. Raises rather than answering empty, so a
-- caller out of bounds is told so (the service maps 42501 to a 403).
create or replace function private.client_member_ids(p_client_id uuid) returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  v_allowed boolean;
  v_ids uuid[];
begin
  v_allowed := case when (select auth.uid()) is null
                 then coalesce(current_setting('role', true), 'none') not in ('anon', 'authenticated')
               else (select private.is_operator()) or p_client_id = any ((select private.my_client_ids())::uuid[])
               end;
  if not v_allowed then
    raise exception 'not allowed to list the members of client %', p_client_id using errcode = '42501';
  end if;
  select coalesce(array_agg(m.user_id order by m.user_id), '{}') into v_ids
    from public.client_members m where m.client_id = p_client_id;
  return v_ids;
end
$$;

-- A member removed from a client must not keep an open SSE stream: at commit, tell the in-process
-- broker (services/events/broker.py), which closes that user's streams; a client that reconnects
-- gets a stream of what it may still read. Also fires for an update that moves a membership away.
create function private.client_members_revoked() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform pg_notify('foxeo_events', json_build_object(
    't', 'membership_revoked', 'user', old.user_id, 'client', old.client_id)::text);
  return null;
end
$$;
revoke all on function private.client_members_revoked() from public;

create trigger client_members_revoked after delete on public.client_members
  for each row execute function private.client_members_revoked();
create trigger client_members_moved after update of user_id, client_id on public.client_members
  for each row when (old.user_id is distinct from new.user_id or old.client_id is distinct from new.client_id)
  execute function private.client_members_revoked();

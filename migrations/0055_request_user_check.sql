-- A validly signed token outlives its user: Supabase cannot revoke an access token when the user
-- is deleted. Every request's setup round trip calls this check (services/core/db.py), so a
-- deleted user is refused (401) before any statement of the request runs, at the cost of one
-- primary-key lookup and no extra round trip. FX401 is mapped to 401 by the API.
create function private.require_current_user() returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if not exists (
    select 1 from auth.users u where u.id = (select auth.uid()) and u.deleted_at is null
  ) then
    raise exception 'the user of this token no longer exists' using errcode = 'FX401';
  end if;
end
$$;
revoke all on function private.require_current_user() from public;
grant execute on function private.require_current_user() to authenticated;

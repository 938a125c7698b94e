-- Documents, second pass: the SQL floor under versions and pending uploads for callers who write the
-- tables directly (supabase-js with a member's token) instead of going through the service.

-- ---------------------------------------------------------------- object paths
-- A row names exactly its own object: clients/<client>/documents/<document>/v<n>/<ascii name>. The
-- cancel, refusal and sweep paths delete the object an upload row names, and downloads sign the one a
-- version names, so no row may name another version's, another document's or another client's object.
alter table public.document_versions add constraint document_versions_storage_path_shape check (
  starts_with(storage_path, 'clients/' || client_id::text || '/documents/' || document_id::text
                            || '/v' || version::text || '/')
  and storage_path ~ '^clients/[0-9a-f-]{36}/documents/[0-9a-f-]{36}/v[0-9]+/[A-Za-z0-9][A-Za-z0-9._-]*$');
alter table public.document_uploads add constraint document_uploads_storage_path_shape check (
  starts_with(storage_path, 'clients/' || client_id::text || '/documents/' || document_id::text
                            || '/v' || version::text || '/')
  and storage_path ~ '^clients/[0-9a-f-]{36}/documents/[0-9a-f-]{36}/v[0-9]+/[A-Za-z0-9][A-Za-z0-9._-]*$');

-- ---------------------------------------------------------------- pending uploads
-- A reservation is for a version that does not exist yet, of a document of its own client, or for a
-- document id nobody uses yet; once written, a member never edits it (nothing in the flow does; members
-- keep UPDATE rights only because locking a row with FOR UPDATE needs them). Security definer: it must
-- see rows the caller cannot (internal documents, other members' reservations).
create function private.document_uploads_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' then
    if (select auth.uid()) is not null and not (select private.is_operator()) then
      raise exception 'a pending upload is not edited: cancel it and request another' using errcode = '42501';
    end if;
    return new;
  end if;
  if exists (select 1 from public.document_versions v
             where v.document_id = new.document_id and v.version = new.version)
     or (new.is_new_document and exists (select 1 from public.documents d where d.id = new.document_id))
     or (not new.is_new_document
         and not exists (select 1 from public.documents d where d.id = new.document_id and d.client_id = new.client_id))
  then
    raise exception 'an upload reserves a version that does not exist yet, of a document of its own client'
      using errcode = '23514';
  end if;
  return new;
end $$;
revoke all on function private.document_uploads_guard() from public;

create trigger document_uploads_guard before insert or update on public.document_uploads
  for each row execute function private.document_uploads_guard();

-- ---------------------------------------------------------------- versions
-- A version never takes a number a pending upload holds (its confirm would then fail), and a member adds
-- one only where the service lets them: not to an archived document, validated homework or Lab history.
create function private.document_versions_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_doc record;
begin
  if exists (select 1 from public.document_uploads u
             where u.document_id = new.document_id and u.version = new.version) then
    raise exception 'version % of this document is reserved by a pending upload', new.version
      using errcode = '23514';
  end if;
  if (select auth.uid()) is null or (select private.is_operator()) then
    return new;
  end if;
  select d.client_id, d.source, d.status, d.phase, d.archived_at into v_doc
    from public.documents d where d.id = new.document_id;
  if v_doc.archived_at is not null
     or (v_doc.source <> 'client' and v_doc.status = 'validated')
     or (v_doc.phase = 'lab' and exists (select 1 from public.client_configs c
                                         where c.client_id = v_doc.client_id and c.dashboard_type = 'one')) then
    raise exception 'clients cannot add a version to this document' using errcode = '42501';
  end if;
  return new;
end $$;
revoke all on function private.document_versions_guard() from public;

create trigger document_versions_guard before insert on public.document_versions
  for each row execute function private.document_versions_guard();

-- ---------------------------------------------------------------- documents
-- 0010's guard, plus: a member's new document is in the client's current phase and starts without a
-- version; the current version is one of the document's own; the status of a document the member did not
-- add is the operator's; an archived document changes only by being restored.
create or replace function private.documents_member_guard() returns trigger
language plpgsql security invoker set search_path = '' as $$
begin
  if (select auth.uid()) is null or (select private.is_operator()) then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.status is not distinct from 'validated' or new.homework_due_at is not null
       or new.homework_completed or new.archived_at is not null or new.current_version_id is not null
       or new.phase is distinct from (select c.dashboard_type from public.client_configs c
                                      where c.client_id = new.client_id) then
      raise exception 'clients add their own documents only' using errcode = '42501';
    end if;
    return new;
  end if;
  if old.phase = 'lab' and exists (select 1 from public.client_configs c
                                   where c.client_id = old.client_id and c.dashboard_type = 'one') then
    raise exception 'Lab documents are read-only once the client is on One' using errcode = '42501';
  end if;
  if new.client_id <> old.client_id or new.source <> old.source or new.visibility <> old.visibility
     or new.phase <> old.phase
     or (new.status is distinct from old.status and 'validated' in (old.status, new.status))
     or (new.status is distinct from old.status and old.source <> 'client')
     or new.homework_due_at is distinct from old.homework_due_at
     or new.project_id is distinct from old.project_id or new.created_by is distinct from old.created_by
     or new.created_at <> old.created_at
     or (old.archived_at is not null and new.archived_at is not null)
     or (old.source <> 'client' and (new.title <> old.title or new.tags <> old.tags
                                     or new.document_type <> old.document_type
                                     or new.archived_at is distinct from old.archived_at))
     or (new.document_type <> old.document_type and 'devoir' in (old.document_type, new.document_type))
     or (new.current_version_id is distinct from old.current_version_id
         and old.source <> 'client' and old.document_type <> 'devoir')
     or (new.current_version_id is distinct from old.current_version_id and new.current_version_id is not null
         and not exists (select 1 from public.document_versions v
                         where v.id = new.current_version_id and v.document_id = old.id))
     or (old.homework_completed and not new.homework_completed and old.status = 'validated') then
    raise exception 'clients cannot make this change to a document' using errcode = '42501';
  end if;
  return new;
end $$;

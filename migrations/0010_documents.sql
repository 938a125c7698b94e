-- Documents: one module for deliverables, resources, homework and archives (tags, types), with
-- versions kept in object storage and the pending direct-to-storage uploads.

-- Free text over title and tags; immutable so it can back a trigram index.
create function private.document_search_text(p_title text, p_tags text[]) returns text
language sql immutable parallel safe set search_path = '' as $$
  select lower(p_title || ' ' || array_to_string(p_tags, ' '))
$$;
revoke all on function private.document_search_text(text, text[]) from public;
grant execute on function private.document_search_text(text, text[]) to authenticated, service_role;

-- ---------------------------------------------------------------- documents
create table public.documents (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  -- No foreign key yet: the projects table arrives with the projects module (0030+), which adds it.
  project_id uuid,
  title text not null check (length(title) between 1 and 200),
  tags text[] not null default '{}' check (cardinality(tags) <= 30),
  document_type text not null default 'ressource'
    check (document_type in ('livrable', 'ressource', 'devoir', 'archive')),
  visibility text not null default 'shared' check (visibility in ('shared', 'internal')),
  source text not null default 'operator' check (source in ('operator', 'client', 'orpheus', 'elio', 'meeting')),
  -- Deliverables and homework are `new` until the operator validates them.
  status text check (status in ('new', 'validated')),
  -- The dashboard the client was on when the document was created: `lab` documents become the
  -- read-only "Lab history" once the client has graduated to One.
  phase text not null check (phase in ('lab', 'one')),
  is_homework boolean generated always as (document_type = 'devoir') stored,
  homework_due_at timestamptz,
  homework_completed boolean not null default false,
  homework_completed_at timestamptz,
  current_version_id uuid,
  archived_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  check (status is null or document_type in ('livrable', 'devoir')),
  check (document_type = 'devoir' or (homework_due_at is null and not homework_completed)),
  check (homework_completed = (homework_completed_at is not null))
);
create index documents_client_idx on public.documents (client_id, created_at desc, id desc);
create index documents_created_idx on public.documents (created_at desc, id desc);
create index documents_updated_idx on public.documents (updated_at desc, id desc);
create index documents_project_idx on public.documents (project_id) where project_id is not null;
create index documents_tags_idx on public.documents using gin (tags);
create index documents_search_idx on public.documents
  using gin (private.document_search_text(title, tags) extensions.gin_trgm_ops);
-- Open homework across clients (the operator's overdue view).
create index documents_homework_idx on public.documents (homework_due_at, id)
  where document_type = 'devoir' and not homework_completed and archived_at is null;

create table public.document_versions (
  id uuid primary key default gen_random_uuid(),
  document_id uuid not null,
  client_id uuid not null,
  version integer not null check (version >= 1),
  storage_path text not null unique check (length(storage_path) <= 1024),
  file_name text not null check (length(file_name) between 1 and 255),
  size_bytes bigint not null check (size_bytes >= 0),
  mime_type text not null check (length(mime_type) <= 255),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  uploaded_by uuid,
  created_at timestamptz not null default now(),
  unique (document_id, version),
  -- A version always belongs to its document's client (RLS reads client_id here).
  foreign key (document_id, client_id) references public.documents (id, client_id) on delete cascade
);
create index document_versions_client_idx on public.document_versions (client_id);

alter table public.documents add constraint documents_current_version_fk
  foreign key (current_version_id) references public.document_versions (id) on delete set null;

-- Direct-to-storage uploads between "give me an upload URL" and "confirm": they reserve the version
-- number and object path, and tell the sweeper which objects to remove if never confirmed.
create table public.document_uploads (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  document_id uuid not null,  -- no FK: a new document does not exist until the upload is confirmed
  is_new_document boolean not null,
  version integer not null check (version >= 1),
  storage_path text not null unique check (length(storage_path) <= 1024),
  file_name text not null check (length(file_name) between 1 and 255),
  size_bytes bigint not null check (size_bytes > 0),
  mime_type text not null check (length(mime_type) <= 255),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  document jsonb,  -- the new document's validated metadata
  created_by uuid not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  unique (document_id, version),
  check (is_new_document = (document is not null))
);
create index document_uploads_client_idx on public.document_uploads (client_id, created_by);
create index document_uploads_expires_idx on public.document_uploads (expires_at);

-- The next version number of a document, counting uploads still pending for anyone: a member
-- only sees their own pending uploads, and two uploads must never get the same number and path.
-- Null for a document the caller cannot see (service sessions, without a JWT, see all).
create function private.next_document_version(p_document_id uuid) returns integer
language sql stable security definer set search_path = '' as $$
  select greatest(
    (select coalesce(max(v.version), 0) from public.document_versions v where v.document_id = p_document_id),
    (select coalesce(max(u.version), 0) from public.document_uploads u where u.document_id = p_document_id)
  ) + 1
  where exists (select 1 from public.documents d where d.id = p_document_id
                and ((select auth.uid()) is null or (select private.is_operator())
                     or (d.client_id = any ((select private.my_client_ids())::uuid[]) and d.visibility = 'shared')))
$$;
revoke all on function private.next_document_version(uuid) from public;
grant execute on function private.next_document_version(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------- RLS
alter table public.documents enable row level security;
create policy documents_operator_all on public.documents for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
-- Members never see `internal` documents, whatever the route.
create policy documents_member_read on public.documents for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]) and visibility = 'shared');
create policy documents_member_insert on public.documents for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[]) and visibility = 'shared'
              and source = 'client' and document_type <> 'devoir' and created_by = (select auth.uid()));
create policy documents_member_update on public.documents for update to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]) and visibility = 'shared')
  with check (client_id = any ((select private.my_client_ids())::uuid[]) and visibility = 'shared');
grant select, insert, update, delete on public.documents to authenticated;

alter table public.document_versions enable row level security;
create policy document_versions_operator_all on public.document_versions for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
-- A version is visible exactly when its document is (the subquery runs under documents' RLS).
create policy document_versions_member_read on public.document_versions for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[])
         and exists (select 1 from public.documents d where d.id = document_id));
create policy document_versions_member_insert on public.document_versions for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and uploaded_by = (select auth.uid())
              and exists (select 1 from public.documents d where d.id = document_id
                          and (d.source = 'client' or d.document_type = 'devoir')));
grant select, insert, update, delete on public.document_versions to authenticated;

alter table public.document_uploads enable row level security;
create policy document_uploads_operator_all on public.document_uploads for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy document_uploads_member_own on public.document_uploads for all to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]) and created_by = (select auth.uid()))
  with check (client_id = any ((select private.my_client_ids())::uuid[]) and created_by = (select auth.uid()));
grant select, insert, update, delete on public.document_uploads to authenticated;

-- RLS cannot say which columns a member may change: this guard is the SQL floor under the service's
-- rules. Members edit the documents they added (not their type to/from homework, nor visibility),
-- complete homework, add versions to their documents and to homework; `lab` documents are read-only
-- once the client is on One. The operator and service sessions (no JWT) are not restricted.
create function private.documents_member_guard() returns trigger
language plpgsql security invoker set search_path = '' as $$
begin
  if (select auth.uid()) is null or (select private.is_operator()) then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.status is not distinct from 'validated' or new.homework_due_at is not null
       or new.homework_completed or new.archived_at is not null then
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
     or new.homework_due_at is distinct from old.homework_due_at
     or new.project_id is distinct from old.project_id or new.created_by is distinct from old.created_by
     or new.created_at <> old.created_at
     or (old.source <> 'client' and (new.title <> old.title or new.tags <> old.tags
                                     or new.document_type <> old.document_type
                                     or new.archived_at is distinct from old.archived_at))
     or (new.document_type <> old.document_type and 'devoir' in (old.document_type, new.document_type))
     or (new.current_version_id is distinct from old.current_version_id
         and old.source <> 'client' and old.document_type <> 'devoir')
     or (old.homework_completed and not new.homework_completed and old.status = 'validated') then
    raise exception 'clients cannot make this change to a document' using errcode = '42501';
  end if;
  return new;
end $$;
revoke all on function private.documents_member_guard() from public;

create trigger documents_member_guard before insert or update on public.documents
  for each row execute function private.documents_member_guard();

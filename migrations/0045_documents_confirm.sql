-- Documents: confirming a direct-to-storage upload is one function call, so the locks it takes (the
-- pending upload, then its document: the order erasure takes them in too) are held for one statement,
-- not across the request's round trips. The object itself is checked before the call (outside it).

-- A document as the API reads it (DocumentRead), for the confirm's answer and its audit snapshots.
-- Security invoker: the caller's RLS decides what it sees.
create function private.document_json(p_document_id uuid) returns jsonb
language sql stable security invoker set search_path = '' as $$
  select to_jsonb(t) from (
    select d.id, d.client_id, d.project_id, d.title, d.tags, d.document_type, d.visibility, d.source,
           d.status, d.phase, d.is_homework, d.homework_due_at, d.homework_completed,
           d.homework_completed_at,
           (select to_jsonb(v) from (select cv.id, cv.version, cv.file_name, cv.size_bytes, cv.mime_type,
                                            cv.sha256, cv.uploaded_by, cv.created_at
                                     from public.document_versions cv
                                     where cv.id = d.current_version_id) v) as current_version,
           d.archived_at, d.created_by, d.created_at, d.updated_at
    from public.documents d where d.id = p_document_id) t
$$;
revoke all on function private.document_json(uuid) from public;
grant execute on function private.document_json(uuid) to authenticated, service_role;

-- Record the version a pending upload received (size and SHA-256 as measured on the stored object), and
-- create its document first when the upload is for a new one (`p_document`: the columns the service
-- checked: project_id, title, tags, document_type, visibility, source, status, phase,
-- homework_due_at, created_by). Security invoker: RLS and the guards of 0010-0011 stay the floor.
-- Errors: FX404 (no such pending upload or document for the caller), FX409 (the document is archived).
create function private.confirm_document_upload(
  p_upload_id uuid, p_size_bytes bigint, p_sha256 text, p_document jsonb, p_request_id text
) returns jsonb
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_upload public.document_uploads;
  v_current integer;
  v_archived_at timestamptz;
  v_version_id uuid;
  v_before jsonb;
  v_after jsonb;
begin
  select * into v_upload from public.document_uploads u where u.id = p_upload_id for update;
  if not found then
    raise exception 'no such pending upload' using errcode = 'FX404', detail = 'upload';
  end if;
  if v_upload.is_new_document then
    insert into public.documents (id, client_id, project_id, title, tags, document_type, visibility, source,
                                  status, phase, homework_due_at, created_by)
      select v_upload.document_id, v_upload.client_id, r.project_id, r.title, coalesce(r.tags, '{}'),
             r.document_type, r.visibility, r.source, r.status, r.phase, r.homework_due_at, r.created_by
      from jsonb_populate_record(null::public.documents, p_document) r;
  else
    select cv.version, d.archived_at into v_current, v_archived_at
      from public.documents d left join public.document_versions cv on cv.id = d.current_version_id
      where d.id = v_upload.document_id
      for update of d;
    if not found then
      raise exception 'no such document' using errcode = 'FX404', detail = 'document';
    end if;
    if v_archived_at is not null then
      raise exception 'the document is archived' using errcode = 'FX409';
    end if;
    v_before := private.document_json(v_upload.document_id);
  end if;
  delete from public.document_uploads u where u.id = p_upload_id;
  insert into public.document_versions (document_id, client_id, version, storage_path, file_name, size_bytes,
                                        mime_type, sha256, uploaded_by)
    values (v_upload.document_id, v_upload.client_id, v_upload.version, v_upload.storage_path,
            v_upload.file_name, p_size_bytes, v_upload.mime_type, p_sha256, (select auth.uid()))
    returning id into v_version_id;
  if v_upload.version > coalesce(v_current, 0) then
    update public.documents d set current_version_id = v_version_id, updated_at = now()
      where d.id = v_upload.document_id;
  end if;
  v_after := private.document_json(v_upload.document_id);
  perform private.write_audit(
    v_upload.client_id,
    case when v_upload.is_new_document then 'document.created' else 'document.version_added' end,
    'document', v_upload.document_id::text, v_before, v_after, p_request_id);
  return v_after;
end $$;
revoke all on function private.confirm_document_upload(uuid, bigint, text, jsonb, text) from public;
grant execute on function private.confirm_document_upload(uuid, bigint, text, jsonb, text) to authenticated;

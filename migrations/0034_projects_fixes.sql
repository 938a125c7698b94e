-- Hardening of 0030–0032: what members may write directly (supabase-js, or any SQL as `authenticated`)
-- follows the rules the API applies (ownership, dates, which rows may go together).

-- ---------------------------------------------------------------- Validation Hub submission
-- The function no longer trusts the caller's document ids: each must be a shared document of the
-- step's client (what the member can see). A step left `submitted` by a request that was closed
-- undecided (its project was closed, then reopened) can be submitted again, as a new request.
-- Errors: FX404 (not the caller's step), FX409 (not submittable now), FX422 (a document not attachable).
create or replace function private.submit_step(p_step_id uuid, p_message text, p_document_ids uuid[])
returns table (request_id uuid, round integer)
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_uid uuid := (select auth.uid());
  v_project_id uuid;
  v_client_id uuid;
  v_status text;
  v_documents uuid[];
  v_request_id uuid;
  v_request_status text;
  v_round integer;
begin
  select s.project_id, s.client_id into v_project_id, v_client_id
    from public.project_steps s where s.id = p_step_id;
  if v_project_id is null or v_uid is null
     or not (v_client_id = any ((select private.my_client_ids())::uuid[])) then
    raise exception 'no such step, or it is not yours' using errcode = 'FX404';
  end if;
  select coalesce(array_agg(d.id order by d.ord), '{}') into v_documents
    from (select u.id, min(u.ord) as ord from unnest(coalesce(p_document_ids, '{}')) with ordinality as u(id, ord)
          group by u.id) d;
  if exists (select 1 from unnest(v_documents) as u(id)
             where not exists (select 1 from public.documents doc
                               where doc.id = u.id and doc.client_id = v_client_id and doc.visibility = 'shared')) then
    raise exception 'only shared documents of the same client can be attached' using errcode = 'FX422';
  end if;
  perform 1 from public.projects p where p.id = v_project_id and p.status = 'active' for share;
  if not found then
    raise exception 'the project is not active' using errcode = 'FX409';
  end if;
  select s.status into v_status from public.project_steps s where s.id = p_step_id for update;
  select r.id, r.status, r.current_round into v_request_id, v_request_status, v_round
    from public.validation_requests r
    where r.step_id = p_step_id and r.status in ('pending', 'changes_requested') for update;
  if v_status = 'validated' or v_request_status = 'pending' then
    raise exception 'the step is %', v_status using errcode = 'FX409';
  end if;
  if v_request_id is null then
    v_round := 1;
    insert into public.validation_requests (client_id, project_id, step_id, submitted_by)
      values (v_client_id, v_project_id, p_step_id, v_uid) returning id into v_request_id;
  else
    v_round := v_round + 1;
    update public.validation_requests
      set status = 'pending', current_round = v_round, submitted_by = v_uid,
          last_submitted_at = now(), updated_at = now()
      where id = v_request_id;
  end if;
  insert into public.validation_rounds (request_id, client_id, round, message, document_ids, submitted_by)
    values (v_request_id, v_client_id, v_round, coalesce(p_message, ''), v_documents, v_uid);
  update public.project_steps
    set status = 'submitted', submitted_at = now(), started_at = coalesce(started_at, now()),
        updated_at = now()
    where id = p_step_id;
  return query select v_request_id, v_round;
end $$;

-- ---------------------------------------------------------------- timeline
-- A member's own events are written now (`at` cannot be backdated), a comment or a submission is
-- on one of the client's projects, and a step named is a step of that project.
drop policy timeline_events_member_insert on public.timeline_events;
create policy timeline_events_member_insert on public.timeline_events for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and actor_id = (select auth.uid()) and actor_role = 'member' and at = now()
              and case kind
                    when 'comment' then project_id is not null
                    when 'step_submitted' then project_id is not null and step_id is not null
                    when 'evolution_requested' then project_id is null and step_id is null
                    else false
                  end
              and (step_id is null or exists (select 1 from public.project_steps s
                                              where s.id = timeline_events.step_id
                                                and s.project_id = timeline_events.project_id)));

-- ---------------------------------------------------------------- evolution requests
-- A member's request is dated now (no backdating in the operator's list); a member's history row is
-- dated now and only goes with a request still `requested`.
drop policy evolution_requests_member_insert on public.evolution_requests;
create policy evolution_requests_member_insert on public.evolution_requests for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and requested_by = (select auth.uid()) and status = 'requested'
              and quote_reference is null and decline_reason is null and project_id is null
              and delivered_at is null and declined_at is null
              and created_at = now() and updated_at = now());

drop policy evolution_events_member_insert on public.evolution_events;
create policy evolution_events_member_insert on public.evolution_events for insert to authenticated
  with check (client_id = any ((select private.my_client_ids())::uuid[])
              and actor_id = (select auth.uid()) and actor_role = 'member'
              and from_status is null and to_status = 'requested' and at = now()
              and exists (select 1 from public.evolution_requests e
                          where e.id = evolution_events.evolution_id and e.status = 'requested'));

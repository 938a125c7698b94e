-- Validation Hub writes in one round trip: a submission and a decision are each ONE function call
-- that takes its locks (project, step, request — the lock order everywhere), writes the round, moves
-- the step, adds the timeline events, writes the audit entry and notifies the other side. The locks
-- are held inside that call only, never across the API's round trips.
--
-- Refusals raise SQLSTATEs the service maps to its typed errors:
--   FX404 no such step / request (or not the caller's)   FX422 a document cannot be attached
--   FX409 not submittable now, or already decided         FXV09 the round named is not the current one

-- A request as the API renders it (ValidationDetail), rounds first to last. Security invoker: RLS
-- decides whether the caller sees it (null when not).
create function private.validation_detail(p_request_id uuid) returns jsonb
language sql stable security invoker set search_path = '' as $$
  select jsonb_build_object(
    'id', r.id, 'client_id', r.client_id, 'company_name', c.company_name, 'project_id', r.project_id,
    'project_name', p.name, 'step_id', r.step_id, 'step_title', s.title, 'step_position', s.position,
    'status', r.status, 'current_round', r.current_round, 'last_message', coalesce(cur.message, ''),
    'submitted_by', r.submitted_by, 'last_submitted_at', r.last_submitted_at, 'decided_at', r.decided_at,
    'created_at', r.created_at, 'updated_at', r.updated_at,
    'rounds', (select coalesce(jsonb_agg(jsonb_build_object(
                 'round', x.round, 'message', x.message, 'document_ids', x.document_ids,
                 'submitted_by', x.submitted_by, 'submitted_at', x.submitted_at, 'decision', x.decision,
                 'decision_comment', x.decision_comment, 'decided_by', x.decided_by, 'decided_at', x.decided_at)
                 order by x.round), '[]'::jsonb)
               from public.validation_rounds x where x.request_id = r.id))
  from public.validation_requests r
  join public.clients c on c.id = r.client_id
  join public.projects p on p.id = r.project_id
  join public.project_steps s on s.id = r.step_id
  left join public.validation_rounds cur on cur.request_id = r.id and cur.round = r.current_round
  where r.id = p_request_id
$$;

-- Who writes: the timeline's actor role of the caller.
create function private.actor_role() returns text
language sql stable security invoker set search_path = '' as $$
  select case when (select auth.uid()) is null then 'system'
              when (select private.is_operator()) then 'operator' else 'member' end
$$;

-- A member submits their client's step (or its next round after "changes requested"). Members only
-- read the Validation Hub's tables, so this is security definer and checks the caller itself (see
-- 0031/0034): the step must be theirs, the project active, the step neither validated nor waiting
-- for a decision, and the documents shared documents of the same client. Returns the request, its
-- round and its detail as the API renders it.
drop function private.submit_step(uuid, text, uuid[]);
create function private.submit_step(
  p_step_id uuid, p_message text, p_document_ids uuid[], p_request_id text default null
) returns table (request_id uuid, round integer, detail jsonb)
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_uid uuid := (select auth.uid());
  v_project_id uuid;
  v_client_id uuid;
  v_project_status text;
  v_step public.project_steps;
  v_documents uuid[];
  v_request_id uuid;
  v_request_status text;
  v_round integer;
  v_detail jsonb;
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
    raise exception 'only shared documents of the same client can be attached'
      using errcode = 'FX422', column = 'document_ids';
  end if;
  select p.status into v_project_status from public.projects p where p.id = v_project_id for share;
  if v_project_status <> 'active' then
    raise exception 'the project is %: only an active project''s steps can be submitted', v_project_status
      using errcode = 'FX409';
  end if;
  select * into v_step from public.project_steps s where s.id = p_step_id for update;
  select r.id, r.status, r.current_round into v_request_id, v_request_status, v_round
    from public.validation_requests r
    where r.step_id = p_step_id and r.status in ('pending', 'changes_requested') for update;
  if v_step.status = 'validated' then
    raise exception 'this step is already validated' using errcode = 'FX409';
  end if;
  if v_request_status = 'pending' then
    raise exception 'this step already waits for a decision' using errcode = 'FX409';
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
  insert into public.timeline_events (client_id, project_id, step_id, kind, actor_id, actor_role, body, data)
    values (v_client_id, v_project_id, p_step_id, 'step_submitted', v_uid, private.actor_role(),
            nullif(p_message, ''), jsonb_build_object('validation_id', v_request_id, 'round', v_round));
  v_detail := private.validation_detail(v_request_id);
  perform private.write_audit(v_client_id, 'validation.submitted', 'validation_request', v_request_id::text,
                              null, v_detail, p_request_id);
  perform private.notify(
    array(select u from unnest(private.operator_ids()) u where u is distinct from v_uid), v_client_id,
    'validation_hub',
    format('%s · « %s » à valider%s', v_detail ->> 'company_name', v_step.title,
           case when v_round > 1 then format(' (tour %s)', v_round) else '' end),
    nullif(p_message, ''), 'high', '/validations/' || v_request_id, 'validation_request', v_request_id::text,
    p_request_id);
  return query select v_request_id, v_round, v_detail;
end $$;
revoke all on function private.submit_step(uuid, text, uuid[], text) from public;
grant execute on function private.submit_step(uuid, text, uuid[], text) to authenticated;

-- The operator decides the current round of a request: approved (the step is validated and, in an
-- active project with no step under way, the next step to do starts), changes_requested (the client
-- may resubmit as the next round) or rejected (the step goes back in progress). One decision per
-- round: the request row is locked, so of two racing decisions one wins and the other gets FX409.
-- Security invoker: RLS (operator only) decides who may write. The request's detail after.
create function private.decide_validation(
  p_id uuid, p_decision text, p_comment text, p_round integer, p_request_id text
) returns jsonb
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_uid uuid := (select auth.uid());
  v_project_id uuid;
  v_step public.project_steps;
  v_next public.project_steps;
  v_client_id uuid;
  v_status text;
  v_round integer;
  v_before jsonb;
  v_after jsonb;
begin
  if p_decision not in ('approved', 'changes_requested', 'rejected') then
    raise exception 'unknown decision %', p_decision using errcode = '22023';
  end if;
  select r.project_id into v_project_id from public.validation_requests r where r.id = p_id;
  if not found then
    raise exception 'no such validation request' using errcode = 'FX404';
  end if;
  perform 1 from public.projects p where p.id = v_project_id for share;
  select s.* into v_step from public.project_steps s
    join public.validation_requests r on r.step_id = s.id where r.id = p_id for update of s;
  select r.client_id, r.status, r.current_round into v_client_id, v_status, v_round
    from public.validation_requests r where r.id = p_id for update;
  if v_status <> 'pending' then
    raise exception 'this request is %: round % already has its decision', v_status, v_round using errcode = 'FX409';
  end if;
  if p_round is not null and p_round <> v_round then
    raise exception 'round % is not the current round (%)', p_round, v_round using errcode = 'FXV09', column = 'round';
  end if;
  v_before := private.validation_detail(p_id);
  update public.validation_rounds
    set decision = p_decision, decision_comment = p_comment, decided_by = v_uid, decided_at = now()
    where request_id = p_id and round = v_round and decision is null;
  if not found then
    raise exception 'round % already has its decision', v_round using errcode = 'FX409';
  end if;
  update public.validation_requests set status = p_decision, decided_at = now(), updated_at = now()
    where id = p_id;
  insert into public.timeline_events (client_id, project_id, step_id, kind, actor_id, actor_role, body, data)
    values (v_client_id, v_project_id, v_step.id,
            case p_decision when 'approved' then 'step_validated' when 'changes_requested' then 'step_changes_requested'
                            else 'step_rejected' end,
            v_uid, private.actor_role(), nullif(p_comment, ''),
            jsonb_build_object('validation_id', p_id, 'round', v_round));
  update public.project_steps
    set status = case p_decision when 'approved' then 'validated' when 'changes_requested' then 'changes_requested'
                                 else 'in_progress' end,
        completed_at = case when p_decision = 'approved' then now() end, updated_at = now()
    where id = v_step.id;
  if p_decision = 'approved'
     and exists (select 1 from public.projects p where p.id = v_project_id and p.status = 'active')
     and not exists (select 1 from public.project_steps s where s.project_id = v_project_id
                     and s.status in ('in_progress', 'submitted', 'changes_requested')) then
    update public.project_steps s set status = 'in_progress', started_at = now(), updated_at = now()
      where s.id = (select n.id from public.project_steps n
                    where n.project_id = v_project_id and n.position > v_step.position and n.status = 'todo'
                    order by n.position limit 1)
      returning * into v_next;
    if found then
      insert into public.timeline_events (client_id, project_id, step_id, kind, actor_id, actor_role, body)
        values (v_client_id, v_project_id, v_next.id, 'step_started', v_uid, private.actor_role(), v_next.title);
    end if;
  end if;
  v_after := private.validation_detail(p_id);
  perform private.write_audit(v_client_id, 'validation.' || p_decision, 'validation_request', p_id::text,
                              v_before, v_after, p_request_id);
  perform private.notify(
    array(select u from unnest(private.client_member_ids(v_client_id)) u where u is distinct from v_uid),
    v_client_id, 'validation_hub',
    format('%s · « %s »', case p_decision when 'approved' then 'Étape validée'
                                          when 'changes_requested' then 'Modifications demandées'
                                          else 'Soumission refusée' end, v_step.title),
    nullif(p_comment, ''), null, '/validations/' || p_id, 'validation_request', p_id::text, p_request_id);
  return v_after;
end $$;

revoke all on function private.validation_detail(uuid), private.actor_role(),
  private.decide_validation(uuid, text, text, integer, text) from public;
grant execute on function private.validation_detail(uuid), private.actor_role(),
  private.decide_validation(uuid, text, text, integer, text) to authenticated, service_role;

-- Supabase's database linter (splinter) finds nothing: tests/core/test_db_lints.py runs its rules.
--
-- 1. multiple_permissive_policies. Tables had an operator policy `for all` beside member policies, so
--    Postgres evaluated two permissive policies for the same role and action on every row. Each such
--    table gets ONE permissive policy per action, named `<table>_<action>`, whose conditions are the
--    OR of the conditions of the policies it replaces, read from the catalog when this runs, so the
--    result is exactly what Postgres enforced before (permissive policies combine with OR):
--      select/delete: USING      = OR of the USING of the `for all` / `for <action>` policies;
--      insert:        WITH CHECK = OR of their WITH CHECK (a `for all` policy without one checks
--                                  its USING, as Postgres does);
--      update:        both of the above.
--    Restrictive policies are left alone. Anything this cannot merge exactly (differing roles, a
--    policy without the clause it needs) stops the migration instead of guessing.
do $$
declare
  t record;
  action record;
  p record;
  roles text;
  using_expr text;
  check_expr text;
  saved_search_path text := current_setting('search_path');
begin
  -- Empty while expressions are read back, so pg_get_expr qualifies every name it prints and the
  -- recreated policies refer to exactly the same objects.
  perform pg_catalog.set_config('search_path', '', true);
  for t in
    select c.oid, c.relname
    from pg_catalog.pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
      and exists (
        select 1
        from pg_catalog.pg_policy a
        join pg_catalog.pg_policy b
          on b.polrelid = a.polrelid and b.oid <> a.oid and b.polpermissive
         and (a.polcmd = '*' or b.polcmd = '*' or a.polcmd = b.polcmd)
         and a.polroles && b.polroles
        where a.polrelid = c.oid and a.polpermissive)
    order by c.relname
  loop
    select string_agg(quote_ident(r.rolname), ', ' order by r.rolname) into roles
    from pg_catalog.pg_roles r
    where r.oid = any ((select polroles from pg_catalog.pg_policy where polrelid = t.oid and polpermissive limit 1)::oid[]);
    if roles is null
       or (select count(distinct polroles) from pg_catalog.pg_policy where polrelid = t.oid and polpermissive) > 1 then
      raise exception 'public.%: permissive policies for different roles (or PUBLIC), merge them by hand', t.relname;
    end if;

    -- Build every merged expression before dropping anything (they are read from the old policies).
    create temporary table pg_temp.merged (action text, using_expr text, check_expr text);
    for action in select * from (values ('r', 'select'), ('a', 'insert'), ('w', 'update'), ('d', 'delete'))
                                as v(cmd, name)
    loop
      using_expr := null;
      check_expr := null;
      for p in
        select polname,
               pg_catalog.pg_get_expr(polqual, polrelid) as qual,
               pg_catalog.pg_get_expr(polwithcheck, polrelid) as with_check
        from pg_catalog.pg_policy
        where polrelid = t.oid and polpermissive and polcmd in ('*', action.cmd::"char")
        order by polname
      loop
        if action.cmd in ('r', 'w', 'd') then
          if p.qual is null then
            raise exception 'public.%: policy % has no USING for %', t.relname, p.polname, action.name;
          end if;
          using_expr := concat_ws(' or ', using_expr, '(' || p.qual || ')');
        end if;
        if action.cmd in ('a', 'w') then
          if coalesce(p.with_check, p.qual) is null then
            raise exception 'public.%: policy % has no WITH CHECK for %', t.relname, p.polname, action.name;
          end if;
          check_expr := concat_ws(' or ', check_expr, '(' || coalesce(p.with_check, p.qual) || ')');
        end if;
      end loop;
      if using_expr is not null or check_expr is not null then
        insert into pg_temp.merged values (action.name, using_expr, check_expr);
      end if;
    end loop;

    for p in select polname from pg_catalog.pg_policy where polrelid = t.oid and polpermissive loop
      execute format('drop policy %I on public.%I', p.polname, t.relname);
    end loop;
    for action in select * from pg_temp.merged loop
      execute format('create policy %I on public.%I as permissive for %s to %s', t.relname || '_' || action.action,
                     t.relname, action.action, roles)
              || coalesce(' using (' || action.using_expr || ')', '')
              || coalesce(' with check (' || action.check_expr || ')', '');
    end loop;
    drop table pg_temp.merged;
  end loop;
  perform pg_catalog.set_config('search_path', saved_search_path, true);
end
$$;

-- 2. unindexed_foreign_keys. Deleting a client, project, step, request or document checks (and
--    cascades to) the rows referencing it: without an index leading with the key's columns, each
--    check scans the whole referencing table.
create index document_versions_document_client_idx on public.document_versions (document_id, client_id);
create index documents_current_version_idx on public.documents (current_version_id)
  where current_version_id is not null;
create index evolution_events_evolution_client_idx on public.evolution_events (evolution_id, client_id);
create index project_steps_project_client_idx on public.project_steps (project_id, client_id);
create index project_tasks_project_client_idx on public.project_tasks (project_id, client_id);
create index projects_template_idx on public.projects (template_id) where template_id is not null;
create index timeline_events_project_client_idx on public.timeline_events (project_id, client_id)
  where project_id is not null;
create index validation_requests_step_client_idx on public.validation_requests (step_id, client_id);
create index validation_rounds_request_client_idx on public.validation_rounds (request_id, client_id);
-- These three replace an index on the key's first column alone, which the new one covers.
create index documents_project_client_idx on public.documents (project_id, client_id)
  where project_id is not null;
drop index public.documents_project_idx;
create index evolution_requests_project_client_idx on public.evolution_requests (project_id, client_id)
  where project_id is not null;
drop index public.evolution_requests_project_idx;
create index validation_requests_project_client_idx on public.validation_requests (project_id, client_id);
drop index public.validation_requests_project_idx;

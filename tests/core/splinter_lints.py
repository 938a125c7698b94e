"""The rules of Supabase's database linter that Foxeo's schema must satisfy, as SQL over the catalog.

Adapted from supabase/splinter (https://github.com/supabase/splinter, Apache-2.0), `lints/*.sql` at
commit 55db5b1f28e58d816f7d9136eed87eabcd95868d. Each query keeps the rule's catalog logic and returns
only splinter's `detail` text (one row per finding). Differences from the originals are marked
`FOXEO:` where they are made; they only ever make a rule stricter, never looser:

- splinter reads the PostgREST-exposed schemas from `current_setting('pgrst.db_schemas')`, which only
  exists inside Supabase; here they are passed as `$1` (the `[api] schemas` of supabase/config.toml).
- 0013 only looks at tables `anon`/`authenticated` can already SELECT. On Supabase the default
  privileges of `public` grant every new table to both roles, so a table without grants here still
  ends up readable there: every regular table of an exposed schema must have RLS, granted or not.
- 0003 flags a policy only when it holds no wrapped call at all; here every call must be wrapped
  (count of calls = count of `select`-wrapped calls), and the argument-less helpers of `private`
  (`is_operator()`, `my_client_ids()`...) count as well as `auth.*()`: each is one initplan when
  wrapped and one call per row when not.
"""

from __future__ import annotations

# The schemas every splinter rule skips (Supabase-managed or extension-owned).
_SKIPPED = """(
    '_timescaledb_cache', '_timescaledb_catalog', '_timescaledb_config', '_timescaledb_internal', 'auth',
    'cron', 'extensions', 'graphql', 'graphql_public', 'information_schema', 'net', 'pgmq', 'pgroonga',
    'pgsodium', 'pgsodium_masks', 'pgtle', 'pgbouncer', 'pg_catalog', 'realtime', 'repack', 'storage',
    'supabase_functions', 'supabase_migrations', 'tiger', 'topology', 'vault'
)"""

# 0001_unindexed_foreign_keys: a foreign key whose columns are not the leading columns of an index.
UNINDEXED_FOREIGN_KEYS = f"""
with foreign_keys as (
    select cl.relnamespace::regnamespace::text as schema_name, cl.relname as table_name,
           cl.oid as table_oid, ct.conname as fkey_name, ct.conkey as col_attnums
    from pg_catalog.pg_constraint ct
    join pg_catalog.pg_class cl on ct.conrelid = cl.oid
    left join pg_catalog.pg_depend d on d.objid = cl.oid and d.deptype = 'e'
    where ct.contype = 'f' and d.objid is null
      and cl.relnamespace::regnamespace::text not in
          ('pg_catalog', 'information_schema', 'auth', 'storage', 'vault', 'extensions')
),
index_ as (
    select pi.indrelid as table_oid, indexrelid::regclass as index_,
           string_to_array(indkey::text, ' ')::smallint[] as col_attnums
    from pg_catalog.pg_index pi
    where indisvalid
)
select format('Table `%s.%s` has a foreign key `%s` without a covering index.',
              fk.schema_name, fk.table_name, fk.fkey_name)
from foreign_keys fk
left join index_ idx
  on fk.table_oid = idx.table_oid
 and fk.col_attnums = idx.col_attnums[1:array_length(fk.col_attnums, 1)]
left join pg_catalog.pg_depend dep on idx.table_oid = dep.objid and dep.deptype = 'e'
where idx.index_ is null
  and fk.schema_name not in {_SKIPPED}
  and dep.objid is null
order by fk.schema_name, fk.table_name, fk.fkey_name
"""

# 0003_auth_rls_initplan, stricter (see the module docstring): per policy, each call in USING or
# WITH CHECK that appears more often than `select <call>` does.
AUTH_RLS_INITPLAN = f"""
with policies as (
    select nsp.nspname as schema_name, pb.tablename as table_name, pc.relrowsecurity as is_rls_active,
           polname as policy_name, lower(coalesce(pb.qual, '') || ' ' || coalesce(pb.with_check, '')) as expr
    from pg_catalog.pg_policy pa
    join pg_catalog.pg_class pc on pa.polrelid = pc.oid
    join pg_catalog.pg_namespace nsp on pc.relnamespace = nsp.oid
    join pg_catalog.pg_policies pb
      on pc.relname = pb.tablename and nsp.nspname = pb.schemaname and pa.polname = pb.policyname
),
calls as (
    select distinct p.*, m[1] as call
    from policies p,
         regexp_matches(p.expr, '(auth\\.(?:uid|jwt|role|email)\\(\\)|current_setting\\(|private\\.\\w+\\(\\))', 'g') m
)
select format('Table `%s.%s` has a row level security policy `%s` that re-evaluates `%s` for each row: '
              'wrap it as `(select ...)`.', schema_name, table_name, policy_name, call)
from calls
where is_rls_active
  and schema_name not in {_SKIPPED}
  and (length(expr) - length(replace(expr, call, ''))) / length(call)
      > (length(expr) - length(replace(expr, 'select ' || call, ''))) / length('select ' || call)
order by schema_name, table_name, policy_name, call
"""

# 0006_multiple_permissive_policies: two permissive policies for one role and action.
MULTIPLE_PERMISSIVE_POLICIES = f"""
select format('Table `%s.%s` has multiple permissive policies for role `%s` for action `%s`. Policies include `%s`',
              n.nspname, c.relname, r.rolname, act.cmd, array_agg(p.polname order by p.polname))
from pg_catalog.pg_policy p
join pg_catalog.pg_class c on p.polrelid = c.oid
join pg_catalog.pg_namespace n on c.relnamespace = n.oid
join pg_catalog.pg_roles r on p.polroles @> array[r.oid] or p.polroles = array[0::oid]
left join pg_catalog.pg_depend dep on c.oid = dep.objid and dep.deptype = 'e',
lateral (
    select x.cmd
    from unnest((select case p.polcmd
                     when 'r' then array['SELECT'] when 'a' then array['INSERT']
                     when 'w' then array['UPDATE'] when 'd' then array['DELETE']
                     when '*' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE']
                     else array['ERROR'] end)) x(cmd)
) act(cmd)
where c.relkind = 'r'
  and p.polpermissive
  and n.nspname not in {_SKIPPED}
  and r.rolname not like 'pg_%'
  and r.rolname not like 'supabase%admin'
  and not r.rolbypassrls
  and dep.objid is null
group by n.nspname, c.relname, r.rolname, act.cmd
having count(1) > 1
order by 1
"""

# 0007_policy_exists_rls_disabled: policies written on a table whose RLS is off (they do nothing).
POLICY_EXISTS_RLS_DISABLED = f"""
select format('Table `%s.%s` has RLS policies but RLS is not enabled on the table. Policies include %s.',
              n.nspname, c.relname, array_agg(p.polname order by p.polname))
from pg_catalog.pg_policy p
join pg_catalog.pg_class c on p.polrelid = c.oid
join pg_catalog.pg_namespace n on c.relnamespace = n.oid
left join pg_catalog.pg_depend dep on c.oid = dep.objid and dep.deptype = 'e'
where c.relkind = 'r'
  and n.nspname not in {_SKIPPED}
  and not c.relrowsecurity
  and dep.objid is null
group by n.nspname, c.relname
order by 1
"""

# 0011_function_search_path_mutable: a function whose search_path is the caller's.
FUNCTION_SEARCH_PATH_MUTABLE = f"""
select format('Function `%s.%s` has a role mutable search_path', n.nspname, p.proname)
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on p.pronamespace = n.oid
left join pg_catalog.pg_depend dep on p.oid = dep.objid and dep.deptype = 'e'
where n.nspname not in {_SKIPPED}
  and dep.objid is null
  and not exists (
      select 1 from unnest(coalesce(p.proconfig, '{{}}')) as config where config like 'search_path=%'
  )
order by 1
"""

# 0013_rls_disabled_in_public, stricter (see the module docstring): no privilege condition.
RLS_DISABLED_IN_PUBLIC = f"""
select format('Table `%s.%s` is public, but RLS has not been enabled.', n.nspname, c.relname)
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on c.relnamespace = n.oid
where c.relkind in ('r', 'p')
  and not c.relrowsecurity
  and n.nspname = any($1::text[])
  and n.nspname not in {_SKIPPED}
order by 1
"""

# 0028_anon_security_definer_function_executable: anyone holding the anon key can call it over
# /rest/v1/rpc, and it runs with its owner's rights.
ANON_SECURITY_DEFINER_FUNCTION_EXECUTABLE = f"""
select format('Function `%s.%s(%s)` can be executed by the `anon` role as a `SECURITY DEFINER` function.',
              n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on p.pronamespace = n.oid
where p.prosecdef
  and pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE')
  and n.nspname = any($1::text[])
  and n.nspname not in {_SKIPPED}
order by 1
"""

# name -> (query, whether it takes the exposed schemas as $1)
LINTS: dict[str, tuple[str, bool]] = {
    "0001_unindexed_foreign_keys": (UNINDEXED_FOREIGN_KEYS, False),
    "0003_auth_rls_initplan": (AUTH_RLS_INITPLAN, False),
    "0006_multiple_permissive_policies": (MULTIPLE_PERMISSIVE_POLICIES, False),
    "0007_policy_exists_rls_disabled": (POLICY_EXISTS_RLS_DISABLED, False),
    "0011_function_search_path_mutable": (FUNCTION_SEARCH_PATH_MUTABLE, False),
    "0013_rls_disabled_in_public": (RLS_DISABLED_IN_PUBLIC, True),
    "0028_anon_security_definer_function_executable": (ANON_SECURITY_DEFINER_FUNCTION_EXECUTABLE, True),
}

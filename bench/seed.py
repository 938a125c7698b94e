"""A realistic dataset for the benchmarks, written straight into a migrated database.

100 clients, each with a CRM profile, a configuration, one member, 20 documents (half with a stored
version), a direct conversation of 60 messages, 2 projects of 6 steps, a validation request of 2
rounds, and 40 notifications for its member; 200 notifications for the operator. Set-based SQL, so
seeding takes seconds; the chat trigger numbers the messages as it does in production.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

from services.core.auth import mint_token
from services.core.migrations import migrate

SECRET = "bench-secret-" + "b" * 40
CLIENTS = 100
MEMBER_INDEX = 42  # the member whose reads are measured

SEED_SQL = """
insert into auth.users (id, email, raw_app_meta_data)
  values ($1, 'mikl@bench.example.com', '{"role": "operator"}');

insert into public.clients (company_name, status, city, email, tags, contact_first_name, contact_last_name, created_at)
select format('Client %s', lpad(i::text, 3, '0')), case when i % 2 = 0 then 'one' else 'lab' end, 'Lyon',
       format('contact%s@bench.example.com', i), '{bench}', 'Ada', format('Contact %s', i),
       now() - make_interval(hours => i)
from generate_series(0, 99) i;

create temporary table bench_clients as
select id, (row_number() over (order by company_name) - 1)::int as i, gen_random_uuid() as member_id
from public.clients;

insert into public.client_configs (client_id, dashboard_type, active_modules)
select id, case when i % 2 = 0 then 'one' else 'lab' end, '{chat,documents,validations}' from bench_clients;
insert into public.client_crm_profiles (client_id, background, notes)
select id, 'Met at a fair; runs a small agency.', 'Prefers e-mail.' from bench_clients;
insert into auth.users (id, email) select member_id, format('member%s@bench.example.com', i) from bench_clients;
insert into public.client_members (client_id, user_id, email, role)
select id, member_id, format('member%s@bench.example.com', i), 'owner' from bench_clients;

insert into public.documents (client_id, title, tags, document_type, visibility, source, phase, created_by, created_at)
select c.id, format('Document %s of client %s', d, c.i), '{brief,2025}',
       (array['livrable', 'ressource', 'ressource', 'archive'])[1 + d % 4],
       case when d % 5 = 0 then 'internal' else 'shared' end, 'operator',
       case when c.i % 2 = 0 then 'one' else 'lab' end, $1, now() - make_interval(mins => d * 97 + c.i)
from bench_clients c, generate_series(1, 20) d;
insert into public.document_versions (document_id, client_id, version, storage_path, file_name, size_bytes,
                                      mime_type, sha256, uploaded_by)
select d.id, d.client_id, 1, format('clients/%s/documents/%s/v1/brief.pdf', d.client_id, d.id), 'brief.pdf',
       123456, 'application/pdf', repeat('ab', 32), $1
from public.documents d where d.document_type = 'livrable' or d.visibility = 'internal';
update public.documents d set current_version_id = v.id from public.document_versions v where v.document_id = d.id;

insert into public.chat_conversations (client_id, kind) select id, 'direct' from bench_clients;
-- One statement per message number, so the trigger numbers each conversation's messages in order.
do $$
begin
  for n in 1..60 loop
    insert into public.chat_messages (conversation_id, author_id, body)
    select v.id, case when n % 2 = 0 then (select user_id from public.client_members m
                                             where m.client_id = v.client_id) else $1 end,
           format('Message %s: a sentence or two about the project, as people write in a chat.', n)
    from public.chat_conversations v;
  end loop;
end $$;

insert into public.notifications (user_id, client_id, source, priority, title, body, link, sound, badge, created_at,
                                  read_at)
select c.member_id, c.id, 'chat', 'normal', 'Nouveau message', format('Message %s', n), '/chat', true, true,
       now() - make_interval(mins => n * 13), case when n > 5 then now() end
from bench_clients c, generate_series(1, 40) n
union all
select $1, c.id, 'validation_hub', 'high', format('Validation de %s', c.i), 'Une étape attend.', '/validations',
       true, true, now() - make_interval(mins => n * 7 + c.i), null
from bench_clients c, generate_series(1, 2) n;

insert into public.projects (client_id, kind, phase, name, description, status, start_date, created_by, created_at)
select c.id, case when p = 1 then 'journey' else 'delivery' end, case when c.i % 2 = 0 then 'one' else 'lab' end,
       format('Project %s of client %s', p, c.i), 'Scope, milestones and what the client brings.', 'active',
       current_date - 30, $1, now() - make_interval(hours => c.i, mins => p)
from bench_clients c, generate_series(1, 2) p;
insert into public.project_steps (client_id, project_id, position, title, description, status, started_at,
                                  submitted_at, completed_at)
select p.client_id, p.id, s, format('Step %s', s), 'What to do in this step.',
       case when s <= 2 then 'validated' when s = 3 then 'submitted' else 'todo' end,
       case when s <= 3 then now() - interval '10 days' end, case when s <= 3 then now() - interval '2 days' end,
       case when s <= 2 then now() - interval '1 day' end
from public.projects p, generate_series(1, 6) s;

insert into public.validation_requests (client_id, project_id, step_id, status, current_round, submitted_by,
                                        last_submitted_at, created_at)
select s.client_id, s.project_id, s.id, 'pending', 2, c.member_id, now() - make_interval(hours => c.i),
       now() - make_interval(days => 3, hours => c.i)
from public.project_steps s join bench_clients c on c.id = s.client_id where s.status = 'submitted';
insert into public.validation_rounds (request_id, client_id, round, message, submitted_by, submitted_at, decision,
                                      decision_comment, decided_by, decided_at)
select r.id, r.client_id, n, format('Round %s: here is my work.', n), r.submitted_by, r.created_at,
       case when n = 1 then 'changes_requested' end, case when n = 1 then 'Please redo the intro.' end,
       case when n = 1 then $1 end, case when n = 1 then r.created_at + interval '1 day' end
from public.validation_requests r, generate_series(1, 2) n;
"""


@dataclass(frozen=True)
class Dataset:
    operator_id: uuid.UUID
    operator_token: str
    member_token: str
    client_id: str
    document_id: str
    conversation_id: str
    project_id: str
    validation_id: str
    conversation_ids: list[str]


async def seed(dsn: str) -> Dataset:
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("truncate public.clients, auth.users, public.notifications cascade")
        operator_id = uuid.uuid4()
        # asyncpg's simple protocol cannot take parameters: bind the operator id by hand.
        await conn.execute(SEED_SQL.replace("$1", f"'{operator_id}'::uuid"))
        await conn.execute("analyze")
        member = await conn.fetchrow(
            "select m.user_id, m.email, m.client_id from public.client_members m"
            " join public.clients c on c.id = m.client_id where c.company_name = $1",
            f"Client {MEMBER_INDEX:03d}",
        )
        client_id = member["client_id"]

        async def one(sql: str) -> str:
            return str(await conn.fetchval(sql, client_id))

        return Dataset(
            operator_id=operator_id,
            operator_token=mint_token(SECRET, operator_id, email="mikl@bench.example.com", operator=True),
            member_token=mint_token(SECRET, member["user_id"], email=member["email"]),
            client_id=str(client_id),
            document_id=await one(
                "select id from public.documents where client_id = $1 and visibility = 'shared'"
                " and current_version_id is not null limit 1"
            ),
            conversation_id=await one("select id from public.chat_conversations where client_id = $1"),
            project_id=await one("select id from public.projects where client_id = $1 and kind = 'journey'"),
            validation_id=await one("select id from public.validation_requests where client_id = $1 limit 1"),
            conversation_ids=[str(r["id"]) for r in await conn.fetch("select id from public.chat_conversations")],
        )
    finally:
        await conn.close()

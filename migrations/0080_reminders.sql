-- Reminders (issue 13): something to bring to someone's attention at a given time (homework due soon,
-- a session tomorrow, a prospect's follow-up, a payment due), fired once by the reminders engine into
-- notifications and, when asked, e-mails; and the e-mail outbox every e-mail the backend sends goes
-- through (sent by a queue job when SMTP is configured, kept as `not_sent` when it is not).
--
-- Every write is one call of a function below (schedule, cancel, fire, queue an e-mail), which also
-- writes the audit entry; locks are held inside that one statement only.

-- ---------------------------------------------------------------- reminders
--   pending  waiting for due_at     fired  notified (and e-mailed) once     cancelled  withdrawn
create table public.reminders (
  id uuid primary key default gen_random_uuid(),
  -- The client the reminder is about; null for operator-only reminders about no client.
  client_id uuid references public.clients (id) on delete cascade,
  -- `<module>.<name>` of the producer: documents.homework_due_soon, agenda.session_tomorrow, …
  kind text not null check (kind ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$' and length(kind) <= 100),
  subject_type text not null check (subject_type ~ '^[a-z][a-z0-9_]*$' and length(subject_type) <= 64),
  subject_id text not null check (length(subject_id) between 1 and 128),
  due_at timestamptz not null,
  -- Who is notified: the operators, the client's members, or both.
  audience text not null default 'operator' check (audience in ('operator', 'members', 'all')),
  -- Also e-mail each recipient (through the outbox).
  email boolean not null default false,
  title text not null check (length(title) between 1 and 200),
  body text check (length(body) <= 2000),
  -- A message the operator may send as is (a prospect's follow-up), shown with the reminder.
  suggested_message text check (length(suggested_message) <= 4000),
  link text check (length(link) <= 2048),
  status text not null default 'pending' check (status in ('pending', 'fired', 'cancelled')),
  fired_at timestamptz,
  cancelled_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Idempotency: one reminder per producer, subject and due time.
  unique (kind, subject_id, due_at),
  check (audience = 'operator' or client_id is not null),
  check ((status = 'fired') = (fired_at is not null)),
  check ((status = 'cancelled') = (cancelled_at is not null))
);
-- The engine's scan reads only this partial index: an idle engine costs an empty index probe.
create index reminders_due_idx on public.reminders (due_at) where status = 'pending';
create index reminders_list_idx on public.reminders (due_at, id);
create index reminders_client_idx on public.reminders (client_id, due_at, id);

-- The operator sees and manages every reminder; a member sees the reminders addressed to their
-- client's members. Writes: the operator (and the service role, which bypasses RLS) only.
alter table public.reminders enable row level security;
create policy reminders_select on public.reminders for select to authenticated
  using ((select private.is_operator())
         or (audience <> 'operator' and client_id = any ((select private.my_client_ids())::uuid[])));
create policy reminders_insert on public.reminders for insert to authenticated
  with check ((select private.is_operator()));
create policy reminders_update on public.reminders for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.reminders to authenticated;

-- ---------------------------------------------------------------- e-mail outbox
--   queued  waiting for the sender job (last_error: why the last attempt failed)
--   sent    accepted by the SMTP server     failed  refused, or out of attempts
--   not_sent  SMTP is not configured: kept so nothing is lost and a developer sees what would have gone
create table public.email_outbox (
  id uuid primary key default gen_random_uuid(),
  client_id uuid references public.clients (id) on delete cascade,
  reminder_id uuid references public.reminders (id) on delete set null,
  to_address text not null
    check (length(to_address) between 3 and 320 and to_address ~ '^[^@\s<>",;]+@[^@\s<>",;]+$'),
  subject text not null check (length(subject) between 1 and 200 and subject !~ '[\r\n]'),
  body text not null check (length(body) <= 100000),
  status text not null default 'queued' check (status in ('queued', 'sent', 'failed', 'not_sent')),
  attempts integer not null default 0 check (attempts >= 0),
  last_error text check (length(last_error) <= 4000),
  -- The Message-ID header, the same on every attempt (a receiver can drop a duplicate delivery).
  message_id text not null unique check (length(message_id) <= 200),
  -- The SMTP server's reply accepting the message (its queue id).
  provider_message_id text check (length(provider_message_id) <= 1000),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  check ((status = 'sent') = (sent_at is not null))
);
create index email_outbox_created_idx on public.email_outbox (created_at desc, id desc);
create index email_outbox_status_idx on public.email_outbox (status, created_at desc, id desc);
create index email_outbox_client_idx on public.email_outbox (client_id) where client_id is not null;
create index email_outbox_reminder_idx on public.email_outbox (reminder_id) where reminder_id is not null;

-- Operator only: e-mails carry addresses and content of every client. The sender job (service role)
-- updates the status.
alter table public.email_outbox enable row level security;
create policy email_outbox_select on public.email_outbox for select to authenticated
  using ((select private.is_operator()));
create policy email_outbox_insert on public.email_outbox for insert to authenticated
  with check ((select private.is_operator()));
grant select, insert on public.email_outbox to authenticated;

-- ---------------------------------------------------------------- writes

-- Queues one e-mail and its sender job (kind reminders.send_email, once per e-mail), with the audit
-- entry. security invoker: RLS lets the operator (and the service role) in, nobody else.
create function private.queue_email(
  p_to text, p_subject text, p_body text, p_client_id uuid, p_reminder_id uuid, p_request_id text
) returns uuid
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_id uuid := gen_random_uuid();
begin
  insert into public.email_outbox (id, client_id, reminder_id, to_address, subject, body, message_id, created_by)
  values (v_id, p_client_id, p_reminder_id, p_to, p_subject, p_body, '<' || v_id || '@foxeo>', (select auth.uid()));
  perform private.enqueue_job('reminders.send_email', jsonb_build_object('email_id', v_id),
                              'reminders.send_email:' || v_id, null, p_client_id, null);
  perform private.write_audit(p_client_id, 'email.queued', 'email', v_id::text, null,
                              jsonb_build_object('to', p_to, 'subject', p_subject, 'reminder_id', p_reminder_id),
                              p_request_id);
  return v_id;
end
$$;

-- Schedules a reminder, idempotently: a second call for the same (kind, subject_id, due_at) returns the
-- existing row unchanged, except that a cancelled one is scheduled again with the new content. A fired
-- reminder never fires twice.
create function private.schedule_reminder(
  p_client_id uuid, p_kind text, p_subject_type text, p_subject_id text, p_due_at timestamptz,
  p_audience text, p_email boolean, p_title text, p_body text, p_suggested_message text, p_link text,
  p_request_id text
) returns public.reminders
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_row public.reminders;
begin
  insert into public.reminders as r (client_id, kind, subject_type, subject_id, due_at, audience, email, title,
                                     body, suggested_message, link, created_by)
  values (p_client_id, p_kind, p_subject_type, p_subject_id, p_due_at, p_audience, p_email, p_title, p_body,
          p_suggested_message, p_link, (select auth.uid()))
  on conflict (kind, subject_id, due_at) do update
    set status = 'pending', cancelled_at = null, updated_at = now(), audience = excluded.audience,
        email = excluded.email, title = excluded.title, body = excluded.body,
        suggested_message = excluded.suggested_message, link = excluded.link
    where r.status = 'cancelled'
  returning * into v_row;
  if v_row.id is null then
    select * into v_row from public.reminders
    where kind = p_kind and subject_id = p_subject_id and due_at = p_due_at;
    return v_row;
  end if;
  perform private.write_audit(v_row.client_id, 'reminder.scheduled', 'reminder', v_row.id::text, null,
                              to_jsonb(v_row), p_request_id);
  return v_row;
end
$$;

-- Cancels pending reminders: one by id, or every pending one of (kind, subject_id). The rows cancelled.
create function private.cancel_reminders(p_id uuid, p_kind text, p_subject_id text, p_request_id text)
returns setof public.reminders
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_row public.reminders;
begin
  if p_id is null and (p_kind is null or p_subject_id is null) then
    raise exception 'cancel_reminders needs an id, or a kind and a subject' using errcode = '22023';
  end if;
  for v_row in
    update public.reminders set status = 'cancelled', cancelled_at = now(), updated_at = now()
    where status = 'pending' and (p_id is null or id = p_id)
      and (p_kind is null or (kind = p_kind and subject_id = p_subject_id))
    returning *
  loop
    perform private.write_audit(v_row.client_id, 'reminder.cancelled', 'reminder', v_row.id::text,
                                jsonb_build_object('status', 'pending'), jsonb_build_object('status', 'cancelled'),
                                p_request_id);
    return next v_row;
  end loop;
end
$$;

-- The engine: claims up to p_limit due pending reminders (SKIP LOCKED, status changed in the same
-- statement, so two replicas or a retry never fire one twice), notifies each one's audience, queues its
-- e-mails, audits it. All in the caller's transaction: a failure leaves them pending, to fire once later.
-- The service role only (it reads the recipients' addresses in auth.users).
create function private.fire_due_reminders(p_limit integer, p_request_id text)
returns setof public.reminders
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_row public.reminders;
  v_recipients uuid[];
  v_address text;
  v_text text;
begin
  for v_row in
    update public.reminders set status = 'fired', fired_at = now(), updated_at = now()
    where id in (select id from public.reminders where status = 'pending' and due_at <= now()
                 order by due_at limit p_limit for update skip locked)
    returning *
  loop
    v_recipients := case v_row.audience
      when 'operator' then private.operator_ids()
      when 'members' then private.client_member_ids(v_row.client_id)
      else private.operator_ids() || private.client_member_ids(v_row.client_id) end;
    perform private.notify(v_recipients, v_row.client_id, 'system', v_row.title, v_row.body, null, v_row.link,
                           v_row.subject_type, v_row.subject_id, p_request_id);
    if v_row.email then
      v_text := concat_ws(e'\n\n', v_row.title, v_row.body, v_row.link);
      for v_address in
        select distinct u.email from auth.users u
        where u.id = any (v_recipients) and u.deleted_at is null and u.email ~ '^[^@\s<>",;]+@[^@\s<>",;]+$'
        order by u.email
      loop
        perform private.queue_email(v_address, v_row.title, v_text, v_row.client_id, v_row.id, p_request_id);
      end loop;
    end if;
    perform private.write_audit(v_row.client_id, 'reminder.fired', 'reminder', v_row.id::text,
                                jsonb_build_object('status', 'pending'),
                                jsonb_build_object('status', 'fired', 'recipients', v_recipients), p_request_id);
    return next v_row;
  end loop;
end
$$;

revoke all on function private.queue_email(text, text, text, uuid, uuid, text),
  private.schedule_reminder(uuid, text, text, text, timestamptz, text, boolean, text, text, text, text, text),
  private.cancel_reminders(uuid, text, text, text), private.fire_due_reminders(integer, text) from public;
grant execute on function private.queue_email(text, text, text, uuid, uuid, text),
  private.schedule_reminder(uuid, text, text, text, timestamptz, text, boolean, text, text, text, text, text),
  private.cancel_reminders(uuid, text, text, text)
  to authenticated, service_role;
grant execute on function private.fire_due_reminders(integer, text) to service_role;

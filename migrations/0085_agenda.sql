-- Agenda and the prospect funnel (issue 13): appointments (Cal.com bookings and manual ones), the
-- company identity a SIRET lookup gives a client, and the operator's status of a prospect after the visio.
-- Cal.com deliveries are written by the webhook under the service session; the pre-visio form (a
-- signed link, no account) too. The operator's writes go through RLS like any other request.

-- Who booked is found again by e-mail (BOOKING_CREATED: find or create the prospect).
create index clients_email_idx on public.clients (lower(email)) where email is not null;

-- A meeting opened for a Cal.com booking has no user behind it.
alter table public.meetings alter column created_by drop not null;

-- Cal.com deliveries are recorded beside LiveKit's and Deepgram's (one row per delivery key).
alter table public.webhook_events drop constraint webhook_events_sender_check;
alter table public.webhook_events add constraint webhook_events_sender_check
  check (sender in ('livekit', 'deepgram', 'calcom'));

-- ---------------------------------------------------------------- appointments
-- One row per booking: a reschedule is a new Cal.com booking (new uid) pointing at the one it
-- replaces, which becomes `rescheduled`; both share the meeting room.
create table public.appointments (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  title text not null default '' check (length(title) <= 200),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  location text check (length(location) <= 2048),
  video_url text check (length(video_url) <= 2048),
  status text not null default 'booked'
    check (status in ('booked', 'rescheduled', 'cancelled', 'no_show', 'done')),
  source text not null check (source in ('calcom', 'manual')),
  calcom_booking_uid text unique check (length(calcom_booking_uid) between 1 and 200),
  previous_booking_uid text check (length(previous_booking_uid) between 1 and 200),
  cancellation_reason text check (length(cancellation_reason) <= 2000),
  meeting_id uuid,
  attendee_name text check (length(attendee_name) <= 200),
  attendee_email text check (length(attendee_email) <= 320),
  attendee_time_zone text check (length(attendee_time_zone) <= 100),
  -- The Cal.com booking form's answers as sent (`responses`), kept for the operator.
  booking_answers jsonb not null default '{}'::jsonb,
  previsio_submitted_at timestamptz,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_at > starts_at),
  check ((source = 'calcom') = (calcom_booking_uid is not null)),
  foreign key (meeting_id, client_id) references public.meetings (id, client_id) on delete set null (meeting_id)
);
create index appointments_starts_idx on public.appointments (starts_at, id);
create index appointments_client_idx on public.appointments (client_id, starts_at desc, id desc);
create index appointments_meeting_client_idx on public.appointments (meeting_id, client_id);
create index appointments_previous_idx on public.appointments (previous_booking_uid)
  where previous_booking_uid is not null;
alter table public.appointments enable row level security;
create policy appointments_select on public.appointments for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy appointments_insert on public.appointments for insert to authenticated
  with check ((select private.is_operator()));
create policy appointments_update on public.appointments for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.appointments to authenticated;

-- ---------------------------------------------------------------- company identity
-- What a SIRET lookup said about the client's company (or that it could not say).
create table public.client_companies (
  client_id uuid primary key references public.clients (id) on delete cascade,
  siret text not null check (siret ~ '^[0-9]{14}$'),
  siren text not null check (siren ~ '^[0-9]{9}$'),
  lookup_status text not null check (lookup_status in ('found', 'not_found_kept_as_typed', 'lookup_unavailable')),
  source text check (source in ('insee', 'recherche-entreprises')),
  legal_name text check (length(legal_name) <= 500),
  address_lines text[] not null default '{}',
  postal_code text check (length(postal_code) <= 20),
  city text check (length(city) <= 200),
  naf_code text check (length(naf_code) <= 20),
  creation_date date,
  headcount_bracket text check (length(headcount_bracket) <= 10),
  headcount_label text check (length(headcount_label) <= 100),
  vat_number text check (vat_number ~ '^FR[0-9]{11}$'),
  looked_up_at timestamptz,
  updated_at timestamptz not null default now(),
  check ((lookup_status = 'found') = (source is not null))
);
alter table public.client_companies enable row level security;
create policy client_companies_select on public.client_companies for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy client_companies_insert on public.client_companies for insert to authenticated
  with check ((select private.is_operator()));
create policy client_companies_update on public.client_companies for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.client_companies to authenticated;

-- ---------------------------------------------------------------- prospect statuses
-- The operator's verdict after the visio, with a note (the history of verdicts; the current one is
-- clients.prospect_temperature). Its follow-ups are reminders (services/reminders). Operator only.
create table public.prospect_statuses (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  temperature text not null check (temperature in ('hot', 'warm', 'cold', 'no')),
  note text check (length(note) <= 5000),
  set_by uuid,
  created_at timestamptz not null default now()
);
create index prospect_statuses_client_idx on public.prospect_statuses (client_id, created_at desc, id desc);
alter table public.prospect_statuses enable row level security;
create policy prospect_statuses_select on public.prospect_statuses for select to authenticated
  using ((select private.is_operator()));
create policy prospect_statuses_insert on public.prospect_statuses for insert to authenticated
  with check ((select private.is_operator()));
grant select, insert on public.prospect_statuses to authenticated;

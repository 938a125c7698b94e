-- Meetings (video calls on OpenVidu/LiveKit): the meeting, who attended, its recordings, and the
-- webhook events already handled (idempotency of LiveKit's and Deepgram's deliveries).
--
-- Hub meetings are the operator's (`full`: recording and transcription possible); Lab and One
-- members start `simple` meetings for their own client (no recording, no transcription).
-- Attendance and room state are written by the LiveKit webhook under the service session; the
-- API's writes go through RLS like any other request.

-- ---------------------------------------------------------------- meetings
create table public.meetings (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  project_id uuid,
  dashboard text not null check (dashboard in ('hub', 'lab', 'one')),
  kind text not null check (kind in ('full', 'simple')),
  title text not null default '' check (length(title) <= 200),
  room_name text not null unique check (room_name ~ '^foxeo-[0-9a-f-]{36}$'),
  status text not null default 'scheduled' check (status in ('scheduled', 'live', 'ended', 'failed')),
  started_at timestamptz,
  ended_at timestamptz,
  created_by uuid not null,
  -- Who agreed to be recorded, and when (the operator records it before any recording starts).
  consent_agreed_by text check (length(consent_agreed_by) between 1 and 200),
  consent_agreed_at timestamptz,
  consent_recorded_by uuid,
  transcription_status text not null default 'none'
    check (transcription_status in ('none', 'pending', 'processing', 'done', 'failed')),
  transcription_error text check (length(transcription_error) <= 4000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  foreign key (project_id, client_id) references public.projects (id, client_id) on delete set null (project_id),
  check (kind = 'simple' or dashboard = 'hub'),
  check (kind = 'full' or transcription_status = 'none'),
  check ((consent_agreed_by is null) = (consent_agreed_at is null)),
  check ((transcription_status = 'failed') = (transcription_error is not null))
);
create index meetings_client_idx on public.meetings (client_id, created_at desc, id desc);
create index meetings_created_idx on public.meetings (created_at desc, id desc);
create index meetings_project_idx on public.meetings (project_id) where project_id is not null;
alter table public.meetings enable row level security;
create policy meetings_select on public.meetings for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
-- A member starts only a simple meeting of their own client, as themselves.
create policy meetings_insert on public.meetings for insert to authenticated
  with check ((select private.is_operator())
              or (client_id = any ((select private.my_client_ids())::uuid[]) and kind = 'simple'
                  and dashboard <> 'hub' and created_by = (select auth.uid())));
create policy meetings_update on public.meetings for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.meetings to authenticated;

-- ---------------------------------------------------------------- attendance
-- One row per presence: a participant who leaves and comes back gets a second row.
create table public.meeting_participants (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  meeting_id uuid not null,
  identity text not null check (length(identity) between 1 and 200),
  user_id uuid,
  name text not null default '' check (length(name) <= 200),
  role text not null check (role in ('operator', 'member', 'guest')),
  joined_at timestamptz not null,
  left_at timestamptz,
  duration_seconds integer check (duration_seconds >= 0),
  foreign key (meeting_id, client_id) references public.meetings (id, client_id) on delete cascade,
  check (left_at is null or left_at >= joined_at),
  check ((left_at is null) = (duration_seconds is null))
);
create index meeting_participants_meeting_idx on public.meeting_participants (meeting_id, joined_at, id);
create index meeting_participants_client_idx on public.meeting_participants (client_id);
create index meeting_participants_open_idx on public.meeting_participants (meeting_id, identity) where left_at is null;
alter table public.meeting_participants enable row level security;
create policy meeting_participants_select on public.meeting_participants for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
grant select on public.meeting_participants to authenticated;

-- ---------------------------------------------------------------- recordings (Hub only)
-- The egress uploads to `storage_path`, the path of the document the recording becomes: the
-- document's id is the recording's id, so filing it twice is a primary-key conflict, not a copy.
create table public.meeting_recordings (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  meeting_id uuid not null,
  egress_id text unique check (length(egress_id) between 1 and 100),
  status text not null default 'starting'
    check (status in ('starting', 'active', 'stopping', 'ended', 'failed')),
  storage_path text not null unique check (length(storage_path) <= 1024),
  -- The client's dashboard when recording started: the phase of the document the file becomes.
  phase text not null check (phase in ('lab', 'one')),
  consent_agreed_by text not null check (length(consent_agreed_by) between 1 and 200),
  consent_agreed_at timestamptz not null,
  document_id uuid references public.documents (id) on delete set null,
  size_bytes bigint check (size_bytes >= 0),
  duration_seconds double precision check (duration_seconds >= 0),
  error text check (length(error) <= 4000),
  created_by uuid not null,
  started_at timestamptz,
  ended_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (meeting_id, client_id) references public.meetings (id, client_id) on delete cascade
);
create index meeting_recordings_meeting_idx on public.meeting_recordings (meeting_id, created_at, id);
create index meeting_recordings_client_idx on public.meeting_recordings (client_id);
create index meeting_recordings_document_idx on public.meeting_recordings (document_id) where document_id is not null;
-- At most one recording running per meeting.
create unique index meeting_recordings_running_idx on public.meeting_recordings (meeting_id)
  where status in ('starting', 'active', 'stopping');
alter table public.meeting_recordings enable row level security;
create policy meeting_recordings_select on public.meeting_recordings for select to authenticated
  using ((select private.is_operator()));
create policy meeting_recordings_insert on public.meeting_recordings for insert to authenticated
  with check ((select private.is_operator()));
create policy meeting_recordings_update on public.meeting_recordings for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.meeting_recordings to authenticated;

-- ---------------------------------------------------------------- webhook events
-- Written by the webhook routes under the service session (insert … on conflict do nothing: a
-- redelivered event finds its row and changes nothing); only the operator reads them.
create table public.webhook_events (
  id uuid primary key default gen_random_uuid(),
  sender text not null check (sender in ('livekit', 'deepgram')),
  event_id text not null check (length(event_id) between 1 and 200),
  event text not null check (length(event) <= 100),
  received_at timestamptz not null default now(),
  unique (sender, event_id)
);
create index webhook_events_received_idx on public.webhook_events (received_at desc, id desc);
alter table public.webhook_events enable row level security;
create policy webhook_events_select on public.webhook_events for select to authenticated
  using ((select private.is_operator()));
grant select on public.webhook_events to authenticated;

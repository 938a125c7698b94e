-- Transcripts of recorded Hub meetings (Deepgram, diarized, French) and their summaries (LLM).
-- Operator only: written by queue jobs under the service session, read and acted on by the operator.

create table public.transcripts (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  meeting_id uuid not null,
  recording_id uuid not null unique references public.meeting_recordings (id) on delete cascade,
  status text not null default 'processing' check (status in ('processing', 'done', 'failed')),
  language text not null default 'fr' check (length(language) between 2 and 20),
  duration_seconds double precision check (duration_seconds >= 0),
  text text not null default '',
  -- Deepgram's request id in callback mode: the callback must answer for this request.
  request_id text check (length(request_id) <= 100),
  summary_status text not null default 'none' check (summary_status in ('none', 'done', 'flagged')),
  -- Validated summary: {"summary": str, "action_items": [{"title", "owner", "due_date"}]}.
  summary jsonb check (summary is null or jsonb_typeof(summary) = 'object'),
  -- The LLM's output that failed validation twice, kept for the operator to read.
  summary_raw text check (length(summary_raw) <= 200000),
  accepted_items integer[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (meeting_id, client_id) references public.meetings (id, client_id) on delete cascade,
  check (summary_status <> 'done' or summary is not null),
  check (summary_status <> 'flagged' or summary_raw is not null)
);
create index transcripts_meeting_idx on public.transcripts (meeting_id, created_at, id);
create index transcripts_client_idx on public.transcripts (client_id);
alter table public.transcripts enable row level security;
create policy transcripts_select on public.transcripts for select to authenticated
  using ((select private.is_operator()));
create policy transcripts_update on public.transcripts for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, update on public.transcripts to authenticated;

create table public.transcript_segments (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  transcript_id uuid not null references public.transcripts (id) on delete cascade,
  position integer not null check (position >= 0),
  speaker integer check (speaker >= 0),
  start_seconds double precision not null check (start_seconds >= 0),
  end_seconds double precision not null,
  text text not null,
  unique (transcript_id, position),
  check (end_seconds >= start_seconds)
);
create index transcript_segments_client_idx on public.transcript_segments (client_id);
alter table public.transcript_segments enable row level security;
create policy transcript_segments_select on public.transcript_segments for select to authenticated
  using ((select private.is_operator()));
grant select on public.transcript_segments to authenticated;

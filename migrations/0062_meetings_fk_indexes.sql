-- Covering indexes for the composite foreign keys of 0060/0061 (splinter 0001_unindexed_foreign_keys):
-- a delete of a meeting or project, or a change of its client, finds the referencing rows by index.
create index meetings_project_client_idx on public.meetings (project_id, client_id);
create index meeting_participants_meeting_client_idx on public.meeting_participants (meeting_id, client_id);
create index meeting_recordings_meeting_client_idx on public.meeting_recordings (meeting_id, client_id);
create index transcripts_meeting_client_idx on public.transcripts (meeting_id, client_id);

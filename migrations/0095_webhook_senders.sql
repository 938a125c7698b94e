-- Billing (0075) and agenda (0085) were written side by side and each redefined the webhook journal's
-- sender check with its own sender only: 0085 dropped Stripe. Every sender, once.
alter table public.webhook_events drop constraint webhook_events_sender_check;
alter table public.webhook_events add constraint webhook_events_sender_check
  check (sender in ('livekit', 'deepgram', 'stripe', 'calcom'));

-- Billing, sync half (issue 12): the Pennylane changelog cursors, the accounting exports, and Stripe
-- as a webhook sender. Operator only: written by jobs and webhooks under the service session.

-- ---------------------------------------------------------------- sync state
-- One row per Pennylane changelog. `cursor_at` is the last `processed_at` applied and `cursor_ids`
-- the resource ids applied at exactly that instant (Pennylane's `start_date` is inclusive: they come
-- back on the next run and are skipped without a re-fetch). Both move in the transaction that writes
-- the mirror rows, so a crash before that commit leaves the cursor where it was.
create table public.billing_sync_state (
  resource text primary key check (resource in ('customers', 'products', 'quotes', 'customer_invoices')),
  cursor_at timestamptz,
  cursor_ids bigint[] not null default '{}',
  last_run_at timestamptz,
  last_success_at timestamptz,
  last_mode text check (last_mode in ('incremental', 'full')),
  last_changes integer not null default 0 check (last_changes >= 0),
  last_error text check (length(last_error) <= 4000),
  last_error_at timestamptz,
  updated_at timestamptz not null default now()
);
alter table public.billing_sync_state enable row level security;
create policy billing_sync_state_select on public.billing_sync_state for select to authenticated
  using ((select private.is_operator()));
grant select on public.billing_sync_state to authenticated;

-- ---------------------------------------------------------------- accounting exports
-- A FEC requested by the operator; a job asks Pennylane for it, polls until it is ready, and files it
-- in storage (`storage_path`) for the operator to download.
create table public.billing_exports (
  id uuid primary key default gen_random_uuid(),
  kind text not null default 'fec' check (kind in ('fec')),
  period_start date not null,
  period_end date not null,
  status text not null default 'queued' check (status in ('queued', 'pending', 'ready', 'failed')),
  pennylane_export_id bigint,
  storage_path text check (length(storage_path) <= 500),
  size_bytes bigint check (size_bytes >= 0),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  error text check (length(error) <= 4000),
  requested_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (period_end >= period_start and period_end - period_start <= 366),
  check (status <> 'ready' or storage_path is not null)
);
create index billing_exports_created_idx on public.billing_exports (created_at desc, id desc);
create index billing_exports_requested_by_idx on public.billing_exports (requested_by);
alter table public.billing_exports enable row level security;
create policy billing_exports_select on public.billing_exports for select to authenticated
  using ((select private.is_operator()));
create policy billing_exports_insert on public.billing_exports for insert to authenticated
  with check ((select private.is_operator()));
grant select, insert on public.billing_exports to authenticated;

-- ---------------------------------------------------------------- Stripe webhooks
-- Stripe events are deduplicated on their id in the webhook journal meetings introduced.
alter table public.webhook_events drop constraint webhook_events_sender_check;
alter table public.webhook_events add constraint webhook_events_sender_check
  check (sender in ('livekit', 'deepgram', 'stripe'));

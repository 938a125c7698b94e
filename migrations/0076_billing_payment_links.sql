-- Billing, payment half (issue 12): the Stripe payment link of each unpaid invoice, and the payment
-- reminders already sent (one row per invoice and cadence step: a step is never sent twice).

-- ---------------------------------------------------------------- Stripe payment links
-- One Checkout Session per invoice at a time, made by a job (never inside a request). The client's
-- members read their own invoices' links; only jobs and webhooks (service role) write.
create table public.billing_payment_links (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  invoice_id uuid not null unique,
  stripe_session_id text not null unique check (length(stripe_session_id) between 1 and 200),
  url text not null check (length(url) between 1 and 2048),
  amount numeric(14, 2) not null check (amount > 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  status text not null default 'open' check (status in ('open', 'complete', 'expired')),
  payment_intent_id text check (length(payment_intent_id) <= 200),
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (invoice_id, client_id) references public.billing_invoices (id, client_id) on delete cascade
);
create index billing_payment_links_invoice_idx on public.billing_payment_links (invoice_id, client_id);
create index billing_payment_links_client_idx on public.billing_payment_links (client_id);
alter table public.billing_payment_links enable row level security;
create policy billing_payment_links_select on public.billing_payment_links for select to authenticated
  using ((select private.is_operator())
         or (client_id = any ((select private.my_client_ids())::uuid[])
             and exists (select 1 from public.billing_invoices i where i.id = invoice_id)));
grant select on public.billing_payment_links to authenticated;

-- ---------------------------------------------------------------- payment reminders
-- `step` names the cadence step ('before:3' = three days before the due date, 'after:7' = a week
-- late). Inserted with `on conflict do nothing` in the transaction that notifies: once per step.
create table public.billing_payment_reminders (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  invoice_id uuid not null,
  step text not null check (step ~ '^(before|after):[0-9]{1,3}$'),
  due_date date not null,
  recipients integer not null default 0 check (recipients >= 0),
  emailed boolean not null default false,
  sent_at timestamptz not null default now(),
  foreign key (invoice_id, client_id) references public.billing_invoices (id, client_id) on delete cascade,
  unique (invoice_id, step)
);
create index billing_payment_reminders_invoice_idx on public.billing_payment_reminders (invoice_id, client_id);
create index billing_payment_reminders_client_idx on public.billing_payment_reminders (client_id, sent_at desc);
alter table public.billing_payment_reminders enable row level security;
create policy billing_payment_reminders_select on public.billing_payment_reminders for select to authenticated
  using ((select private.is_operator()));
grant select on public.billing_payment_reminders to authenticated;

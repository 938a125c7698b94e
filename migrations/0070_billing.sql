-- Billing (issue 12): the local mirror of MiKL's Pennylane billing — customers, products, quotes,
-- customer invoices (credit notes included), subscriptions — plus what only Foxeo knows: payments
-- recorded by hand or through Stripe, and the signed proof of a client's decision on a quote.
--
-- Pennylane is the system of record for numbered documents. A row is written here first (the
-- request's transaction), a queue job pushes it to Pennylane and stores `pennylane_id`; the
-- changelog sync upserts by `pennylane_id` (unique) and keeps `pennylane_updated_at`, and marks
-- deletions with `deleted_at` (rows are never removed, an audit trail may point at them).
--   push_state: none (never pushed) · pending (a job is on it) · done · failed (push_error says why)
-- Statuses mirror Pennylane's free text (its enums grow without notice); `draft` on a quote is
-- Foxeo's own state before the quote exists in Pennylane. An invoice's `draft` flag, not its
-- status, says whether it is a draft: a draft credit note has status `credit_note`.
-- Members read their own client's sent quotes, finalized invoices, payments and subscriptions;
-- only the operator writes (the sync and jobs run as the service role). A member's decision on a
-- quote goes through private.decide_billing_quote (0071).

-- ---------------------------------------------------------------- customers
-- A client's billing identity, and the Pennylane customer it maps to (created or matched by a job).
create table public.billing_customers (
  client_id uuid primary key references public.clients (id) on delete cascade,
  pennylane_id bigint unique,
  kind text not null check (kind in ('company', 'individual')),
  legal_name text not null check (length(legal_name) between 1 and 200),
  first_name text check (length(first_name) <= 100),
  last_name text check (length(last_name) <= 100),
  siren text check (siren ~ '^[0-9]{9}$'),
  siret text check (siret ~ '^[0-9]{14}$'),
  vat_number text check (vat_number ~ '^[A-Z]{2}[0-9A-Z]{2,13}$'),
  -- {address, postal_code, city, country_alpha2}, Pennylane's shape.
  billing_address jsonb not null check (jsonb_typeof(billing_address) = 'object'),
  -- null: deliveries go to the billing address (no delivery mention needed on the invoice).
  delivery_address jsonb check (jsonb_typeof(delivery_address) = 'object'),
  emails text[] not null default '{}' check (cardinality(emails) <= 20),
  payment_conditions text not null default '30_days' check (length(payment_conditions) between 1 and 40),
  pennylane_updated_at timestamptz,
  push_state text not null default 'none' check (push_state in ('none', 'pending', 'done', 'failed')),
  push_error text check (length(push_error) <= 4000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (siret is null or siren is null or left(siret, 9) = siren),
  check (kind = 'company' or (first_name is not null and last_name is not null))
);
alter table public.billing_customers enable row level security;
create policy billing_customers_select on public.billing_customers for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy billing_customers_insert on public.billing_customers for insert to authenticated
  with check ((select private.is_operator()));
create policy billing_customers_update on public.billing_customers for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.billing_customers to authenticated;

-- ---------------------------------------------------------------- products (mirror, not a tenant table)
create table public.billing_products (
  id uuid primary key default gen_random_uuid(),
  pennylane_id bigint not null unique,
  label text not null check (length(label) between 1 and 500),
  description text check (length(description) <= 5000),
  reference text check (length(reference) <= 200),
  external_reference text check (length(external_reference) <= 200),
  price_before_tax numeric(16, 6),
  price numeric(16, 6),
  vat_rate text check (length(vat_rate) between 1 and 40),
  unit text check (length(unit) <= 40),
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  archived_at timestamptz,
  deleted_at timestamptz,
  pennylane_updated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index billing_products_label_idx on public.billing_products (lower(label), id);
alter table public.billing_products enable row level security;
create policy billing_products_select on public.billing_products for select to authenticated
  using ((select private.is_operator()));
grant select on public.billing_products to authenticated;

-- ---------------------------------------------------------------- subscriptions (monthly retainers)
create table public.billing_subscriptions (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  pennylane_id bigint unique,
  -- Foxeo's `pending` until Pennylane has it, then Pennylane's status; `paused`/`cancelled` as asked.
  status text not null default 'pending' check (status ~ '^[a-z_]{1,40}$'),
  label text not null check (length(label) between 1 and 200),
  amount_before_tax numeric(14, 2) not null check (amount_before_tax > 0),
  vat_rate text not null check (length(vat_rate) between 1 and 40),
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  interval_months integer not null default 1 check (interval_months between 1 and 12),
  start_date date not null,
  next_occurrence date,
  payment_conditions text not null default '30_days' check (length(payment_conditions) between 1 and 40),
  operation_nature text not null check (operation_nature in ('goods', 'services', 'mixed')),
  vat_on_debits boolean not null default false,
  paused_at timestamptz,
  cancelled_at timestamptz,
  pennylane_updated_at timestamptz,
  push_state text not null default 'none' check (push_state in ('none', 'pending', 'done', 'failed')),
  push_error text check (length(push_error) <= 4000),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id)
);
create index billing_subscriptions_client_idx on public.billing_subscriptions (client_id, created_at desc, id desc);
alter table public.billing_subscriptions enable row level security;
create policy billing_subscriptions_select on public.billing_subscriptions for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy billing_subscriptions_insert on public.billing_subscriptions for insert to authenticated
  with check ((select private.is_operator()));
create policy billing_subscriptions_update on public.billing_subscriptions for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.billing_subscriptions to authenticated;

-- ---------------------------------------------------------------- quotes
create table public.billing_quotes (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  pennylane_id bigint unique,
  quote_number text check (length(quote_number) <= 100),
  status text not null default 'draft' check (status ~ '^[a-z_]{1,40}$'),
  label text not null default '' check (length(label) <= 200),
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  issue_date date not null,
  valid_until date not null,
  amount_before_tax numeric(14, 2) not null default 0,
  tax numeric(14, 2) not null default 0,
  amount numeric(14, 2) not null default 0,
  operation_nature text check (operation_nature in ('goods', 'services', 'mixed')),
  vat_on_debits boolean not null default false,
  special_mention text check (length(special_mention) <= 2000),
  pdf_url text check (length(pdf_url) <= 2048),
  -- The sha256 of the PDF the client was sent (hashed by the send job): what an acceptance signs.
  pdf_sha256 text check (pdf_sha256 ~ '^[0-9a-f]{64}$'),
  evolution_id uuid,
  sent_at timestamptz,
  decided_at timestamptz,
  decline_reason text check (length(decline_reason) <= 5000),
  deleted_at timestamptz,
  pennylane_updated_at timestamptz,
  push_state text not null default 'none' check (push_state in ('none', 'pending', 'done', 'failed')),
  push_error text check (length(push_error) <= 4000),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  foreign key (evolution_id, client_id) references public.evolution_requests (id, client_id)
    on delete set null (evolution_id),
  check (valid_until >= issue_date)
);
create index billing_quotes_client_idx on public.billing_quotes (client_id, created_at desc, id desc);
create index billing_quotes_created_idx on public.billing_quotes (created_at desc, id desc);
create index billing_quotes_evolution_idx on public.billing_quotes (evolution_id, client_id)
  where evolution_id is not null;
alter table public.billing_quotes enable row level security;
create policy billing_quotes_select on public.billing_quotes for select to authenticated
  using ((select private.is_operator())
         or (client_id = any ((select private.my_client_ids())::uuid[]) and status <> 'draft'
             and deleted_at is null));
create policy billing_quotes_insert on public.billing_quotes for insert to authenticated
  with check ((select private.is_operator()));
create policy billing_quotes_update on public.billing_quotes for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.billing_quotes to authenticated;

create table public.billing_quote_lines (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  quote_id uuid not null,
  position integer not null check (position between 0 and 999),
  pennylane_id bigint,
  product_id uuid references public.billing_products (id) on delete set null,
  label text not null check (length(label) between 1 and 500),
  description text check (length(description) <= 5000),
  quantity numeric(12, 3) not null check (quantity > 0),
  unit text not null default 'piece' check (length(unit) between 1 and 40),
  unit_price numeric(16, 6) not null,
  vat_rate text not null check (length(vat_rate) between 1 and 40),
  discount_type text check (discount_type in ('absolute', 'relative')),
  discount_value numeric(14, 2) check (discount_value >= 0),
  amount_before_tax numeric(14, 2) not null,
  tax numeric(14, 2) not null,
  amount numeric(14, 2) not null,
  foreign key (quote_id, client_id) references public.billing_quotes (id, client_id) on delete cascade,
  unique (quote_id, position),
  check ((discount_type is null) = (discount_value is null))
);
create index billing_quote_lines_client_idx on public.billing_quote_lines (client_id);
create index billing_quote_lines_quote_idx on public.billing_quote_lines (quote_id, client_id);
create index billing_quote_lines_product_idx on public.billing_quote_lines (product_id) where product_id is not null;
alter table public.billing_quote_lines enable row level security;
create policy billing_quote_lines_select on public.billing_quote_lines for select to authenticated
  using ((select private.is_operator())
         or (client_id = any ((select private.my_client_ids())::uuid[])
             and exists (select 1 from public.billing_quotes q where q.id = quote_id)));
create policy billing_quote_lines_insert on public.billing_quote_lines for insert to authenticated
  with check ((select private.is_operator()));
create policy billing_quote_lines_update on public.billing_quote_lines for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy billing_quote_lines_delete on public.billing_quote_lines for delete to authenticated
  using ((select private.is_operator()));
grant select, insert, update, delete on public.billing_quote_lines to authenticated;

-- ---------------------------------------------------------------- invoices and credit notes
create table public.billing_invoices (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  pennylane_id bigint unique,
  kind text not null default 'invoice' check (kind in ('invoice', 'credit_note')),
  invoice_number text not null default '' check (length(invoice_number) <= 100),
  -- Pennylane's status (draft, upcoming, late, paid, credit_note, cancelled, ...), free text.
  status text not null default 'draft' check (status ~ '^[a-z_]{1,40}$'),
  draft boolean not null default true,
  paid boolean not null default false,
  label text not null default '' check (length(label) <= 200),
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  issue_date date not null,
  due_date date not null,
  amount_before_tax numeric(14, 2) not null default 0,
  tax numeric(14, 2) not null default 0,
  amount numeric(14, 2) not null default 0,
  -- Pennylane's remaining_amount_with_tax (null on drafts); Foxeo's own view is amount - paid_amount.
  remaining_amount numeric(14, 2),
  -- The sum of the payments recorded here (private.record_billing_payment keeps it).
  paid_amount numeric(14, 2) not null default 0 check (paid_amount >= 0),
  paid_at timestamptz,
  operation_nature text check (operation_nature in ('goods', 'services', 'mixed')),
  vat_on_debits boolean not null default false,
  special_mention text check (length(special_mention) <= 2000),
  pdf_url text check (length(pdf_url) <= 2048),
  quote_id uuid,
  subscription_id uuid,
  credited_invoice_id uuid,
  finalized_at timestamptz,
  sent_at timestamptz,
  deleted_at timestamptz,
  pennylane_updated_at timestamptz,
  push_state text not null default 'none' check (push_state in ('none', 'pending', 'done', 'failed')),
  push_error text check (length(push_error) <= 4000),
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, client_id),
  foreign key (quote_id, client_id) references public.billing_quotes (id, client_id) on delete set null (quote_id),
  foreign key (subscription_id, client_id) references public.billing_subscriptions (id, client_id)
    on delete set null (subscription_id),
  foreign key (credited_invoice_id, client_id) references public.billing_invoices (id, client_id)
    on delete set null (credited_invoice_id),
  check (kind = 'credit_note' or credited_invoice_id is null),
  check (due_date >= issue_date)
);
create index billing_invoices_client_idx on public.billing_invoices (client_id, issue_date desc, id desc);
create index billing_invoices_date_idx on public.billing_invoices (issue_date desc, id desc);
create index billing_invoices_status_idx on public.billing_invoices (status, issue_date desc, id desc);
create index billing_invoices_quote_idx on public.billing_invoices (quote_id, client_id) where quote_id is not null;
create index billing_invoices_subscription_idx on public.billing_invoices (subscription_id, client_id)
  where subscription_id is not null;
create index billing_invoices_credited_idx on public.billing_invoices (credited_invoice_id, client_id)
  where credited_invoice_id is not null;
-- Unpaid finalized invoices, for reminders and the outstanding figures.
create index billing_invoices_open_idx on public.billing_invoices (due_date)
  where not draft and not paid and deleted_at is null;
alter table public.billing_invoices enable row level security;
create policy billing_invoices_select on public.billing_invoices for select to authenticated
  using ((select private.is_operator())
         or (client_id = any ((select private.my_client_ids())::uuid[]) and not draft and deleted_at is null));
create policy billing_invoices_insert on public.billing_invoices for insert to authenticated
  with check ((select private.is_operator()));
create policy billing_invoices_update on public.billing_invoices for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update on public.billing_invoices to authenticated;

create table public.billing_invoice_lines (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  invoice_id uuid not null,
  position integer not null check (position between 0 and 999),
  pennylane_id bigint,
  product_id uuid references public.billing_products (id) on delete set null,
  label text not null check (length(label) between 1 and 500),
  description text check (length(description) <= 5000),
  quantity numeric(12, 3) not null check (quantity <> 0),
  unit text not null default 'piece' check (length(unit) between 1 and 40),
  unit_price numeric(16, 6) not null,
  vat_rate text not null check (length(vat_rate) between 1 and 40),
  discount_type text check (discount_type in ('absolute', 'relative')),
  discount_value numeric(14, 2) check (discount_value >= 0),
  amount_before_tax numeric(14, 2) not null,
  tax numeric(14, 2) not null,
  amount numeric(14, 2) not null,
  foreign key (invoice_id, client_id) references public.billing_invoices (id, client_id) on delete cascade,
  unique (invoice_id, position),
  check ((discount_type is null) = (discount_value is null))
);
create index billing_invoice_lines_client_idx on public.billing_invoice_lines (client_id);
create index billing_invoice_lines_invoice_idx on public.billing_invoice_lines (invoice_id, client_id);
create index billing_invoice_lines_product_idx on public.billing_invoice_lines (product_id) where product_id is not null;
alter table public.billing_invoice_lines enable row level security;
create policy billing_invoice_lines_select on public.billing_invoice_lines for select to authenticated
  using ((select private.is_operator())
         or (client_id = any ((select private.my_client_ids())::uuid[])
             and exists (select 1 from public.billing_invoices i where i.id = invoice_id)));
create policy billing_invoice_lines_insert on public.billing_invoice_lines for insert to authenticated
  with check ((select private.is_operator()));
create policy billing_invoice_lines_update on public.billing_invoice_lines for update to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy billing_invoice_lines_delete on public.billing_invoice_lines for delete to authenticated
  using ((select private.is_operator()));
grant select, insert, update, delete on public.billing_invoice_lines to authenticated;

-- ---------------------------------------------------------------- payments
-- Money received against an invoice: a transfer or cheque recorded by the operator (with its
-- reference), a deposit before the work, a partial payment, or a Stripe payment (external_id is
-- the payment intent: a redelivered webhook finds it and records nothing twice).
create table public.billing_payments (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  invoice_id uuid not null,
  method text not null check (method in ('transfer', 'cheque', 'stripe', 'cash', 'other')),
  kind text not null default 'payment' check (kind in ('payment', 'deposit')),
  amount numeric(14, 2) not null check (amount > 0),
  currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
  paid_on date not null,
  reference text check (length(reference) <= 200),
  external_id text check (length(external_id) between 1 and 200),
  note text check (length(note) <= 2000),
  recorded_by uuid,
  created_at timestamptz not null default now(),
  foreign key (invoice_id, client_id) references public.billing_invoices (id, client_id) on delete cascade,
  unique (method, external_id)
);
create index billing_payments_client_idx on public.billing_payments (client_id, paid_on desc, id desc);
create index billing_payments_invoice_idx on public.billing_payments (invoice_id, client_id);
alter table public.billing_payments enable row level security;
create policy billing_payments_select on public.billing_payments for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
create policy billing_payments_insert on public.billing_payments for insert to authenticated
  with check ((select private.is_operator()));
grant select, insert on public.billing_payments to authenticated;

-- ---------------------------------------------------------------- quote decisions (proof)
-- The signed record of a member accepting or declining a quote: who, when, from where, on which
-- PDF (sha256) and for which amount. `signature` is an HMAC-SHA256 under a server secret over
-- `payload` (canonical JSON of every other fact); written once, never updated.
create table public.billing_quote_acceptances (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references public.clients (id) on delete cascade,
  quote_id uuid not null unique,
  decision text not null check (decision in ('accepted', 'declined')),
  reason text check (length(reason) between 1 and 5000),
  user_id uuid not null,
  user_email text check (length(user_email) <= 320),
  ip text check (length(ip) <= 64),
  user_agent text check (length(user_agent) <= 1000),
  pdf_sha256 text not null check (pdf_sha256 ~ '^[0-9a-f]{64}$'),
  amount numeric(14, 2) not null,
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  decided_at timestamptz not null,
  payload jsonb not null check (jsonb_typeof(payload) = 'object'),
  signature text not null check (signature ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  foreign key (quote_id, client_id) references public.billing_quotes (id, client_id) on delete cascade,
  check ((decision = 'declined') = (reason is not null))
);
create index billing_quote_acceptances_client_idx on public.billing_quote_acceptances (client_id);
create index billing_quote_acceptances_quote_idx on public.billing_quote_acceptances (quote_id, client_id);
alter table public.billing_quote_acceptances enable row level security;
create policy billing_quote_acceptances_select on public.billing_quote_acceptances for select to authenticated
  using ((select private.is_operator()) or client_id = any ((select private.my_client_ids())::uuid[]));
grant select on public.billing_quote_acceptances to authenticated;

-- Billing writes that take a lock, each in ONE function call (locks held inside it only):
--   private.decide_billing_quote  a member accepts or declines a sent quote (the signed proof)
--   private.record_billing_payment money received against an invoice (manual, deposit, Stripe)
-- Refusals raise SQLSTATEs the service maps to its typed errors:
--   FX404 no such quote/invoice (or not the caller's)   FX409 not in a state that allows it
--   FX422 the input contradicts the document (amount, currency)

-- Members only read billing tables, so this is security definer and checks the caller itself: a
-- member of the quote's client, the quote sent and undecided, still valid, and the PDF hash and
-- amount the service signed equal to the quote's (the quote cannot change between read and write).
create function private.decide_billing_quote(
  p_quote_id uuid, p_decision text, p_reason text, p_user_email text, p_ip text, p_user_agent text,
  p_pdf_sha256 text, p_amount numeric, p_currency text, p_decided_at timestamptz, p_payload jsonb,
  p_signature text, p_request_id text
) returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_uid uuid := (select auth.uid());
  v_quote public.billing_quotes;
  v_id uuid;
begin
  select * into v_quote from public.billing_quotes q where q.id = p_quote_id for update;
  if v_quote.id is null or v_uid is null or v_quote.deleted_at is not null or v_quote.status = 'draft'
     or not (v_quote.client_id = any ((select private.my_client_ids())::uuid[])) then
    raise exception 'no such quote, or it is not yours' using errcode = 'FX404';
  end if;
  if v_quote.status <> 'pending' then
    raise exception 'this quote is % and can no longer be decided', v_quote.status using errcode = 'FX409';
  end if;
  if v_quote.valid_until < (p_decided_at at time zone 'Europe/Paris')::date then
    raise exception 'this quote expired on %', v_quote.valid_until using errcode = 'FX409';
  end if;
  if v_quote.pdf_sha256 is distinct from p_pdf_sha256 or v_quote.amount <> p_amount
     or v_quote.currency <> p_currency then
    raise exception 'the quote changed while it was being decided: read it again' using errcode = 'FX409';
  end if;
  insert into public.billing_quote_acceptances (
    client_id, quote_id, decision, reason, user_id, user_email, ip, user_agent, pdf_sha256, amount,
    currency, decided_at, payload, signature)
  values (v_quote.client_id, p_quote_id, p_decision, p_reason, v_uid, p_user_email, p_ip, p_user_agent,
          p_pdf_sha256, p_amount, p_currency, p_decided_at, p_payload, p_signature)
  returning id into v_id;
  update public.billing_quotes
    set status = p_decision, decided_at = p_decided_at,
        decline_reason = case when p_decision = 'declined' then p_reason end,
        push_state = 'pending', push_error = null, updated_at = now()
    where id = p_quote_id;
  perform private.write_audit(v_quote.client_id, 'billing.quote_' || p_decision, 'billing_quote',
                              p_quote_id::text, jsonb_build_object('status', v_quote.status),
                              p_payload || jsonb_build_object('signature', p_signature), p_request_id);
  perform private.notify(
    array(select u from unnest(private.operator_ids()) u where u is distinct from v_uid), v_quote.client_id,
    'system',
    format('Devis %s %s', coalesce(v_quote.quote_number, v_quote.label),
           case when p_decision = 'accepted' then 'accepté' else 'refusé' end),
    p_reason, 'high', null, 'billing_quote', p_quote_id::text, p_request_id);
  return v_id;
end
$$;
revoke all on function private.decide_billing_quote(uuid, text, text, text, text, text, text, numeric, text,
  timestamptz, jsonb, text, text) from public;
grant execute on function private.decide_billing_quote(uuid, text, text, text, text, text, text, numeric, text,
  timestamptz, jsonb, text, text) to authenticated;

-- Security invoker: RLS lets the operator (and the service role: the Stripe webhook) write. The
-- invoice row is locked so two payments cannot both fit the same balance. A payment already
-- recorded under (method, external_id) is returned as is (`created` false): redeliveries are no-ops.
create function private.record_billing_payment(
  p_invoice_id uuid, p_method text, p_kind text, p_amount numeric, p_currency text, p_paid_on date,
  p_reference text, p_external_id text, p_note text, p_request_id text
) returns table (payment_id uuid, created boolean)
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_invoice public.billing_invoices;
  v_id uuid;
  v_paid numeric;
begin
  select * into v_invoice from public.billing_invoices i where i.id = p_invoice_id for update;
  if v_invoice.id is null or v_invoice.deleted_at is not null then
    raise exception 'no such invoice' using errcode = 'FX404';
  end if;
  if p_external_id is not null then
    select p.id into v_id from public.billing_payments p
      where p.method = p_method and p.external_id = p_external_id;
    if v_id is not null then
      return query select v_id, false;
      return;
    end if;
  end if;
  if v_invoice.kind <> 'invoice' or (v_invoice.draft and p_kind <> 'deposit') then
    raise exception 'payments are recorded against a finalized invoice (a deposit may precede it)'
      using errcode = 'FX409';
  end if;
  if p_currency <> v_invoice.currency then
    raise exception 'the invoice is in %', v_invoice.currency using errcode = 'FX422', column = 'currency';
  end if;
  v_paid := v_invoice.paid_amount + p_amount;
  if v_paid > v_invoice.amount then
    raise exception 'the payment exceeds the balance of % %', v_invoice.amount - v_invoice.paid_amount,
      v_invoice.currency using errcode = 'FX422', column = 'amount';
  end if;
  insert into public.billing_payments (client_id, invoice_id, method, kind, amount, currency, paid_on, reference,
                                       external_id, note, recorded_by)
    values (v_invoice.client_id, p_invoice_id, p_method, p_kind, p_amount, p_currency, p_paid_on, p_reference,
            p_external_id, p_note, (select auth.uid()))
    returning id into v_id;
  update public.billing_invoices
    set paid_amount = v_paid, paid_at = case when v_paid >= amount and not draft then now() end,
        updated_at = now()
    where id = p_invoice_id;
  perform private.write_audit(v_invoice.client_id, 'billing.payment_recorded', 'billing_payment', v_id::text,
    null, jsonb_build_object('invoice_id', p_invoice_id, 'method', p_method, 'kind', p_kind, 'amount', p_amount,
                             'currency', p_currency, 'paid_on', p_paid_on, 'reference', p_reference,
                             'external_id', p_external_id, 'paid_amount', v_paid),
    p_request_id);
  return query select v_id, true;
end
$$;
revoke all on function private.record_billing_payment(uuid, text, text, numeric, text, date, text, text, text, text)
  from public;
grant execute on function private.record_billing_payment(uuid, text, text, numeric, text, date, text, text, text, text)
  to authenticated, service_role;

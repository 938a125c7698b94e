"""Billing (issue 12): the Pennylane mirror of customers, products, quotes, invoices and subscriptions,
the payments recorded against invoices and the signed proof of a client's decision on a quote.

Requests write local rows and enqueue `billing.*` jobs (services/billing/jobs.py) that talk to
Pennylane; the changelog sync (sync*.py) upserts Pennylane's changes through `service`'s
`apply_pennylane_*` functions and records Stripe payments through `record_payment`.
"""

"""The sync and payment half of billing: Pennylane changelog sync, Stripe payments and webhooks,
reconciliation, payment reminders, accounting exports and revenue figures. Its tables, queries and
queue handlers live here; the rules sit beside the billing core in services/billing/."""

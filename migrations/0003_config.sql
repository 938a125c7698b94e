-- Per-client configuration and the module catalogue (socle, métier, spécifique).

create table public.modules (
  key text primary key check (key ~ '^[a-z][a-z0-9_]{1,48}$'),
  name text not null check (length(name) between 1 and 120),
  kind text not null check (kind in ('socle', 'metier', 'specifique')),
  version text not null default '1.0.0' check (version ~ '^[0-9]+\.[0-9]+\.[0-9]+$'),
  description text not null default '' check (length(description) <= 2000),
  dashboards text[] not null check (cardinality(dashboards) > 0 and dashboards <@ array['hub', 'lab', 'one']),
  depends_on text[] not null default '{}',
  default_for text[] not null default '{}' check (default_for <@ array['lab', 'one']),
  position integer not null default 100,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.modules enable row level security;
create policy modules_read on public.modules for select to authenticated using (true);
create policy modules_operator_write on public.modules for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
grant select, insert, update, delete on public.modules to authenticated;

insert into public.modules (key, name, kind, dashboards, depends_on, default_for, position, description) values
  -- socle: in every dashboard, always on
  ('profile', 'Auth & Profil', 'socle', '{hub,lab,one}', '{}', '{}', 1, 'Connexion, profil, préférences'),
  ('navigation', 'Navigation', 'socle', '{hub,lab,one}', '{}', '{}', 2, 'Menu, sidebar, breadcrumbs'),
  ('search', 'Recherche globale', 'socle', '{hub,lab,one}', '{}', '{}', 3, 'Recherche type Spotlight'),
  ('notifications', 'Notifications', 'socle', '{hub,lab,one}', '{}', '{}', 4, 'Centre de notifications'),
  ('theme', 'Thème & UI', 'socle', '{hub,lab,one}', '{}', '{}', 5, 'Clair/sombre, accessibilité'),
  ('help', 'Aide & Onboarding', 'socle', '{hub,lab,one}', '{}', '{}', 6, 'Tooltips, guide, FAQ'),
  ('agent', 'Agent IA Élio', 'socle', '{hub,lab,one}', '{}', '{}', 7, 'Élio Hub / Lab / One'),
  ('daily_context', 'Contexte quotidien', 'socle', '{hub,lab,one}', '{}', '{}', 8, 'Météo, date, salutation'),
  -- métier: Hub
  ('clients', 'Clients', 'metier', '{hub}', '{}', '{}', 10, 'Liste clients, fiches, filtres'),
  ('crm', 'CRM', 'metier', '{hub}', '{clients}', '{}', 11, 'Fiche relationnelle complète'),
  ('projects', 'Projets', 'metier', '{hub}', '{}', '{}', 12, 'Projets, étapes, timeline'),
  ('validations', 'Validation Hub', 'metier', '{hub,lab}', '{}', '{lab}', 13, 'Soumissions et validations'),
  ('audit', 'Audit & Logs', 'metier', '{hub}', '{}', '{}', 40, 'Historique des actions'),
  ('analytics', 'Analytics', 'metier', '{hub}', '{}', '{}', 41, 'CA, clients actifs, temps passé'),
  -- métier: shared by several dashboards
  ('journey', 'Parcours & Étape', 'metier', '{lab}', '{}', '{lab}', 20, 'Progression et étape en cours'),
  ('home', 'Accueil', 'metier', '{one}', '{}', '{one}', 20, 'Vue d''ensemble métier, KPIs'),
  ('documents', 'Documents', 'metier', '{hub,lab,one}', '{}', '{lab,one}', 21, 'Fichiers, tags, versions'),
  ('chat', 'Chat', 'metier', '{hub,lab,one}', '{}', '{lab,one}', 22, 'Échanges avec MiKL'),
  ('agenda', 'Agenda', 'metier', '{hub,lab,one}', '{}', '{lab,one}', 23, 'Rendez-vous et planning'),
  ('visio', 'Visio', 'metier', '{hub,lab,one}', '{}', '{lab,one}', 24, 'Visioconférence intégrée'),
  ('transcripts', 'Transcription', 'metier', '{hub}', '{visio}', '{}', 25, 'Transcription des visios'),
  ('billing', 'Facturation', 'metier', '{hub,lab}', '{}', '{lab}', 26, 'Devis, factures, paiements'),
  ('wellbeing', 'Bien-être & Routine', 'metier', '{lab}', '{}', '{}', 30, 'Conseils et routines'),
  ('client_crm', 'Mes clients', 'metier', '{one}', '{}', '{}', 30, 'Mini-CRM de sa clientèle'),
  ('integrations', 'Intégrations', 'metier', '{one}', '{}', '{}', 31, 'Connexions externes'),
  ('lab_history', 'Mémoire Coaching', 'metier', '{one}', '{documents}', '{one}', 32, 'Historique du Lab'),
  ('evolutions', 'Évolutions', 'metier', '{one}', '{chat}', '{one}', 33, 'Demandes d''évolution → devis'),
  ('own_billing', 'Facturation (propre)', 'metier', '{one}', '{client_crm}', '{}', 34, 'Ses devis et factures');

create table public.client_configs (
  client_id uuid primary key references public.clients (id) on delete cascade,
  dashboard_type text not null default 'lab' check (dashboard_type in ('lab', 'one')),
  active_modules text[] not null default '{}',
  theme jsonb not null default '{}'::jsonb,
  custom_config jsonb not null default '{}'::jsonb,
  updated_at timestamptz not null default now()
);
alter table public.client_configs enable row level security;
create policy client_configs_operator_all on public.client_configs for all to authenticated
  using ((select private.is_operator())) with check ((select private.is_operator()));
create policy client_configs_member_read on public.client_configs for select to authenticated
  using (client_id = any ((select private.my_client_ids())::uuid[]));
grant select, insert, update, delete on public.client_configs to authenticated;

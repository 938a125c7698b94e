-- Demo data for a local Supabase stack (`supabase db reset` after `foxeo migrate`).
-- The operator is marked in app_metadata, which only the service role can write.
insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data,
                        email_confirmed_at, created_at, updated_at)
values
  ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000001', 'authenticated',
   'authenticated', 'mikl@demo.foxeo.fr', '{"provider": "email", "role": "operator"}', '{}', now(), now(), now()),
  ('00000000-0000-0000-0000-000000000000', '00000000-0000-4000-8000-000000000002', 'authenticated',
   'authenticated', 'lea@demo.foxeo.fr', '{"provider": "email"}', '{}', now(), now(), now())
on conflict (id) do nothing;

insert into public.clients (id, company_name, status, contact_first_name, contact_last_name, email, city, tags)
values ('00000000-0000-4000-8000-0000000000c1', 'Atelier Lumière', 'lab', 'Léa', 'Martin',
        'lea@demo.foxeo.fr', 'Lyon', '{demo}')
on conflict (id) do nothing;

insert into public.client_configs (client_id, dashboard_type, active_modules)
select '00000000-0000-4000-8000-0000000000c1', 'lab', array_agg(key)
from public.modules where kind <> 'socle' and 'lab' = any (default_for)
on conflict (client_id) do nothing;

insert into public.client_members (client_id, user_id, email, role)
values ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000002', 'lea@demo.foxeo.fr', 'owner')
on conflict do nothing;

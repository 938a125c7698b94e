-- Profiles are also writable directly under `authenticated` (supabase-js / PostgREST, under the
-- profiles_self_update policy), so the API's schemas cannot be the only guard on their shape: a
-- preference that is not a JSON object broke /me and anything reading preferences.
alter table public.profiles
  add constraint profiles_notification_prefs_shape
    check (jsonb_typeof(notification_prefs) = 'object' and pg_column_size(notification_prefs) <= 65536),
  add constraint profiles_quiet_hours_shape
    check (jsonb_typeof(quiet_hours) = 'object' and pg_column_size(quiet_hours) <= 65536),
  add constraint profiles_onboarding_shape
    check (jsonb_typeof(onboarding) = 'object' and pg_column_size(onboarding) <= 65536),
  -- what the SPA puts in <img src>: never javascript: or data: written around the API
  add constraint profiles_avatar_url_http check (avatar_url ~ '^https?://\S+$');

-- A chat send re-planned some of its statements on every call: PL/pgSQL keeps using custom plans when
-- a generic one is not estimated cheaper, and planning is most of the cost of these key lookups.
-- Measured with bench/send_cost.py: 2.35 -> 2.06 ms of backend CPU per message. The functions' own
-- statements are fixed lookups by key, for which a generic plan is the custom plan.
alter function private.send_chat_message(uuid, text, uuid[], uuid, text) set plan_cache_mode = force_generic_plan;
alter function private.notify(uuid[], uuid, text, text, text, text, text, text, text, text)
  set plan_cache_mode = force_generic_plan;

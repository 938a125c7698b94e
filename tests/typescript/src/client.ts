// A client of the Foxeo API as the dashboards build it: types generated from openapi/openapi.json by
// openapi-typescript, requests through openapi-fetch. `tsc --noEmit` proves the document yields a
// usable client; running it against a live server proves the document describes what it answers.
// Usage: node dist/client.js <base url> <bearer token>   (prints one JSON line per check)
import createClient from "openapi-fetch";

import type { components, paths } from "./api.js";

type Problem = components["schemas"]["Problem"];
type ClientRead = components["schemas"]["ClientRead"];

const [baseUrl, token] = process.argv.slice(2);
if (!baseUrl || !token) {
  throw new Error("usage: node dist/client.js <base url> <bearer token>");
}

const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

function check(name: string, ok: boolean, details: unknown): void {
  console.log(JSON.stringify({ check: name, ok, details }));
  if (!ok) {
    process.exitCode = 1;
  }
}

function isProblem(error: Problem, status: number): boolean {
  return error.status === status && typeof error.detail === "string" && typeof error.code === "string";
}

// List: a keyset page of clients.
const list = await api.GET("/api/v1/clients", { params: { query: { limit: 10 } } });
const first: ClientRead | undefined = list.data?.items[0];
check("list", list.response.status === 200 && first !== undefined, {
  status: list.response.status,
  count: list.data?.items.length,
  next_cursor: list.data?.next_cursor,
});
// @ts-expect-error: the generated types know a client's fields (this one does not exist)
void first?.no_such_field;

// Detail of the first client of the list.
if (first !== undefined) {
  const detail = await api.GET("/api/v1/clients/{client_id}", { params: { path: { client_id: first.id } } });
  check("detail", detail.response.status === 200 && detail.data?.id === first.id, {
    status: detail.response.status,
    company_name: detail.data?.company_name,
  });
}

// 422: a path parameter that is not a UUID; the problem names the field.
const invalid = await api.GET("/api/v1/clients/{client_id}", { params: { path: { client_id: "not-a-uuid" } } });
const fields = invalid.error?.errors?.map((e) => e.field) ?? [];
check(
  "invalid",
  invalid.response.status === 422 && invalid.error !== undefined && isProblem(invalid.error, 422) && fields[0] === "client_id",
  { status: invalid.response.status, fields, content_type: invalid.response.headers.get("content-type") },
);

// 404: a client that does not exist.
const missing = await api.GET("/api/v1/clients/{client_id}", {
  params: { path: { client_id: "00000000-0000-4000-8000-000000000000" } },
});
check("missing", missing.response.status === 404 && missing.error !== undefined && isProblem(missing.error, 404), {
  status: missing.response.status,
  code: missing.error?.code,
});

/**
 * GoTrue's admin API (`/auth/v1/admin/users…`, `/auth/v1/invite`), what supabase-js's
 * `auth.admin` calls: only a bearer whose role is `service_role` (the legacy service-role JWT, or
 * a secret key, which the platform's gateway turns into one) may call it — anything else gets
 * GoTrue's 403 `not_admin` "User not allowed". Answers and errors follow internal/api/admin.go:
 * offset pagination with `Link` and `X-Total-Count`, metadata merged key by key (null removes),
 * `ban_duration` in Go's duration syntax with "none" to unban, hard and soft delete.
 */
import type { StackKeys } from "../keys.ts";
import { bearerToken, json } from "../http.ts";
import { DurationError, parseGoDuration } from "./duration.ts";
import { AuthError } from "./errors.ts";
import { checkPasswordLength, objectField, readJson, str, validateEmail } from "./request.ts";
import type { AdminUpdateChange, AuthStore, UserRow } from "./store.ts";
import { userJson } from "./user_json.ts";

/** GoTrue's default `GOTRUE_JWT_ADMIN_ROLES`. */
const ADMIN_ROLES = new Set(["service_role", "supabase_admin"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_PER_PAGE = 50;

export interface AdminDeps {
  store: AuthStore;
  keys: StackKeys;
  minimumPasswordLength: number;
  /**
   * Sends the invite mail for a just-invited user; throws when no mail can be sent (GoTrue then
   * answers 500 "Error sending invite email" and rolls the invite back).
   */
  sendInvite?: (user: UserRow, redirectTo: string | undefined) => Promise<void>;
  /** `POST /admin/generate_link`, when the mailer side of Auth provides it. */
  generateLink?: (body: Record<string, unknown>) => Promise<Response>;
}

/** Milliseconds of a `ban_duration` ("none" → 0), or GoTrue's 400 for a malformed one. */
export function banDurationMs(text: string): number {
  if (text === "none") return 0;
  try {
    return parseGoDuration(text);
  } catch (e) {
    if (e instanceof DurationError) {
      throw new AuthError(
        400,
        "validation_failed",
        `invalid format for ban duration: ${e.message}`,
      );
    }
    throw e;
  }
}

/** GoTrue's `Link` header for an offset page (Go's `url.Values.Encode` sorts the keys). */
export function paginationLink(url: URL, page: number, perPage: number, total: number): string {
  const totalPages = Math.ceil(total / perPage);
  const at = (p: number) => {
    const q = new URLSearchParams(url.searchParams);
    q.set("page", String(p));
    const sorted = [...q.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `</admin/users?${new URLSearchParams(sorted).toString()}>`;
  };
  let header = "";
  if (totalPages > page) header += `${at(page + 1)}; rel="next", `;
  return header + `${at(totalPages)}; rel="last"`;
}

function pageParam(url: URL, key: string, fallback: number): number {
  const raw = url.searchParams.get(key) ?? "";
  if (raw === "") return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new AuthError(
      400,
      "validation_failed",
      `Bad Pagination Parameters: strconv.ParseUint: parsing "${raw}": invalid syntax`,
    );
  }
  return Number(raw);
}

/** Creates the admin routes; the returned function answers null for paths that are not its own. */
export function createAdminRoutes(deps: AdminDeps) {
  const { store } = deps;

  const requireAdmin = async (req: Request) => {
    const token = bearerToken(req);
    if (!token) {
      throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    }
    const claims = await deps.keys.verifyToken(token);
    if (!claims) {
      throw new AuthError(
        403,
        "bad_jwt",
        "invalid JWT: unable to parse or verify signature, token signature is invalid",
      );
    }
    if (typeof claims.role !== "string" || !ADMIN_ROLES.has(claims.role)) {
      throw new AuthError(403, "not_admin", "User not allowed");
    }
  };

  const answer = async (user: UserRow) => json(userJson(user, await store.identities(user.id)));

  const loadUser = async (id: string) => {
    if (!UUID.test(id)) throw new AuthError(404, "validation_failed", "user_id must be an UUID");
    const user = await store.findAnyUserById(id);
    if (!user) throw new AuthError(404, "user_not_found", "User not found");
    return user;
  };

  const banOf = (body: Record<string, unknown>) => {
    const ban = str(body, "ban_duration");
    return ban ? banDurationMs(ban) : undefined;
  };

  const password = async (body: Record<string, unknown>) => {
    const pw = body.password;
    if (typeof pw !== "string") return undefined;
    checkPasswordLength(pw, deps.minimumPasswordLength);
    return await store.hashPassword(pw);
  };

  const list = async (url: URL) => {
    const page = pageParam(url, "page", 1);
    const perPage = pageParam(url, "per_page", DEFAULT_PER_PAGE);
    if (perPage === 0) {
      throw new AuthError(400, "validation_failed", "Bad Pagination Parameters: per_page is 0");
    }
    const { users, total } = await store.listUsers(page, perPage);
    const identities = await store.identitiesOf(users.map((u) => u.id));
    return json(
      {
        users: users.map((u) => userJson(u, identities.get(u.id) ?? [])),
        aud: "authenticated",
      },
      200,
      {
        link: paginationLink(url, page, perPage, total),
        "x-total-count": String(total),
      },
    );
  };

  const create = async (req: Request) => {
    const body = await readJson(req);
    const rawEmail = str(body, "email");
    if (!rawEmail && !str(body, "phone")) {
      throw new AuthError(
        400,
        "validation_failed",
        "Cannot create a user without either an email or phone",
      );
    }
    if (!rawEmail) {
      throw new AuthError(422, "phone_provider_disabled", "Phone signups are disabled");
    }
    const email = validateEmail(rawEmail);
    if (await store.findUserByEmail(email)) {
      throw new AuthError(
        422,
        "email_exists",
        "A user with this email address has already been registered",
      );
    }
    if (typeof body.password === "string" && str(body, "password_hash")) {
      throw new AuthError(
        400,
        "validation_failed",
        "Only a password or a password hash should be provided",
      );
    }
    const id = str(body, "id");
    if (id !== undefined && id !== "") {
      if (!UUID.test(id)) {
        throw new AuthError(400, "validation_failed", "ID must conform to the uuid v4 format");
      }
      if (/^[0-]+$/.test(id)) {
        throw new AuthError(400, "validation_failed", "ID cannot be a nil uuid");
      }
    }
    const passwordHash = str(body, "password_hash") ?? (typeof body.password === "string" &&
        body.password !== ""
      ? await store.hashPassword(body.password)
      : await store.hashPassword(crypto.randomUUID() + crypto.randomUUID()));
    const user = await store.adminCreateUser({
      id: id || undefined,
      email,
      passwordHash,
      emailConfirm: body.email_confirm === true,
      role: str(body, "role") || "authenticated",
      userMetadata: objectField(body, "user_metadata") ?? {},
      appMetadata: objectField(body, "app_metadata") ?? null,
      banMs: banOf(body) ?? null,
    }).catch((e: unknown) => {
      if ((e as { code?: string }).code === "23505") {
        throw new AuthError(
          422,
          "email_exists",
          "A user with this email address has already been registered",
        );
      }
      throw e;
    });
    return answer(user);
  };

  const update = async (req: Request, id: string) => {
    const user = await loadUser(id);
    const body = await readJson(req);
    const change: AdminUpdateChange = {};
    const rawEmail = str(body, "email");
    if (rawEmail) {
      change.email = validateEmail(rawEmail);
      const other = await store.findUserByEmail(change.email);
      if (other && other.id !== user.id) {
        throw new AuthError(
          422,
          "email_exists",
          "A user with this email address has already been registered",
        );
      }
    }
    if (body.email_confirm === true) change.emailConfirm = true;
    const ban = banOf(body);
    if (ban !== undefined) change.banMs = ban;
    const hash = await password(body);
    if (hash) change.passwordHash = hash;
    if (str(body, "role")) change.role = str(body, "role");
    const app = objectField(body, "app_metadata");
    if (app) change.appMetadata = app;
    const meta = objectField(body, "user_metadata");
    if (meta) change.userMetadata = meta;
    return answer(await store.adminUpdateUser(user.id, change));
  };

  const remove = async (req: Request, id: string) => {
    const user = await loadUser(id);
    const body = await readJson(req);
    if (body.should_soft_delete === true) await store.softDeleteUser(user.id);
    else await store.deleteUser(user.id);
    return json({});
  };

  const invite = async (req: Request) => {
    const body = await readJson(req);
    const email = validateEmail(str(body, "email"));
    const existing = await store.findUserByEmail(email);
    if (existing?.email_confirmed_at) {
      throw new AuthError(
        422,
        "email_exists",
        "A user with this email address has already been registered",
      );
    }
    const send = deps.sendInvite;
    if (!send) {
      // GoTrue with no working mailer: the send fails inside the invite's transaction.
      throw new AuthError(500, "unexpected_failure", "Error sending invite email");
    }
    const user = existing ?? await store.adminCreateUser({
      email,
      passwordHash: "",
      emailConfirm: false,
      role: "authenticated",
      userMetadata: objectField(body, "data") ?? {},
      appMetadata: null,
      banMs: null,
      invited: true,
    });
    try {
      await send(user, str(body, "redirect_to"));
    } catch (e) {
      if (e instanceof AuthError) throw e;
      if (!existing) await store.deleteUser(user.id);
      throw new AuthError(500, "unexpected_failure", "Error sending invite email");
    }
    return answer((await store.findAnyUserById(user.id))!);
  };

  return async function handleAdmin(
    req: Request,
    path: string,
    url: URL,
  ): Promise<Response | null> {
    const isAdminPath = path === "/invite" || path === "/admin" || path.startsWith("/admin/");
    if (!isAdminPath) return null;
    await requireAdmin(req);
    const route = `${req.method} ${path.replace(/\/+$/, "")}`;
    if (route === "GET /admin/users") return list(url);
    if (route === "POST /admin/users") return create(req);
    if (route === "POST /invite") return invite(req);
    if (route === "POST /admin/generate_link") {
      if (!deps.generateLink) throw new AuthError(404, "not_found", "Not Found");
      return deps.generateLink(await readJson(req));
    }
    const one = /^(GET|PUT|DELETE) \/admin\/users\/([^/]+)$/.exec(route);
    if (one) {
      const id = decodeURIComponent(one[2]!);
      if (one[1] === "GET") return answer(await loadUser(id));
      if (one[1] === "PUT") return update(req, id);
      return remove(req, id);
    }
    throw new AuthError(404, "not_found", "Not Found");
  };
}

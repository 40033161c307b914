/**
 * `/auth/v1`: the part of GoTrue (Supabase Auth) that supabase-js's auth client uses here —
 * anonymous and email+password sign-up (auto-confirmed), password and refresh-token grants with
 * rotation, `GET`/`PUT /user` (an anonymous user who adds an email becomes permanent, same id),
 * logout, the JWKS, `/settings` and `/health` — with GoTrue's answers and error codes.
 */
import type { StackKeys } from "../keys.ts";
import { decodeJwt } from "../jwt.ts";
import { apiKey, bearerToken, json } from "../http.ts";
import type { ProjectConfig } from "../project_config.ts";
import { AuthError, authErrorResponse, withApiVersion } from "./errors.ts";
import type { AuthStore, UserRow } from "./store.ts";
import { accessTokenClaims, userJson } from "./user_json.ts";
import { createAdminRoutes } from "./admin.ts";
import { checkPasswordLength, readJson, str, validateEmail } from "./request.ts";

export interface AuthHandlerDeps {
  store: AuthStore;
  keys: StackKeys;
  config: ProjectConfig["auth"];
  /** The public URL of the gateway; tokens carry `iss: <url>/auth/v1`. */
  supabaseUrl: string;
  log: (line: string) => void;
  clock?: () => number;
}

function metadataOf(body: Record<string, unknown>): Record<string, unknown> {
  const data = body.data;
  return typeof data === "object" && data !== null && !Array.isArray(data)
    ? data as Record<string, unknown>
    : {};
}

/** Creates the `/auth/v1` handler; `path` is the part after `/auth/v1`. */
export function createAuthHandler(deps: AuthHandlerDeps) {
  const now = () => Math.floor((deps.clock ?? Date.now)() / 1000);
  const issuer = `${deps.supabaseUrl}/auth/v1`;
  const knownKeys = new Set([
    deps.keys.anonKey,
    deps.keys.serviceRoleKey,
    deps.keys.publishableKey,
    deps.keys.secretKey,
  ]);

  const checkPassword = (password: string) =>
    checkPasswordLength(password, deps.config.minimumPasswordLength);
  const checkEmail = (email: string) => void validateEmail(email);
  const isBanned = (user: UserRow) =>
    !!user.banned_until && user.banned_until.getTime() > (deps.clock ?? Date.now)();
  const admin = createAdminRoutes({
    store: deps.store,
    keys: deps.keys,
    minimumPasswordLength: deps.config.minimumPasswordLength,
  });

  const sessionAnswer = async (
    s: { user: UserRow; sessionId: string; refreshToken: string },
    method: string,
    authenticatedAt: Date,
  ) => {
    const iat = now();
    const expiresIn = deps.config.jwtExpiry;
    const claims = accessTokenClaims({
      user: s.user,
      sessionId: s.sessionId,
      issuer,
      expiresIn,
      method,
      authenticatedAt,
      now: iat,
    });
    return {
      access_token: await deps.keys.signAccessToken(claims),
      token_type: "bearer",
      expires_in: expiresIn,
      expires_at: iat + expiresIn,
      refresh_token: s.refreshToken,
      user: userJson(s.user, await deps.store.identities(s.user.id)),
    };
  };

  /** The signed-in caller: verified token, existing user, live session. */
  const requireUser = async (req: Request) => {
    const token = bearerToken(req);
    if (!token) {
      throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    }
    const claims = await deps.keys.verifyToken(token);
    if (!claims) {
      const decoded = decodeJwt(token);
      const expired = decoded && typeof decoded.claims.exp === "number" &&
        decoded.claims.exp <= now();
      throw new AuthError(
        403,
        "bad_jwt",
        expired
          ? "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"
          : "invalid JWT: unable to parse or verify signature, token signature is invalid",
      );
    }
    if (typeof claims.sub !== "string" || !claims.sub) {
      throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    }
    const user = await deps.store.findUserById(claims.sub).catch(() => null);
    if (!user) {
      throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    }
    // GoTrue refuses a banned user's access tokens issued before the ban.
    if (isBanned(user)) throw new AuthError(403, "user_banned", "User is banned");
    const sessionId = typeof claims.session_id === "string" ? claims.session_id : null;
    if (sessionId && !(await deps.store.sessionExists(sessionId, user.id))) {
      throw new AuthError(
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
      );
    }
    return { user, sessionId };
  };

  const signup = async (req: Request) => {
    const body = await readJson(req);
    const email = str(body, "email")?.trim().toLowerCase();
    const phone = str(body, "phone");
    const password = str(body, "password");
    const userAgent = req.headers.get("user-agent");
    if (!email && !phone) {
      if (!deps.config.enableAnonymousSignIns) {
        throw new AuthError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled");
      }
      if (!deps.config.enableSignup) {
        throw new AuthError(422, "signup_disabled", "Signups not allowed for this instance");
      }
      const created = await deps.store.createUserWithSession({
        email: null,
        passwordHash: null,
        isAnonymous: true,
        userMetadata: metadataOf(body),
        provider: "anonymous",
        userAgent,
      });
      return json(await sessionAnswer(created, "anonymous", new Date()));
    }
    if (!email) throw new AuthError(422, "phone_provider_disabled", "Phone signups are disabled");
    if (!deps.config.enableSignup) {
      throw new AuthError(422, "signup_disabled", "Signups not allowed for this instance");
    }
    checkEmail(email);
    if (!password) {
      throw new AuthError(422, "validation_failed", "Signup requires a valid password");
    }
    checkPassword(password);
    if (await deps.store.findUserByEmail(email)) {
      throw new AuthError(422, "user_already_exists", "User already registered");
    }
    const created = await deps.store.createUserWithSession({
      email,
      passwordHash: await deps.store.hashPassword(password),
      isAnonymous: false,
      userMetadata: metadataOf(body),
      provider: "email",
      userAgent,
    }).catch((e: unknown) => {
      if ((e as { code?: string }).code === "23505") {
        throw new AuthError(422, "user_already_exists", "User already registered");
      }
      throw e;
    });
    return json(await sessionAnswer(created, "password", new Date()));
  };

  const passwordGrant = async (req: Request) => {
    const body = await readJson(req);
    const email = str(body, "email")?.trim().toLowerCase();
    const password = str(body, "password") ?? "";
    if (!email) {
      if (str(body, "phone")) {
        throw new AuthError(400, "phone_provider_disabled", "Phone logins are disabled");
      }
      throw new AuthError(400, "validation_failed", "missing email or phone");
    }
    const user = await deps.store.findUserByEmail(email);
    if (!user || !user.encrypted_password) {
      throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
    }
    // GoTrue's order: the ban is checked before the password.
    if (isBanned(user)) throw new AuthError(400, "user_banned", "User is banned");
    if (!(await deps.store.checkPassword(user, password))) {
      throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
    }
    if (!user.email_confirmed_at) {
      throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
    }
    const session = await deps.store.createSession(user.id, req.headers.get("user-agent"));
    return json(await sessionAnswer(session, "password", new Date()));
  };

  const refreshGrant = async (req: Request) => {
    const body = await readJson(req);
    const token = str(body, "refresh_token");
    if (!token) throw new AuthError(400, "validation_failed", "refresh_token required");
    const outcome = await deps.store.refresh(
      token,
      deps.config.refreshTokenReuseInterval,
      deps.config.refreshTokenRotation,
    );
    if (!outcome.ok) {
      if (outcome.reason === "banned") {
        throw new AuthError(400, "user_banned", "Invalid Refresh Token: User Banned");
      }
      throw outcome.reason === "already_used"
        ? new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        : new AuthError(
          400,
          "refresh_token_not_found",
          "Invalid Refresh Token: Refresh Token Not Found",
        );
    }
    const method = outcome.user.is_anonymous ? "anonymous" : "password";
    return json(await sessionAnswer(outcome, method, outcome.sessionCreatedAt));
  };

  const getUser = async (req: Request) => {
    const { user } = await requireUser(req);
    return json(userJson(user, await deps.store.identities(user.id)));
  };

  const putUser = async (req: Request) => {
    const { user } = await requireUser(req);
    const body = await readJson(req);
    const email = str(body, "email")?.trim().toLowerCase();
    const password = str(body, "password");
    const change: Parameters<AuthStore["updateUser"]>[1] = {};
    if (body.data !== undefined) {
      const merged = { ...user.raw_user_meta_data };
      for (const [k, v] of Object.entries(metadataOf(body))) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      change.userMetadata = merged;
    }
    if (email && email !== user.email) {
      checkEmail(email);
      const other = await deps.store.findUserByEmail(email);
      if (other && other.id !== user.id) {
        throw new AuthError(
          422,
          "email_exists",
          "A user with this email address has already been registered",
        );
      }
      change.email = email;
      if (user.is_anonymous) change.makePermanent = true;
    }
    if (password !== undefined) {
      if (user.is_anonymous && !change.email && !user.email) {
        throw new AuthError(
          422,
          "validation_failed",
          "Updating password of an anonymous user without an email or phone is not allowed",
        );
      }
      checkPassword(password);
      if (user.encrypted_password && (await deps.store.checkPassword(user, password))) {
        throw new AuthError(
          422,
          "same_password",
          "New password should be different from the old password.",
        );
      }
      change.passwordHash = await deps.store.hashPassword(password);
    }
    const updated = await deps.store.updateUser(user.id, change).catch((e: unknown) => {
      if ((e as { code?: string }).code === "23505") {
        throw new AuthError(
          422,
          "email_exists",
          "A user with this email address has already been registered",
        );
      }
      throw e;
    });
    return json(userJson(updated, await deps.store.identities(updated.id)));
  };

  const logout = async (req: Request, url: URL) => {
    const { user, sessionId } = await requireUser(req);
    const scope = url.searchParams.get("scope") ?? "global";
    if (scope !== "global" && scope !== "local" && scope !== "others") {
      throw new AuthError(400, "validation_failed", "Unsupported logout scope");
    }
    if (sessionId) await deps.store.logout(user.id, sessionId, scope);
    return new Response(null, { status: 204 });
  };

  const settings = () =>
    json({
      external: { anonymous_users: deps.config.enableAnonymousSignIns, email: true, phone: false },
      disable_signup: !deps.config.enableSignup,
      mailer_autoconfirm: true,
      phone_autoconfirm: false,
      sms_provider: "",
      saml_enabled: false,
    });

  return async function handleAuth(req: Request, path: string, url: URL): Promise<Response> {
    try {
      const route = `${req.method} ${path}`;
      if (route === "GET /.well-known/jwks.json") return json(deps.keys.jwks);
      if (route === "GET /health") {
        return json({ version: "dev", name: "GoTrue", description: "Vidqueue dev stack auth" });
      }
      // Supabase's gateway (key-auth) refuses requests without a project API key.
      const key = apiKey(req, url);
      if (!key) {
        return json({
          message: "No API key found in request",
          hint: "No `apikey` request header or url param was found.",
        }, 401);
      }
      if (!knownKeys.has(key)) {
        return json({
          message: "Invalid API key",
          hint: "Double check your Supabase `anon` or `service_role` API key.",
        }, 401);
      }
      const adminAnswer = await admin(req, path, url);
      if (adminAnswer) return withApiVersion(req, adminAnswer);
      let res: Response;
      switch (route) {
        case "GET /settings":
          res = settings();
          break;
        case "POST /signup":
          res = await signup(req);
          break;
        case "POST /token": {
          const grant = url.searchParams.get("grant_type");
          if (grant === "password") res = await passwordGrant(req);
          else if (grant === "refresh_token") res = await refreshGrant(req);
          else throw new AuthError(400, "validation_failed", "unsupported_grant_type");
          break;
        }
        case "GET /user":
          res = await getUser(req);
          break;
        case "PUT /user":
          res = await putUser(req);
          break;
        case "POST /logout":
          res = await logout(req, url);
          break;
        default:
          throw new AuthError(404, "not_found", "Not Found");
      }
      return withApiVersion(req, res);
    } catch (e) {
      if (e instanceof AuthError) return authErrorResponse(req, e);
      deps.log(`[auth] unexpected error: ${e instanceof Error ? e.stack : e}`);
      const saving = req.method === "POST" && path === "/signup";
      return authErrorResponse(
        req,
        new AuthError(
          500,
          "unexpected_failure",
          saving
            ? "Database error saving new user"
            : "Unexpected failure, please check server logs for more information",
        ),
      );
    }
  };
}

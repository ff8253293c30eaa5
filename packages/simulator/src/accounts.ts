import { randomBytes } from 'node:crypto';
import { randomUuid } from './ids.ts';

export interface SimulatedUser {
  userId: string;
  username: string;
  email: string;
}

export interface OAuthAppConfig {
  clientId: string;
  clientSecret: string;
  /** Redirect URIs registered for the app; the authorize and token calls must use one. */
  redirectUris: string[];
  /** Whether the authorize redirect echoes `state` (unconfirmed for the real Auphonic). */
  echoState?: boolean;
}

/** An External Service as Auphonic keeps it: one per user and display_name. */
export interface SimulatedService {
  uuid: string;
  userId: string;
  display_name: string;
  webhook_url: string;
  custom_data: unknown;
  type: 'external';
}

/** Users, their tokens (API keys and OAuth access tokens), the OAuth app, codes and services. */
export class Accounts {
  readonly #users = new Map<string, SimulatedUser>();
  readonly #tokens = new Map<string, string>();
  readonly #codes = new Map<string, { userId: string; redirectUri: string; expiresAt: number }>();
  readonly #services = new Map<string, SimulatedService>();
  app: OAuthAppConfig | undefined;
  /** The user who "logs in and allows" on the authorize page. */
  authorizingUser: string | undefined;

  addUser(input: { username: string; email?: string; apiKey?: string }): SimulatedUser {
    const user = { userId: randomUuid(), username: input.username, email: input.email ?? `${input.username}@example.com` };
    this.#users.set(user.userId, user);
    if (input.apiKey) this.#tokens.set(input.apiKey, user.userId);
    return user;
  }

  userByToken(token: string | undefined): SimulatedUser | undefined {
    const userId = token ? this.#tokens.get(token) : undefined;
    return userId ? this.#users.get(userId) : undefined;
  }

  user(userId: string): SimulatedUser | undefined {
    return this.#users.get(userId);
  }

  /** The user's live tokens (tests look for them where they must not be). */
  tokensOf(userId: string): string[] {
    return [...this.#tokens].filter(([, owner]) => owner === userId).map(([token]) => token);
  }

  /** Every token of the user stops working: the next call answers 401. */
  revokeTokens(userId: string): void {
    for (const [token, owner] of this.#tokens) if (owner === userId) this.#tokens.delete(token);
  }

  issueCode(userId: string, redirectUri: string): string {
    const code = randomBytes(16).toString('hex');
    this.#codes.set(code, { userId, redirectUri, expiresAt: Date.now() + 60_000 });
    return code;
  }

  /** A code works once, for the redirect URI it was issued for. */
  redeemCode(code: string, redirectUri: string): string | { error: string; error_description: string } {
    const entry = this.#codes.get(code);
    this.#codes.delete(code);
    if (!entry || entry.expiresAt < Date.now()) return { error: 'invalid_grant', error_description: 'Invalid code or code expired.' };
    if (entry.redirectUri !== redirectUri) return { error: 'invalid_grant', error_description: 'Mismatching redirect URI.' };
    const token = randomBytes(20).toString('hex');
    this.#tokens.set(token, entry.userId);
    return token;
  }

  /** Same user and same display_name: the existing service is updated, not duplicated. */
  connectService(userId: string, input: { display_name: string; webhook_url: string; custom_data: unknown }): SimulatedService {
    const existing = [...this.#services.values()].find((s) => s.userId === userId && s.display_name === input.display_name);
    const service: SimulatedService = {
      uuid: existing?.uuid ?? randomUuid(),
      userId,
      display_name: input.display_name,
      webhook_url: input.webhook_url,
      custom_data: input.custom_data,
      type: 'external',
    };
    this.#services.set(service.uuid, service);
    return service;
  }

  services(userId?: string): SimulatedService[] {
    return [...this.#services.values()].filter((s) => userId === undefined || s.userId === userId);
  }

  service(uuid: string): SimulatedService | undefined {
    return this.#services.get(uuid);
  }
}

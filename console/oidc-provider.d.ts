// oidc-provider ships no types; the dev IdP uses a small part of it.
declare module 'oidc-provider' {
  type Ctx = any;
  interface Configuration {
    [key: string]: unknown;
    loadExistingGrant?: (ctx: Ctx) => Promise<unknown>;
    findAccount?: (ctx: Ctx, id: string) => Promise<{ accountId: string; claims(): Promise<Record<string, unknown>> } | undefined>;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}

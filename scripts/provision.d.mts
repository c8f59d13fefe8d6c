export declare const TEMPORAL_CLI_VERSION: string;
export declare const TEST_SERVER_VERSION: string;
export declare const root: string;
export declare const cacheDir: string;
export declare class ProvisionError extends Error {}
export declare function ensureTemporalCli(): Promise<string>;
export declare function ensureTestServer(): Promise<string>;
export declare function ensureNodeModules(): void;
export declare function externalServer(): string | undefined;
export declare const FHIR_VALIDATOR_VERSION: string;
export declare const fhirValidatorDir: string;
export declare function ensureFhirValidator(): Promise<{ java: string; args: string[] }>;
export declare function ensureChromium(): Promise<string>;

export declare const TEMPORAL_SERVER_VERSION: string;
export declare const UI_SERVER_VERSION: string;
export declare const clusterCacheDir: string;
export declare function ensureClusterBinaries(): { server: string; sqlTool: string; ui: string; moduleDir: string };
export declare function ensurePostgres(): string;

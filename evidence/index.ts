// Everything the CLI, client and demo need for evidence. Workflow code should import
// './outcomeRecord' directly: this barrel pulls in echarts through './html'.
export * from './outcomeRecord';
export * from './report';
export * from './csv';
export * from './html';
export * from './connections';

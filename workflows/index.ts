// Every workflow the worker registers. Imported only by the workflow bundler.
export { pathwayCase } from './case';
export { capacityLedger } from './capacity-ledger';
export { personIndex } from './person-index';
export { schemeSubscriptions } from './subscriptions';

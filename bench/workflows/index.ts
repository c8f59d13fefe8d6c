// The workflow bundle of the overhead benchmark: the project's workflows and, beside them, the bare
// workflow. One bundle, one worker, one converter: the two differ only in what the workflow does.
export * from '../../workflows';
export { bareCase } from './bare';

// Loaded by path (DataConverter.failureConverterPath), both by the SDK's plain require() and by the
// workflow bundler, so it is plain CommonJS: a .ts file would not load under a runner that has no
// TypeScript hook for node_modules' require calls.
//
// Error messages and stack traces are plain text in history by default, and they routinely quote
// the data that caused them. encodeCommonAttributes moves both into a payload, which the payload
// codec then encrypts like any other.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

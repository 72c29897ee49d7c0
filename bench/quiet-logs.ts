// Imported first: fabric-contract-api and fabric-shim read their log level when loaded (and log
// every decorator at info level). Errors still show.
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'ERROR';

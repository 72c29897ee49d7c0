// Imported first by the engine tests: fabric-contract-api and fabric-shim read their log level when
// loaded (and log every decorator at info level), as chaincode does from the peer-set environment.
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'CRITICAL';

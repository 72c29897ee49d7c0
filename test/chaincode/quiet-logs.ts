// Imported first by the contract tests: fabric-shim and fabric-contract-api read their log level
// when loaded (a peer sets it in the chaincode's environment) and would log every rejected
// transaction, which these tests provoke on purpose.
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'CRITICAL';

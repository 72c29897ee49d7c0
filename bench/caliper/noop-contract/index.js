// The no-op baseline of bench/caliper: `noop` reads and writes nothing, so a submitted `noop` costs
// exactly what the network charges any transaction (proposal, endorsement by the policy's peers,
// ordering, validation, commit) and nothing of its own. Deployed beside TORGO's contract as chaincode
// `noop` (README.md), with the same endorsement policy. Plain CommonJS without decorators: the
// contract API then takes every method of the class as a transaction.
const { Contract } = require('fabric-contract-api');

class NoopContract extends Contract {
  constructor() {
    super('NoopContract');
  }

  async noop() {
    return '';
  }
}

module.exports.contracts = [NoopContract];

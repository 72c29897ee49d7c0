'use strict';
// The no-op baseline: getInfo submitted as a transaction. It reads and writes nothing, so its
// TPS is what endorsement, ordering and commit cost on this network by themselves.
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class Noop extends WorkloadModuleBase {
  async submitTransaction() {
    await this.sutAdapter.sendRequests({
      contractId: 'torgo',
      contractFunction: 'getInfo',
      contractArguments: [],
      invokerIdentity: 'org1-appender',
      readOnly: false,
    });
  }
}

module.exports.createWorkloadModule = () => new Noop();

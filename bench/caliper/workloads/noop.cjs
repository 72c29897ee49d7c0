'use strict';
// The no-op baseline: `noop` of the no-op contract (noop-contract/, chaincode `noop`, same
// endorsement policy) submitted as a transaction. It reads and writes nothing, so its TPS is what
// endorsement, ordering and commit cost on this network by themselves. With `contract: torgo` it
// submits AuditContract's getInfo instead (a read of one key, nothing written).
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class Noop extends WorkloadModuleBase {
  async submitTransaction() {
    const torgo = this.roundArguments?.contract === 'torgo';
    await this.sutAdapter.sendRequests({
      contractId: torgo ? 'torgo' : 'noop',
      contractFunction: torgo ? 'getInfo' : 'noop',
      contractArguments: [],
      invokerIdentity: 'org1-appender',
      readOnly: false,
    });
  }
}

module.exports.createWorkloadModule = () => new Noop();

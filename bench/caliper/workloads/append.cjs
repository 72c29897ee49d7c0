'use strict';
// appendReceipt (receiptsPerTx: 1) or appendReceipts (receiptsPerTx > 1, at most 100): each
// transaction carries fresh receipts signed by this worker. Signing (~1 ms per receipt with
// native ML-DSA) is client work, done before the request is timed by Caliper's rate controller.
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');
const { setUp, receipt, registerKey } = require('./common.cjs');

class Append extends WorkloadModuleBase {
  async initializeWorkloadModule(
    workerIndex,
    totalWorkers,
    roundIndex,
    roundArguments,
    sutAdapter,
    sutContext,
  ) {
    await super.initializeWorkloadModule(
      workerIndex,
      totalWorkers,
      roundIndex,
      roundArguments,
      sutAdapter,
      sutContext,
    );
    this.ctx = await setUp(workerIndex);
    this.perTx = Math.min(100, Math.max(1, Number(roundArguments.receiptsPerTx ?? 1)));
    this.n = 0;
    await registerKey(sutAdapter, this.ctx);
  }

  async submitTransaction() {
    const receipts = Array.from({ length: this.perTx }, () => receipt(this.ctx, this.n++));
    await this.sutAdapter.sendRequests({
      contractId: 'torgo',
      contractFunction: this.perTx === 1 ? 'appendReceipt' : 'appendReceipts',
      contractArguments: [this.perTx === 1 ? receipts[0] : JSON.stringify(receipts)],
      invokerIdentity: 'org1-appender',
      readOnly: false,
    });
  }
}

module.exports.createWorkloadModule = () => new Append();

'use strict';
// appendReceipt (receiptsPerTx: 1) or appendReceipts (receiptsPerTx > 1, at most 100): each
// transaction carries fresh receipts signed by this worker. Signing (~1 ms per receipt with native
// ML-DSA, on the CPU the network also needs) is client work: `presign` receipts per worker are
// signed before the round starts (set it to the round's txNumber ÷ workers × receiptsPerTx); only
// if they run out are more signed during the round.
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
    const presign = Math.max(0, Number(roundArguments.presign ?? 0));
    this.signed = Array.from({ length: presign }, () => receipt(this.ctx, this.n++));
  }

  async submitTransaction() {
    const receipts = Array.from(
      { length: this.perTx },
      () => this.signed.pop() ?? receipt(this.ctx, this.n++),
    );
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

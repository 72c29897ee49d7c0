'use strict';
// Read-only queries (evaluate on one peer, not ordered): getReceipt by id (kind: id) or
// queryReceipts by source, first page of 50 (kind: source). Appends 100 receipts of its own first.
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');
const { setUp, receipt, registerKey } = require('./common.cjs');

class Query extends WorkloadModuleBase {
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
    this.kind = roundArguments.kind === 'source' ? 'source' : 'id';
    await registerKey(sutAdapter, this.ctx);
    const receipts = Array.from({ length: 100 }, (_, i) => receipt(this.ctx, i));
    await sutAdapter.sendRequests({
      contractId: 'torgo',
      contractFunction: 'appendReceipts',
      contractArguments: [JSON.stringify(receipts)],
      invokerIdentity: 'org1-appender',
      readOnly: false,
    });
    this.ids = receipts.map((mu) => this.ctx.core.parseReceipt(mu).document.fields.id);
    this.n = 0;
  }

  async submitTransaction() {
    const i = this.n++;
    const [fcn, arg] =
      this.kind === 'id'
        ? ['getReceipt', this.ids[i % this.ids.length]]
        : ['queryReceipts', JSON.stringify({ by: 'source', value: this.ctx.source, pageSize: 50 })];
    await this.sutAdapter.sendRequests({
      contractId: 'torgo',
      contractFunction: fcn,
      contractArguments: [arg],
      invokerIdentity: 'org1-auditor',
      readOnly: true,
    });
  }
}

module.exports.createWorkloadModule = () => new Query();

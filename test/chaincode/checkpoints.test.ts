/** Checkpoints: recorded by log operators, size never decreasing, no fork at a size, history. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cosignCheckpoint, signCheckpoint } from '../../core/index.js';
import { type Cast, eventJson, json, LEDGERS, openCast, rejectsWith, testKey } from './ledger.js';

type Record = {
  origin: string;
  size: number;
  rootHash: string;
  note: string;
  txId: string;
  recordedAt: string;
};

const origin = 'torgo.example/log/v1';
const logKey = testKey(300);
const witnessKey = testKey(301);
const root = (n: number) => Uint8Array.from({ length: 32 }, (_, i) => (n * 31 + i) % 256);
const note = (size: number, rootSeed = size, o = origin) =>
  signCheckpoint({ origin: o, size, rootHash: root(rootSeed) }, [{ name: o, key: logKey }]);

for (const kind of LEDGERS)
  describe(`checkpoints (${kind})`, () => {
    let cast: Cast;
    before(async () => {
      cast = await openCast(kind);
    });
    after(() => cast.ledger.close());

    it('records the latest checkpoint per origin, with an event', async () => {
      const text = note(10);
      const out = await cast.ledger.submit(cast.operator, 'recordCheckpoint', text);
      const { checkpoint, recorded } = json<{ checkpoint: Record; recorded: boolean }>(out.result);
      assert.equal(recorded, true);
      assert.equal(checkpoint.origin, origin);
      assert.equal(checkpoint.size, 10);
      assert.equal(checkpoint.rootHash, Buffer.from(root(10)).toString('base64'));
      assert.equal(checkpoint.note, text);
      const ev = eventJson(out);
      assert.equal(ev.name, 'CheckpointRecorded');
      // The note rides along: every organisation's witness reads it from the block.
      assert.deepEqual(ev.payload, {
        origin,
        note: text,
        rootHash: checkpoint.rootHash,
        size: 10,
        txId: checkpoint.txId,
      });
      assert.deepEqual(
        json<Record>(await cast.ledger.evaluate(cast.auditor, 'getCheckpoint', origin)),
        checkpoint,
      );
    });

    it('the same note again writes nothing; a larger size moves forward; equal size same root may add cosignatures', async () => {
      const again = await cast.ledger.submit(cast.operator, 'recordCheckpoint', note(10));
      // ML-DSA signing is hedged: a re-signed note differs in bytes but not in size or root.
      assert.equal(json<{ recorded: boolean }>(again.result).recorded, true);
      const same = json<{ checkpoint: Record }>(
        await cast.ledger.evaluate(cast.auditor, 'getCheckpoint', origin),
      );
      const repeat = await cast.ledger.submit(
        cast.operator,
        'recordCheckpoint',
        (same as unknown as Record).note,
      );
      assert.equal(json<{ recorded: boolean }>(repeat.result).recorded, false);
      assert.deepEqual(repeat.writes, []);
      assert.equal(repeat.event, undefined);
      const cosigned = cosignCheckpoint(note(20), [{ name: 'witness.example', key: witnessKey }]);
      await cast.ledger.submit(cast.operator, 'recordCheckpoint', note(20));
      await cast.ledger.submit(cast.operator, 'recordCheckpoint', cosigned);
      assert.equal(
        json<Record>(await cast.ledger.evaluate(cast.auditor, 'getCheckpoint', origin)).note,
        cosigned,
      );
    });

    it('refuses a smaller size (CHECKPOINT_REGRESSION) and another root at the same size (CHECKPOINT_CONFLICT)', async () => {
      await rejectsWith(
        cast.ledger.submit(cast.operator, 'recordCheckpoint', note(19)),
        'CHECKPOINT_REGRESSION',
      );
      await rejectsWith(
        cast.ledger.submit(cast.operator, 'recordCheckpoint', note(20, 99)),
        'CHECKPOINT_CONFLICT',
      );
      // Other origins are independent.
      await cast.ledger.submit(cast.operator, 'recordCheckpoint', note(1, 1, 'other.example/log'));
    });

    it('refuses malformed notes with CHECKPOINT_INVALID and the core code', async () => {
      const good = note(30);
      for (const bad of [
        'not a note',
        good.slice(0, good.indexOf('\n\n') + 1),
        good.replace('\n30\n', '\n030\n'),
        good.replace(/\n([A-Za-z0-9+/=]{44})\n\n/, '\nAAAA\n\n'),
      ]) {
        await rejectsWith(
          cast.ledger.submit(cast.operator, 'recordCheckpoint', bad),
          'CHECKPOINT_INVALID',
          /E_CHECKPOINT_SYNTAX/,
        );
      }
    });

    it('history lists every recorded checkpoint, newest first', async () => {
      const { history } = json<{ history: { value: Record; txId: string }[] }>(
        await cast.ledger.evaluate(cast.admin, 'getCheckpointHistory', origin),
      );
      assert.deepEqual(
        history.map((h) => h.value.size),
        [20, 20, 10, 10],
      );
      await rejectsWith(cast.ledger.evaluate(cast.admin, 'getCheckpointHistory', 'nowhere'), 'NOT_FOUND');
      await rejectsWith(cast.ledger.evaluate(cast.admin, 'getCheckpoint', 'nowhere'), 'NOT_FOUND');
      await rejectsWith(cast.ledger.evaluate(cast.admin, 'getCheckpoint', ''), 'BAD_REQUEST');
    });

    it('recordCosignatures collects each organisation’s lines on one checkpoint, kept byte for byte and attributed', async () => {
      type Cosigned = Record & { body: string; signers: { key: string; mspId: string }[] };
      const org1 = note(50);
      const first = await cast.ledger.submit(cast.operator, 'recordCosignatures', org1);
      const one = json<{ checkpoint: Cosigned; added: string[] }>(first.result);
      assert.equal(one.added.length, 1);
      assert.equal(one.checkpoint.note, org1);
      assert.deepEqual(
        one.checkpoint.signers.map((s) => s.mspId),
        ['Org1MSP'],
      );
      // Org2's witness cosigns (its note carries Org1's line too): only its own line is new.
      const both = cosignCheckpoint(org1, [{ name: origin, key: witnessKey }]);
      const second = await cast.ledger.submit(cast.multi, 'recordCosignatures', both);
      const two = json<{ checkpoint: Cosigned; added: string[] }>(second.result);
      assert.equal(two.added.length, 1);
      assert.equal(two.checkpoint.note, both, 'the first line kept byte for byte, the new one appended');
      assert.deepEqual(
        two.checkpoint.signers.map((s) => s.mspId),
        ['Org1MSP', 'Org2MSP'],
      );
      const ev = eventJson(second);
      assert.equal(ev.name, 'CheckpointCosigned');
      assert.equal(ev.payload['note'], both);
      assert.deepEqual(ev.payload['added'], two.added);
      // A re-signed line of a key already recorded does not replace it: nothing written, no event.
      const again = await cast.ledger.submit(cast.multi, 'recordCosignatures', note(50));
      assert.deepEqual(json<{ added: string[] }>(again.result).added, []);
      assert.deepEqual(again.writes, []);
      assert.equal(again.event, undefined);
      assert.equal(
        json<Cosigned>(await cast.ledger.evaluate(cast.auditor, 'getCosignedCheckpoint', origin, '50')).note,
        both,
      );
      // Another root at a recorded size is a fork: refused, never merged.
      await rejectsWith(
        cast.ledger.submit(cast.multi, 'recordCosignatures', note(50, 7)),
        'CHECKPOINT_CONFLICT',
      );
      await rejectsWith(cast.ledger.submit(cast.alice, 'recordCosignatures', org1), 'FORBIDDEN');
      await rejectsWith(
        cast.ledger.evaluate(cast.auditor, 'getCosignedCheckpoint', origin, '51'),
        'NOT_FOUND',
      );
      await rejectsWith(
        cast.ledger.evaluate(cast.auditor, 'getCosignedCheckpoint', origin, '050'),
        'BAD_REQUEST',
      );
    });

    it('only log operators record; every role reads', async () => {
      for (const who of [cast.alice, cast.auditor, cast.admin, cast.nobody]) {
        await rejectsWith(
          cast.ledger.submit(who, 'recordCheckpoint', note(40)),
          'FORBIDDEN',
          /may not record checkpoints$/,
        );
      }
      await cast.ledger.submit(cast.multi, 'recordCheckpoint', note(40));
      for (const who of [cast.alice, cast.auditor, cast.admin, cast.operator]) {
        assert.equal(json<Record>(await cast.ledger.evaluate(who, 'getCheckpoint', origin)).size, 40);
      }
      await rejectsWith(cast.ledger.evaluate(cast.nobody, 'getCheckpoint', origin), 'FORBIDDEN');
    });
  });

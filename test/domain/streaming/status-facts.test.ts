import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  filterFacts,
  type StreamedStatusFacts,
  statusFactsFromWire,
  statusFactsToWire,
} from '../../../src/domain/streaming/status-facts.ts';

const facts: StreamedStatusFacts = {
  accountId: '10',
  accountDomain: 'remote.example',
  visibility: 'public',
  mentionedAccountIds: ['11', '12'],
  language: 'de',
  reblogOfId: null,
  reblogAccountId: null,
};

describe('status facts on the pub/sub message', () => {
  test('travel as snake_case JSON and come back the same', () => {
    const wire = JSON.parse(JSON.stringify(statusFactsToWire(facts)));
    assert.deepEqual(wire, {
      account_id: '10',
      account_domain: 'remote.example',
      visibility: 'public',
      mentions: ['11', '12'],
      language: 'de',
      reblog_of_id: null,
      reblog_account_id: null,
    });
    assert.deepEqual(statusFactsFromWire(wire), facts);
  });

  test('absent or malformed facts are none (the entity is read instead)', () => {
    assert.equal(statusFactsFromWire(undefined), null);
    assert.equal(statusFactsFromWire('x'), null);
    assert.equal(statusFactsFromWire({ ...statusFactsToWire(facts), account_id: 5 }), null);
    assert.equal(statusFactsFromWire({ ...statusFactsToWire(facts), mentions: [1] }), null);
  });

  test('the filter checks the author, the mentions and the boosted author', () => {
    assert.deepEqual(filterFacts(facts), {
      authorId: '10',
      accountIds: ['10', '11', '12'],
      domain: 'remote.example',
      language: 'de',
    });
    const boost = { ...facts, mentionedAccountIds: [], reblogOfId: '5', reblogAccountId: '13' };
    assert.deepEqual(filterFacts(boost).accountIds, ['10', '13']);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { sampleEvents } from './sample-events';

const schema = avro.Type.forSchema(JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'schemas', 'customer-event.avsc'), 'utf8')));

describe('sampleEvents', () => {
  it('produces events the canonical Avro schema accepts', () => {
    const events = sampleEvents(200, Date.UTC(2026, 0, 1), 7);
    const invalid = events.filter((e) => !schema.isValid(e));
    expect(invalid).toEqual([]);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['ORDER', 'REFUND', 'INTERACTION', 'FEEDBACK']));
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const t = Date.UTC(2026, 0, 1);
    expect(sampleEvents(20, t, 1)).toEqual(sampleEvents(20, t, 1));
    expect(sampleEvents(20, t, 1)).not.toEqual(sampleEvents(20, t, 2));
  });

  it('sets exactly the detail record that matches the type, with positive amounts', () => {
    for (const e of sampleEvents(100, 0, 3)) {
      expect(e.order !== null).toBe(e.type === 'ORDER');
      expect(e.refund !== null).toBe(e.type === 'REFUND');
      if (e.order) expect(e.order.amount_minor).toBeGreaterThan(0);
    }
  });
});
